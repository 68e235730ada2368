// compile(snapshot, previous?) -> one validated, protocol-neutral Config. Pure: no I/O, no clock, no
// module state. `previous` is the LastGoodStore of the last compile; the result carries the next one.
//
// Order (each step sees only what the earlier steps accepted):
//   Community aliases, BFD profiles -> pools (IPAddressPool + Eip, one address space) -> BgpConf
//   -> L2Advertisements -> BGPAdvertisements -> rules implied by Eips -> BGP peers (both dialects).
// Within a step, settle.ts applies the last-good rule object by object.

import type { BFDProfile, BGPAdvertisement, BGPPeer, IPAddressPool } from './crds/metallb.ts';
import type { Eip, OpenELBBgpPeer } from './crds/openelb.ts';
import type { BgpAdvertisementRule, BgpPeerConfig, BgpSpeakerConfig, Config, L2Rule, PoolConfig } from './model.ts';
import { attemptBGPAdvertisement, attemptL2Advertisement, bgpAdvRef, l2AdvRef, nodeSetsDisjoint, type AcceptedBgpAdv, type NodeInfo } from './metallb/advertisements.ts';
import { attemptBfdProfile, bfdRef } from './metallb/bfd.ts';
import { attemptBGPPeer, bgpPeerRef } from './metallb/bgppeer.ts';
import { attemptCommunity, communityRef, type CommunitySet } from './metallb/community.ts';
import { attemptIPAddressPool, poolRef } from './metallb/pool.ts';
import { attemptBgpConf, bgpConfRef, BGPCONF_NAME } from './openelb/bgpconf.ts';
import { openelbPeerRef, attemptOpenELBBgpPeer } from './openelb/bgppeer.ts';
import { attemptEip, eipRef } from './openelb/eip.ts';
import { defaultBgpRule, defaultL2Rule } from './dispatch.ts';
import { describeRef, isError, makeProblem, objectKey, sortProblems, type ObjectRef, type Problem } from './problems.ts';
import { unimplementedFieldProblems, unknownFieldProblems } from './strict.ts';
import { isRecord } from './read.ts';
import { newSettleState, settle, stableJSON, emptyStore, ObjectState, type Attempt, type LastGoodStore, type ObjectStatus, type SettleState } from './settle.ts';
import type { Snapshot } from './snapshot.ts';

export { emptyStore, ObjectState, type LastGoodStore, type ObjectStatus } from './settle.ts';

export interface CompileResult {
  readonly config: Config;
  /** Sorted by kind, namespace, name, field. */
  readonly problems: readonly Problem[];
  /** One per config object (not for Services, Nodes, Secrets...): valid, stale or invalid. */
  readonly statuses: readonly ObjectStatus[];
  /** Pass to the next compile() so invalid changes keep the last valid version in force. */
  readonly store: LastGoodStore;
}

/**
 * Which of the two dialects berth reads (`--metallb-namespace`, `--openelb`; the chart's `dialects` values).
 * The same options go to translateService (ServiceOptions extends them).
 */
export interface CompileOptions {
  /**
   * The MetalLB namespace. When set, metallb.io objects in any other namespace are refused (MetalLB's
   * webhooks reject them and its caches never see them). undefined = every namespace is read.
   */
  readonly metallbNamespace?: string;
  /**
   * false: the OpenELB dialect is off. Eip, BgpConf and OpenELB BgpPeer objects are not read (the
   * Kubernetes processes do not even watch them, so their CRDs may be absent), and Services that
   * `lb.kubesphere.io/v1alpha1` hands to OpenELB are left to OpenELB (src/config/services.ts). For a
   * cluster where OpenELB itself still runs. undefined or true: both dialects.
   */
  readonly openelb?: boolean;
}

/** The snapshot fields only the OpenELB dialect reads. */
export const OPENELB_FIELDS = ['eips', 'bgpConfs', 'openelbBgpPeers'] as const satisfies readonly (keyof Snapshot)[];

