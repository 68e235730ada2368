// planNode: what one node announces, as plain data. Pure: no I/O, no clock (DESIGN.md data flow
// "speaker: Services(with IPs) x Config x Nodes x EndpointSlices x liveness -> this node's
// announcements"). The agent (agent.ts) applies the result to the L2 and BGP engines.
//
// Per Service, after dispatch (src/config/dispatch.ts decides L2, BGP or both from the protocol
// annotation, the Eip's protocol, or the advertisements, and leaves L2 out for a shared IP that an L2
// rule with serviceSelectors selects; `berth check` reads the same dispatch):
//   L2   every speaker runs the same election (src/l2/election.ts: MetalLB's sha256(node#firstIP)
//        order after preference scores) over the candidates of the matching L2 rules: selected by a
//        rule's nodeSelectors, not excluded, Ready, not NetworkUnavailable, alive, and for ETP=Local
//        hosting a serving endpoint. Only the winner announces (MetalLB speaker/layer2_controller.go ShouldAnnounce); a loser is absent
//        from the plan, so its engine stops answering at once (unlike OpenELB, whose loser keeps answering). The
//        interfaces come from the rules that select this node (union; any rule without interfaces
//        means all of them, MetalLB L2Advertisement interfaces).
//   BGP  this node announces when a matching BGPAdvertisement selects it, it is not excluded, Ready,
//        not NetworkUnavailable, and the Service can be served from it: ETP=Local needs a serving
//        endpoint on this node, Cluster one anywhere (MetalLB speaker/bgp_controller.go). Prefix = VIP & mask(aggregation
//        length) (MetalLB BGPAdvertisement aggregationLength), with the rule's LOCAL_PREF, communities and peer filter; advertisements of one
//        prefix and one peer filter merge by the Adj-RIB-Out's one rule (src/bgp/adj-rib-out.ts
//        mergeRouteAttributes: communities unioned, the largest LOCAL_PREF and link bandwidth kept).
// Liveness (PlanOptions.l2Window > 1, docs/liveness.md): the election itself assumes every speaker alive;
// the plan also lists the VIPs this node is among the first l2Window candidates of, with the nodes ranked
// before and after it, and the members (Nodes and their InternalIPs). The speaker's main thread decides
// from liveness which of them it answers for (src/liveness/claims.ts), without planning again.
// A Service with no EndpointSlice at all counts as served on every node (manifest mode: nobody
// writes slices); PlanOptions.withoutEndpointSlices = 'noEndpoints' gives Kubernetes semantics.
// Every Service that is not announced gets a reason per mode (reasons.ts).
import { dispatch } from '../config/dispatch.ts';
import type { AnnounceMode, BgpAdvertisementRule, Config, L2Rule, PoolConfig } from '../config/model.ts';
import { matchesAny } from '../labels/selector.ts';
import type { ServiceIntent } from '../config/services.ts';
import { formatIP, parseIP } from '../pool/address.ts';
import { aggregatePrefix } from '../config/describe.ts';
import { fitted, flat } from '../config/compact.ts';
import type { Advertisement } from '../bgp/speaker.ts';
import type { LargeCommunity } from '../bgp/messages/types.ts';
import { peerFamilies } from '../bgp/peer.ts';
import { advertisementAttributes, mergeRouteAttributes, type RouteAttributes } from '../bgp/adj-rib-out.ts';
import { elect, nodeIneligibility, ExclusionReason, EXCLUDE_FROM_LB_LABEL, OUT_OF_SERVICE_TAINT, type ElectionNode, type ElectionResult } from '../l2/election.ts';
import type { InterfaceRequest, NodeAddressing } from '../l2/interfaces.ts';
import type { ServiceEndpoints } from './endpoints.ts';
import { firstIPv4, type NodeFacts } from './nodes.ts';
import { planPeers, type PeerNote, type PlannedPeer } from './peers.ts';
import { NotAnnounced, reason, type Reason } from './reasons.ts';

export { NotAnnounced, type Reason } from './reasons.ts';
export type { PlannedPeer, PeerNote } from './peers.ts';

