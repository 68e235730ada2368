// The OpenELB / PorterLB custom resources (group network.kubesphere.io, cluster-scoped) as users write
// them: field names follow api/v1alpha2 (OpenELB api/v1alpha2). v1alpha1 objects are read
// with the same shapes where the fields coincide (Eip address/protocol/disable); src/config/openelb/*.ts
// validates.

import type { KubeObject, KubeSelector } from './common.ts';

export const OPENELB_GROUP = 'network.kubesphere.io';
export const OPENELB_V1ALPHA1 = 'network.kubesphere.io/v1alpha1';
export const OPENELB_V1ALPHA2 = 'network.kubesphere.io/v1alpha2';

/** §1.1 */
export interface Eip extends KubeObject<'Eip'> {
  readonly spec?: {
    readonly address?: string;
    readonly protocol?: string;
    readonly interface?: string;
    readonly disable?: boolean;
    readonly usingKnownIPs?: boolean;
    readonly priority?: number;
    readonly namespaces?: readonly string[];
    readonly namespaceSelector?: Readonly<Record<string, string>>;
  };
}

/** GoBGP-shaped graceful restart block (BgpConf and BgpPeer). */
export interface GoBgpGracefulRestart {
  readonly enabled?: boolean;
  readonly restartTime?: number;
  readonly helperOnly?: boolean;
  readonly deferralTime?: number;
  readonly notificationEnabled?: boolean;
  readonly longlivedEnabled?: boolean;
  readonly staleRoutesTime?: number;
  readonly peerRestartTime?: number;
  readonly peerRestarting?: boolean;
  readonly localRestarting?: boolean;
  readonly mode?: string;
}

/** §1.2. Only the object named `default` is used. */
export interface BgpConf extends KubeObject<'BgpConf'> {
  readonly spec?: {
    readonly as?: number;
    readonly asPerRack?: Readonly<Record<string, number>>;
    readonly routerId?: string;
    /** v1alpha1 spelling. */
    readonly routerID?: string;
    readonly listenPort?: number;
    /** v1alpha1 spelling of listenPort. */
    readonly port?: number;
    readonly listenAddresses?: readonly string[];
    readonly families?: readonly number[];
    readonly useMultiplePaths?: boolean;
    readonly gracefulRestart?: GoBgpGracefulRestart;
    readonly policy?: string;
  };
}

/** §1.3. Timers are uint64-as-string (jsonpb); numbers are accepted too. */
export interface OpenELBBgpPeer extends KubeObject<'BgpPeer'> {
  readonly spec?: {
    readonly conf?: {
      readonly neighborAddress?: string;
      readonly peerAs?: number;
      readonly localAs?: number;
      readonly authPassword?: string;
      readonly description?: string;
      readonly neighborInterface?: string;
      readonly vrf?: string;
      readonly adminDown?: boolean;
      readonly [other: string]: unknown;
    };
    readonly ebgpMultihop?: { readonly enabled?: boolean; readonly multihopTtl?: number };
    readonly timers?: {
      readonly config?: {
        readonly connectRetry?: string | number;
        readonly holdTime?: string | number;
        readonly keepaliveInterval?: string | number;
        readonly minimumAdvertisementInterval?: string | number;
      };
    };
    readonly transport?: {
      readonly mtuDiscovery?: boolean;
      readonly passiveMode?: boolean;
      readonly remoteAddress?: string;
      readonly remotePort?: number;
      readonly tcpMss?: number;
    };
    readonly gracefulRestart?: GoBgpGracefulRestart;
    readonly afiSafis?: readonly {
      readonly config?: { readonly family?: { readonly afi?: string; readonly safi?: string }; readonly enabled?: boolean };
      readonly addPaths?: { readonly config?: { readonly receive?: boolean; readonly sendMax?: number } };
    }[];
    readonly nodeSelector?: KubeSelector;
    /** v1alpha1 spelling of conf. */
    readonly config?: { readonly peerAs?: number; readonly neighborAddress?: string };
  };
}
