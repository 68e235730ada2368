// The BGP speaker: a desired-state engine over sessions (MetalLB's model, reference §5.1/§5.2).
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
import { encodeMessage, endOfRib, packAnnouncements, packWithdrawals, type NextHops } from './codec.ts';
import { afiOfFamily } from './nlri.ts';
import type { Reason, SessionState } from './fsm.ts';
import { Session, type Clock, type EstablishedSession, type SessionHandler, type SessionStopOptions } from './session.ts';
export type { SessionStopOptions } from './session.ts';
import type { BgpSocket, Listener, TransportFactory } from './transport.ts';
import { BGP_PORT, familyOfAddress, peerProblems, unmapAddress, type PeerSpec } from './peer.ts';
import {
  compileAdvertisements,
  diffRoutes,
  groupRoutes,
  type Advertisement,
  type CompiledAdvertisements,
  type Route,
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
  /** 'state': any session state change; 'established': the table was sent; 'down': left Established. */
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
  /** RFC 4724: this process restarted; set the R bit in the first OPEN of each session. */
  readonly restarting?: boolean;
  /** The other addresses of the interface holding a session's local address: the next hops for the
   * family the session's own address is not (dual-stack sessions) and the IPv6 link-local next hop
   * (RFC 2545 §3). Default: os.networkInterfaces(). */
  readonly interfaceAddresses?: (localAddress: string) => InterfaceAddresses;
  /** Session changes (Established, down with a reason), e.g. for ServiceBGPStatus and metrics. */
  readonly onEvent?: (e: SpeakerEvent) => void;
  /** Sees every message received from a peer (tests, debugging). */
  readonly onMessage?: (peer: string, msg: Message) => void;
  /** TCP connect timeout per attempt; default 10 s. */
  readonly connectTimeoutMs?: number;
}

interface PeerEntry {
  readonly spec: PeerSpec;
  readonly key: string;
  readonly session: Session;
  /** What this peer has been sent on its current Established session (never mutated; replaced). */
  sent: RouteTable;
}

export interface InterfaceAddresses {
  readonly ipv4?: string;
  /** A global (not link-local) IPv6 address. */
  readonly ipv6?: string;
  readonly ipv6LinkLocal?: string;
}

