// The node agent: applies NodePlans to the engines, level-triggered. Each apply() hands the engines
// the whole desired state (DESIGN.md "Desired state, not commands"):
//   L2   plan.l2 -> interface requests resolved against this node's interfaces (src/l2
//        selectInterfaces over src/sys facts; can_reach through a route lookup) -> l2.setOwned(all);
//        with liveness (a `gate`, src/liveness/runtime.ts) the entries this node only stands by for
//        go to the gate with the winners, and the gate calls setOwned, now and on every liveness change
//   BGP  plan.peers -> bgp.setPeers(specs); plan.advertisements -> bgp.setAdvertisements(all)
// and logs what changed against the previous plan (keys: vip, peer, node, reason, iface).
//
// keep(why): a snapshot that could not be read at all leaves the previous plan in force; the engines
// are not touched and the reason is logged (once per distinct reason).
// close(): BGP sessions end with Cease / Administrative Shutdown (RFC 4486 §4, RFC 9003 message),
// or, with { preserveRoutes }, close without NOTIFICATION for a planned restart (RFC 4724); then the
// L2 engine stops answering and sending announcements.
import type { Logger } from '../log.ts';
import type { Advertisement } from '../bgp/speaker.ts';
import type { PeerSpec } from '../bgp/peer.ts';
import type { OwnedVip, SetOwnedProblem } from '../l2/engine.ts';
import { parseEipInterface, selectInterfaces, type InterfaceFacts, type InterfaceRequest, type RouteFact } from '../l2/interfaces.ts';
import type { L2Outcome, BgpOutcome, L2Announcement, Member, NodePlan, PeerNote, PlannedPeer, ServicePlan } from './plan.ts';
import type { NodeAddressing } from '../l2/interfaces.ts';
import { createPlanDiffer, createPlanMirror, type PlanDelta } from './plan-delta.ts';
import { hash53 } from '../config/compact.ts';

/** What the agent needs of the L2 engine (src/l2 createLayer2Engine). */
export interface L2Driver {
  setOwned(all: readonly OwnedVip[]): readonly SetOwnedProblem[];
  close(): void;
}

/**
 * Liveness (src/liveness/runtime.ts): with plans made with l2Window > 1, the agent hands it every VIP
 * this node stands by for and it decides, now and whenever liveness changes, which of them the L2
 * engine answers for.
 */
export interface L2Gate {
  setCandidates(entries: readonly (OwnedVip & { readonly key: string; readonly ahead: readonly string[]; readonly behind: readonly string[] })[]): {
    readonly owned: readonly OwnedVip[];
    readonly problems: readonly SetOwnedProblem[];
  };
  setMembers(members: readonly Member[]): void;
}

/** What the agent needs of the BGP speaker (src/bgp Speaker). */
export interface BgpDriver {
  setPeers(peers: readonly PeerSpec[]): void;
  setAdvertisements(all: readonly Advertisement[]): void;
  stop(opts?: string | BgpStopOptions): Promise<void>;
}

/** How BGP sessions end on close (src/bgp SessionStopOptions). */
export interface BgpStopOptions {
  /** The RFC 9003 shutdown communication of the Cease NOTIFICATION. */
  readonly communication?: string;
  /** A planned restart: no NOTIFICATION, peers with graceful restart keep the routes (RFC 4724). */
  readonly preserveRoutes?: boolean;
}

export interface AgentOptions {
  readonly l2: L2Driver;
  readonly bgp: BgpDriver;
  readonly logger: Logger;
  /** This node's interfaces now (src/l2 scanInterfaces().facts in production). */
  readonly interfaces: () => Promise<readonly InterfaceFacts[]>;
  /** The default route's interface (src/sys defaultRouteInterface), for an Eip without an interface. */
  readonly defaultRoute?: () => Promise<string | undefined>;
  /** The interface the kernel routes `ip` through (src/sys routeTo), for Eip `can_reach:<IP>`. */
  readonly routeTo?: (ip: string) => Promise<string | undefined>;
  /** Interface name patterns never used (default: src/l2 DEFAULT_EXCLUDED_INTERFACES). */
  readonly exclude?: readonly RegExp[];
  /** Liveness gate; absent: only VIPs this node won are answered (plan entries standing by are not). */
  readonly gate?: L2Gate;
}