/** A Service with its IPs: from status.loadBalancer.ingress (Kubernetes) or the allocator (manifests). */
export interface PlanService {
  readonly intent: ServiceIntent;
  /** Canonical IP text; the first is the election key (both families of a dual-stack Service follow it). */
  readonly ips: readonly string[];
  /** The pool the IPs came from; when absent it is looked up from the IPs. */
  readonly pool?: string;
  /** Why `ips` is empty (an allocation failure), for the Service's reason. */
  readonly pendingReason?: string;
}

export interface PlanOptions {
  /** MetalLB --ignore-exclude-lb. */
  readonly ignoreExcludeLabel?: boolean;
  /** A Service with no EndpointSlice: served on every node (manifest mode, default) or by nobody. */
  readonly withoutEndpointSlices?: 'servedEverywhere' | 'noEndpoints';
  /**
   * How many candidates per L2 VIP stand by for it (docs/liveness.md): with n > 1 this node's plan
   * also lists the VIPs it is among the first n candidates of, each with the nodes ranked before and
   * after it, and the plan lists the cluster's members; the main thread's liveness gate then decides
   * which of them it answers for. Default 1: only the VIPs this node wins.
   */
  readonly l2Window?: number;
}

/** A speaker the liveness channel talks to: a Node and its first InternalIP (IPv4 preferred). */
export interface Member {
  readonly name: string;
  readonly address: string;
}

export interface PlanInput {
  readonly config: Config;
  readonly services: readonly PlanService[];
  /** Plain data: the Kubernetes objects are converted at the boundary (nodes.ts nodeFactsOf for Nodes). */
  readonly nodes: readonly NodeFacts[];
  /** Plain data: endpoints.ts endpointsByService converts EndpointSlices. Services without a slice are absent. */
  readonly endpoints: ReadonlyMap<string, ServiceEndpoints>;
  readonly nodeName: string;
  /** Nodes whose speaker is alive; undefined = all. This node always counts as alive. */
  readonly aliveNodes?: ReadonlySet<string>;
  readonly options?: PlanOptions;
  /** Results of the previous planNode to reuse for unchanged Services (createPlanMemo). */
  readonly memo?: PlanMemo;
}

/** One VIP this node answers ARP/NDP for. */
export interface L2Announcement {
  readonly vip: string;
  /** `namespace/name` of the Services behind the VIP (several when the IP is shared). */
  readonly services: readonly string[];
  /** Resolved on the node with src/l2 selectInterfaces; the union of the results is used. */
  readonly interfaces: readonly InterfaceRequest[];
  /** With PlanOptions.l2Window > 1: this node's place in the VIP's election (src/liveness/claims.ts). */
  readonly election?: L2Election;
}

export interface L2Election {
  /** The Service's first IP: the election's hash key. */
  readonly key: string;
  /** Candidates ranked before this node, best first; empty: this node won. */
  readonly ahead: readonly string[];
  /** Candidates ranked after this node within the window. */
  readonly behind: readonly string[];
}

export type L2Outcome =
  | { readonly announced: true; readonly interfaces: readonly InterfaceRequest[] }
  | { readonly announced: false; readonly reason: Reason; readonly winner?: string };

export type BgpOutcome =
  | { readonly announced: true; readonly prefixes: readonly string[]; readonly peers: readonly string[] }
  | { readonly announced: false; readonly reason: Reason };

export interface ServicePlan {
  readonly service: string;
  readonly ips: readonly string[];
  readonly pool: string | undefined;
  /** The modes dispatch chose; empty with `reason` when none applies. */
  readonly modes: readonly AnnounceMode[];
  readonly l2?: L2Outcome;
  readonly bgp?: BgpOutcome;
  /** Set when no mode applies at all (no IP, no pool, no advertisement, unknown node). */
  readonly reason?: Reason;
}

