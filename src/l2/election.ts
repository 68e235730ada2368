// Who announces a layer 2 VIP: a pure function over plain data, evaluated independently by every speaker.
//
// Candidates (in this order of filtering, each exclusion recorded with its reason):
//   - selected by the nodeSelectors of at least one advertisement matching the Service (none = all nodes);
//   - not labelled node.kubernetes.io/exclude-from-external-load-balancers (unless ignoreExcludeLabel);
//   - not NetworkUnavailable, not NotReady, not tainted node.kubernetes.io/out-of-service, not cordoned
//     (spec.unschedulable: `kubectl cordon`, and `kubectl drain`, which cordons first); MetalLB skips the
//     last three (issues #2514, #3116; its cordon check, PR #2470, was contested); we do not
//     (docs/handoff.md). `nodeIneligibility` is the one home of these node rules: the BGP plan uses it too;
//   - alive (speaker liveness as the caller knows it; the speaker's planner passes "assume alive" and
//     applies liveness on its main thread instead, src/liveness/claims.ts);
//   - externalTrafficPolicy Local: has a serving endpoint.
// The Service needs a serving endpoint somewhere, even with Cluster (as MetalLB: otherwise nothing
// is announced).
// Order (MetalLB sortL2Candidates): preference score descending, where the score is the sum of the
// weights of every matching preferredNodeSelector across all matching advertisements; then ascending
// bytes of sha256(nodeName + "#" + ip), ip being the Service's first ingress IP so both families of a
// dual-stack Service land on the same node. The same hash as MetalLB and OpenELB 0.6, so mixed
// clusters agree.
import { createHash } from 'node:crypto';
import { selectorMatches, type LabelSelector, type Labels } from '../labels/selector.ts';

export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

export interface ElectionNode {
  readonly name: string;
  readonly labels: Labels;
  /** Ready condition is True. */
  readonly ready: boolean;
  /** NetworkUnavailable condition is True. */
  readonly networkUnavailable: boolean;
  readonly taints: readonly { readonly key: string; readonly effect: string }[];
  /** spec.unschedulable (cordoned); absent: false. */
  readonly unschedulable?: boolean;
  /** The node's speaker is alive as far as this speaker knows. */
  readonly alive: boolean;
}

export interface PreferredNodeSelector {
  /** 1..100 (CRD bounds). */
  readonly weight: number;
  readonly preference: LabelSelector;
}

/** The parts of one L2 advertisement (already known to match the Service) that the election reads. */
export interface ElectionAdvertisement {
  /** Empty: every node. */
  readonly nodeSelectors: readonly LabelSelector[];
  readonly preferredNodeSelectors: readonly PreferredNodeSelector[];
}

export interface ElectionInput {
  /** The Service's first ingress IP (both IPs of a dual-stack Service use the first). */
  readonly ip: string;
  readonly nodes: readonly ElectionNode[];
  readonly advertisements: readonly ElectionAdvertisement[];
  readonly externalTrafficPolicy: 'Cluster' | 'Local';
  /** Names of nodes that host at least one serving endpoint (ready, or serving while terminating). */
  readonly servingEndpointNodes: readonly string[];
  /** True if some serving endpoint exists anywhere (also counting endpoints without a nodeName). */
  readonly hasServingEndpoint: boolean;
  /** MetalLB's --ignore-exclude-lb. */
  readonly ignoreExcludeLabel?: boolean;
}

export const ExclusionReason = {
  notSelected: 'notSelected',
  excludeLabel: 'excludeLabel',
  networkUnavailable: 'networkUnavailable',
  notReady: 'notReady',
  outOfService: 'outOfService',
  cordoned: 'cordoned',
  notAlive: 'notAlive',
  noLocalEndpoint: 'noLocalEndpoint',
} as const;
export type ExclusionReason = (typeof ExclusionReason)[keyof typeof ExclusionReason];

export const NoWinnerReason = {
  noAdvertisement: 'noAdvertisement',
  noServingEndpoint: 'noServingEndpoint',
  noCandidate: 'noCandidate',
} as const;
export type NoWinnerReason = (typeof NoWinnerReason)[keyof typeof NoWinnerReason];

