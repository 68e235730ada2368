// The BFD driver: the one place where BFD sessions touch sockets and timers. It feeds received packets
// and timer expiries to the pure state machine (fsm.ts) and executes the actions that come back.
//
// Receive path: one socket per (address family, port) in use, bound to the wildcard address:
//   RFC 5881 §4 single hop on 3784, RFC 5883 §2 multihop on 4784. A datagram -> TTL check (RFC 5881
//   §5: single hop must arrive with TTL / hop limit 255; RFC 5883 §5: multihop with at least the
//   session's minimum) -> decodeControl (packet.ts, §6.8.6 packet checks) -> the session: by Your
//   Discriminator when nonzero, else by source address and port kind (§6.8.6, RFC 5881 §3) ->
//   Received event. Every discarded packet is counted with its reason.
// Send path: one socket per session, bound to a source port in 49152-65535 that the session keeps
//   for its life (RFC 5881 §4), sending with TTL 255 (RFC 5881 §5, RFC 5883 §5) to port 3784 / 4784.
// Timers: the periodic transmission is re-armed only when its interval changes or it fired, with the
//   jitter of RFC 5880 §6.8.7 (txDelayMs); the detection timer is restarted by every accepted packet.
//
// Everything the driver uses is injected (transport, clock, randomness, logger, state callback) and it
// keeps no module state, so it can be hosted on a worker thread as it is.
import type { Logger } from '../../log.ts';
import { decodeControl, encodeControl, isBfdDecodeError, type BfdDiag, type BfdState } from './packet.ts';
import { detectionTimeUs, initialSession, step, transmitIntervalUs, txDelayMs, US_PER_MS, type BfdAction, type BfdEvent, type BfdParameters, type BfdSession } from './fsm.ts';

/** RFC 5881 §4: single-hop Control packets go to UDP port 3784. */
export const BFD_SINGLE_HOP_PORT = 3784;
/** RFC 5883 §2: multihop Control packets go to UDP port 4784. */
export const BFD_MULTI_HOP_PORT = 4784;
/** RFC 5881 §4: the source port range. */
export const SOURCE_PORT_MIN = 49152;
export const SOURCE_PORT_MAX = 65535;
/** RFC 5881 §5 / RFC 5883 §5: packets are sent with TTL / hop limit 255. */
export const BFD_TTL = 255;
const SOURCE_PORT_ATTEMPTS = 32;

export type IpFamily = 4 | 6;

export interface BfdDatagram {
  readonly payload: Buffer;
  readonly address: string;
  readonly port: number;
  /** Received TTL / hop limit; -1 when unknown (then a single-hop packet is discarded). */
  readonly ttl: number;
}

export interface BfdSocket {
  send(payload: Buffer, address: string, port: number): void;
  close(): void;
}

/** What the driver needs of UDP (src/sys openUdp in production, a fake in unit tests). */
export interface BfdTransport {
  /** A receiving socket on the wildcard address of `family`. */
  listen(opts: { readonly family: IpFamily; readonly port: number; readonly device?: string; readonly onDatagram: (d: BfdDatagram) => void }): BfdSocket;
  /** A sending socket bound to `port` (throws an Error with code 'EADDRINUSE' when taken). */
  sender(opts: { readonly family: IpFamily; readonly localAddress?: string; readonly port: number; readonly ttl: number; readonly device?: string }): BfdSocket;
}

export interface BfdClock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** One BFD session to run: a BGP peer with a BFD profile. */
export interface BfdSessionSpec {
  /** The BGP peer's name (the key). */
  readonly peer: string;
  readonly peerAddress: string;
  readonly localAddress?: string;
  /** The VRF device the BGP session runs in (BGPPeer vrf): the session's sockets are bound to it
   * (SO_BINDTODEVICE), a listener of its own per VRF, since packets arriving in a VRF do not reach a
   * socket of the default VRF. */
  readonly device?: string;
  /** RFC 5883 multihop (the BGP session is ebgpMultiHop). */
  readonly multihop: boolean;
  /** RFC 5883 §5: multihop packets below this TTL are discarded. Ignored for single hop (255). */
  readonly minimumTtl: number;
  readonly params: BfdParameters;
}

export interface BfdStateChange {
  readonly peer: string;
  readonly from: BfdState;
  readonly to: BfdState;
  readonly diag: BfdDiag;
  /** The remote signalled AdminDown (not a path failure, RFC 5882 §3.2). */
  readonly remoteAdminDown?: boolean;
}

