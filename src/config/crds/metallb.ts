// The MetalLB custom resources (group metallb.io) exactly as users write them: field names and
// nesting follow api/v1beta1 and api/v1beta2 (MetalLB api/v1beta1, api/v1beta2). Every field is optional here
// because manifests and the API server may hand us anything; src/config/metallb/*.ts validates.

import type { KubeObject, KubeSelector } from './common.ts';

export const METALLB_GROUP = 'metallb.io';
export const METALLB_V1BETA1 = 'metallb.io/v1beta1';
export const METALLB_V1BETA2 = 'metallb.io/v1beta2';

/** IPAddressPool spec.serviceAllocation (Go: AllocateTo). §1.1, §2.6 */
export interface ServiceAllocation {
  readonly priority?: number;
  readonly namespaces?: readonly string[];
  readonly namespaceSelectors?: readonly KubeSelector[];
  readonly serviceSelectors?: readonly KubeSelector[];
}

/** §1.1 */
export interface IPAddressPool extends KubeObject<'IPAddressPool'> {
  readonly spec?: {
    readonly addresses?: readonly string[];
    readonly autoAssign?: boolean;
    readonly avoidBuggyIPs?: boolean;
    readonly serviceAllocation?: ServiceAllocation;
  };
}

export interface PreferredNodeSelector {
  readonly weight?: number;
  readonly preference?: KubeSelector;
}

/** §1.2 */
export interface L2Advertisement extends KubeObject<'L2Advertisement'> {
  readonly spec?: {
    readonly ipAddressPools?: readonly string[];
    readonly ipAddressPoolSelectors?: readonly KubeSelector[];
    readonly nodeSelectors?: readonly KubeSelector[];
    readonly interfaces?: readonly string[];
    readonly serviceSelectors?: readonly KubeSelector[];
    readonly preferredNodeSelectors?: readonly PreferredNodeSelector[];
  };
}

/** §1.3 */
export interface BGPAdvertisement extends KubeObject<'BGPAdvertisement'> {
  readonly spec?: {
    readonly aggregationLength?: number;
    readonly aggregationLengthV6?: number;
    readonly localPref?: number;
    readonly communities?: readonly string[];
    readonly ipAddressPools?: readonly string[];
    readonly ipAddressPoolSelectors?: readonly KubeSelector[];
    readonly nodeSelectors?: readonly KubeSelector[];
    readonly peers?: readonly string[];
    readonly serviceSelectors?: readonly KubeSelector[];
  };
}

/** corev1.SecretReference */
export interface SecretReference {
  readonly name?: string;
  readonly namespace?: string;
}

/** BGPPeer v1beta2, the storage version. §1.4. Durations are metav1.Duration strings ("90s", "1m30s"). */
export interface BGPPeerV1beta2 extends KubeObject<'BGPPeer'> {
  readonly apiVersion: typeof METALLB_V1BETA2;
  readonly spec?: {
    readonly myASN?: number;
    readonly peerASN?: number;
    readonly dynamicASN?: string;
    readonly localASN?: number;
    readonly peerAddress?: string;
    readonly interface?: string;
    readonly sourceAddress?: string;
    readonly peerPort?: number;
    readonly holdTime?: string;
    readonly keepaliveTime?: string;
    readonly connectTime?: string;
    readonly routerID?: string;
    readonly nodeSelectors?: readonly KubeSelector[];
    readonly password?: string;
    readonly passwordSecret?: SecretReference;
    readonly bfdProfile?: string;
    readonly enableGracefulRestart?: boolean;
    readonly ebgpMultiHop?: boolean;
    readonly vrf?: string;
    readonly disableMP?: boolean;
    readonly dualStackAddressFamily?: boolean;
  };
}

/** v1beta1 legacy node selector: matchExpressions use a plain string operator. §1.5 */
export interface LegacyNodeSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key?: string; readonly operator?: string; readonly values?: readonly string[] }[];
}

/** BGPPeer v1beta1 (deprecated), converted up to v1beta2 semantics by src/config/metallb/bgppeer.ts. §1.5 */
export interface BGPPeerV1beta1 extends KubeObject<'BGPPeer'> {
  readonly apiVersion: typeof METALLB_V1BETA1;
  readonly spec?: {
    readonly myASN?: number;
    readonly peerASN?: number;
    readonly peerAddress?: string;
    readonly sourceAddress?: string;
    readonly peerPort?: number;
    readonly holdTime?: string;
    readonly keepaliveTime?: string;
    readonly routerID?: string;
    readonly password?: string;
    readonly bfdProfile?: string;
    readonly ebgpMultiHop?: boolean;
    readonly nodeSelectors?: readonly LegacyNodeSelector[];
  };
}

export type BGPPeer = BGPPeerV1beta1 | BGPPeerV1beta2;

/** §1.6. Intervals in milliseconds. */
export interface BFDProfile extends KubeObject<'BFDProfile'> {
  readonly spec?: {
    readonly receiveInterval?: number;
    readonly transmitInterval?: number;
    readonly detectMultiplier?: number;
    readonly echoInterval?: number;
    readonly echoMode?: boolean;
    readonly passiveMode?: boolean;
    readonly minimumTtl?: number;
  };
}

/** §1.7 */
export interface Community extends KubeObject<'Community'> {
  readonly spec?: {
    readonly communities?: readonly { readonly name?: string; readonly value?: string }[];
  };
}