export interface RankedNode {
  readonly node: string;
  readonly score: number;
  /** Hex of sha256(node + "#" + ip). */
  readonly hash: string;
}

export type ElectionResult =
  | {
      readonly kind: 'elected';
      readonly winner: string;
      readonly ranking: readonly RankedNode[];
      readonly excluded: readonly { readonly node: string; readonly reason: ExclusionReason }[];
    }
  | {
      readonly kind: 'none';
      readonly reason: NoWinnerReason;
      readonly excluded: readonly { readonly node: string; readonly reason: ExclusionReason }[];
    };

/** MetalLB's tie-break key: sha256 over the UTF-8 bytes of nodeName + "#" + ip. */
export function electionHash(nodeName: string, ip: string): Buffer {
  return createHash('sha256').update(`${nodeName}#${ip}`, 'utf8').digest();
}

/** The node's own state that keeps it from announcing any VIP, in either mode (L2 election, BGP plan). */
export function nodeIneligibility(
  n: Pick<ElectionNode, 'labels' | 'networkUnavailable' | 'ready' | 'taints' | 'unschedulable'>,
  opts: { readonly ignoreExcludeLabel?: boolean | undefined },
): ExclusionReason | undefined {
  if (opts.ignoreExcludeLabel !== true && Object.hasOwn(n.labels, EXCLUDE_FROM_LB_LABEL)) return ExclusionReason.excludeLabel;
  if (n.networkUnavailable) return ExclusionReason.networkUnavailable;
  if (!n.ready) return ExclusionReason.notReady;
  if (n.taints.some((t) => t.key === OUT_OF_SERVICE_TAINT)) return ExclusionReason.outOfService;
  if (n.unschedulable === true) return ExclusionReason.cordoned;
  return undefined;
}

function exclusion(n: ElectionNode, input: ElectionInput, local: ReadonlySet<string>): ExclusionReason | undefined {
  const selected =
    input.advertisements.some((a) => a.nodeSelectors.length === 0) ||
    input.advertisements.some((a) => a.nodeSelectors.some((s) => selectorMatches(s, n.labels)));
  if (!selected) return ExclusionReason.notSelected;
  const own = nodeIneligibility(n, input);
  if (own !== undefined) return own;
  if (!n.alive) return ExclusionReason.notAlive;
  if (input.externalTrafficPolicy === 'Local' && !local.has(n.name)) return ExclusionReason.noLocalEndpoint;
  return undefined;
}

export function elect(input: ElectionInput): ElectionResult {
  const excluded: { node: string; reason: ExclusionReason }[] = [];
  if (input.advertisements.length === 0) return { kind: 'none', reason: NoWinnerReason.noAdvertisement, excluded };
  if (!input.hasServingEndpoint && input.servingEndpointNodes.length === 0) {
    return { kind: 'none', reason: NoWinnerReason.noServingEndpoint, excluded };
  }
  const local = new Set(input.servingEndpointNodes);
  const ranked: { node: string; score: number; hash: Buffer }[] = [];
  for (const n of input.nodes) {
    const reason = exclusion(n, input, local);
    if (reason !== undefined) {
      excluded.push({ node: n.name, reason });
      continue;
    }
    let score = 0;
    for (const a of input.advertisements) {
      for (const p of a.preferredNodeSelectors) if (selectorMatches(p.preference, n.labels)) score += p.weight;
    }
    ranked.push({ node: n.name, score, hash: electionHash(n.name, input.ip) });
  }
  ranked.sort((a, b) => b.score - a.score || Buffer.compare(a.hash, b.hash));
  const first = ranked[0];
  if (first === undefined) return { kind: 'none', reason: NoWinnerReason.noCandidate, excluded };
  return {
    kind: 'elected',
    winner: first.node,
    ranking: ranked.map((r) => ({ node: r.node, score: r.score, hash: r.hash.toString('hex') })),
    excluded,
  };
}
