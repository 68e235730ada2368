// L2Advertisement -> L2Rule and BGPAdvertisement -> BgpAdvertisementRule (MetalLB
// api/v1beta1/l2advertisement_types.go, bgpadvertisement_types.go). Pool selection: ipAddressPools (names)
// ∪ pools matching ipAddressPoolSelectors; both empty = every MetalLB IPAddressPool (an Eip must be named
// or selected). A name with no valid pool is a warning, not an error: like MetalLB, the advertisement
// applies to the pools that exist.

import { familyBits } from '../../pool/address.ts';
import { formatRange, type AddressRange } from '../../pool/types.ts';
import { compareCommunities, parseCommunity, wellKnownCommunity } from '../community.ts';
import type { BGPAdvertisement, L2Advertisement } from '../crds/metallb.ts';
import type { BgpAdvertisementRule, BgpCommunity, L2Interface, L2Rule, LabelSelector, PoolConfig, PreferredNode } from '../model.ts';
import { describeRef, makeProblem, problemSink, type ObjectRef, type Problem } from '../problems.ts';
import { isRecord, readInt, readList, readRecord, readStringList, type Report } from '../read.ts';
import { matchesAny, selectorMatches, type Labels } from '../../labels/selector.ts';
import { readSelector, readSelectorList } from '../selectors.ts';
import type { Attempt } from '../settle.ts';
import { unknownCommunityMessage, type CommunitySet } from './community.ts';

export const AggregationDefaults = { v4: 32, v6: 128 } as const;
const U32_MAX = 0xffff_ffff;
const WEIGHT = { min: 1, max: 100 } as const;

export interface NodeInfo {
  readonly name: string;
  readonly labels: Labels;
}

export function l2AdvRef(a: L2Advertisement): ObjectRef {
  return { kind: 'L2Advertisement', namespace: a.metadata?.namespace ?? 'default', name: a.metadata?.name ?? '' };
}

export function bgpAdvRef(a: BGPAdvertisement): ObjectRef {
  return { kind: 'BGPAdvertisement', namespace: a.metadata?.namespace ?? 'default', name: a.metadata?.name ?? '' };
}

/**
 * Resolves ipAddressPools + ipAddressPoolSelectors against the accepted pools. A name with no valid pool
 * is `warn`ed and skipped (MetalLB skips it too; its docs name pools a user may not have).
 */
export function resolvePools(spec: Readonly<Record<string, unknown>>, pools: readonly PoolConfig[], report: Report, warn: Report): string[] {
  const names = readStringList(spec['ipAddressPools'], 'spec.ipAddressPools', report, { unique: true });
  const selectors = readSelectorList(spec['ipAddressPoolSelectors'], 'spec.ipAddressPoolSelectors', report);
  names.forEach((n, i) => {
    if (!pools.some((p) => p.spec.name === n)) {
      warn(`spec.ipAddressPools[${i}]`, `no valid IPAddressPool or Eip named "${n}": the advertisement applies to the other pools only; create it, fix the name, or fix the pool's own problems`);
    }
  });
  if (names.length === 0 && selectors.length === 0) {
    return pools.filter((p) => p.spec.dialect === 'metallb').map((p) => p.spec.name);
  }
  const out = new Set(names.filter((n) => pools.some((p) => p.spec.name === n)));
  for (const p of pools) {
    if (selectors.some((s) => selectorMatches(s, p.labels))) out.add(p.spec.name);
  }
  return [...out].sort();
}