export interface ApplyResult {
  /** What the L2 engine was given. */
  readonly owned: readonly OwnedVip[];
  /** VIPs this node won but cannot answer for here (no usable interface), with why. */
  readonly unresolved: readonly { readonly vip: string; readonly reason: string }[];
  /** Problems the L2 engine reported (transport failures). */
  readonly l2Problems: readonly SetOwnedProblem[];
}

export interface Agent {
  /** Applies a whole plan (computes the change against the last one, then as applyDelta). */
  apply(plan: NodePlan): Promise<ApplyResult>;
  /** Applies a change to the plan in force (src/speaker/plan-delta.ts): what the planner thread sends. */
  applyDelta(delta: PlanDelta): Promise<ApplyResult>;
  /** The snapshot could not be read: the previous plan stays in force. */
  keep(reason: string): void;
  readonly current: NodePlan | undefined;
  /** Graceful stop: BGP Cease / Administrative Shutdown (or, with preserveRoutes, close for a planned
   * restart), then L2 stops answering. A string is the shutdown communication. */
  close(opts?: string | BgpStopOptions): Promise<void>;
}

export function createAgent(opts: AgentOptions): Agent {
  const log = opts.logger;
  const mirror = createPlanMirror();
  const differ = createPlanDiffer();
  let current: NodePlan | undefined;
  let serviceStates: ServiceStates | undefined;
  let lastOwned: readonly OwnedVip[] = [];
  let lastKeepReason: string | undefined;
  let closed = false;

  async function resolve(l2: readonly L2Announcement[], addressing: NodeAddressing): Promise<{ owned: OwnedVip[]; unresolved: { vip: string; reason: string }[] }> {
    const owned: OwnedVip[] = [];
    const unresolved: { vip: string; reason: string }[] = [];
    if (l2.length === 0) return { owned, unresolved };
    const facts = await opts.interfaces();
    const routes = await canReachRoutes(l2.flatMap((a) => a.interfaces), opts.routeTo);
    const defaultRoute = l2.some((a) => a.interfaces.some((r) => r.kind === 'nodeDefault')) ? await opts.defaultRoute?.().catch(() => undefined) : undefined;
    for (const a of l2) {
      const names = new Set<string>();
      const why: string[] = [];
      for (const req of a.interfaces) {
        const sel = selectInterfaces(req, facts, addressing, { routes, ...(defaultRoute === undefined ? {} : { defaultRoute }), ...(opts.exclude !== undefined ? { exclude: opts.exclude } : {}) });
        for (const n of sel.interfaces) names.add(n);
        if (sel.problem !== undefined) why.push(sel.problem.message);
      }
      if (names.size === 0) unresolved.push({ vip: a.vip, reason: why.join('; ') || 'no usable interface' });
      else owned.push({ vip: a.vip, interfaces: [...names].sort() });
    }
    owned.sort((x, y) => (x.vip < y.vip ? -1 : x.vip > y.vip ? 1 : 0));
    return { owned, unresolved };
  }

  async function applyDelta(delta: PlanDelta): Promise<ApplyResult> {
    if (closed) throw new Error('speaker agent is closed');
    const before = { known: mirror.node === undefined ? undefined : mirror.nodeKnown, peers: mirror.peers, peerNotes: mirror.peerNotes };
    mirror.apply(delta);
    const all = mirror.l2();
    const { owned: resolved, unresolved } = await resolve(all, mirror.addressing);
    const elections = new Map(all.map((a) => [a.vip, a.election]));
    for (const u of unresolved) {
      // MetalLB announceFailed (MetalLB L2Advertisement interfaces): no fallback to another node.
      const standby = (elections.get(u.vip)?.ahead.length ?? 0) > 0;
      log.warn({ node: delta.node, vip: u.vip, reason: u.reason }, standby ? 'stands by for the VIP but could not answer here: no usable interface' : 'won the L2 election but cannot answer here: no usable interface');
    }
    let owned: readonly OwnedVip[];
    let l2Problems: readonly SetOwnedProblem[];
    if (opts.gate !== undefined) {
      if (delta.members !== undefined) opts.gate.setMembers(mirror.members);
      const gated = opts.gate.setCandidates(
        resolved.map((o) => {
          const e = elections.get(o.vip);
          return { ...o, key: e?.key ?? o.vip, ahead: e?.ahead ?? [], behind: e?.behind ?? [] };
        }),
      );
      owned = gated.owned;
      l2Problems = gated.problems;
    } else {
      // Without liveness a node that only stands by never answers.
      owned = resolved.filter((o) => (elections.get(o.vip)?.ahead.length ?? 0) === 0);
      l2Problems = opts.l2.setOwned(owned);
    }
    for (const p of l2Problems) log.warn({ node: delta.node, vip: p.vip, iface: p.iface, reason: p.message }, 'L2 engine refused an interface');
    if (delta.peers !== undefined) opts.bgp.setPeers(mirror.peers.map((p) => p.spec));
    // Unchanged advertisements cost nothing (the speaker's compile of 100,000 is ~50 ms).
    if (delta.advertisements.upsert.length + delta.advertisements.remove.length > 0 || delta.reset === true) opts.bgp.setAdvertisements(mirror.advertisements());
    logChanges(log, delta, before, lastOwned, owned);
    lastOwned = owned;
    lastKeepReason = undefined;
    return { owned, unresolved, l2Problems };
  }

  return {
    get current() {
      return current;
    },

    async apply(plan) {
      if (closed) throw new Error('speaker agent is closed');
      const result = await applyDelta(differ.diff(plan));
      serviceStates = logServiceChanges(log, serviceStates, plan);
      current = plan;
      return result;
    },

    applyDelta,

    keep(reason) {
      if (reason === lastKeepReason) return;
      lastKeepReason = reason;
      log.warn({ node: mirror.node, reason }, mirror.node === undefined ? 'no usable snapshot yet: announcing nothing' : 'snapshot unusable: the previous plan stays in force');
    },

    async close(how) {
      if (closed) return;
      closed = true;
      await opts.bgp.stop(how);
      opts.l2.close();
      log.info({ node: mirror.node }, 'speaker stopped: BGP sessions closed, no longer answering ARP/NDP');
    },
  };
}

