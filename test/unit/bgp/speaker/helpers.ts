// Test helpers: a fake clock, a RIB that replays received UPDATEs, a scripted raw BGP peer over the
// in-memory transport, and polling.
import type { Clock } from '../../../../src/bgp/session.ts';
import type { MemoryNetwork, BgpSocket } from '../../../../src/bgp/transport.ts';
import { createFramer, decodeMessage, encodeMessage, INITIAL_CONTEXT, makeContext } from '../../../../src/bgp/codec.ts';
import type { CodecContext, Message, PathAttribute, Update } from '../../../../src/bgp/messages/types.ts';

export class FakeClock implements Clock {
  now = 0;
  #seq = 0;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.#seq;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /** Runs every timer due within `ms`, in time order (timers set meanwhile included). */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.#timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.#timers.delete(next[0]);
      this.now = next[1].at;
      next[1].fn();
    }
    this.now = end;
  }
}

export async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export interface RibEntry {
  readonly nextHops: readonly string[];
  readonly attributes: readonly PathAttribute[];
}

/** Replays UPDATEs into a table keyed by 'address/length', and records End-of-RIB markers. */
export class RecordingRib {
  readonly routes = new Map<string, RibEntry>();
  readonly endOfRib: string[] = [];
  readonly updates: Update[] = [];

  apply(msg: Message): void {
    if (msg.type !== 'UPDATE') return;
    this.updates.push(msg);
    const mpUnreach = msg.attributes.find((a) => a.kind === 'MP_UNREACH_NLRI');
    const mpReach = msg.attributes.find((a) => a.kind === 'MP_REACH_NLRI');
    if (msg.withdrawn.length === 0 && msg.nlri.length === 0 && msg.attributes.length === 0) {
      this.endOfRib.push('ipv4'); // RFC 4724 §2
      return;
    }
    if (mpUnreach?.kind === 'MP_UNREACH_NLRI' && mpUnreach.prefixes.length === 0 && msg.attributes.length === 1) {
      this.endOfRib.push(mpUnreach.afi === 2 ? 'ipv6' : 'ipv4');
      return;
    }
    for (const p of msg.withdrawn) this.routes.delete(`${p.address}/${p.length}`);
    if (mpUnreach?.kind === 'MP_UNREACH_NLRI') for (const p of mpUnreach.prefixes) this.routes.delete(`${p.address}/${p.length}`);
    const others = msg.attributes.filter((a) => a.kind !== 'MP_REACH_NLRI' && a.kind !== 'MP_UNREACH_NLRI' && a.kind !== 'NEXT_HOP');
    const nh = msg.attributes.find((a) => a.kind === 'NEXT_HOP');
    for (const p of msg.nlri) {
      this.routes.set(`${p.address}/${p.length}`, { nextHops: nh?.kind === 'NEXT_HOP' ? [nh.nextHop] : [], attributes: others });
    }
    if (mpReach?.kind === 'MP_REACH_NLRI') {
      for (const p of mpReach.prefixes) this.routes.set(`${p.address}/${p.length}`, { nextHops: mpReach.nextHops, attributes: others });
    }
  }

  attr<K extends PathAttribute['kind']>(prefix: string, kind: K): Extract<PathAttribute, { kind: K }> | undefined {
    return this.routes.get(prefix)?.attributes.find((a): a is Extract<PathAttribute, { kind: K }> => a.kind === kind);
  }
}

/** A hand-driven BGP peer: the test decides what it sends and when. */
export class RawPeer {
  readonly received: Message[] = [];
  readonly rib = new RecordingRib();
  socket: BgpSocket | undefined;
  closed = false;
  ctx: CodecContext = INITIAL_CONTEXT;
  readonly #framer = createFramer();

  static async listen(net: MemoryNetwork, address: string, port = 179): Promise<RawPeer> {
    const p = new RawPeer();
    await net.transport(address).listen({ host: address, port }, (s) => p.attach(s));
    return p;
  }

  attach(s: BgpSocket): void {
    this.socket = s;
    s.on('data', (chunk: Buffer) => {
      this.#framer.push(chunk);
      for (let f = this.#framer.next(this.ctx); f !== undefined; f = this.#framer.next(this.ctx)) {
        const m = decodeMessage(f, this.ctx).message;
        this.received.push(m);
        this.rib.apply(m);
      }
    });
    s.on('close', () => {
      this.closed = true;
    });
    s.on('error', () => {});
  }

  /** Switch to the context of an established session (4-octet AS, IPv4+IPv6 unicast). */
  established(): void {
    this.ctx = makeContext({ fourOctetAs: true, extendedMessage: false, families: [{ afi: 1, safi: 1 }, { afi: 2, safi: 1 }] });
  }

  send(m: Message): void {
    this.socket?.write(encodeMessage(m, m.type === 'OPEN' ? INITIAL_CONTEXT : this.ctx));
  }

  sendRaw(b: Buffer): void {
    this.socket?.write(b);
  }

  of<T extends Message['type']>(type: T): Extract<Message, { type: T }>[] {
    return this.received.filter((m): m is Extract<Message, { type: T }> => m.type === type);
  }
}