export interface NodePlan {
  readonly node: string;
  /** False when this node is not in the snapshot: nothing is announced. */
  readonly nodeKnown: boolean;
  /** For interface selection on the node (InternalIPs, Porter layer2 annotation). */
  readonly addressing: NodeAddressing;
  /** Sorted by VIP. */
  readonly l2: readonly L2Announcement[];
  /** Sorted by name. */
  readonly peers: readonly PlannedPeer[];
  /** Sorted by prefix, then peer filter. */
  readonly advertisements: readonly Advertisement[];
  /** Sorted by `namespace/name`. */
  readonly services: readonly ServicePlan[];
  readonly peerNotes: readonly PeerNote[];
  /** With PlanOptions.l2Window > 1: every Node with an InternalIP, sorted by name. */
  readonly members?: readonly Member[];
}

export function planNode(input: PlanInput): NodePlan {
  const opts = input.options ?? {};
  const nodes = input.nodes.filter((n) => n.name !== '');
  const me = nodes.find((n) => n.name === input.nodeName);
  const services = [...input.services].sort((a, b) => cmp(a.intent.request.service, b.intent.request.service));
  if (me === undefined) {
    return {
      node: input.nodeName,
      nodeKnown: false,
      addressing: { internalIPs: [] },
      l2: [],
      peers: [],
      advertisements: [],
      services: services.map((s) => ({
        service: s.intent.request.service,
        ips: s.ips,
        pool: s.pool,
        modes: [],
        reason: reason(NotAnnounced.nodeUnknown, `node "${input.nodeName}" is not in the cluster snapshot: add its Node object`),
      })),
      peerNotes: [],
    };
  }
  const peerPlan = planPeers(input.config.bgpPeers, me, nodes, input.config.bfdProfiles);
  const endpoints = input.endpoints;
  const ctx: Ctx = {
    config: input.config,
    me,
    nodes,
    electionNodes: nodes.map((n) => ({
      name: n.name,
      labels: n.labels,
      ready: n.ready,
      networkUnavailable: n.networkUnavailable,
      taints: n.taints,
      unschedulable: n.unschedulable,
      alive: n.name === me.name || input.aliveNodes === undefined || input.aliveNodes.has(n.name),
    })),
    peers: peerPlan.peers,
    opts,
    endpoints: (svc) => {
      const e = endpoints.get(svc);
      if (e !== undefined || opts.withoutEndpointSlices === 'noEndpoints') return e ?? { slices: 0, servingNodes: new Set(), anyServing: false };
      return { slices: 0, servingNodes: new Set(nodes.map((n) => n.name)), anyServing: true };
    },
  };

  const memo = input.memo?.begin(input, endpoints);
  const l2 = new Map<string, { services: Set<string>; requests: Map<string, InterfaceRequest>; election: L2Election | undefined }>();
  const ads: Advertisement[] = [];
  const plans: ServicePlan[] = [];
  for (const s of services) {
    const key = s.intent.request.service;
    const out = memo?.get(s) ?? planService(ctx, s);
    memo?.set(s, out);
    plans.push(out.plan);
    if (out.l2 !== undefined) {
      for (const ip of s.ips) {
        const entry = l2.get(ip) ?? { services: new Set<string>(), requests: new Map<string, InterfaceRequest>(), election: out.election };
        entry.services.add(key);
        for (const r of out.l2) entry.requests.set(JSON.stringify(r), r);
        // A shared IP: the Service that puts this node earliest decides (the winner of any answers).
        if (out.election !== undefined && entry.election !== undefined && out.election.ahead.length < entry.election.ahead.length) entry.election = out.election;
        l2.set(ip, entry);
      }
    }
    for (const ad of out.ads) ads.push(ad);
  }
  memo?.end();

  return {
    node: me.name,
    nodeKnown: true,
    addressing: { internalIPs: me.internalIPs, annotations: me.annotations },
    l2: [...l2]
      .map(([vip, e]) => ({ vip, services: [...e.services].sort(), interfaces: collapseRequests([...e.requests.values()]), ...(e.election === undefined ? {} : { election: e.election }) }))
      .sort((a, b) => cmp(a.vip, b.vip)),
    peers: peerPlan.peers,
    advertisements: mergeAdvertisements(ads),
    services: plans,
    peerNotes: peerPlan.notes,
    ...((opts.l2Window ?? 1) > 1 ? { members: members(nodes) } : {}),
  };
}

