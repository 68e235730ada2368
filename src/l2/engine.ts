// The layer 2 engine: desired state in, responders and announcements out.
//
// `setOwned(all)` takes the whole set of {vip, interfaces} this node must answer for. The engine diffs it
// against the current set: it opens a frame transport per (interface, family) that some VIP needs and
// closes the ones nobody needs, joins/leaves the solicited-node groups of IPv6 VIPs (RFC 4861 §7.2.1),
// starts/stops announcement bursts, and from that moment answers or ignores. A VIP that is removed is
// not answered for from the next frame on: ownership is a lookup done per frame.
//
// Receive path: transport.onFrame -> respondArp/respondNdp (pure) -> send the reply, or count the
// drop reason and log it at debug. Send path for takeovers: announcementFrames() on a burst schedule
// (immediately, then every burstIntervalMs, burstCount bursts in all), then optionally one burst every
// refreshIntervalMs while the VIP stays owned (switch FDB ageing; metallb#2910).
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { EtherType } from './constants.ts';
import { canonicalIp, ipFamily, ipv6MulticastMac, solicitedNodeMulticast, type MacAddress } from './addresses.ts';
import { respondArp, type ArpDropReason } from './arp-responder.ts';
import { respondNdp, type NdpDropReason } from './ndp-responder.ts';
import { announcementFrames } from './announcements.ts';
import type { FrameTransport, TransportFactory } from './transport.ts';
import { createReplyScratch, type ReplyScratch } from './frame-bytes.ts';


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
}

export type DropReason = ArpDropReason | NdpDropReason;

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
  close(): void;
}

type Family = 4 | 6;

interface Port {
  readonly transport: FrameTransport;
  /** Responder context and reply buffer, made once per port: nothing is allocated for them per frame. */
  readonly ctx: { readonly mac: MacAddress; readonly owns: (ip: string) => boolean };
  readonly scratch: ReplyScratch;
  /** Multicast MAC -> number of owned VIPs needing it (several groups can share one MAC). */
  readonly groups: Map<MacAddress, number>;
}

interface Announcing {
  handle: unknown;
  sent: number;
}

const portKey = (iface: string, family: Family): string => `${family}|${iface}`;

// "arp:<reason>" / "ndp:<reason>" made once per reason, not per dropped frame.
const dropKeys: Readonly<Record<Family, Map<DropReason, string>>> = { 4: new Map(), 6: new Map() };
function dropKey(family: Family, reason: DropReason): string {
  const keys = dropKeys[family];
  let v = keys.get(reason);
  if (v === undefined) {
    v = `${family === 4 ? 'arp' : 'ndp'}:${reason}`;
    keys.set(reason, v);
  }
  return v;
}
const annKey = (vip: string, iface: string): string => `${vip}|${iface}`;

export function createLayer2Engine(opts: Layer2EngineOptions): Layer2Engine {
  const timers = opts.timers ?? realTimers;
  const log = opts.logger ?? silentLogger();

  const ann: AnnounceOptions = { ...DEFAULT_ANNOUNCE, ...opts.announce };
  const owned = new Map<string, Set<string>>(); // vip -> interfaces
  const ports = new Map<string, Port>();
  const announcing = new Map<string, Announcing>();
  const drops: Record<string, number> = {};
  let arpReplies = 0;
  let ndpReplies = 0;
  let announcementsSent = 0;
  let sendErrors = 0;
  let closed = false;

  const ownsOn = (iface: string) => (ip: string) => owned.get(ip)?.has(iface) === true;

  function send(port: Port, frame: Buffer, what: string, vip: string): boolean {
    try {
      port.transport.send(frame);
      return true;
    } catch (e) {
      sendErrors++;
      log.warn({ vip, iface: port.transport.link.name, err: String(e) }, `l2: sending ${what} failed`);
      return false;
    }
  }

  function onFrame(port: Port, iface: string, family: Family, frame: Buffer): void {
    // A transport that was closed (or replaced) may still deliver a queued frame: ignore it.
    if (closed || ports.get(portKey(iface, family)) !== port) return;
    const verdict = family === 4 ? respondArp(frame, port.ctx, port.scratch) : respondNdp(frame, port.ctx, port.scratch);
    if (verdict.kind === 'drop') {
      const key = dropKey(family, verdict.reason);
      drops[key] = (drops[key] ?? 0) + 1;
      if (log.isLevelEnabled('debug')) log.debug({ iface, reason: verdict.reason, detail: verdict.detail }, `l2: ${family === 4 ? 'arp' : 'ndp'} frame dropped`);
      return;
    }
    const proto = family === 4 ? 'arp' : 'ndp';
    if (send(port, verdict.frame, `${proto} reply`, verdict.vip)) {
      if (family === 4) arpReplies++;
      else ndpReplies++;
    }
  }

  function openPort(iface: string, family: Family): Port {
    const key = portKey(iface, family);
    const existing = ports.get(key);
    if (existing !== undefined) return existing;
    const transport = opts.openTransport({ iface, etherType: family === 4 ? EtherType.arp : EtherType.ipv6 });
    const port: Port = { transport, groups: new Map(), ctx: { mac: transport.link.mac, owns: ownsOn(iface) }, scratch: createReplyScratch() };
    ports.set(key, port);
    transport.onFrame((f) => onFrame(port, iface, family, f));
    log.info({ iface, mac: transport.link.mac, family }, 'l2: responder listening');
    return port;
  }

  function closePort(key: string): void {
    const port = ports.get(key);
    if (port === undefined) return;
    ports.delete(key);
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
    announcing.set(annKey(vip, iface), a);
    if (ann.burstCount > 0) burst(vip, iface);
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
    //    then announce.
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
        startAnnouncing(vip, iface);
      }
    }

    // 3. Close ports nobody needs any more.
    const needed = new Set<string>();
    for (const [vip, ifaces] of owned) for (const iface of ifaces) needed.add(portKey(iface, ipFamily(vip)));
    for (const key of [...ports.keys()]) if (!needed.has(key)) closePort(key);
    return problems;
  }

  return {
    setOwned,
    owned: () => new Map([...owned].map(([vip, s]) => [vip, new Set(s)])),
    stats: () => ({ arpReplies, ndpReplies, announcementsSent, sendErrors, drops: { ...drops } }),
    close: () => {
      if (closed) return;
      setOwned([]);
      closed = true;
    },
  };
}