export function attemptL2Advertisement(a: L2Advertisement, pools: readonly PoolConfig[]): Attempt<L2Rule> {
  const sink = problemSink(l2AdvRef(a));
  const report = sink.report;
  const spec = isRecord(a.spec) ? a.spec : {};
  const selected = resolvePools(spec, pools, report, sink.warn);
  const nodeSelectors = readSelectorList(spec['nodeSelectors'], 'spec.nodeSelectors', report);
  const serviceSelectors = readSelectorList(spec['serviceSelectors'], 'spec.serviceSelectors', report);
  const interfaces: L2Interface[] = readStringList(spec['interfaces'], 'spec.interfaces', report, { unique: true }).map((name) => ({ kind: 'name', name }));
  const preferredNodes: PreferredNode[] = [];
  readList(spec['preferredNodeSelectors'], 'spec.preferredNodeSelectors', report).forEach((raw, i) => {
    const f = `spec.preferredNodeSelectors[${i}]`;
    const rec = readRecord(raw, f, report);
    if (rec === undefined) return;
    if (rec['weight'] === undefined) {
      report(`${f}.weight`, 'weight is required: 1..100');
      return;
    }
    const weight = readInt(rec['weight'], `${f}.weight`, report, WEIGHT);
    const preference = rec['preference'] === undefined ? { matchLabels: {}, matchExpressions: [] } : readSelector(rec['preference'], `${f}.preference`, report);
    if (weight !== undefined && preference !== undefined) preferredNodes.push({ weight, preference });
  });
  if (sink.problems.length > 0) return { value: undefined, problems: [...sink.problems, ...sink.warnings] };
  return { value: { source: sink.ref, pools: selected, nodeSelectors, interfaces, serviceSelectors, preferredNodes }, problems: sink.warnings };
}

/**
 * Resolves one community string: an alias first (as MetalLB does), then the literal forms, then the
 * well-known names. The error message explains the literal form when the text looks like one.
 */
export function resolveCommunity(text: string, communities: readonly CommunitySet[]): { ok: true; value: BgpCommunity } | { ok: false; message: string } {
  for (const set of communities) {
    const alias = set.aliases.find((x) => x.name === text);
    if (alias !== undefined) return { ok: true, value: alias.value };
  }
  const literal = parseCommunity(text);
  if (literal.ok) return literal;
  const known = wellKnownCommunity(text.trim());
  if (known !== undefined) return { ok: true, value: known };
  if (text.includes(':')) return literal;
  return { ok: false, message: unknownCommunityMessage(text) };
}

/** Prefix lengths of the CIDRs a range summarises into (RFC 4632 aggregation), shortest first. */
export function summarisedPrefixLengths(r: AddressRange): number[] {
  if (r.prefixLength !== undefined) return [r.prefixLength];
  const bits = familyBits(r.family);
  const out: number[] = [];
  let cur = r.first;
  while (cur <= r.last) {
    let size = cur === 0n ? 1n << BigInt(bits) : cur & -cur;
    while (cur + size - 1n > r.last) size >>= 1n;
    out.push(bits - (size.toString(2).length - 1));
    cur += size;
  }
  return out.sort((a, b) => a - b);
}

interface BgpAdvContext {
  readonly pools: readonly PoolConfig[];
  readonly communities: readonly CommunitySet[];
  readonly nodes: readonly NodeInfo[];
}

/** Accepted rules with their raw spec, for duplicate detection. */
export interface AcceptedBgpAdv {
  readonly rule: BgpAdvertisementRule;
  readonly specJSON: string;
}

