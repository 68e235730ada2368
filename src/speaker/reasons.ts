// Why a Service is not announced from this node, per mode: a closed set of codes with a message for
// logs and status (the MetalLB speaker's reasons, MetalLB speaker/layer2_controller.go ShouldAnnounce; speaker/bgp_controller.go, where they exist).

export const NotAnnounced = {
  /** The Service has no IP (allocation failed or pending). */
  noIP: 'noIP',
  /** The IP belongs to no configured pool. */
  noPool: 'noPool',
  /** No advertisement, Eip protocol or Service annotation selects a mode for the pool. */
  noAdvertisement: 'noAdvertisement',
  /** This node is not in the cluster snapshot (not in the manifests / no Node object). */
  nodeUnknown: 'nodeUnknown',
  /** No rule of the Service's mode selects this node (nodeSelectors). */
  nodeNotSelected: 'nodeNotSelected',
  /** node.kubernetes.io/exclude-from-external-load-balancers. */
  nodeExcluded: 'nodeExcluded',
  nodeNotReady: 'nodeNotReady',
  networkUnavailable: 'networkUnavailable',
  outOfService: 'outOfService',
  /** spec.unschedulable (cordoned, or being drained). */
  nodeCordoned: 'nodeCordoned',
  /** No serving endpoint anywhere (MetalLB noEndpoints). */
  noEndpoints: 'noEndpoints',
  /** ETP=Local and no serving endpoint on this node (MetalLB noLocalEndpoints). */
  noLocalEndpoints: 'noLocalEndpoints',
  /** L2: another node won the election (MetalLB notOwner). */
  notOwner: 'notOwner',
  /** L2: nobody can announce (every node excluded). */
  noCandidate: 'noCandidate',
  /** L2: allow-shared-ip with an L2Advertisement that has serviceSelectors (MetalLB sharedIPWithServiceSelector). */
  sharedIPWithServiceSelector: 'sharedIPWithServiceSelector',
  /** BGP: no session of this node receives the prefixes. */
  noPeer: 'noPeer',
} as const;
export type NotAnnounced = (typeof NotAnnounced)[keyof typeof NotAnnounced];

export interface Reason {
  readonly code: NotAnnounced;
  readonly message: string;
}

export function reason(code: NotAnnounced, message: string): Reason {
  return { code, message };
}
