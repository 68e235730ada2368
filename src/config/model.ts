// The compiled, protocol-neutral configuration: what both dialects (MetalLB metallb.io, OpenELB
// network.kubesphere.io) mean once validated. Plain readonly data; no behaviour. The controller feeds
// `pools` to the allocator; the speaker glue maps the rest onto the L2 and BGP engines' own types.
//
// Every entry carries `source`, the object it came from, so status, Events and `berth check` can name it.

import type { Dialect, LabelSelector, PoolProtocol, PoolSpec } from '../pool/types.ts';
import type { ObjectRef } from './problems.ts';

export type { Dialect, LabelSelector, PoolProtocol, PoolSpec } from '../pool/types.ts';

/** How a VIP is announced. */
export const AnnounceMode = { L2: 'l2', BGP: 'bgp' } as const;
export type AnnounceMode = (typeof AnnounceMode)[keyof typeof AnnounceMode];

export interface PoolConfig {
  readonly source: ObjectRef;
  /** The allocator's view (name, ranges, autoAssign, serviceAllocation...). */
  readonly spec: PoolSpec;
  /** The pool object's labels: advertisements select pools by label (ipAddressPoolSelectors). */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The protocol the pool object states explicitly (OpenELB Eip spec.protocol). undefined for MetalLB
   * pools and for Eips without one: then advertisements decide, and an Eip defaults to BGP.
   */
  readonly protocol: PoolProtocol | undefined;
  /** OpenELB Eip spec.interface, parsed. */
  readonly eipInterface: L2Interface | undefined;
}

/** L2 interface choice: a NIC name, or (OpenELB) `can_reach:<IP>` resolved on the node by a route lookup. */
export type L2Interface =
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'can-reach'; readonly ip: string };

export interface PreferredNode {
  /** 1..100; a node's score is the sum over matching preferences of every matching advertisement. */
  readonly weight: number;
  readonly preference: LabelSelector;
}

/**
 * One L2 announcement rule: from a MetalLB L2Advertisement, or synthesised from an OpenELB Eip whose
 * protocol is layer2 (its `interface`, all nodes).
 */
export interface L2Rule {
  readonly source: ObjectRef;
  /** Pool names this rule applies to (selectors resolved at compile time; "all pools" expanded). */
  readonly pools: readonly string[];
  /** Empty = all nodes. ORed. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** Empty = every interface. The union is taken when several rules match a node. */
  readonly interfaces: readonly L2Interface[];
  /** Empty = every Service of the selected pools. ORed. */
  readonly serviceSelectors: readonly LabelSelector[];
  readonly preferredNodes: readonly PreferredNode[];
}

export type BgpCommunity =
  /** RFC 1997: 32 bits, written AA:NN or a well-known name. */
  | { readonly kind: 'standard'; readonly value: number }
  /** RFC 8092: three 32-bit parts. */
  | { readonly kind: 'large'; readonly globalAdmin: number; readonly localData1: number; readonly localData2: number };

export interface BgpAdvertisementRule {
  readonly source: ObjectRef;
  readonly pools: readonly string[];
  /** Announced IPv4 prefix length per VIP (`VIP & mask(len)`); 32 by default. MetalLB docs, BGPAdvertisement aggregationLength */
  readonly aggregationLength: number;
  /** Same for IPv6; 128 by default. */
  readonly aggregationLengthV6: number;
  /** LOCAL_PREF for iBGP peers; undefined = unset. */
  readonly localPref: number | undefined;
  /** Resolved through Community aliases and well-known names; deduplicated, sorted. */
  readonly communities: readonly BgpCommunity[];
  /** Empty = all nodes. */
  readonly nodeSelectors: readonly LabelSelector[];
  /** BgpPeerConfig names; empty = all peers. */
  readonly peers: readonly string[];
  readonly serviceSelectors: readonly LabelSelector[];
}

export type PeerASN =
  | { readonly kind: 'asn'; readonly asn: number }
  /** MetalLB dynamicASN: accept whatever the peer's OPEN says, iBGP (`internal`) or eBGP (`external`). */
  | { readonly kind: 'dynamic'; readonly type: 'internal' | 'external' };