export function attemptBGPAdvertisement(a: BGPAdvertisement, ctx: BgpAdvContext, accepted: readonly AcceptedBgpAdv[], specJSON: string): Attempt<AcceptedBgpAdv> {
  const sink = problemSink(bgpAdvRef(a));
  const report = sink.report;
  const spec = isRecord(a.spec) ? a.spec : {};
  const selected = resolvePools(spec, ctx.pools, report, sink.warn);
  const aggregationLength = readInt(spec['aggregationLength'], 'spec.aggregationLength', report, { min: 1, max: 32 }) ?? AggregationDefaults.v4;
  const aggregationLengthV6 = readInt(spec['aggregationLengthV6'], 'spec.aggregationLengthV6', report, { min: 0, max: 128 }) ?? AggregationDefaults.v6;
  const localPref = readInt(spec['localPref'], 'spec.localPref', report, { min: 0, max: U32_MAX });
  const nodeSelectors = readSelectorList(spec['nodeSelectors'], 'spec.nodeSelectors', report);
  const serviceSelectors = readSelectorList(spec['serviceSelectors'], 'spec.serviceSelectors', report);
  const peers = readStringList(spec['peers'], 'spec.peers', report, { unique: true });
  const communities: BgpCommunity[] = [];
  readStringList(spec['communities'], 'spec.communities', report, { unique: true }).forEach((text, i) => {
    const resolved = resolveCommunity(text, ctx.communities);
    if (!resolved.ok) {
      report(`spec.communities[${i}]`, resolved.message);
      return;
    }
    const c = resolved.value;
    if (!communities.some((x) => compareCommunities(x, c) === 0)) communities.push(c);
  });
  // CRD CEL rule: serviceSelectors only with the default aggregation (a shared aggregate cannot follow one Service).
  if (serviceSelectors.length > 0 && (aggregationLength !== AggregationDefaults.v4 || aggregationLengthV6 !== AggregationDefaults.v6)) {
    report('spec.serviceSelectors', `serviceSelectors need aggregationLength 32 and aggregationLengthV6 128 (got ${aggregationLength}/${aggregationLengthV6}): drop the selectors or the aggregation`);
  }
  // §1.3 validateBGPAdvPerPool: the aggregate may not be wider than a pool's CIDR (for a range, its largest summarised CIDR).
  for (const name of selected) {
    const pool = ctx.pools.find((p) => p.spec.name === name);
    for (const r of pool?.spec.ranges ?? []) {
      const shortest = summarisedPrefixLengths(r)[0];
      const agg = r.family === 'ipv4' ? aggregationLength : aggregationLengthV6;
      const field = r.family === 'ipv4' ? 'spec.aggregationLength' : 'spec.aggregationLengthV6';
      if (shortest !== undefined && shortest > agg) {
        report(field, `${agg} is shorter than prefix /${shortest} of "${formatRange(r)}" in pool "${name}": the aggregate would cover addresses outside the pool; use at least ${shortest}`);
      }
    }
  }
  if (sink.problems.length > 0) return { value: undefined, problems: [...sink.problems, ...sink.warnings] };
  communities.sort(compareCommunities);
  const rule: BgpAdvertisementRule = { source: sink.ref, pools: selected, aggregationLength, aggregationLengthV6, localPref, communities, nodeSelectors, peers, serviceSelectors };
  const cross: Problem[] = [];
  for (const other of accepted) {
    if (other.specJSON === specJSON) {
      cross.push(makeProblem(sink.ref, 'spec', `identical to ${describeRef(other.rule.source)}: remove the duplicate`));
      continue;
    }
    const conflict = localPrefConflict(rule, other.rule, ctx);
    if (conflict !== undefined) {
      cross.push(
        makeProblem(sink.ref, 'spec.localPref', `localPref ${rule.localPref ?? 0} differs from ${other.rule.localPref ?? 0} of ${describeRef(other.rule.source)} for pool "${conflict}" on the same peers and nodes: use the same localPref, or separate them by peers, nodeSelectors or aggregation length`),
      );
    }
  }
  return cross.length > 0 ? { value: undefined, problems: [...cross, ...sink.warnings] } : { value: { rule, specJSON }, problems: sink.warnings };
}

/** §1.3 BGPAdvertisementsHaveCompatibleLocalPref: the pool name on conflict. */
function localPrefConflict(a: BgpAdvertisementRule, b: BgpAdvertisementRule, ctx: BgpAdvContext): string | undefined {
  if (a.serviceSelectors.length > 0 || b.serviceSelectors.length > 0) return undefined;
  if ((a.localPref ?? 0) === (b.localPref ?? 0)) return undefined;
  if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) return undefined;
  if (nodeSetsDisjoint(a.nodeSelectors, b.nodeSelectors, ctx.nodes)) return undefined;
  for (const name of a.pools) {
    if (!b.pools.includes(name)) continue;
    const pool = ctx.pools.find((p) => p.spec.name === name);
    const families = new Set(pool?.spec.ranges.map((r) => r.family) ?? []);
    const sameV4 = !families.has('ipv4') || a.aggregationLength === b.aggregationLength;
    const sameV6 = !families.has('ipv6') || a.aggregationLengthV6 === b.aggregationLengthV6;
    if (sameV4 && sameV6) return name;
  }
  return undefined;
}

/**
 * Two node selections are disjoint when no known node matches both. With no Node objects in the
 * snapshot, only selectors that contradict on a matchLabels key count as disjoint.
 */
export function nodeSetsDisjoint(a: readonly LabelSelector[], b: readonly LabelSelector[], nodes: readonly NodeInfo[]): boolean {
  if (nodes.length > 0) return !nodes.some((n) => matchesAny(a, n.labels) && matchesAny(b, n.labels));
  if (a.length === 0 || b.length === 0) return false;
  return a.every((sa) => b.every((sb) => Object.entries(sa.matchLabels).some(([k, v]) => sb.matchLabels[k] !== undefined && sb.matchLabels[k] !== v)));
}
