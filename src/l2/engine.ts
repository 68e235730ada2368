// The layer 2 engine: desired state in, responders and announcements out.
//
// `setOwned(all)` takes the whole set of {vip, interfaces} this node must answer for. The engine diffs it
// against the current set: it opens a frame transport per (interface, family) that some VIP needs and
// closes the ones nobody needs, joins/leaves the solicited-node groups of IPv6 VIPs (RFC 4861 §7.2.1),
// starts/stops announcement bursts, and from that moment answers or ignores. A VIP that is removed is
// not answered for from the next frame on: ownership is a lookup done per frame.
//
// Receive path: transport.onFrame -> answerFrame (answer.ts: respondArp/respondNdp, pure) -> send the
// reply, or count the drop reason and log it at debug. With `threads` (cpu-answerers.ts) the receive
// path runs instead on one thread per CPU, each answering what arrives on its CPU; this thread then
// keeps a send-only socket per port (announcements, multicast membership) and pushes each port's VIP
// list to the threads, announcing a new VIP once they all have it. Send path for takeovers:
// announcementFrames() on a burst schedule
// (immediately, then every burstIntervalMs, burstCount bursts in all), then optionally one burst every
// refreshIntervalMs while the VIP stays owned (switch FDB ageing; metallb#2910).
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { EtherType } from './constants.ts';
import { canonicalIp, ipFamily, ipv6MulticastMac, solicitedNodeMulticast, type MacAddress } from './addresses.ts';
import { announcementFrames } from './announcements.ts';
import type { FrameTransport, TransportFactory } from './transport.ts';
import { createReplyScratch } from './frame-bytes.ts';
import { answerFrame, countSendError, COUNTER_SLOTS, sumCounters, type AnswerPort, type Family } from './answer.ts';
import type { AnsweringThreads } from './cpu-answerers.ts';

export type { DropReason } from './answer.ts';


export interface OwnedVip {
  readonly vip: string;
  /** Interfaces to answer and announce on (already resolved and filtered; see interfaces.ts). */
  readonly interfaces: readonly string[];
}

export interface AnnounceOptions {
  /** Bursts sent on gaining a VIP (the first at once). MetalLB sends about 5. */
  readonly burstCount: number;
  /** Gap between bursts; MetalLB uses 1100 ms (metallb#172). */
  readonly burstIntervalMs: number;
  /** One burst every this many ms while the VIP stays owned; 0 turns it off. */
  readonly refreshIntervalMs: number;
}

export const DEFAULT_ANNOUNCE: AnnounceOptions = {
  burstCount: 5,
  burstIntervalMs: 1100,
  // Well under the usual 300 s switch FDB ageing time; 2 frames a minute per VIP is negligible.
  refreshIntervalMs: 60_000,
};