/** Where the TCP MD5 password (RFC 2385) comes from; the Secret is already resolved. */
export type PeerPassword =
  | { readonly kind: 'none' }
  | { readonly kind: 'inline'; readonly password: string }
  | { readonly kind: 'secret'; readonly namespace: string; readonly name: string; readonly password: string };

export interface BgpPeerConfig {
  readonly source: ObjectRef;
  /** The name advertisement rules use in `peers` (the BGPPeer / BgpPeer object name). */
  readonly name: string;
  readonly dialect: Dialect;
  readonly myASN: number;
  /** OpenELB BgpConf asPerRack: node label openelb.kubesphere.io/rack -> local ASN (router id = node IP). */
  readonly myASNPerRack: Readonly<Record<string, number>>;
  readonly peerASN: PeerASN;
  /** MetalLB localASN / OpenELB conf.localAs: the AS presented to this peer instead of myASN. */
  readonly localASN: number | undefined;
  /** Exactly one of peerAddress and interface (unnumbered) is set. */
  readonly peerAddress: string | undefined;
  readonly interface: string | undefined;
  readonly sourceAddress: string | undefined;
  readonly peerPort: number;
  /** Seconds. undefined = engine default (90 s hold). 0 = no keepalives (RFC 4271 §4.2). */
  readonly holdTime: number | undefined;
  readonly keepaliveTime: number | undefined;
  readonly connectTime: number | undefined;
  readonly routerID: string | undefined;
  /** Empty = all nodes. */
  readonly nodeSelectors: readonly LabelSelector[];
  readonly password: PeerPassword;
  readonly bfdProfile: string | undefined;
  readonly enableGracefulRestart: boolean;
  readonly ebgpMultiHop: boolean;
  /** OpenELB ebgpMultihop.multihopTtl. */
  readonly ebgpMultiHopTTL: number | undefined;
  /** MetalLB FRR mode: the Linux VRF device the session runs in (socket bound to it). undefined = default VRF. */
  readonly vrf: string | undefined;
  readonly dualStackAddressFamily: boolean;
  /** OpenELB transport.passiveMode: wait for the peer to connect. */
  readonly passive: boolean;
  /** OpenELB conf.adminDown. */
  readonly adminDown: boolean;
}

/** BFD profile with FRR's defaults filled in (MetalLB api/v1beta1/bfdprofile_types.go). Intervals in milliseconds. */
export interface BfdProfileConfig {
  readonly source: ObjectRef;
  readonly name: string;
  readonly receiveInterval: number;
  readonly transmitInterval: number;
  readonly detectMultiplier: number;
  readonly echoInterval: number;
  readonly echoMode: boolean;
  readonly passiveMode: boolean;
  readonly minimumTtl: number;
}

/** OpenELB BgpConf `default`: the speaker-wide settings. */
export interface BgpSpeakerConfig {
  readonly source: ObjectRef;
  readonly asn: number;
  readonly asPerRack: Readonly<Record<string, number>>;
  readonly routerID: string | undefined;
  /** undefined = default 179; -1 = do not listen (GoBGP). */
  readonly listenPort: number | undefined;
  readonly listenAddresses: readonly string[];
  readonly gracefulRestart: boolean;
}

export interface Config {
  /** MetalLB pools first (by namespace/name), then Eips (by name). */
  readonly pools: readonly PoolConfig[];
  readonly l2Rules: readonly L2Rule[];
  readonly bgpAdvertisements: readonly BgpAdvertisementRule[];
  readonly bgpPeers: readonly BgpPeerConfig[];
  readonly bfdProfiles: readonly BfdProfileConfig[];
  /** From OpenELB BgpConf `default`, when present and valid. */
  readonly bgpSpeaker: BgpSpeakerConfig | undefined;
}

export const emptyConfig: Config = {
  pools: [],
  l2Rules: [],
  bgpAdvertisements: [],
  bgpPeers: [],
  bfdProfiles: [],
  bgpSpeaker: undefined,
};
