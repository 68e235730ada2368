// Dispatch per VIP (DESIGN.md "Dispatch"): L2, BGP or both, and the rules that apply.
//   1. the Service's protocol annotation (protocol.porter|openelb.kubesphere.io/v1alpha1) wins;
//   2. else the pool's own protocol (an Eip's spec.protocol);
//   3. else the advertisements that select the VIP's pool (and the Service, by serviceSelectors);
//   4. else nothing is announced: the IP is allocated but unreachable (MetalLB issue #1154).
// When 1 or 2 force a mode that no rule covers, a default rule is returned: every node and interface
// (the Eip's interface if it has one) for L2; every peer, /32 and /128, no communities for BGP.

import { AggregationDefaults } from './metallb/advertisements.ts';
import type { AnnounceMode, BgpAdvertisementRule, Config, L2Rule, PoolConfig, PoolProtocol } from './model.ts';
import { matchesAny, type Labels } from '../labels/selector.ts';

export const DecidedBy = {
  ServiceAnnotation: 'service-annotation',
  PoolProtocol: 'pool-protocol',
  Advertisements: 'advertisements',
  Nothing: 'nothing',
} as const;
export type DecidedBy = (typeof DecidedBy)[keyof typeof DecidedBy];

export interface DispatchInput {
  /** The pool the VIP was allocated from. */
  readonly pool: string;
  /** The Service's protocol annotation, if any. */
  readonly serviceProtocol: PoolProtocol | undefined;
  readonly serviceLabels: Labels;
  /** metallb.io/allow-shared-ip: a shared IP is not announced by L2 rules that select Services (MetalLB api/v1beta1/l2advertisement_types.go; internal/layer2). */
  readonly sharingKey?: string | undefined;
}

export interface Dispatch {
  /** Sorted: 'bgp' before 'l2'. Empty = not announced (see reason). */
  readonly modes: readonly AnnounceMode[];
  readonly decidedBy: DecidedBy;
  /** The L2 rules to apply (empty unless modes has 'l2'). */
  readonly l2Rules: readonly L2Rule[];
  /** The BGP rules to apply (empty unless modes has 'bgp'). */
  readonly bgpRules: readonly BgpAdvertisementRule[];
  readonly reason?: string;
  /**
   * True when L2 would apply but the IP is shared (allow-shared-ip) and an L2 rule selecting it has
   * serviceSelectors, so L2 is left out (MetalLB speaker reason sharedIPWithServiceSelector). The one
   * home of that rule: `berth check` and the speaker plan (src/speaker/plan.ts) both read it here.
   */
  readonly sharedIPWithServiceSelector?: true;
}

function modeOf(p: PoolProtocol): AnnounceMode | undefined {
  return p === 'layer2' ? 'l2' : p === 'bgp' ? 'bgp' : undefined;
}

export function defaultL2Rule(pool: PoolConfig): L2Rule {
  return {
    source: pool.source,
    pools: [pool.spec.name],
    nodeSelectors: [],
    interfaces: pool.eipInterface === undefined ? [] : [pool.eipInterface],
    serviceSelectors: [],
    preferredNodes: [],
  };
}

export function defaultBgpRule(pool: PoolConfig): BgpAdvertisementRule {
  return {
    source: pool.source,
    pools: [pool.spec.name],
    aggregationLength: AggregationDefaults.v4,
    aggregationLengthV6: AggregationDefaults.v6,
    localPref: undefined,
    communities: [],
    nodeSelectors: [],
    peers: [],
    serviceSelectors: [],
  };
}

export function dispatch(config: Config, input: DispatchInput): Dispatch {
  const pool = config.pools.find((p) => p.spec.name === input.pool);
  const applies = (r: { readonly pools: readonly string[]; readonly serviceSelectors: Config['l2Rules'][number]['serviceSelectors'] }): boolean =>
    r.pools.includes(input.pool) && matchesAny(r.serviceSelectors, input.serviceLabels);
  const matchingL2 = config.l2Rules.filter(applies);
  // MetalLB speaker reason sharedIPWithServiceSelector: one node answers for every sharer of an IP, so a
  // rule that picks Services cannot hold; the Service is not announced by L2 at all.
  const sharedWithSelector = input.sharingKey !== undefined && input.sharingKey !== '' && matchingL2.some((r) => r.serviceSelectors.length > 0);
  const l2 = sharedWithSelector ? [] : matchingL2;
  const bgp = config.bgpAdvertisements.filter(applies);
  if (pool === undefined) {
    return { modes: [], decidedBy: DecidedBy.Nothing, l2Rules: [], bgpRules: [], reason: `pool "${input.pool}" is not in the configuration` };
  }
  const sharedReason = 'the IP is shared (allow-shared-ip) and an L2Advertisement selecting it has serviceSelectors: L2 cannot announce it; drop the serviceSelectors or the sharing';
  const forced = (mode: AnnounceMode, decidedBy: DecidedBy): Dispatch => {
    if (mode === 'bgp') return { modes: ['bgp'], decidedBy, l2Rules: [], bgpRules: bgp.length > 0 ? bgp : [defaultBgpRule(pool)] };
    if (sharedWithSelector) return { modes: [], decidedBy, l2Rules: [], bgpRules: [], reason: sharedReason, sharedIPWithServiceSelector: true };
    return { modes: ['l2'], decidedBy, l2Rules: l2.length > 0 ? l2 : [defaultL2Rule(pool)], bgpRules: [] };
  };
  const fromService = input.serviceProtocol === undefined ? undefined : modeOf(input.serviceProtocol);
  if (fromService !== undefined) return forced(fromService, DecidedBy.ServiceAnnotation);
  const fromPool = pool.protocol === undefined ? undefined : modeOf(pool.protocol);
  if (fromPool !== undefined) return forced(fromPool, DecidedBy.PoolProtocol);
  const modes: AnnounceMode[] = [];
  if (bgp.length > 0) modes.push('bgp');
  if (l2.length > 0) modes.push('l2');
  if (modes.length > 0) return { modes, decidedBy: DecidedBy.Advertisements, l2Rules: l2, bgpRules: bgp, ...(sharedWithSelector ? { reason: sharedReason, sharedIPWithServiceSelector: true } : {}) };
  if (sharedWithSelector) return { modes: [], decidedBy: DecidedBy.Nothing, l2Rules: [], bgpRules: [], reason: sharedReason, sharedIPWithServiceSelector: true };
  return {
    modes: [],
    decidedBy: DecidedBy.Nothing,
    l2Rules: [],
    bgpRules: [],
    reason: `no L2Advertisement or BGPAdvertisement selects pool "${input.pool}" (and this Service): the IP is allocated but not announced; create an advertisement for the pool`,
  };
}