function members(nodes: readonly NodeFacts[]): Member[] {
  const out: Member[] = [];
  for (const n of nodes) {
    const address = firstIPv4(n) ?? n.internalIPs[0];
    if (address !== undefined) out.push({ name: n.name, address });
  }
  return out.sort((a, b) => cmp(a.name, b.name));
}

interface Ctx {
  readonly config: Config;
  readonly me: NodeFacts;
  readonly nodes: readonly NodeFacts[];
  readonly electionNodes: readonly ElectionNode[];
  readonly peers: readonly PlannedPeer[];
  readonly opts: PlanOptions;
  readonly endpoints: (service: string) => ServiceEndpoints;
}

/** What one Service contributes to the node's plan. */
interface ServiceOut {
  readonly plan: ServicePlan;
  /** Interface requests when this node answers ARP/NDP for the Service's IPs (or stands by for them). */
  readonly l2?: readonly InterfaceRequest[];
  /** With PlanOptions.l2Window > 1: this node's place in the election. */
  readonly election?: L2Election;
  readonly ads: readonly Advertisement[];
}

function planService(ctx: Ctx, s: PlanService): ServiceOut {
  const key = s.intent.request.service;
  const base = { service: key, ips: s.ips };
  const none = (plan: ServicePlan): ServiceOut => ({ plan, ads: [] });
  if (s.ips.length === 0) return none({ ...base, pool: s.pool, modes: [], reason: reason(NotAnnounced.noIP, s.pendingReason ?? 'the Service has no IP yet') });
  const pool = s.pool ?? poolOfIPs(ctx.config.pools, s.ips)?.spec.name;
  if (pool === undefined) return none({ ...base, pool, modes: [], reason: reason(NotAnnounced.noPool, `${s.ips.join(', ')} is in no configured pool`) });
  const d = dispatch(ctx.config, { pool, serviceProtocol: s.intent.protocol, serviceLabels: s.intent.labels, sharingKey: s.intent.request.sharingKey });
  // A shared IP that an L2 rule with serviceSelectors selects: dispatch leaves L2 out (its one home), the plan says why.
  const refused: L2Outcome | undefined =
    d.sharedIPWithServiceSelector === true ? { announced: false, reason: reason(NotAnnounced.sharedIPWithServiceSelector, d.reason ?? 'allow-shared-ip with an L2Advertisement that has serviceSelectors') } : undefined;
  if (d.modes.length === 0) {
    if (refused !== undefined && !refused.announced) return none({ ...base, pool, modes: [], l2: refused, reason: refused.reason });
    return none({ ...base, pool, modes: [], reason: reason(NotAnnounced.noAdvertisement, d.reason ?? `nothing announces pool "${pool}"`) });
  }
  let l2Outcome: L2Outcome | undefined;
  let bgpOutcome: BgpOutcome | undefined;
  let ads: readonly Advertisement[] = [];
  let standby: { interfaces: readonly InterfaceRequest[]; election: L2Election } | undefined;
  if (d.modes.includes('l2')) ({ outcome: l2Outcome, standby } = planL2(ctx, s, d.l2Rules));
  else l2Outcome = refused;
  if (d.modes.includes('bgp')) {
    const r = planBgp(ctx, s, d.bgpRules);
    bgpOutcome = r.outcome;
    ads = r.ads;
  }
  const plan = announcedPlan(key, s.ips, pool, fitted(d.modes), l2Outcome, bgpOutcome);
  if (standby !== undefined) return { plan, l2: standby.interfaces, election: standby.election, ads: fitted(ads) };
  if (l2Outcome?.announced === true) return { plan, l2: l2Outcome.interfaces, ads: fitted(ads) };
  return { plan, ads: fitted(ads) };
}

/**
 * A plan with modes, as one of four literal shapes (the optional outcomes absent, not undefined): the
 * planner keeps one per Service (PlanMemo), and objects built by spreading get a hidden class and a
 * descriptor array each (~200 bytes per Service at 100,000).
 */