export function compile(input: Snapshot, previous: LastGoodStore = emptyStore, options: CompileOptions = {}): CompileResult {
  const state = newSettleState(previous);
  const dialects = options.openelb === false ? { ...input, eips: [], bgpConfs: [], openelbBgpPeers: [] } : input;
  const snapshot = options.metallbNamespace === undefined ? dialects : onlyNamespace(dialects, options.metallbNamespace, state);
  const nodes: NodeInfo[] = snapshot.nodes.map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} }));

  const communities = settle<Snapshot['communities'][number], CommunitySet>(
    state,
    snapshot.communities.map((raw) => ({ raw, ref: communityRef(raw) })),
    fieldChecked(communityRef, (raw, prev, accepted) => attemptCommunity(raw, prev, accepted)),
  );
  const bfdProfiles = settle(
    state,
    [...snapshot.bfdProfiles, ...deletedButUsedBfdProfiles(snapshot, previous, state)].map((raw) => ({ raw, ref: bfdRef(raw) })),
    fieldChecked(bfdRef, (raw) => attemptBfdProfile(raw)),
  );

  type PoolRaw = IPAddressPool | Eip;
  const poolItems = [
    ...snapshot.ipAddressPools.map((raw) => ({ raw: raw as PoolRaw, ref: poolRef(raw) })),
    ...snapshot.eips.map((raw) => ({ raw: raw as PoolRaw, ref: eipRef(raw) })),
  ];
  const poolRefOf = (raw: PoolRaw): ObjectRef => (raw.kind === 'Eip' ? eipRef(raw) : poolRef(raw));
  const pools = settle<PoolRaw, PoolConfig>(
    state,
    poolItems,
    fieldChecked(poolRefOf, (raw, prev, accepted) =>
      raw.kind === 'Eip' ? attemptEip(raw, prev?.kind === 'Eip' ? prev : undefined, accepted) : attemptIPAddressPool(raw, undefined, accepted),
    ),
  );
  pools.sort(comparePools);

  const speakers = settle<Snapshot['bgpConfs'][number], BgpSpeakerConfig>(state, snapshot.bgpConfs.map((raw) => ({ raw, ref: bgpConfRef(raw) })), fieldChecked(bgpConfRef, (raw) => attemptBgpConf(raw)));
  const bgpSpeaker = speakers.find((s) => s.source.name === BGPCONF_NAME);

  const l2Rules = settle(
    state,
    snapshot.l2Advertisements.map((raw) => ({ raw, ref: l2AdvRef(raw) })),
    fieldChecked(l2AdvRef, (raw) => attemptL2Advertisement(raw, pools)),
  );
  const bgpAdvs = settle<BGPAdvertisement, AcceptedBgpAdv>(
    state,
    snapshot.bgpAdvertisements.map((raw) => ({ raw, ref: bgpAdvRef(raw) })),
    fieldChecked(bgpAdvRef, (raw, _prev, accepted) => attemptBGPAdvertisement(raw, { pools, communities, nodes }, accepted, stableJSON(raw.spec ?? {}))),
  );
  const implied = impliedRules(pools, l2Rules, bgpAdvs.map((a) => a.rule));
  const allL2 = [...l2Rules, ...implied.l2];
  const allBgp = [...bgpAdvs.map((a) => a.rule), ...implied.bgp];

  type PeerRaw = BGPPeer | OpenELBBgpPeer;
  const peerItems = [
    ...snapshot.bgpPeers.map((raw) => ({ raw: raw as PeerRaw, ref: bgpPeerRef(raw) })),
    ...snapshot.openelbBgpPeers.map((raw) => ({ raw: raw as PeerRaw, ref: openelbPeerRef(raw) })),
  ];
  const peerRefOf = (raw: PeerRaw): ObjectRef => (raw.kind === 'BgpPeer' ? openelbPeerRef(raw) : bgpPeerRef(raw));
  const bgpPeers = settle<PeerRaw, BgpPeerConfig>(state, peerItems, fieldChecked(peerRefOf, (raw, prev, accepted) => {
    const own: Attempt<BgpPeerConfig> =
      raw.kind === 'BgpPeer'
        ? attemptOpenELBBgpPeer(raw, bgpSpeaker)
        : attemptBGPPeer(raw, prev?.kind === 'BGPPeer' ? prev : undefined, { bfdProfiles, secrets: snapshot.secrets });
    if (own.value === undefined) return own;
    const cross = peerCrossProblems(own.value, accepted, { nodes });
    return cross.length > 0 ? { value: undefined, problems: [...cross, ...own.problems] } : own;
  }));

  const config: Config = {
    pools,
    l2Rules: allL2,
    bgpAdvertisements: allBgp,
    bgpPeers,
    bfdProfiles,
    bgpSpeaker,
  };
  return { config, problems: sortProblems(state.problems), statuses: state.statuses, store: { objects: state.next } };
}