/** The addresses of the interface that holds `address`, from os.networkInterfaces(). */
export function interfaceAddressesFromOs(address: string): InterfaceAddresses {
  for (const addrs of Object.values(os.networkInterfaces())) {
    if (addrs?.some((a) => a.address === address) !== true) continue;
    const v4 = addrs.find((a) => a.family === 'IPv4');
    const v6 = addrs.find((a) => a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80:'));
    const ll = addrs.find((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'));
    return {
      ...(v4 !== undefined ? { ipv4: v4.address } : {}),
      ...(v6 !== undefined ? { ipv6: v6.address } : {}),
      ...(ll !== undefined ? { ipv6LinkLocal: ll.address.split('%')[0] ?? ll.address } : {}),
    };
  }
  return {};
}

export class Speaker {
  readonly #opts: SpeakerOptions;
  readonly #log: Logger;
  readonly #peers = new Map<string, PeerEntry>();
  #ads: CompiledAdvertisements = compileAdvertisements([]);
  #listener: Listener | undefined;
  #handler: SessionHandler;

  constructor(opts: SpeakerOptions) {
    this.#opts = opts;
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
   * configuration is unusable (see peerProblems) is logged and left out. */
  setPeers(all: readonly PeerSpec[]): void {
    const peers = all.filter((p) => {
      const problems = peerProblems(p);
      if (problems.length > 0) this.#log.error({ peer: p.name, reason: problems.join('; ') }, 'BGP peer configuration rejected');
      return problems.length === 0;
    });
    const wanted = new Map(peers.map((p) => [p.name, p]));
    for (const [name, e] of this.#peers) {
      const next = wanted.get(name);
      if (next === undefined || JSON.stringify(next) !== e.key) {
        void e.session.stop({ communication: next === undefined ? 'peer removed' : 'peer configuration changed' });
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
        ...(this.#opts.restarting === true ? { restarting: true } : {}),
        ...(this.#opts.connectTimeoutMs !== undefined ? { connectTimeoutMs: this.#opts.connectTimeoutMs } : {}),
        ...(this.#opts.onMessage !== undefined ? { onMessage: (m: Message) => this.#opts.onMessage?.(spec.name, m) } : {}),
      });
      this.#peers.set(spec.name, { spec, key: JSON.stringify(spec), session, sent: new Map() });
      session.start();
    }
  }

  /** The desired set of announcements; each Established peer is sent the difference. */
  setAdvertisements(all: readonly Advertisement[]): void {
    this.#ads = compileAdvertisements(all);
    for (const r of this.#ads.rejected) this.#log.error({ vip: r.prefix, reason: r.reason }, 'advertisement rejected');
    for (const e of this.#peers.values()) {
      const view = e.session.established;
      if (view === undefined) continue;
      try {
        this.#sync(e, view);
      } catch (err) {
        this.#log.error({ peer: e.spec.name, reason: err instanceof Error ? err.message : String(err) }, 'BGP speaker: sending changes failed');
        e.session.reset('internal error');
      }
    }
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
    const e = this.#peers.get(peer);
    return new Map([...(e?.sent ?? new Map<string, Route>())].map(([k, r]) => [k, r.attributes]));
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
    const entry = [...this.#peers.values()].find((e) => e.spec.peerAddress === remote);
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
    e.sent = new Map();
    this.#sync(e, view);
    // RFC 4724 §2: End-of-RIB after the initial update, one per family.
    s.send(view.families.map((f) => endOfRib(f, view.ctx)));
    this.#log.info(
      { peer: s.peer.name, state: 'Established', prefixes: e.sent.size, families: view.families, hold: view.negotiated.holdTimeSec },
      'BGP session established, table sent',
    );
    this.#opts.onEvent?.({ peer: s.peer.name, kind: 'established', state: 'Established' });
  }

  #onDown(s: Session, reason: Reason): void {
    const e = this.#entryOf(s);
    if (e !== undefined) e.sent = new Map();
    this.#opts.onEvent?.({ peer: s.peer.name, kind: 'down', state: s.state, reason });
  }

  #onRefresh(s: Session, family: Family, enhanced: boolean): void {
    const e = this.#entryOf(s);
    const view = s.established;
    if (e === undefined || view === undefined || !view.families.includes(family)) return;
    const afi = afiOfFamily(family);
    const rr = (subtype: (typeof ROUTE_REFRESH_SUBTYPE)[keyof typeof ROUTE_REFRESH_SUBTYPE]): Buffer =>
      encodeMessage({ type: 'ROUTE_REFRESH', afi, safi: 1, subtype }, view.ctx);
    const routes = [...e.sent.values()].filter((r) => r.prefix.family === family);
    const out: Buffer[] = [];
    // RFC 7313 §4: with enhanced route refresh, the re-advertisement is framed by BoRR ... EoRR.
    if (enhanced) out.push(rr(ROUTE_REFRESH_SUBTYPE.BEGIN_OF_RIB));
    const hops = this.#nextHops(e.spec, view);
    for (const g of groupRoutes(routes)) out.push(...this.#pack(e, view, g, hops));
    if (enhanced) out.push(rr(ROUTE_REFRESH_SUBTYPE.END_OF_RIB));
    s.send(out);
    this.#log.info({ peer: s.peer.name, family, prefixes: routes.length, enhanced }, 'ROUTE-REFRESH answered');
  }

  /** Sends the difference between what the peer has and what it should have. */
  #sync(e: PeerEntry, view: EstablishedSession): void {
    const hops = this.#nextHops(e.spec, view);
    const desired = this.#desiredFor(e, view, hops);
    const diff = diffRoutes(e.sent, desired);
    const out: Buffer[] = [];
    for (const w of diff.withdraw) out.push(...packWithdrawals(w.prefixes, view.ctx));
    for (const g of diff.announce) out.push(...this.#pack(e, view, g, hops));
    if (out.length > 0) e.session.send(out);
    e.sent = desired;
  }

  /** The desired table for a peer, limited to the families the session carries and has a next hop for. */
  #desiredFor(e: PeerEntry, view: EstablishedSession, hops: NextHops): RouteTable {
    const byFamily = this.#ads.forPeer(e.spec.name);
    const usable = (['ipv4', 'ipv6'] as const).filter(
      (f) => view.families.includes(f) && (f === 'ipv4' ? hops.ipv4 !== undefined : hops.ipv6 !== undefined),
    );
    const skipped = (['ipv4', 'ipv6'] as const).filter((f) => !usable.includes(f)).reduce((n, f) => n + byFamily[f].size, 0);
    if (skipped > 0) this.#log.debug({ peer: e.spec.name, skipped }, 'prefixes of a family this session cannot carry');
    const [first, second] = usable;
    if (first === undefined) return new Map();
    // One family: the shared table as is (never mutated); both: their union.
    return second === undefined ? byFamily[first] : new Map([...byFamily[first], ...byFamily[second]]);
  }

  /** NEXT_HOP / MP_REACH next hops for a session: configured ones first, then the session's local
   * address for its own family, then the same interface's address of the other family. */
  #nextHops(peer: PeerSpec, view: EstablishedSession): NextHops {
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

  #pack(e: PeerEntry, view: EstablishedSession, g: RouteGroup, nextHops: NextHops): Buffer[] {
    return packAnnouncements({ attributes: pathAttributes(e.spec.myAsn, view.negotiated.internal, g.attributes), nextHops, prefixes: g.prefixes }, view.ctx);
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
  return attrs;
}
