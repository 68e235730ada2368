// Test doubles for the layer 2 engine: an in-memory frame transport and a manual clock.
import type { FrameTransport, LinkInfo, TransportFactory, TransportRequest } from '../../../src/l2/transport.ts';
import type { Timers } from '../../../src/l2/engine.ts';

export class FakeTransport implements FrameTransport {
  readonly link: LinkInfo;
  readonly etherType: number;
  /** false when the engine asked for a send-only transport (answering happens on threads). */
  readonly receive: boolean;
  readonly sent: Buffer[] = [];
  readonly groups = new Set<string>();
  readonly groupLog: string[] = [];
  closed = false;
  failSend = false;
  private receiver: ((f: Buffer) => void) | undefined;

  constructor(link: LinkInfo, etherType: number, receive = true) {
    this.link = link;
    this.etherType = etherType;
    this.receive = receive;
  }
  send(frame: Buffer): void {
    if (this.closed) throw new Error('send on closed transport');
    if (this.failSend) throw new Error('ENETDOWN');
    this.sent.push(frame);
  }
  onFrame(cb: (frame: Buffer) => void): void {
    this.receiver = cb;
  }
  joinMulticast(mac: string): void {
    this.groups.add(mac);
    this.groupLog.push(`join ${mac}`);
  }
  leaveMulticast(mac: string): void {
    this.groups.delete(mac);
    this.groupLog.push(`leave ${mac}`);
  }
  close(): void {
    this.closed = true;
  }
  /** Delivers a frame as the kernel would (even after close, to prove the engine ignores it). */
  deliver(frame: Buffer): void {
    this.receiver?.(frame);
  }
  takeSent(): Buffer[] {
    return this.sent.splice(0);
  }
}

export class FakeLinks {
  readonly opened: FakeTransport[] = [];
  readonly links = new Map<string, LinkInfo>();
  readonly factory: TransportFactory = (req: TransportRequest) => {
    const link = this.links.get(req.iface);
    if (link === undefined) throw new Error(`no such interface ${req.iface}`);
    const t = new FakeTransport(link, req.etherType, req.receive !== false);
    this.opened.push(t);
    return t;
  };
  add(link: LinkInfo): this {
    this.links.set(link.name, link);
    return this;
  }
  /** The open (not closed) transport for an interface and EtherType. */
  port(iface: string, etherType: number): FakeTransport {
    const t = this.opened.find((o) => o.link.name === iface && o.etherType === etherType && !o.closed);
    if (t === undefined) throw new Error(`no open transport ${iface}/${etherType.toString(16)}`);
    return t;
  }
  openCount(): number {
    return this.opened.filter((o) => !o.closed).length;
  }
}

export class ManualClock implements Timers {
  now = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; cb: () => void }>();
  setTimeout(cb: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.pending.set(id, { at: this.now + ms, cb });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let next: [number, { at: number; cb: () => void }] | undefined;
      for (const e of this.pending) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
      if (next === undefined) break;
      this.pending.delete(next[0]);
      this.now = next[1].at;
      next[1].cb();
    }
    this.now = end;
  }
  pendingCount(): number {
    return this.pending.size;
  }
}