/**
 * Runs the checks every custom resource gets before its own validator (strict.ts): unknown fields, as the
 * API server's strict field validation, and fields berth accepts but does not implement. An error among
 * them refuses the object; warnings travel with the validator's result.
 */
function fieldChecked<R, O>(refOf: (raw: R) => ObjectRef, attempt: (raw: R, prev: R | undefined, accepted: readonly O[]) => Attempt<O>) {
  return (raw: R, prev: R | undefined, accepted: readonly O[]): Attempt<O> => {
    const ref = refOf(raw);
    const own = attempt(raw, prev, accepted);
    // One problem per field: the validator's own (it knows more, e.g. "use v1beta2") wins.
    const claimed = new Set(own.problems.map((p) => p.field));
    const fields = [...unknownFieldProblems(raw, ref), ...unimplementedFieldProblems(raw, ref)].filter((p, i, all) => !claimed.has(p.field) && all.findIndex((q) => q.field === p.field) === i);
    if (fields.length === 0) return own;
    const problems = [...fields, ...own.problems];
    return problems.some(isError) ? { value: undefined, problems } : { value: own.value, problems };
  };
}

/**
 * MetalLB api/v1beta1/bfdprofile_types.go: deleting a BFDProfile that a BGPPeer still uses is denied. A compile cannot
 * deny a deletion, so the last valid version stays in force while a BGPPeer names it, with a problem.
 */
function deletedButUsedBfdProfiles(snapshot: Snapshot, previous: LastGoodStore, state: SettleState): BFDProfile[] {
  const present = new Set(snapshot.bfdProfiles.map((b) => objectKey(bfdRef(b))));
  const users = new Map<string, string[]>();
  for (const p of snapshot.bgpPeers) {
    const name = isRecord(p.spec) ? p.spec['bfdProfile'] : undefined;
    if (typeof name === 'string' && name !== '') users.set(name, [...(users.get(name) ?? []), describeRef(bgpPeerRef(p))]);
  }
  const out: BFDProfile[] = [];
  for (const [key, raw] of previous.objects) {
    if (!key.startsWith('BFDProfile/') || present.has(key)) continue;
    const profile = raw as BFDProfile;
    const using = users.get(profile.metadata?.name ?? '');
    if (using === undefined) continue;
    out.push(profile);
    state.problems.push(makeProblem(bfdRef(profile), undefined, `deleted while ${using.join(', ')} still use it: it stays in force until no BGPPeer names it`));
  }
  return out;
}