export interface Timers {
  setTimeout(cb: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout: (cb, ms) => {
    const t = setTimeout(cb, ms);
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface Layer2EngineOptions {
  readonly openTransport: TransportFactory;
  readonly timers?: Timers;
  readonly logger?: Logger;
  readonly announce?: Partial<AnnounceOptions>;
  /**
   * Answer on these threads (createCpuAnswerers) instead of this one. The engine owns them from here:
   * close() stops them. Default: answer on this thread.
   */
  readonly threads?: AnsweringThreads;
}

export interface Layer2Stats {
  readonly arpReplies: number;
  readonly ndpReplies: number;
  readonly announcementsSent: number;
  readonly sendErrors: number;
  /** Dropped frames by "arp:<reason>" / "ndp:<reason>". */
  readonly drops: Readonly<Record<string, number>>;
}

export interface SetOwnedProblem {
  readonly vip: string;
  readonly iface: string;
  readonly reason: 'invalidVip' | 'transportFailed';
  readonly message: string;
}

export interface Layer2Engine {
  /** Replaces the wanted set. Returns the (vip, interface) pairs that could not be served. */
  setOwned(all: readonly OwnedVip[]): readonly SetOwnedProblem[];
  /** Current ownership: vip -> interfaces it is answered on. */
  owned(): ReadonlyMap<string, ReadonlySet<string>>;
  stats(): Layer2Stats;
  /**
   * Sends one announcement (gratuitous ARP / unsolicited NA) for an owned VIP on each of its
   * interfaces now, outside the burst schedule: a defence against another MAC claiming it (RFC 5227
   * §2.4(c)) or a reminder after this node could not be heard. Returns the frames sent.
   */
  announceNow(vip: string): number;
  /**
   * Resolves when the answer threads (if any) answer exactly as the last setOwned said. Without
   * threads, setOwned takes effect before it returns and this resolves at once.
   */
  settled(): Promise<void>;
  close(): void;
}

interface Port extends AnswerPort {
  readonly transport: FrameTransport;
  /** Multicast MAC -> number of owned VIPs needing it (several groups can share one MAC). */
  readonly groups: Map<MacAddress, number>;
  /** The VIP list last pushed to the answer threads (joined), and when they all had it. */
  pushed: string;
  applied: Promise<void>;
}

interface Announcing {
  handle: unknown;
  sent: number;
}

const portKey = (iface: string, family: Family): string => `${family}|${iface}`;
const annKey = (vip: string, iface: string): string => `${vip}|${iface}`;

export function createLayer2Engine(opts: Layer2EngineOptions): Layer2Engine {
  const timers = opts.timers ?? realTimers;
  const log = opts.logger ?? silentLogger();

  const ann: AnnounceOptions = { ...DEFAULT_ANNOUNCE, ...opts.announce };
  const owned = new Map<string, Set<string>>(); // vip -> interfaces
  const ports = new Map<string, Port>();
  const announcing = new Map<string, Announcing>();
  const threads = opts.threads;
  /** This thread's answer counters (answer.ts), plus send errors of announcements. */
  const counters = new Float64Array(COUNTER_SLOTS);
  let announcementsSent = 0;
  let closed = false;

  const ownsOn = (iface: string) => (ip: string) => owned.get(ip)?.has(iface) === true;

  function send(port: Port, frame: Buffer, what: string, vip: string): boolean {
    try {
      port.transport.send(frame);
      return true;
    } catch (e) {
      countSendError(counters);
      log.warn({ vip, iface: port.transport.link.name, err: String(e) }, `l2: sending ${what} failed`);
      return false;
    }
  }

  function openPort(iface: string, family: Family): Port {
    const key = portKey(iface, family);
    const existing = ports.get(key);
    if (existing !== undefined) return existing;
    const transport = opts.openTransport({ iface, etherType: family === 4 ? EtherType.arp : EtherType.ipv6, receive: threads === undefined });
    if (threads !== undefined) {
      try {
        threads.openPort(key, iface, family, transport.link.mac, ownsOn(iface));
      } catch (e) {
        transport.close();
        throw e;
      }
    }
    const port: Port = {
      iface,
      family,
      transport,
      groups: new Map(),
      ctx: { mac: transport.link.mac, owns: ownsOn(iface) },
      scratch: createReplyScratch(),
      send: (frame) => transport.send(frame),
      pushed: '',
      applied: Promise.resolve(),
    };
    ports.set(key, port);
    transport.onFrame((f) => {
      // A transport that was closed (or replaced) may still deliver a queued frame: ignore it.
      if (!closed && ports.get(key) === port) answerFrame(port, f, counters, log);
    });
    log.info({ iface, mac: transport.link.mac, family, ...(threads === undefined ? {} : { threads: 'per-CPU' }) }, 'l2: responder listening');
    return port;
  }

  /** Pushes each port's VIP list to the answer threads when it changed. */
  function pushToThreads(): void {
    if (threads === undefined) return;
    for (const [key, port] of ports) {
      const vips = [...owned].filter(([vip, ifaces]) => ifaces.has(port.iface) && ipFamily(vip) === port.family).map(([vip]) => vip);
      const text = vips.join(' ');
      if (text === port.pushed) continue;
      port.pushed = text;
      port.applied = threads.setVips(key, vips);
    }
  }

  function closePort(key: string): void {
    const port = ports.get(key);
    if (port === undefined) return;
    ports.delete(key);
    threads?.closePort(key);
    try {
      port.transport.close();
    } catch (e) {
      log.warn({ iface: port.transport.link.name, err: String(e) }, 'l2: closing transport failed');
    }
  }

  function groupDelta(port: Port, vip: string, delta: 1 | -1): void {
    const mac = ipv6MulticastMac(solicitedNodeMulticast(vip));
    const n = (port.groups.get(mac) ?? 0) + delta;
    try {
      if (delta === 1 && n === 1) port.transport.joinMulticast(mac);
      if (delta === -1 && n === 0) port.transport.leaveMulticast(mac);
    } catch (e) {
      log.warn({ vip, iface: port.transport.link.name, err: String(e) }, 'l2: multicast membership change failed');
    }
    if (n <= 0) port.groups.delete(mac);
    else port.groups.set(mac, n);
  }

  function burst(vip: string, iface: string): void {
    const a = announcing.get(annKey(vip, iface));
    const port = ports.get(portKey(iface, ipFamily(vip)));
    if (a === undefined || port === undefined || owned.get(vip)?.has(iface) !== true) return;
    for (const frame of announcementFrames(port.transport.link, vip)) {
      if (send(port, frame, 'announcement', vip)) announcementsSent++;
    }
    a.sent++;
    const next = a.sent < ann.burstCount ? ann.burstIntervalMs : ann.refreshIntervalMs;
    a.handle = next > 0 ? timers.setTimeout(() => burst(vip, iface), next) : undefined;
  }

  function startAnnouncing(vip: string, iface: string): void {
    const a: Announcing = { handle: undefined, sent: 0 };
    const key = annKey(vip, iface);
    announcing.set(key, a);
    if (ann.burstCount <= 0) return;
    const port = ports.get(portKey(iface, ipFamily(vip)));
    if (threads === undefined || port === undefined) {
      burst(vip, iface);
      return;
    }
    // Announce once every answer thread answers for the VIP (unless it was given up meanwhile).
    void port.applied.then(() => {
      if (!closed && announcing.get(key) === a && a.sent === 0) burst(vip, iface);
    });
  }

  function stopAnnouncing(vip: string, iface: string): void {
    const key = annKey(vip, iface);
    const a = announcing.get(key);
    if (a === undefined) return;
    if (a.handle !== undefined) timers.clearTimeout(a.handle);
    announcing.delete(key);
  }

  function setOwned(all: readonly OwnedVip[]): readonly SetOwnedProblem[] {
    if (closed) throw new Error('l2 engine is closed');
    const problems: SetOwnedProblem[] = [];
    const wanted = new Map<string, Set<string>>();
    for (const o of all) {
      let vip: string;
      try {
        vip = canonicalIp(o.vip);
      } catch (e) {
        problems.push({ vip: o.vip, iface: '', reason: 'invalidVip', message: String(e) });
        continue;
      }
      const set = wanted.get(vip) ?? new Set<string>();
      for (const i of o.interfaces) set.add(i);
      wanted.set(vip, set);
    }

    // 1. Removals first: stop answering at once, stop bursts, leave groups.
    for (const [vip, ifaces] of [...owned]) {
      const keep = wanted.get(vip);
      for (const iface of [...ifaces]) {
        if (keep?.has(iface) === true) continue;
        ifaces.delete(iface);
        stopAnnouncing(vip, iface);
        const port = ports.get(portKey(iface, ipFamily(vip)));
        if (port !== undefined && ipFamily(vip) === 6) groupDelta(port, vip, -1);
        log.info({ vip, iface }, 'l2: no longer answering');
      }
      if (ifaces.size === 0) owned.delete(vip);
    }

    // 2. Additions: open the port, join the group, then own (so the first NS after this is answered),
    //    then announce (with answer threads: once they all have the VIP).
    const added: [string, string][] = [];
    for (const [vip, ifaces] of wanted) {
      const family = ipFamily(vip);
      for (const iface of ifaces) {
        if (owned.get(vip)?.has(iface) === true) continue;
        let port: Port;
        try {
          port = openPort(iface, family);
        } catch (e) {
          problems.push({ vip, iface, reason: 'transportFailed', message: String(e) });
          log.warn({ vip, iface, err: String(e) }, 'l2: cannot open interface; not answering there');
          continue;
        }
        if (family === 6) groupDelta(port, vip, 1);
        const set = owned.get(vip) ?? new Set<string>();
        set.add(iface);
        owned.set(vip, set);
        log.info({ vip, iface }, 'l2: answering and announcing');
        added.push([vip, iface]);
      }
    }
    pushToThreads();
    for (const [vip, iface] of added) startAnnouncing(vip, iface);

    // 3. Close ports nobody needs any more.
    const needed = new Set<string>();
    for (const [vip, ifaces] of owned) for (const iface of ifaces) needed.add(portKey(iface, ipFamily(vip)));
    for (const key of [...ports.keys()]) if (!needed.has(key)) closePort(key);
    return problems;
  }

  function announceNow(vipText: string): number {
    const vip = canonicalIp(vipText);
    let sent = 0;
    for (const iface of owned.get(vip) ?? []) {
      const port = ports.get(portKey(iface, ipFamily(vip)));
      if (port === undefined) continue;
      for (const frame of announcementFrames(port.transport.link, vip)) {
        if (send(port, frame, 'announcement', vip)) {
          announcementsSent++;
          sent++;
        }
      }
    }
    return sent;
  }

  return {
    setOwned,
    announceNow,
    owned: () => new Map([...owned].map(([vip, s]) => [vip, new Set(s)])),
    stats: () => {
      const own = sumCounters([counters]);
      if (threads === undefined) return { ...own, announcementsSent };
      const t = threads.totals();
      const drops: Record<string, number> = { ...own.drops };
      for (const [k, v] of Object.entries(t.drops)) drops[k] = (drops[k] ?? 0) + v;
      return { arpReplies: own.arpReplies + t.arpReplies, ndpReplies: own.ndpReplies + t.ndpReplies, announcementsSent, sendErrors: own.sendErrors + t.sendErrors, drops };
    },
    settled: async () => {
      await Promise.all([...ports.values()].map((p) => p.applied));
    },
    close: () => {
      if (closed) return;
      setOwned([]);
      closed = true;
      void threads?.close();
    },
  };
}