export interface BfdSessionInfo {
  readonly peer: string;
  readonly peerAddress: string;
  readonly multihop: boolean;
  readonly state: BfdState;
  readonly diag: BfdDiag;
  readonly remoteState: BfdState;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  /** The periodic transmission interval in force (before jitter), µs; 0 when not sending. */
  readonly transmitIntervalUs: number;
  /** The detection time in force, µs; 0 before the remote was heard. */
  readonly detectionTimeUs: number;
  readonly upTransitions: number;
  readonly downTransitions: number;
}

export interface BfdDriverOptions {
  readonly transport: BfdTransport;
  readonly clock: BfdClock;
  /** Uniform in [0, 1): jitter, discriminators and source ports. */
  readonly random: () => number;
  readonly logger: Logger;
  readonly onStateChange?: (change: BfdStateChange) => void;
}

interface Entry {
  /** Replaced by a profile change; the addresses (key) stay. */
  spec: BfdSessionSpec;
  readonly key: string;
  readonly family: IpFamily;
  fsm: BfdSession;
  sender: BfdSocket | undefined;
  txTimer: unknown;
  /** The interval the armed txTimer was computed for (µs). */
  txInterval: number;
  detectTimer: unknown;
  upTransitions: number;
  downTransitions: number;
}

/** Packets dropped before reaching a session, by reason (for logs, tests and metrics). */
export type DiscardCounts = Readonly<Record<string, number>>;

const familyOf = (address: string): IpFamily => (address.includes(':') ? 6 : 4);

export class BfdDriver {
  readonly #opts: BfdDriverOptions;
  readonly #log: Logger;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Map<string, BfdSocket>();
  readonly #discards = new Map<string, number>();
  #closed = false;

  constructor(opts: BfdDriverOptions) {
    this.#opts = opts;
    this.#log = opts.logger;
  }

  /** The sessions that should run. New ones start, removed ones go AdminDown and stop, ones whose
   * addresses changed restart, and a profile change on a running session is a Poll Sequence. */
  setSessions(all: readonly BfdSessionSpec[]): void {
    if (this.#closed) return;
    const wanted = new Map(all.map((s) => [s.peer, s]));
    for (const [peer, e] of this.#entries) {
      const next = wanted.get(peer);
      // A session whose sockets could not be opened is tried again from scratch.
      if (next !== undefined && addressKey(next) === e.key && e.sender !== undefined) {
        if (JSON.stringify(next.params) !== JSON.stringify(e.spec.params) || next.minimumTtl !== e.spec.minimumTtl) {
          e.spec = next;
          this.#feed(e, { type: 'SetParameters', params: next.params });
        }
        continue;
      }
      this.#stopEntry(e);
      this.#entries.delete(peer);
    }
    for (const spec of all) {
      if (this.#entries.has(spec.peer)) continue;
      this.#startEntry(spec);
    }
    this.#closeUnusedListeners();
  }

  sessions(): readonly BfdSessionInfo[] {
    return [...this.#entries.values()].map((e) => ({
      peer: e.spec.peer,
      peerAddress: e.spec.peerAddress,
      multihop: e.spec.multihop,
      state: e.fsm.state,
      diag: e.fsm.localDiag,
      remoteState: e.fsm.remoteState,
      localDiscriminator: e.fsm.localDiscr,
      remoteDiscriminator: e.fsm.remoteDiscr,
      transmitIntervalUs: transmitIntervalUs(e.fsm),
      detectionTimeUs: detectionTimeUs(e.fsm),
      upTransitions: e.upTransitions,
      downTransitions: e.downTransitions,
    }));
  }

  state(peer: string): BfdState | undefined {
    return this.#entries.get(peer)?.fsm.state;
  }