/** Host routes for every can_reach target, from the kernel's answer (connected subnets need none). */
async function canReachRoutes(reqs: readonly InterfaceRequest[], routeTo: AgentOptions['routeTo']): Promise<RouteFact[]> {
  if (routeTo === undefined) return [];
  const targets = new Set<string>();
  for (const r of reqs) {
    if (r.kind !== 'eip') continue;
    const parsed = parseEipInterface(r.spec);
    if (parsed.kind === 'canReach') targets.add(parsed.ip);
  }
  const out: RouteFact[] = [];
  for (const ip of targets) {
    const dev = await routeTo(ip).catch(() => undefined);
    if (dev !== undefined) out.push({ destination: ip, prefixLength: ip.includes(':') ? 128 : 32, dev });
  }
  return out;
}

// -------------------------------------------------------------------------------------------- logging

function outcomeText(o: L2Outcome | BgpOutcome | undefined): string {
  if (o === undefined) return '-';
  return o.announced ? 'announced' : o.reason.code;
}

/** Above this many prefix changes in one apply, one summary line (per-prefix lines at debug). */
const PREFIX_LOG_LIMIT = 20;

function logChanges(
  log: Logger,
  delta: PlanDelta,
  before: { readonly known: boolean | undefined; readonly peers: readonly PlannedPeer[]; readonly peerNotes: readonly PeerNote[] },
  ownedBefore: readonly OwnedVip[],
  ownedAfter: readonly OwnedVip[],
): void {
  const node = delta.node;
  if (before.known !== delta.nodeKnown && !delta.nodeKnown) log.warn({ node, reason: 'nodeUnknown' }, 'this node is not in the cluster snapshot: announcing nothing');
  // L2 ownership.
  const ob = new Map(ownedBefore.map((o) => [o.vip, o.interfaces.join(',')]));
  const oa = new Map(ownedAfter.map((o) => [o.vip, o.interfaces.join(',')]));
  for (const [vip, ifaces] of oa) if (ob.get(vip) !== ifaces) log.info({ node, vip, iface: ifaces }, 'L2: answering ARP/NDP for VIP');
  for (const vip of ob.keys()) if (!oa.has(vip)) log.info({ node, vip }, 'L2: stopped answering for VIP');
  // Peers.
  if (delta.peers !== undefined) {
    const pb = new Map(before.peers.map((p) => [p.spec.name, JSON.stringify(p.spec)]));
    for (const p of delta.peers) {
      const prev = pb.get(p.spec.name);
      if (prev === undefined) log.info({ node, peer: p.spec.name, address: p.spec.peerAddress, asn: p.spec.myAsn, routerId: p.spec.routerId }, 'BGP: peer configured');
      else if (prev !== JSON.stringify(p.spec)) log.info({ node, peer: p.spec.name, address: p.spec.peerAddress }, 'BGP: peer configuration changed, session restarts');
    }
    const pa = new Set(delta.peers.map((p) => p.spec.name));
    for (const name of pb.keys()) if (!pa.has(name)) log.info({ node, peer: name }, 'BGP: peer removed');
  }
  if (delta.peerNotes !== undefined) {
    const nb = new Set(before.peerNotes.map((n) => `${n.peer}\u0000${n.message}`));
    for (const n of delta.peerNotes) if (!nb.has(`${n.peer}\u0000${n.message}`)) log.warn({ node, peer: n.peer, reason: n.message }, 'BGP peer note');
  }
  // Prefixes.
  const { upsert, remove } = delta.advertisements;
  const each = upsert.length + remove.length <= PREFIX_LOG_LIMIT;
  if (!each) log.info({ node, advertised: upsert.length, withdrawn: remove.length }, 'BGP: advertisements changed');
  if (each || log.isLevelEnabled('debug')) {
    const level = each ? 'info' : 'debug';
    for (const a of upsert) log[level]({ node, vip: a.prefix, peers: a.peers ?? 'all', localPref: a.localPref, communities: a.communities?.length ?? 0, ...(a.linkBandwidth !== undefined ? { linkBandwidth: a.linkBandwidth } : {}) }, 'BGP: advertising prefix');
    for (const k of remove) log[level]({ node, vip: k }, 'BGP: withdrawing prefix');
  }
}

