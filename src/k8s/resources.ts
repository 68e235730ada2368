// The API resources berth reads and writes: one table, so paths are built in one place.
import type { Snapshot } from '../config/snapshot.ts';

export interface Resource {
  /** '' for the core group. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  readonly namespaced: boolean;
}

const r = (group: string, version: string, plural: string, kind: string, namespaced: boolean): Resource => ({ group, version, plural, kind, namespaced });

export const Resources = {
  services: r('', 'v1', 'services', 'Service', true),
  endpointSlices: r('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  nodes: r('', 'v1', 'nodes', 'Node', false),
  namespaces: r('', 'v1', 'namespaces', 'Namespace', false),
  secrets: r('', 'v1', 'secrets', 'Secret', true),
  events: r('', 'v1', 'events', 'Event', true),
  leases: r('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  ipAddressPools: r('metallb.io', 'v1beta1', 'ipaddresspools', 'IPAddressPool', true),
  l2Advertisements: r('metallb.io', 'v1beta1', 'l2advertisements', 'L2Advertisement', true),
  bgpAdvertisements: r('metallb.io', 'v1beta1', 'bgpadvertisements', 'BGPAdvertisement', true),
  bgpPeers: r('metallb.io', 'v1beta2', 'bgppeers', 'BGPPeer', true),
  communities: r('metallb.io', 'v1beta1', 'communities', 'Community', true),
  bfdProfiles: r('metallb.io', 'v1beta1', 'bfdprofiles', 'BFDProfile', true),
  configurationStates: r('metallb.io', 'v1beta1', 'configurationstates', 'ConfigurationState', true),
  serviceL2Statuses: r('metallb.io', 'v1beta1', 'servicel2statuses', 'ServiceL2Status', true),
  serviceBGPStatuses: r('metallb.io', 'v1beta1', 'servicebgpstatuses', 'ServiceBGPStatus', true),
  eips: r('network.kubesphere.io', 'v1alpha2', 'eips', 'Eip', false),
  bgpConfs: r('network.kubesphere.io', 'v1alpha2', 'bgpconfs', 'BgpConf', false),
  openelbBgpPeers: r('network.kubesphere.io', 'v1alpha2', 'bgppeers', 'BgpPeer', false),
} as const satisfies Readonly<Record<string, Resource>>;

/** The Snapshot fields, each with the resource that fills it (the informer set of both components). */
export const SnapshotResources: Readonly<Record<keyof Snapshot, Resource>> = {
  ipAddressPools: Resources.ipAddressPools,
  l2Advertisements: Resources.l2Advertisements,
  bgpAdvertisements: Resources.bgpAdvertisements,
  bgpPeers: Resources.bgpPeers,
  communities: Resources.communities,
  bfdProfiles: Resources.bfdProfiles,
  eips: Resources.eips,
  bgpConfs: Resources.bgpConfs,
  openelbBgpPeers: Resources.openelbBgpPeers,
  nodes: Resources.nodes,
  namespaces: Resources.namespaces,
  services: Resources.services,
  endpointSlices: Resources.endpointSlices,
  secrets: Resources.secrets,
};

/** Collection path: /api/v1/namespaces/NS/services or /apis/G/V/PLURAL (namespace undefined = all). */
export function collectionPath(res: Resource, namespace?: string): string {
  const prefix = res.group === '' ? `/api/${res.version}` : `/apis/${res.group}/${res.version}`;
  const ns = res.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${prefix}${ns}/${res.plural}`;
}

export function objectPath(res: Resource, namespace: string | undefined, name: string, subresource?: 'status'): string {
  return `${collectionPath(res, namespace)}/${encodeURIComponent(name)}${subresource === undefined ? '' : `/${subresource}`}`;
}

export function apiVersionOf(res: Resource): string {
  return res.group === '' ? res.version : `${res.group}/${res.version}`;
}
