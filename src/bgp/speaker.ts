// The BGP speaker: a desired-state engine over sessions (MetalLB's model: speaker/bgp_controller.go, internal/bgp/native).
//
//   setPeers(peers)          the sessions that should exist; changed peers are re-created
//   setAdvertisements(all)   every prefix this node should announce, with per-prefix attributes and
//                            an optional peer filter
//
// For each Established session the speaker keeps the Adj-RIB-Out (what the peer has been sent) and
// sends only the difference to the desired table: prefixes sharing attributes are packed into as few
// UPDATEs as the maximum message size allows (codec pack.ts), withdrawals are batched. After the
// initial table it sends End-of-RIB for each family (RFC 4724 §2), so that a peer keeping our routes
// as stale across our restart (graceful restart) drops only what we no longer announce.
// Route attributes (RFC 4271 §5.1): ORIGIN IGP; AS_PATH empty toward internal peers, [myASN] toward
// external ones; NEXT_HOP the session's local address (IPv6: MP_REACH_NLRI with the global address
// and, when known, the link-local one, RFC 2545 §3); LOCAL_PREF only toward internal peers (100 when
// unset, RFC 4271 §5.1.5); communities (RFC 1997) and large communities (RFC 8092) per advertisement.
import os from 'node:os';
import type { Logger } from '../log.ts';
import type { Family, Message, PathAttribute } from './messages/types.ts';
import { AS_PATH_SEGMENT, ORIGIN, ROUTE_REFRESH_SUBTYPE } from './constants.ts';
import { encodeMessage, endOfRib, packKeyAnnouncements, packKeyWithdrawals, type NextHops } from './codec.ts';
import { afiOfFamily } from './nlri.ts';
import { linkBandwidthCommunity } from './attributes/link-bandwidth.ts';
import type { Reason, SessionState } from './fsm.ts';
import { Session, type Clock, type EstablishedSession, type SessionHandler, type SessionStopOptions } from './session.ts';
export type { SessionStopOptions } from './session.ts';
import type { BgpSocket, Listener, TransportFactory } from './transport.ts';
import { BGP_PORT, DEFAULT_RESTART_TIME_SEC, familyOfAddress, peerProblems, unmapAddress, type PeerSpec } from './peer.ts';
import {
  compileAdvertisements,
  describeTable,
  diffRoutes,
  EMPTY_FAMILY_TABLE,
  EMPTY_TABLE,
  groupRoutes,
  tableSize,
  type Advertisement,
  type CompiledAdvertisements,
  type RouteAttributes,
  type RouteGroup,
  type RouteTable,
} from './adj-rib-out.ts';

export type { Advertisement } from './adj-rib-out.ts';
export type { PeerSpec } from './peer.ts';

/** RFC 4271 §5.1.5 does not fix a default; 100 is the common one (MetalLB FRR mode, FRR, BIRD). */
export const DEFAULT_LOCAL_PREF = 100;

export interface SpeakerEvent {
  readonly peer: string;
  /** 'state': any session state change (state 'Established' as soon as the session is); 'established':
   * the initial table and End-of-RIB were handed to TCP; 'down': left Established. */
  readonly kind: 'state' | 'established' | 'down';
  readonly state: SessionState;
  readonly reason?: Reason;
}