/** Each Service's announcement state (what logServiceChanges compares), compact: a hash of its text
 * (compact.ts hash53: a collision would lose one log line), with the plan object it was computed from
 * (a plan reused by the planner's memo is not encoded again). */
export type ServiceStates = ReadonlyMap<string, { readonly plan: ServicePlan; readonly state: number }>;

/**
 * Logs the per-Service announcement states that changed since `before` (the planner's side logs
 * these); returns the states of `after` for the next call.
 */
export function logServiceChanges(log: Logger, before: ServiceStates | undefined, after: NodePlan): ServiceStates {
  const node = after.node;
  const states = new Map<string, { plan: ServicePlan; state: number }>();
  const changed: ServicePlan[] = [];
  for (const s of after.services) {
    const prev = before?.get(s.service);
    if (prev !== undefined && prev.plan === s) {
      states.set(s.service, prev);
      continue;
    }
    const state = serviceState(s);
    states.set(s.service, { plan: s, state });
    if (prev?.state !== state) changed.push(s);
  }
  const gone = [...(before?.keys() ?? [])].filter((k) => !states.has(k));
  const each = changed.length + gone.length <= SERVICE_LOG_LIMIT;
  if (!each) log.info({ node, changed: changed.length, gone: gone.length }, 'service announcement states changed');
  if (!each && !log.isLevelEnabled('debug')) return states;
  const level = each ? 'info' : 'debug';
  for (const s of changed) {
    const why = s.reason ?? (s.l2 !== undefined && !s.l2.announced ? s.l2.reason : undefined) ?? (s.bgp !== undefined && !s.bgp.announced ? s.bgp.reason : undefined);
    log[level]({ node, service: s.service, vip: s.ips.join(','), l2: outcomeText(s.l2), bgp: outcomeText(s.bgp), reason: why?.message }, 'service announcement state');
  }
  for (const k of gone) log[level]({ node, service: k }, 'service gone');
  return states;
}

/** Above this many Service state changes in one plan, one summary line (per-Service lines at debug). */
const SERVICE_LOG_LIMIT = 100;

function serviceState(s: ServicePlan): number {
  return hash53(JSON.stringify([s.ips, s.modes, s.reason?.code, outcomeText(s.l2), outcomeText(s.bgp), s.l2 !== undefined && !s.l2.announced ? s.l2.winner : undefined]));
}