  discards(): DiscardCounts {
    return Object.fromEntries(this.#discards);
  }

  /** Every session goes AdminDown (one packet tells the remote, RFC 5880 §6.8.16), sockets close.
   * `silent`: send nothing (a planned restart: the remote finds out by its detection time). */
  close(opts: { readonly silent?: boolean } = {}): void {
    if (this.#closed) return;
    for (const e of this.#entries.values()) this.#stopEntry(e, opts);
    this.#entries.clear();
    this.#closeUnusedListeners();
    this.#closed = true;
  }

  // ----------------------------------------------------------------------------------------- internals

  #startEntry(spec: BfdSessionSpec): void {
    const family = familyOf(spec.peerAddress);
    const entry: Entry = {
      spec,
      key: addressKey(spec),
      family,
      fsm: initialSession(spec.params, this.#newDiscriminator()),
      sender: undefined,
      txTimer: undefined,
      txInterval: 0,
      detectTimer: undefined,
      upTransitions: 0,
      downTransitions: 0,
    };
    this.#entries.set(spec.peer, entry);
    try {
      this.#ensureListener(family, spec.multihop, spec.device);
      entry.sender = this.#openSender(spec, family);
    } catch (err) {
      // The session stays Down (never Up), so it holds no BGP session; the next setSessions tries again.
      this.#log.error({ peer: spec.peer, reason: err instanceof Error ? err.message : String(err) }, 'BFD: cannot open the session sockets; the session stays Down');
      return;
    }
    this.#log.info({ peer: spec.peer, address: spec.peerAddress, multihop: spec.multihop, discriminator: entry.fsm.localDiscr }, 'BFD session starting');
    this.#feed(entry, { type: 'Start' });
  }

  #stopEntry(e: Entry, opts: { readonly silent?: boolean } = {}): void {
    if (opts.silent !== true) this.#feed(e, { type: 'Stop' });
    this.#cancelTimers(e);
    e.sender?.close();
    e.sender = undefined;
  }

  #openSender(spec: BfdSessionSpec, family: IpFamily): BfdSocket {
    let last: unknown;
    for (let i = 0; i < SOURCE_PORT_ATTEMPTS; i++) {
      const port = SOURCE_PORT_MIN + Math.floor(this.#opts.random() * (SOURCE_PORT_MAX - SOURCE_PORT_MIN + 1));
      try {
        return this.#opts.transport.sender({
          family,
          port,
          ttl: BFD_TTL,
          ...(spec.localAddress !== undefined ? { localAddress: spec.localAddress } : {}),
          ...(spec.device !== undefined ? { device: spec.device } : {}),
        });
      } catch (err) {
        last = err;
        if ((err as { code?: unknown }).code !== 'EADDRINUSE') throw err;
      }
    }
    throw last instanceof Error ? last : new Error(`no free source port in ${SOURCE_PORT_MIN}-${SOURCE_PORT_MAX}`);
  }

  #ensureListener(family: IpFamily, multihop: boolean, device: string | undefined): void {
    const port = multihop ? BFD_MULTI_HOP_PORT : BFD_SINGLE_HOP_PORT;
    const key = listenerKey(family, port, device);
    if (this.#listeners.has(key)) return;
    const socket = this.#opts.transport.listen({ family, port, ...(device !== undefined ? { device } : {}), onDatagram: (d) => this.#receive(d, multihop, device) });
    this.#listeners.set(key, socket);
    this.#log.info({ port, family, ...(device !== undefined ? { device } : {}) }, 'BFD: listening');
  }

  #closeUnusedListeners(): void {
    for (const [key, socket] of this.#listeners) {
      const used = [...this.#entries.values()].some((e) => listenerKey(e.family, e.spec.multihop ? BFD_MULTI_HOP_PORT : BFD_SINGLE_HOP_PORT, e.spec.device) === key);
      if (used) continue;
      socket.close();
      this.#listeners.delete(key);
    }
  }