function announcedPlan(service: string, ips: readonly string[], pool: string, modes: readonly AnnounceMode[], l2: L2Outcome | undefined, bgp: BgpOutcome | undefined): ServicePlan {
  if (l2 !== undefined && bgp !== undefined) return { service, ips, pool, modes, l2, bgp };
  if (l2 !== undefined) return { service, ips, pool, modes, l2 };
  if (bgp !== undefined) return { service, ips, pool, modes, bgp };
  return { service, ips, pool, modes };
}

// ---------------------------------------------------------------------------------------------- memo

/**
 * Per-Service results carried from one planNode to the next (the Scale issue: a change to one Service
 * re-plans that Service, not the world). A Service's result is reused while its inputs are the same
 * objects and values: its intent (the same object: callers keep translations of unchanged Services,
 * src/speaker/services.ts), IPs, pool and pending reason, its endpoints; and the node-wide inputs: the
 * compiled config (the same object: snapshot-plan.ts keeps it while no config object changed), the
 * Node objects, the alive set, this node's name and the options. Any node-wide change drops it all.
 */
export interface PlanMemo {
  /** Called by planNode: starts a pass (checks the node-wide inputs). */
  begin(input: PlanInput, endpoints: ReadonlyMap<string, ServiceEndpoints>): PlanMemoPass;
}

interface PlanMemoPass {
  get(s: PlanService): ServiceOut | undefined;
  set(s: PlanService, out: ServiceOut): void;
  end(): void;
}

interface MemoEntry {
  readonly intent: PlanService['intent'];
  readonly inputs: string;
  readonly out: ServiceOut;
}

export function createPlanMemo(): PlanMemo {
  let env: { config: Config; nodes: readonly NodeFacts[]; rest: string } | undefined;
  let entries = new Map<string, MemoEntry>();
  return {
    begin(input, endpoints) {
      const rest = JSON.stringify([input.nodeName, input.options ?? {}, input.aliveNodes === undefined ? null : [...input.aliveNodes].sort()]);
      const same = env !== undefined && env.config === input.config && env.rest === rest && sameElements(env.nodes, input.nodes);
      if (!same) entries = new Map();
      env = { config: input.config, nodes: input.nodes, rest };
      const next = new Map<string, MemoEntry>();
      const inputsOf = (s: PlanService): string => {
        const ep = endpoints.get(s.intent.request.service);
        // Plain text, not JSON: this runs for every Service on every plan.
        const eps = ep === undefined ? '-' : `${ep.slices}:${ep.anyServing ? 1 : 0}:${[...ep.servingNodes].sort().join(',')}${s.intent.weightedEcmp === true ? `:${ep.servingPerNode?.get(input.nodeName) ?? 0}` : ''}`;
        // Kept per Service until the next plan: one flat string (compact.ts flat).
        return flat(`${s.ips.join(',')}\u0000${s.pool ?? '\u0001'}\u0000${s.pendingReason ?? '\u0001'}\u0000${eps}`);
      };
      let last: { s: PlanService; inputs: string } | undefined;
      return {
        get(s) {
          const inputs = inputsOf(s);
          last = { s, inputs };
          const e = entries.get(s.intent.request.service);
          return e !== undefined && e.intent === s.intent && e.inputs === inputs ? e.out : undefined;
        },
        set(s, out) {
          next.set(s.intent.request.service, { intent: s.intent, inputs: last?.s === s ? last.inputs : inputsOf(s), out });
        },
        end() {
          entries = next;
        },
      };
    },
  };
}

