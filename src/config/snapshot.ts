// The cluster snapshot: every object berth reads, as plain Kubernetes-shaped data, grouped by kind.
// Filled from YAML manifests (manifests.ts) or, later, from informers. Nothing here is validated;
// compile.ts does that. Core objects use @kubernetes/client-node's types; the CRDs use ours.

import type { V1EndpointSlice, V1Namespace, V1Node, V1Secret, V1Service } from '@kubernetes/client-node';
import type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from './crds/metallb.ts';
import type { BgpConf, Eip, OpenELBBgpPeer } from './crds/openelb.ts';

export type { BFDProfile, BGPAdvertisement, BGPPeer, Community, IPAddressPool, L2Advertisement } from './crds/metallb.ts';
export type { BGPPeerV1beta1, BGPPeerV1beta2 } from './crds/metallb.ts';
export type { BgpConf, Eip, OpenELBBgpPeer } from './crds/openelb.ts';

export interface Snapshot {
  // metallb.io
  readonly ipAddressPools: readonly IPAddressPool[];
  readonly l2Advertisements: readonly L2Advertisement[];
  readonly bgpAdvertisements: readonly BGPAdvertisement[];
  /** v1beta1 and v1beta2, told apart by apiVersion. */
  readonly bgpPeers: readonly BGPPeer[];
  readonly communities: readonly Community[];
  readonly bfdProfiles: readonly BFDProfile[];
  // network.kubesphere.io
  readonly eips: readonly Eip[];
  readonly bgpConfs: readonly BgpConf[];
  readonly openelbBgpPeers: readonly OpenELBBgpPeer[];
  // core / discovery
  readonly nodes: readonly V1Node[];
  readonly namespaces: readonly V1Namespace[];
  readonly services: readonly V1Service[];
  readonly endpointSlices: readonly V1EndpointSlice[];
  readonly secrets: readonly V1Secret[];
}

export const emptySnapshot: Snapshot = {
  ipAddressPools: [],
  l2Advertisements: [],
  bgpAdvertisements: [],
  bgpPeers: [],
  communities: [],
  bfdProfiles: [],
  eips: [],
  bgpConfs: [],
  openelbBgpPeers: [],
  nodes: [],
  namespaces: [],
  services: [],
  endpointSlices: [],
  secrets: [],
};

/** Snapshot field per (group, kind): the single table manifests.ts and informers route objects by. */
export const SnapshotKinds = {
  'metallb.io/IPAddressPool': 'ipAddressPools',
  'metallb.io/L2Advertisement': 'l2Advertisements',
  'metallb.io/BGPAdvertisement': 'bgpAdvertisements',
  'metallb.io/BGPPeer': 'bgpPeers',
  'metallb.io/Community': 'communities',
  'metallb.io/BFDProfile': 'bfdProfiles',
  'network.kubesphere.io/Eip': 'eips',
  'network.kubesphere.io/BgpConf': 'bgpConfs',
  'network.kubesphere.io/BgpPeer': 'openelbBgpPeers',
  '/Node': 'nodes',
  '/Namespace': 'namespaces',
  '/Service': 'services',
  '/Secret': 'secrets',
  'discovery.k8s.io/EndpointSlice': 'endpointSlices',
} as const satisfies Readonly<Record<string, keyof Snapshot>>;
export type SnapshotKindKey = keyof typeof SnapshotKinds;