export interface SpeakerOptions {
  readonly transport: TransportFactory;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Speaker-wide BGP Identifier (dotted quad); a peer's routerId overrides it. */
  readonly routerId?: string;
  /** Listen for incoming sessions (passive peers and RFC 4271 §6.8 collisions). Absent: never listen. */
  readonly listen?: { readonly host?: string; readonly port?: number };
  /** RFC 4724: this process restarted; set the R bit in the first OPEN of each session created within
   * `restartWindowMs` of the speaker's construction (a peer configured later never had our routes:
   * no restart to signal to it; and after the restart time peers have dropped our stale routes). */
  readonly restarting?: boolean;
  /** Default: DEFAULT_RESTART_TIME_SEC (120 s), the Restart Time we advertise by default. */
  readonly restartWindowMs?: number;
  /** Milliseconds clock for the restart window; default Date.now. */
  readonly now?: () => number;
  /** The other addresses of the interface holding a session's local address: the next hops for the
   * family the session's own address is not (dual-stack sessions) and the IPv6 link-local next hop
   * (RFC 2545 §3). Default: os.networkInterfaces(). */
  readonly interfaceAddresses?: (localAddress: string) => InterfaceAddresses;
  /** The addresses of an interface by name (interface peers); default os.networkInterfaces(). */
  readonly interfaceAddressesByName?: (ifname: string) => InterfaceAddresses;
  /** Session changes (Established, down with a reason), e.g. for ServiceBGPStatus and metrics. */
  readonly onEvent?: (e: SpeakerEvent) => void;
  /** Sees every message received from a peer (tests, debugging). */
  readonly onMessage?: (peer: string, msg: Message) => void;
  /** TCP connect timeout per attempt; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Per-peer bound on queued outgoing octets (session.ts DEFAULT_MAX_UNSENT_BYTES). */
  readonly maxUnsentBytes?: number;
}

interface PeerEntry {
  readonly spec: PeerSpec;
  readonly key: string;
  readonly session: Session;
  /** What this peer has been sent on its current Established session (never mutated; replaced). Equal
   * to the shared desired table once in sync: one peer's Adj-RIB-Out costs no per-prefix memory. */
  sent: RouteTable;
  /** Send jobs run one at a time, in order (a job yields between chunks). */
  busy: boolean;
  readonly jobs: (() => Promise<void>)[];
  /** A sync job is queued and not started: further requests join it. */
  syncQueued: boolean;
}

/** Prefixes packed and written per turn of the event loop while sending a large table: between chunks
 * the process reads, answers KEEPALIVEs and serves its other sessions (100,000 prefixes: 13 turns). */
export const SEND_CHUNK_PREFIXES = 8192;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export interface InterfaceAddresses {
  readonly ipv4?: string;
  /** A global (not link-local) IPv6 address. */
  readonly ipv6?: string;
  readonly ipv6LinkLocal?: string;
}