  #discard(reason: string, d: BfdDatagram): void {
    this.#discards.set(reason, (this.#discards.get(reason) ?? 0) + 1);
    this.#log.debug({ peer: d.address, reason }, 'BFD packet discarded');
  }

  /** `device`: the VRF the listening socket is bound to (undefined: the default VRF). */
  #receive(d: BfdDatagram, multihop: boolean, device: string | undefined): void {
    // RFC 5881 §5: "received with a TTL or Hop Limit value other than 255 ... MUST be discarded".
    if (!multihop && d.ttl !== BFD_TTL) {
      this.#discard('ttl', d);
      return;
    }
    let packet;
    try {
      packet = decodeControl(d.payload);
    } catch (err) {
      if (!isBfdDecodeError(err)) throw err;
      this.#discard(err.code, d);
      return;
    }
    // §6.8.6: "If the Your Discriminator field is nonzero, it MUST be used to select the session";
    // otherwise (RFC 5881 §3 / RFC 5883 §3) the source address (and the port: single hop or multihop).
    const entry =
      packet.yourDiscriminator !== 0
        ? [...this.#entries.values()].find((e) => e.fsm.localDiscr === packet.yourDiscriminator)
        : [...this.#entries.values()].find((e) => e.spec.multihop === multihop && e.spec.device === device && sameAddress(e.spec.peerAddress, d.address));
    if (entry === undefined) {
      this.#discard('no-session', d);
      return;
    }
    if (entry.spec.multihop !== multihop || entry.spec.device !== device || !sameAddress(entry.spec.peerAddress, d.address)) {
      this.#discard('wrong-source', d);
      return;
    }
    // RFC 5883 §5: multihop packets below the expected TTL are discarded (MetalLB minimumTtl).
    if (multihop && d.ttl < entry.spec.minimumTtl) {
      this.#discard('ttl', d);
      return;
    }
    this.#feed(entry, { type: 'Received', packet });
  }

  #feed(e: Entry, event: BfdEvent): void {
    const result = step(e.fsm, event);
    e.fsm = result.session;
    for (const a of result.actions) this.#execute(e, a);
  }

  #execute(e: Entry, a: BfdAction): void {
    const clock = this.#opts.clock;
    switch (a.type) {
      case 'send': {
        const port = e.spec.multihop ? BFD_MULTI_HOP_PORT : BFD_SINGLE_HOP_PORT;
        try {
          e.sender?.send(encodeControl(a.packet), e.spec.peerAddress, port);
        } catch (err) {
          // ENETUNREACH and the like while a link is down: the detection timer tells the rest.
          this.#log.debug({ peer: e.spec.peer, reason: err instanceof Error ? err.message : String(err) }, 'BFD send failed');
        }
        return;
      }
      case 'transmit': {
        if (a.intervalUs === e.txInterval && e.txTimer !== undefined) return;
        if (e.txTimer !== undefined) clock.clearTimeout(e.txTimer);
        e.txTimer = undefined;
        e.txInterval = a.intervalUs;
        if (a.intervalUs === 0) return;
        const delay = txDelayMs(a.intervalUs, e.fsm.params.detectMult, this.#opts.random());
        e.txTimer = clock.setTimeout(() => {
          e.txTimer = undefined;
          if (this.#entries.get(e.spec.peer) !== e) return;
          this.#feed(e, { type: 'TxTimer' });
        }, delay);
        return;
      }
      case 'detect': {
        if (e.detectTimer !== undefined) clock.clearTimeout(e.detectTimer);
        e.detectTimer = undefined;
        if (a.timeoutUs === 0) return;
        e.detectTimer = clock.setTimeout(() => {
          e.detectTimer = undefined;
          if (this.#entries.get(e.spec.peer) !== e) return;
          this.#feed(e, { type: 'DetectionTimeout' });
        }, a.timeoutUs / US_PER_MS);
        return;
      }
      case 'state': {
        if (a.to === 'Up') e.upTransitions += 1;
        if (a.from === 'Up') e.downTransitions += 1;
        const fields = { peer: e.spec.peer, from: a.from, state: a.to, diag: a.diag };
        if (a.from === 'Up') this.#log.warn(fields, 'BFD session down');
        else this.#log.info(fields, a.to === 'Up' ? 'BFD session up' : 'BFD session state');
        this.#opts.onStateChange?.({ peer: e.spec.peer, from: a.from, to: a.to, diag: a.diag, ...(a.remoteAdminDown === true ? { remoteAdminDown: true } : {}) });
        return;
      }
      default: {
        const never: never = a;
        return never;
      }
    }
  }

  #cancelTimers(e: Entry): void {
    if (e.txTimer !== undefined) this.#opts.clock.clearTimeout(e.txTimer);
    if (e.detectTimer !== undefined) this.#opts.clock.clearTimeout(e.detectTimer);
    e.txTimer = undefined;
    e.detectTimer = undefined;
    e.txInterval = 0;
  }

  #newDiscriminator(): number {
    for (;;) {
      const d = 1 + Math.floor(this.#opts.random() * 0xfffffffe);
      if (![...this.#entries.values()].some((e) => e.fsm.localDiscr === d)) return d;
    }
  }
}

function addressKey(s: BfdSessionSpec): string {
  return JSON.stringify([s.peerAddress, s.localAddress ?? '', s.multihop, s.device ?? '']);
}

/** One listening socket per family, port (single hop / multihop) and VRF device. */
function listenerKey(family: IpFamily, port: number, device: string | undefined): string {
  return JSON.stringify([family, port, device ?? '']);
}

/** Addresses compared as the kernel reports them: an IPv4-mapped IPv6 source matches the IPv4 peer, and a
 * configured link-local peer's zone (fe80::1%eth0) is not part of the source address. */
function sameAddress(configured: string, received: string): boolean {
  const unmapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(received)?.[1] ?? received;
  return (configured.split('%')[0] ?? configured).toLowerCase() === unmapped.toLowerCase();
}