/** Drops metallb.io objects outside the MetalLB namespace, each with a problem. */
function onlyNamespace(s: Snapshot, namespace: string, state: SettleState): Snapshot {
  const keep = <T extends { readonly kind: string; readonly metadata?: { readonly name?: string; readonly namespace?: string } }>(list: readonly T[]): T[] =>
    list.filter((o) => {
      const ns = o.metadata?.namespace ?? 'default';
      if (ns === namespace) return true;
      const ref = { kind: o.kind, namespace: ns, name: o.metadata?.name ?? '' };
      state.problems.push(makeProblem(ref, 'metadata.namespace', `MetalLB objects are read from namespace "${namespace}" only: move it there; the object has no effect`));
      state.statuses.push({ ref, state: ObjectState.Invalid });
      return false;
    });
  return {
    ...s,
    ipAddressPools: keep(s.ipAddressPools),
    l2Advertisements: keep(s.l2Advertisements),
    bgpAdvertisements: keep(s.bgpAdvertisements),
    bgpPeers: keep(s.bgpPeers),
    communities: keep(s.communities),
    bfdProfiles: keep(s.bfdProfiles),
  };
}

function comparePools(a: PoolConfig, b: PoolConfig): number {
  if (a.spec.dialect !== b.spec.dialect) return a.spec.dialect === 'metallb' ? -1 : 1;
  const ka = `${a.source.namespace ?? ''}/${a.source.name}`;
  const kb = `${b.source.namespace ?? ''}/${b.source.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Rules an Eip implies by itself (OpenELB api/v1alpha2/eip_types.go, pkg/speaker/bgp):
 *   protocol layer2 -> an L2 rule on the Eip's interface, every node;
 *   protocol bgp, or no protocol and no advertisement selecting it -> a BGP rule to every peer, /32 and
 *   /128, no communities, unless a BGPAdvertisement already names the Eip (then that one applies).
 */
function impliedRules(pools: readonly PoolConfig[], l2: readonly L2Rule[], bgp: readonly BgpAdvertisementRule[]): { l2: L2Rule[]; bgp: BgpAdvertisementRule[] } {
  const out: { l2: L2Rule[]; bgp: BgpAdvertisementRule[] } = { l2: [], bgp: [] };
  for (const p of pools) {
    if (p.spec.dialect !== 'openelb') continue;
    const name = p.spec.name;
    const namedByBgp = bgp.some((r) => r.pools.includes(name));
    const namedByL2 = l2.some((r) => r.pools.includes(name));
    if (p.protocol === 'layer2' && !namedByL2) {
      out.l2.push(defaultL2Rule(p));
    }
    const wantsBgp = p.protocol === 'bgp' || (p.protocol === undefined && !namedByL2);
    if (wantsBgp && !namedByBgp) {
      out.bgp.push(defaultBgpRule(p));
    }
  }
  return out;
}

interface PeerCrossContext {
  readonly nodes: readonly NodeInfo[];
}

/** Peer rules that need the other peers or the advertisements (MetalLB api/v1beta2/bgppeer_types.go and the BGPPeer webhook in internal/k8s/webhooks). */
function peerCrossProblems(peer: BgpPeerConfig, accepted: readonly BgpPeerConfig[], ctx: PeerCrossContext): Problem[] {
  const out: Problem[] = [];
  for (const other of accepted) {
    if (other.name === peer.name) {
      out.push(makeProblem(peer.source, 'metadata.name', `peer name "${peer.name}" is already used by ${describeRef(other.source)}: BGPAdvertisement.peers could not tell them apart; rename one`));
      continue;
    }
    const sameTarget =
      (peer.peerAddress !== undefined && peer.peerAddress === other.peerAddress) || (peer.interface !== undefined && peer.interface === other.interface);
    if (sameTarget && peer.vrf === other.vrf && peer.peerPort === other.peerPort && !nodeSetsDisjoint(peer.nodeSelectors, other.nodeSelectors, ctx.nodes)) {
      const target = peer.peerAddress ?? `interface ${peer.interface ?? ''}`;
      out.push(
        makeProblem(peer.source, 'spec.nodeSelectors', `${describeRef(other.source)} already opens a session to ${target}${peer.vrf === undefined ? '' : ` in vrf ${peer.vrf}`} from the same nodes: merge them, or give them disjoint nodeSelectors`),
      );
    }
  }
  // §1.4 (echo mode and IPv6 peers) needs no check here: a profile with echoMode is itself rejected
  // (metallb/bfd.ts: berth has no Echo function).
  return out;
}