/** The addresses of the interface named `ifname`, from os.networkInterfaces(). */
export function interfaceAddressesByNameFromOs(ifname: string): InterfaceAddresses {
  const addrs = os.networkInterfaces()[ifname] ?? [];
  const v4 = addrs.find((a) => a.family === 'IPv4');
  const v6 = addrs.find((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80:'));
  const ll = addrs.find((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'));
  return {
    ...(v4 !== undefined ? { ipv4: v4.address } : {}),
    ...(v6 !== undefined ? { ipv6: v6.address } : {}),
    ...(ll !== undefined ? { ipv6LinkLocal: ll.address.split('%')[0] ?? ll.address } : {}),
  };
}

/** The addresses of the interface that holds `address`, from os.networkInterfaces(). */
export function interfaceAddressesFromOs(address: string): InterfaceAddresses {
  const found = Object.entries(os.networkInterfaces()).find(([, addrs]) => addrs?.some((a) => a.address === address) === true);
  return found === undefined ? {} : interfaceAddressesByNameFromOs(found[0]);
}

export class Speaker {
  readonly #opts: SpeakerOptions;
  readonly #log: Logger;
  readonly #peers = new Map<string, PeerEntry>();
  #ads: CompiledAdvertisements = compileAdvertisements([]);
  /** Set by withdrawAll (stopping): nothing is announced any more, whatever setAdvertisements says. */
  #withdrawn = false;
  #listener: Listener | undefined;
  #handler: SessionHandler;
  /** Until when (opts.now clock) new sessions carry the R bit; -Infinity when not restarting. */
  readonly #restartUntil: number;

  constructor(opts: SpeakerOptions) {
    this.#opts = opts;
    this.#restartUntil = opts.restarting === true ? (opts.now ?? Date.now)() + (opts.restartWindowMs ?? DEFAULT_RESTART_TIME_SEC * 1000) : -Infinity;
    this.#log = opts.logger;
    // A failure to build UPDATEs (a bug, or a value the encoder rejects) is logged and resets that
    // one session; it must not take the process down with every other session.
    const guard =
      <A extends unknown[]>(what: string, fn: (s: Session, ...args: A) => void) =>
      (s: Session, ...args: A): void => {
        try {
          fn(s, ...args);
        } catch (e) {
          this.#log.error({ peer: s.peer.name, reason: e instanceof Error ? e.message : String(e) }, `BGP speaker: ${what} failed`);
          s.reset('internal error');
        }
      };
    this.#handler = {
      established: guard('sending the table', (s, view: EstablishedSession) => this.#onEstablished(s, view)),
      down: (s, reason) => this.#onDown(s, reason),
      refresh: guard('route refresh', (s, family: Family, enhanced: boolean) => this.#onRefresh(s, family, enhanced)),
      stateChanged: (s, state, reason) => {
        if (this.#entryOf(s) !== undefined) this.#opts.onEvent?.({ peer: s.peer.name, kind: 'state', state, reason });
      },
    };
  }

  /** Opens the listener when one is configured. Call before or after setPeers. */
  async start(): Promise<void> {
    const l = this.#opts.listen;
    if (l === undefined || this.#listener !== undefined) return;
    this.#listener = await this.#opts.transport.listen(
      { host: l.host ?? '::', port: l.port ?? BGP_PORT, md5Keys: this.#md5Keys() },
      (socket) => this.#onIncoming(socket),
    );
  }

  /** The port the listener is bound to (useful with port 0). */
  get listenPort(): number | undefined {
    return this.#listener?.port;
  }

  /** The desired set of peers. New ones start, removed ones stop, changed ones restart. A peer whose
   * configuration is unusable (see peerProblems) is logged and left out. `removedBecause`: the Cease
   * communication (RFC 9003) for the peers this call removes (default "peer removed"). */
  setPeers(all: readonly PeerSpec[], opts: { readonly removedBecause?: string } = {}): void {
    const peers = all.filter((p) => {
      const problems = peerProblems(p);
      if (problems.length > 0) this.#log.error({ peer: p.name, reason: problems.join('; ') }, 'BGP peer configuration rejected');
      return problems.length === 0;
    });
    const wanted = new Map(peers.map((p) => [p.name, p]));
    for (const [name, e] of this.#peers) {
      const next = wanted.get(name);
      if (next === undefined || JSON.stringify(next) !== e.key) {
        void e.session.stop({ communication: next === undefined ? (opts.removedBecause ?? 'peer removed') : 'peer configuration changed' });
        if (e.spec.password !== undefined) this.#listener?.deleteMd5Key(e.spec.peerAddress);
        this.#peers.delete(name);
      }
    }
    for (const spec of peers) {
      if (this.#peers.has(spec.name)) continue;
      if (spec.password !== undefined && spec.password !== '') this.#listener?.setMd5Key(spec.peerAddress, spec.password);
      const session = new Session({
        peer: spec,
        transport: this.#opts.transport,
        handler: this.#handler,
        logger: this.#log,
        ...(this.#opts.clock !== undefined ? { clock: this.#opts.clock } : {}),
        ...(this.#opts.routerId !== undefined ? { routerId: this.#opts.routerId } : {}),
        ...((this.#opts.now ?? Date.now)() <= this.#restartUntil ? { restarting: true } : {}),
        ...(this.#opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.#opts.connectTimeoutMs } : {}),
        ...(this.#opts.maxUnsentBytes !== undefined ? { maxUnsentBytes: this.#opts.maxUnsentBytes } : {}),
        ...(this.#opts.onMessage !== undefined ? { onMessage: (m: Message) => this.#opts.onMessage?.(spec.name, m) } : {}),
      });
      this.#peers.set(spec.name, { spec, key: JSON.stringify(spec), session, sent: EMPTY_TABLE, busy: false, jobs: [], syncQueued: false });
      session.start();
    }
  }

  /** The desired set of announcements; each Established peer is sent the difference. */
  setAdvertisements(all: readonly Advertisement[]): void {
    this.#ads = compileAdvertisements(all);
    for (const r of this.#ads.rejected) this.#log.error({ vip: r.prefix, reason: r.reason }, 'advertisement rejected');
    for (const e of this.#peers.values()) if (e.session.established !== undefined) this.#requestSync(e);
  }

  /** Session states by peer name. */
  sessions(): readonly { readonly peer: string; readonly state: SessionState }[] {
    return [...this.#peers.values()].map((e) => ({ peer: e.spec.name, state: e.session.state }));
  }

  /** The Established session of a peer (negotiated parameters, addresses), if any. */
  sessionView(peer: string): EstablishedSession | undefined {
    return this.#peers.get(peer)?.session.established;
  }

  /** What a peer has been sent (prefix text -> attributes), for status and tests. */
  advertised(peer: string): ReadonlyMap<string, RouteAttributes> {
    return describeTable(this.#peers.get(peer)?.sent ?? EMPTY_TABLE);
  }

  /**
   * Hand-off before stop: withdraws every route from every Established peer (UPDATEs with
   * withdrawals, RFC 4271 §4.3), the sessions staying up, and resolves once the withdrawals have been
   * handed to the kernel or `maxMs` passed. From then on the speaker announces nothing, whatever
   * setAdvertisements says; `stop()` ends the sessions. So a router moves the traffic to the other next
   * hops while this node still forwards, instead of when the session drops (docs/handoff.md).
   */
  async withdrawAll(maxMs: number): Promise<{ readonly peers: number; readonly prefixes: number; readonly drained: boolean }> {
    this.#withdrawn = true;
    const established = [...this.#peers.values()].filter((e) => e.session.established !== undefined);
    const prefixes = established.reduce((n, e) => n + tableSize(e.sent), 0);
    for (const e of established) this.#requestSync(e);
    const deadline = (this.#opts.now ?? Date.now)() + maxMs;
    const pending = (): boolean => established.some((e) => e.busy || e.session.unsent > 0);
    while (pending() && (this.#opts.now ?? Date.now)() < deadline) await new Promise((r) => setTimeout(r, 2));
    return { peers: established.length, prefixes, drained: !pending() };
  }

  /** Resolves when no send job is running or queued for any peer (tests, benchmarks). */
  async idle(): Promise<void> {
    while ([...this.#peers.values()].some((e) => e.busy)) await nextTurn();
  }

  /**
   * Stops every session and the listener. By default each peer gets Cease / Administrative Shutdown
   * (with `communication`, RFC 9003) and withdraws our routes at once. With `preserveRoutes` (a planned
   * restart of the speaker) the connections are closed without NOTIFICATION, so peers that negotiated
   * graceful restart keep forwarding to this node until the new process sends End-of-RIB (RFC 4724).
   */
  async stop(opts: SessionStopOptions | string = {}): Promise<void> {
    // A bare string is the shutdown communication (the original signature, kept for callers).
    const o: SessionStopOptions = typeof opts === 'string' ? { communication: opts } : opts;
    const stopping = [...this.#peers.values()].map((e) => e.session.stop(o));
    this.#peers.clear();
    const l = this.#listener;
    this.#listener = undefined;
    await Promise.all([...stopping, ...(l !== undefined ? [l.close()] : [])]);
  }

  // ----------------------------------------------------------------------------------------- internals

  #md5Keys(): { address: string; key: string }[] {
    return [...this.#peers.values()].flatMap((e) =>
      e.spec.password !== undefined && e.spec.password !== '' ? [{ address: e.spec.peerAddress, key: e.spec.password }] : [],
    );
  }

  #onIncoming(socket: BgpSocket): void {
    const remote = unmapAddress(socket.remoteAddress ?? '');
    // A link-local peer (unnumbered) is configured with its zone; the socket may report it without.
    const bare = (a: string): string => a.split('%')[0] ?? a;
    const entry = [...this.#peers.values()].find((e) => e.spec.peerAddress === remote || (e.spec.interface !== undefined && bare(e.spec.peerAddress) === bare(remote)));
    if (entry === undefined) {
      // Only configured peers may connect.
      this.#log.info({ peer: remote, reason: 'not a configured peer' }, 'incoming BGP connection refused');
      socket.destroy();
      return;
    }
    entry.session.accept(socket);
  }

  #entryOf(s: Session): PeerEntry | undefined {
    const e = this.#peers.get(s.peer.name);
    return e?.session === s ? e : undefined;
  }

  #onEstablished(s: Session, view: EstablishedSession): void {
    const e = this.#entryOf(s);
    if (e === undefined) return;
    e.sent = EMPTY_TABLE;
    // A sync queued for the previous session is covered by this job.
    e.syncQueued = true;
    this.#enqueue(e, async () => {
      e.syncQueued = false;
      if (!(await this.#syncOnce(e, view))) return;
      // RFC 4724 §2: End-of-RIB after the initial update, one per family.
      s.send(view.families.map((f) => endOfRib(f, view.ctx)));
      this.#log.info(
        { peer: s.peer.name, state: 'Established', prefixes: tableSize(e.sent), families: view.families, hold: view.negotiated.holdTimeSec },
        'BGP session established, table sent',
      );
      this.#opts.onEvent?.({ peer: s.peer.name, kind: 'established', state: 'Established' });
    });
  }

  #onDown(s: Session, reason: Reason): void {
    const e = this.#entryOf(s);
    if (e !== undefined) e.sent = EMPTY_TABLE;
    this.#opts.onEvent?.({ peer: s.peer.name, kind: 'down', state: s.state, reason });
  }

  #onRefresh(s: Session, family: Family, enhanced: boolean): void {
    const e = this.#entryOf(s);
    const view = s.established;
    if (e === undefined || view === undefined || !view.families.includes(family)) return;
    const afi = afiOfFamily(family);
    const rr = (subtype: (typeof ROUTE_REFRESH_SUBTYPE)[keyof typeof ROUTE_REFRESH_SUBTYPE]): Buffer =>
      encodeMessage({ type: 'ROUTE_REFRESH', afi, safi: 1, subtype }, view.ctx);
    // Queued behind any sync in progress, so that a re-advertisement never overtakes a newer change.
    this.#enqueue(e, async () => {
      if (s.established !== view) return;
      const table = e.sent;
      // RFC 7313 §4: with enhanced route refresh, the re-advertisement is framed by BoRR ... EoRR.
      if (enhanced) s.send([rr(ROUTE_REFRESH_SUBTYPE.BEGIN_OF_RIB)]);
      const hops = this.#nextHops(e.spec, view);
      if (!(await this.#sendChunked(e, view, [], groupRoutes(table, [family]), hops))) return;
      if (enhanced) s.send([rr(ROUTE_REFRESH_SUBTYPE.END_OF_RIB)]);
      this.#log.info({ peer: s.peer.name, family, prefixes: table[family].size, enhanced }, 'ROUTE-REFRESH answered');
    });
  }

  /** Runs `job` after the peer's earlier jobs. An idle peer's job starts at once, synchronously: a
   * table that fits one chunk is sent before the call returns. A failing job (a bug, or a value the
   * encoder rejects) resets that one session, not the process. */
  #enqueue(e: PeerEntry, job: () => Promise<void>): void {
    e.jobs.push(job);
    if (e.busy) return;
    e.busy = true;
    void (async () => {
      for (let next = e.jobs.shift(); next !== undefined; next = e.jobs.shift()) {
        try {
          await next();
        } catch (err) {
          this.#log.error({ peer: e.spec.name, reason: err instanceof Error ? err.message : String(err) }, 'BGP speaker: sending failed');
          e.session.reset('internal error');
        }
      }
      e.busy = false;
    })();
  }

  #requestSync(e: PeerEntry): void {
    if (e.syncQueued) return;
    e.syncQueued = true;
    this.#enqueue(e, async () => {
      e.syncQueued = false;
      const view = e.session.established;
      if (view !== undefined) await this.#syncOnce(e, view);
    });
  }

  /** Sends the difference between what the peer has and what it should have. false when the session
   * went away (or was re-established) before the whole difference was written. */
  async #syncOnce(e: PeerEntry, view: EstablishedSession): Promise<boolean> {
    if (e.session.established !== view || this.#entryOf(e.session) !== e) return false;
    const hops = this.#nextHops(e.spec, view);
    const desired = this.#desiredFor(e, view, hops);
    const diff = diffRoutes(e.sent, desired);
    if (!(await this.#sendChunked(e, view, diff.withdraw, diff.announce, hops))) return false;
    e.sent = desired;
    return true;
  }

  /** Packs and writes withdrawals then announcements, SEND_CHUNK_PREFIXES prefixes per turn of the event
   * loop. false when the session stopped being `view` between chunks. */
  async #sendChunked(
    e: PeerEntry,
    view: EstablishedSession,
    withdraw: readonly { readonly family: Family; readonly keys: readonly string[] }[],
    announce: readonly RouteGroup[],
    hops: NextHops,
  ): Promise<boolean> {
    let budget = SEND_CHUNK_PREFIXES;
    const live = (): boolean => e.session.established === view && this.#entryOf(e.session) === e;
    const turn = async (n: number): Promise<boolean> => {
      budget -= n;
      if (budget > 0) return true;
      budget = SEND_CHUNK_PREFIXES;
      await nextTurn();
      return live();
    };
    for (const w of withdraw) {
      for (let i = 0; i < w.keys.length; i += SEND_CHUNK_PREFIXES) {
        const part = w.keys.slice(i, i + SEND_CHUNK_PREFIXES);
        e.session.send(packKeyWithdrawals(w.family, part, view.ctx));
        if (!(await turn(part.length))) return false;
      }
    }
    for (const g of announce) {
      const attrs = pathAttributes(e.spec.myAsn, view.negotiated.internal, g.attributes);
      for (let i = 0; i < g.keys.length; i += SEND_CHUNK_PREFIXES) {
        const part = i === 0 && g.keys.length <= SEND_CHUNK_PREFIXES ? g.keys : g.keys.slice(i, i + SEND_CHUNK_PREFIXES);
        e.session.send(packKeyAnnouncements(g.family, part, attrs, hops, view.ctx));
        if (!(await turn(part.length))) return false;
      }
    }
    return live();
  }

  /** The desired table for a peer, limited to the families the session carries and has a next hop for. */
  #desiredFor(e: PeerEntry, view: EstablishedSession, hops: NextHops): RouteTable {
    if (this.#withdrawn) return EMPTY_TABLE;
    const byFamily = this.#ads.forPeer(e.spec.name);
    // IPv4 prefixes take an IPv4 next hop, or an IPv6 one when RFC 8950 was negotiated (pack.ts reachOf).
    const usable = (f: Family): boolean =>
      view.families.includes(f) && (f === 'ipv4' ? hops.ipv4 !== undefined || (view.ctx.ipv4NextHopIpv6 === true && hops.ipv6 !== undefined) : hops.ipv6 !== undefined);
    const skipped = (['ipv4', 'ipv6'] as const).filter((f) => !usable(f)).reduce((n, f) => n + byFamily[f].size, 0);
    if (skipped > 0) this.#log.debug({ peer: e.spec.name, skipped }, 'prefixes of a family this session cannot carry');
    if (usable('ipv4') && usable('ipv6')) return byFamily;
    // The shared per-family tables as they are (never mutated).
    return { ipv4: usable('ipv4') ? byFamily.ipv4 : EMPTY_FAMILY_TABLE, ipv6: usable('ipv6') ? byFamily.ipv6 : EMPTY_FAMILY_TABLE };
  }

  /** NEXT_HOP / MP_REACH next hops for a session: configured ones first, then the session's local
   * address for its own family, then the same interface's address of the other family. */
  #nextHops(peer: PeerSpec, view: EstablishedSession): NextHops {
    if (peer.interface !== undefined) return this.#interfaceNextHops(peer, peer.interface, view);
    const local = view.localAddress;
    const localFamily = familyOfAddress(local);
    const iface = (this.#opts.interfaceAddresses ?? interfaceAddressesFromOs)(local);
    const ipv4 = peer.nextHops?.ipv4 ?? (localFamily === 'ipv4' ? local : iface.ipv4);
    const ipv6 = peer.nextHops?.ipv6 ?? (localFamily === 'ipv6' && !local.toLowerCase().startsWith('fe80:') ? local : iface.ipv6);
    const ll = peer.nextHops?.ipv6LinkLocal ?? (ipv6 !== undefined ? iface.ipv6LinkLocal : undefined);
    return {
      ...(ipv4 !== undefined ? { ipv4 } : {}),
      ...(ipv6 !== undefined ? { ipv6 } : {}),
      ...(ll !== undefined ? { ipv6LinkLocal: ll } : {}),
    };
  }

  /** Unnumbered: no IPv4 next hop (IPv4 prefixes go with the IPv6 one, RFC 8950 §4) unless configured;
   * the interface's global IPv6 address and our link-local one (RFC 2545 §3, 32 octets), or the
   * link-local one alone when the interface has no global address (as FRR does for interface peers). */
  #interfaceNextHops(peer: PeerSpec, ifname: string, view: EstablishedSession): NextHops {
    const local = (view.localAddress.split('%')[0] ?? view.localAddress).toLowerCase();
    const iface = (this.#opts.interfaceAddressesByName ?? interfaceAddressesByNameFromOs)(ifname);
    const ll = peer.nextHops?.ipv6LinkLocal ?? (local.startsWith('fe80:') ? local : iface.ipv6LinkLocal);
    const ipv6 = peer.nextHops?.ipv6 ?? iface.ipv6;
    const hops = ipv6 !== undefined ? { ipv6, ...(ll !== undefined ? { ipv6LinkLocal: ll } : {}) } : ll !== undefined ? { ipv6: ll } : {};
    return { ...(peer.nextHops?.ipv4 !== undefined ? { ipv4: peer.nextHops.ipv4 } : {}), ...hops };
  }

}

/** The path attributes of a locally originated route (RFC 4271 §5.1), without NEXT_HOP / MP_REACH. */
export function pathAttributes(myAsn: number, internal: boolean, a: RouteAttributes): PathAttribute[] {
  const attrs: PathAttribute[] = [
    { kind: 'ORIGIN', origin: ORIGIN.IGP }, // §5.1.1: originated by us
    // §5.1.2: an empty AS_PATH toward internal peers; our AS as one AS_SEQUENCE toward external ones.
    { kind: 'AS_PATH', segments: internal ? [] : [{ type: AS_PATH_SEGMENT.AS_SEQUENCE, asns: [myAsn] }] },
  ];
  // §5.1.5: LOCAL_PREF is sent to internal peers only.
  if (internal) attrs.push({ kind: 'LOCAL_PREF', localPref: a.localPref ?? DEFAULT_LOCAL_PREF });
  if (a.communities.length > 0) attrs.push({ kind: 'COMMUNITIES', communities: a.communities });
  if (a.largeCommunities.length > 0) attrs.push({ kind: 'LARGE_COMMUNITIES', communities: a.largeCommunities });
  // RFC 10005: the link bandwidth, originated by our AS, for weighted ECMP at the router.
  if (a.linkBandwidth !== undefined) attrs.push({ kind: 'EXTENDED_COMMUNITIES', communities: [linkBandwidthCommunity(myAsn, a.linkBandwidth)] });
  return attrs;
}