function sameElements<T>(a: readonly T[], b: readonly T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The pool whose ranges hold the first IP. */
export function poolOfIPs(pools: readonly PoolConfig[], ips: readonly string[]): PoolConfig | undefined {
  const first = ips[0];
  if (first === undefined) return undefined;
  const ip = parseIP(first);
  if (!ip.ok) return undefined;
  return pools.find((p) => p.spec.ranges.some((r) => r.family === ip.value.family && r.first <= ip.value.value && ip.value.value <= r.last));
}

// ------------------------------------------------------------------------------------------------ L2

/** Weighted ECMP: one serving endpoint counts as 1 Mbit/s of link bandwidth (the router uses only the ratio). */
export const BYTES_PER_SECOND_PER_ENDPOINT = 125_000;

const exclusionToReason: Readonly<Record<ExclusionReason, NotAnnounced>> = {
  [ExclusionReason.notSelected]: NotAnnounced.nodeNotSelected,
  [ExclusionReason.excludeLabel]: NotAnnounced.nodeExcluded,
  [ExclusionReason.networkUnavailable]: NotAnnounced.networkUnavailable,
  [ExclusionReason.notReady]: NotAnnounced.nodeNotReady,
  [ExclusionReason.outOfService]: NotAnnounced.outOfService,
  [ExclusionReason.cordoned]: NotAnnounced.nodeCordoned,
  [ExclusionReason.notAlive]: NotAnnounced.notOwner,
  [ExclusionReason.noLocalEndpoint]: NotAnnounced.noLocalEndpoints,
};

function planL2(ctx: Ctx, s: PlanService, rules: readonly L2Rule[]): { outcome: L2Outcome; standby?: { interfaces: readonly InterfaceRequest[]; election: L2Election } } {
  const outcome = planL2Outcome(ctx, s, rules);
  const window = ctx.opts.l2Window ?? 1;
  if (window <= 1 || outcome.result === undefined || outcome.result.kind !== 'elected') return { outcome: outcome.outcome };
  const order = outcome.result.ranking.map((r) => r.node);
  const at = order.indexOf(ctx.me.name);
  if (at < 0 || at >= window) return { outcome: outcome.outcome };
  const mineRules = rules.filter((r) => matchesAny(r.nodeSelectors, ctx.me.labels));
  return {
    outcome: outcome.outcome,
    standby: {
      interfaces: collapseRequests(mineRules.map((r) => interfaceRequest(ctx.config, r))),
      election: { key: s.ips[0] ?? '', ahead: order.slice(0, at), behind: order.slice(at + 1, window) },
    },
  };
}

function planL2Outcome(ctx: Ctx, s: PlanService, rules: readonly L2Rule[]): { outcome: L2Outcome; result?: ElectionResult } {
  const svc = s.intent.request.service;
  const ep = ctx.endpoints(svc);
  const first = s.ips[0] ?? '';
  const result = elect({
    ip: first,
    nodes: ctx.electionNodes,
    advertisements: rules.map((r) => ({ nodeSelectors: r.nodeSelectors, preferredNodeSelectors: r.preferredNodes })),
    externalTrafficPolicy: s.intent.externalTrafficPolicy,
    servingEndpointNodes: [...ep.servingNodes],
    hasServingEndpoint: ep.anyServing,
    ...(ctx.opts.ignoreExcludeLabel === true ? { ignoreExcludeLabel: true } : {}),
  });
  if (result.kind === 'none' && result.reason === 'noServingEndpoint') {
    return { outcome: { announced: false, reason: reason(NotAnnounced.noEndpoints, 'no serving endpoint anywhere') }, result };
  }
  const mine = result.excluded.find((e) => e.node === ctx.me.name);
  const winner = result.kind === 'elected' ? result.winner : undefined;
  if (mine !== undefined) {
    const elsewhere = winner === undefined ? 'no node can announce it' : `${winner} announces it`;
    return { outcome: { announced: false, reason: reason(exclusionToReason[mine.reason], `this node is out of the L2 election (${mine.reason}); ${elsewhere}`), ...(winner === undefined ? {} : { winner }) }, result };
  }
  if (winner === undefined) return { outcome: { announced: false, reason: reason(NotAnnounced.noCandidate, 'no node can announce it') }, result };
  if (winner !== ctx.me.name) return { outcome: { announced: false, reason: reason(NotAnnounced.notOwner, `${winner} won the election for ${first}`), winner }, result };
  const mineRules = rules.filter((r) => matchesAny(r.nodeSelectors, ctx.me.labels));
  return { outcome: { announced: true, interfaces: collapseRequests(mineRules.map((r) => interfaceRequest(ctx.config, r))) }, result };
}

/** The interface request of one rule (see src/l2/interfaces.ts for how each kind resolves). */
export function interfaceRequest(config: Config, rule: L2Rule): InterfaceRequest {
  if (rule.source.kind === 'L2Advertisement') {
    if (rule.interfaces.length === 0) return { kind: 'all' };
    // MetalLB interface names (the config model allows can_reach only for Eips).
    const names = rule.interfaces.flatMap((i) => (i.kind === 'name' ? [i.name] : []));
    return { kind: 'names', names };
  }
  // An Eip's own rule, or dispatch's default rule for a pool forced into L2.
  const i = rule.interfaces[0];
  if (i !== undefined) return { kind: 'eip', spec: i.kind === 'name' ? i.name : `can_reach:${i.ip}` };
  const pool = config.pools.find((p) => rule.pools.includes(p.spec.name));
  const first = pool?.spec.ranges[0];
  if (pool?.spec.dialect !== 'openelb') return { kind: 'all' };
  return first === undefined ? { kind: 'nodeDefault' } : { kind: 'nodeDefault', inSubnet: formatIP({ family: first.family, value: first.first }) };
}

/** 'all' absorbs every other request; duplicates go. */
function collapseRequests(reqs: readonly InterfaceRequest[]): InterfaceRequest[] {
  if (reqs.some((r) => r.kind === 'all')) return [{ kind: 'all' }];
  const seen = new Map<string, InterfaceRequest>();
  for (const r of reqs) seen.set(JSON.stringify(r), r);
  return [...seen.values()].sort((a, b) => cmp(JSON.stringify(a), JSON.stringify(b)));
}

// ----------------------------------------------------------------------------------------------- BGP

/** The messages of the node rules the BGP plan shares with the election (election.ts nodeIneligibility). */
const ineligibleMessage: Readonly<Partial<Record<ExclusionReason, string>>> = {
  [ExclusionReason.excludeLabel]: `the node has the label ${EXCLUDE_FROM_LB_LABEL}`,
  [ExclusionReason.networkUnavailable]: 'the node is NetworkUnavailable',
  [ExclusionReason.notReady]: 'the node is not Ready',
  [ExclusionReason.outOfService]: `the node has the taint ${OUT_OF_SERVICE_TAINT}`,
  [ExclusionReason.cordoned]: 'the node is cordoned (spec.unschedulable)',
};

function nodeIneligible(ctx: Ctx): Reason | undefined {
  const why = nodeIneligibility(ctx.me, ctx.opts);
  return why === undefined ? undefined : reason(exclusionToReason[why], ineligibleMessage[why] ?? why);
}

function planBgp(ctx: Ctx, s: PlanService, rules: readonly BgpAdvertisementRule[]): { outcome: BgpOutcome; ads: Advertisement[] } {
  const no = (r: Reason): { outcome: BgpOutcome; ads: Advertisement[] } => ({ outcome: { announced: false, reason: r }, ads: [] });
  const bad = nodeIneligible(ctx);
  if (bad !== undefined) return no(bad);
  const mine = rules.filter((r) => matchesAny(r.nodeSelectors, ctx.me.labels));
  if (mine.length === 0) return no(reason(NotAnnounced.nodeNotSelected, 'no BGPAdvertisement of the pool selects this node'));
  const ep = ctx.endpoints(s.intent.request.service);
  if (s.intent.externalTrafficPolicy === 'Local') {
    if (!ep.servingNodes.has(ctx.me.name)) return no(reason(NotAnnounced.noLocalEndpoints, 'externalTrafficPolicy Local and no serving endpoint on this node'));
  } else if (!ep.anyServing) {
    return no(reason(NotAnnounced.noEndpoints, 'no serving endpoint anywhere'));
  }
  // Weighted ECMP (docs/steering.md): this node's serving endpoints as link bandwidth (RFC 10005).
  const linkBandwidth = s.intent.weightedEcmp === true && s.intent.externalTrafficPolicy === 'Local' ? (ep.servingPerNode?.get(ctx.me.name) ?? 0) * BYTES_PER_SECOND_PER_ENDPOINT : undefined;
  const svcBgp = s.intent.bgp;
  const ads: Advertisement[] = [];
  for (const ip of s.ips) {
    for (const r of mine) {
      const prefix = aggregate(ip, r);
      if (prefix === undefined) continue;
      // The rule's communities, then the Service's own (berth.io/bgp-communities); its LOCAL_PREF
      // (berth.io/bgp-local-pref) over the rule's (docs/steering.md).
      const all = svcBgp === undefined ? r.communities : [...r.communities, ...svcBgp.communities];
      const standard = [...new Set(all.flatMap((c) => (c.kind === 'standard' ? [c.value] : [])))].sort((a, b) => a - b);
      const large: LargeCommunity[] = all.flatMap((c) => (c.kind === 'large' ? [{ globalAdmin: c.globalAdmin, localData1: c.localData1, localData2: c.localData2 }] : []));
      const localPref = svcBgp?.localPref ?? r.localPref;
      ads.push({
        prefix,
        ...(localPref !== undefined ? { localPref } : {}),
        ...(standard.length > 0 ? { communities: standard } : {}),
        ...(large.length > 0 ? { largeCommunities: large } : {}),
        ...(r.peers.length > 0 ? { peers: [...r.peers].sort() } : {}),
        ...(linkBandwidth !== undefined ? { linkBandwidth } : {}),
      });
    }
  }
  const receivers = ctx.peers.filter((p) =>
    ads.some((a) => (a.peers === undefined || a.peers.includes(p.spec.name)) && peerFamilies(p.spec).includes(a.prefix.includes(':') ? 'ipv6' : 'ipv4')),
  );
  const prefixes = [...new Set(ads.map((a) => a.prefix))].sort();
  if (receivers.length === 0) {
    return { outcome: { announced: false, reason: reason(NotAnnounced.noPeer, `no BGP session of this node carries ${prefixes.join(', ')}`) }, ads };
  }
  return { outcome: { announced: true, prefixes, peers: receivers.map((p) => p.spec.name) }, ads };
}

/** VIP & mask(aggregation length) as CIDR text (MetalLB docs, BGPAdvertisement aggregationLength). */
export function aggregate(ip: string, rule: Pick<BgpAdvertisementRule, 'aggregationLength' | 'aggregationLengthV6'>): string | undefined {
  const p = parseIP(ip);
  return p.ok ? aggregatePrefix(p.value, rule) : undefined;
}

/** One advertisement per (prefix, peer filter), merged by the Adj-RIB-Out's rule (src/bgp/adj-rib-out.ts mergeRouteAttributes); sorted by prefix, then peer filter. */
export function mergeAdvertisements(ads: readonly Advertisement[]): Advertisement[] {
  const acc = new Map<string, { prefix: string; peers: readonly string[] | undefined; attributes: RouteAttributes }>();
  for (const a of ads) {
    const key = `${a.prefix}|${a.peers === undefined ? '*' : a.peers.join(',')}`;
    const cur = acc.get(key);
    const attributes = advertisementAttributes(a);
    acc.set(key, { prefix: a.prefix, peers: cur === undefined ? a.peers : cur.peers, attributes: cur === undefined ? attributes : mergeRouteAttributes(cur.attributes, attributes) });
  }
  return [...acc.entries()]
    .sort(([a], [b]) => cmp(a, b))
    .map(([, { prefix, peers, attributes: v }]) => ({
      prefix,
      ...(v.localPref !== undefined ? { localPref: v.localPref } : {}),
      ...(v.communities.length > 0 ? { communities: v.communities } : {}),
      ...(v.largeCommunities.length > 0 ? { largeCommunities: v.largeCommunities } : {}),
      ...(peers !== undefined ? { peers } : {}),
      ...(v.linkBandwidth !== undefined ? { linkBandwidth: v.linkBandwidth } : {}),
    }));
}
