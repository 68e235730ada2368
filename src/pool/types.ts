// The pool contract: the data src/config produces (PoolSpec, AllocationRequest) and the answers the
// allocator gives (Assignment, AllocationFailure). Plain readonly data only; the logic lives in
// address.ts (parsing/formatting), ../labels/selector.ts (label selector matching), intervals.ts (free space) and
// allocator.ts (choice of pool and address, sharing, restore, statistics).
//
// Stability: this file is the interface the config engineer codes against. Fields may be added,
// never renamed or re-typed.
//
// Semantics come from MetalLB api/v1beta1/ipaddresspool_types.go; internal/allocator and controller/service.go and OpenELB api/v1alpha2/eip_types.go; OpenELB docs and pkg/controllers/lb (Service annotations).

import type {
  Labels,
  LabelSelector as AnyLabelSelector,
  LabelSelectorRequirement as AnyLabelSelectorRequirement,
} from '../labels/selector.ts';

export { parseIP, parsePoolAddress, formatIP, formatRange } from './address.ts';
export type { ParsedPoolAddress, PoolAddressForm, AddressError, AddressErrorKind, ParseResult } from './address.ts';

/** Address family. */
export const Family = { IPv4: 'ipv4', IPv6: 'ipv6' } as const;
export type Family = (typeof Family)[keyof typeof Family];

/** One IP address: the family plus its value as an unsigned integer (32 or 128 bits). */
export interface IPAddress {
  readonly family: Family;
  readonly value: bigint;
}

/**
 * A contiguous block of addresses, both ends included. `prefixLength` is present only when the block
 * was written as a CIDR (it is the normalised network: host bits cleared). Ranges written `a-b` and
 * single IPs carry no prefixLength. The allocator keeps the network and broadcast addresses of an IPv4
 * CIDR shorter than /31 out of automatic allocation (an explicit request may still take them).
 */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
  readonly prefixLength?: number;
}

// ------------------------------------------------------------------------------------------------
// Label selectors (Kubernetes metav1.LabelSelector, normalised: both parts always present); matched by
// selectorMatches in src/labels/selector.ts.
// An empty selector ({matchLabels: {}, matchExpressions: []}) matches everything, as in Kubernetes.

export { SelectorOperator, type Labels } from '../labels/selector.ts';

export interface LabelSelectorRequirement extends AnyLabelSelectorRequirement {
  /** Required non-empty for In/NotIn, must be empty for Exists/DoesNotExist (config validates). */
  readonly values: readonly string[];
}

export interface LabelSelector extends AnyLabelSelector {
  readonly matchLabels: Labels;
  readonly matchExpressions: readonly LabelSelectorRequirement[];
}

// ------------------------------------------------------------------------------------------------
// Pools

/** Which API a pool or a Service came through. */
export const Dialect = { MetalLB: 'metallb', OpenELB: 'openelb' } as const;
export type Dialect = (typeof Dialect)[keyof typeof Dialect];

/** OpenELB Eip `spec.protocol` (and the Porter Service protocol annotation). */
export const PoolProtocol = { Layer2: 'layer2', BGP: 'bgp', VIP: 'vip' } as const;
export type PoolProtocol = (typeof PoolProtocol)[keyof typeof PoolProtocol];

/**
 * A pool normalised from either dialect. Pool names share one namespace across dialects (an Eip is a
 * pool; config reports a name clash).
 *
 * MetalLB IPAddressPool -> PoolSpec:
 *   ranges = spec.addresses parsed (spec order kept: the allocator honours it), autoAssign = spec.autoAssign ?? true,
 *   avoidBuggyIPs = spec.avoidBuggyIPs ?? false, hasServiceAllocation = spec.serviceAllocation !== undefined,
 *   priority = serviceAllocation.priority, with 0/absent -> undefined, namespaces/namespaceSelectors/
 *   serviceSelectors from serviceAllocation ([] when absent), protocol = undefined, disabled = false,
 *   isDefault = false, interface = undefined.
 * OpenELB Eip -> PoolSpec:
 *   ranges = [spec.address parsed], autoAssign = false (an Eip is used by OpenELB-dialect Services, or by a
 *   MetalLB Service that names it with metallb.io/address-pool), avoidBuggyIPs = false (usingKnownIPs is dead
 *   since v0.4), hasServiceAllocation = false, priority = spec.priority ?? 0 (a real value: OpenELB sorts
 *   ascending), namespaces = spec.namespaces ?? [], namespaceSelectors = spec.namespaceSelector ?
 *   [{matchLabels: it, matchExpressions: []}] : [], serviceSelectors = [], protocol = spec.protocol ?? 'bgp',
 *   disabled = spec.disable ?? false, isDefault = annotation eip.openelb.kubesphere.io/is-default-eip == "true",
 *   interface = spec.interface.
 */
export interface PoolSpec {
  readonly name: string;
  readonly dialect: Dialect;
  readonly ranges: readonly AddressRange[];
  /** MetalLB: false = skipped by automatic allocation (named pool / explicit IP still work). */
  readonly autoAssign: boolean;
  /** MetalLB: skip every IPv4 address whose last octet is 0 or 255 (every /24, not just the CIDR ends). */
  readonly avoidBuggyIPs: boolean;
  /**
   * undefined = unset: tried after every pool that has a priority. Otherwise a lower number is tried
   * first. MetalLB's 0 means unset (config maps it to undefined); OpenELB's 0 is a value.
   */
  readonly priority: number | undefined;
  /**
   * MetalLB: the pool has a `serviceAllocation` block (even `{}`): it is then used only for Services it
   * is compatible with and is never a fallback pool. `{}` or priority-only matches every Service.
   */
  readonly hasServiceAllocation: boolean;
  /** Namespace allow-list. Union with the namespaces matched by namespaceSelectors. */
  readonly namespaces: readonly string[];
  /** Matched against the request's namespaceLabels (OR). */
  readonly namespaceSelectors: readonly LabelSelector[];
  /** MetalLB only: the Service labels must match at least one (OR), ANDed with the namespace rule. */
  readonly serviceSelectors: readonly LabelSelector[];
  /** OpenELB: the Eip protocol. undefined for MetalLB pools (dispatch is by advertisements). */
  readonly protocol: PoolProtocol | undefined;
  /** OpenELB `spec.disable`: no new allocation; existing assignments are kept. */
  readonly disabled: boolean;
  /** OpenELB default Eip: the fallback pool for OpenELB-dialect Services. */
  readonly isDefault: boolean;
  /** OpenELB `spec.interface`: carried for the speaker, not used by the allocator. */
  readonly interface: string | undefined;
}

// ------------------------------------------------------------------------------------------------
// Requests

/** Service key: `namespace/name`. */
export type ServiceKey = string;

export const IPFamilyPolicy = {
  SingleStack: 'SingleStack',
  PreferDualStack: 'PreferDualStack',
  RequireDualStack: 'RequireDualStack',
} as const;
export type IPFamilyPolicy = (typeof IPFamilyPolicy)[keyof typeof IPFamilyPolicy];

export const PortProtocol = { TCP: 'TCP', UDP: 'UDP', SCTP: 'SCTP' } as const;
export type PortProtocol = (typeof PortProtocol)[keyof typeof PortProtocol];

export interface ServicePort {
  readonly protocol: PortProtocol;
  /** spec.ports[].port (not the nodePort). */
  readonly port: number;
}

/**
 * What one LoadBalancer Service asks of the allocator. Config builds it from the Service, its
 * Namespace and the annotations of the dialect it came through.
 */
export interface AllocationRequest {
  /** `namespace/name`. */
  readonly service: ServiceKey;
  readonly namespace: string;
  readonly namespaceLabels: Labels;
  readonly serviceLabels: Labels;
  /**
   * The Service's families in order, from spec.clusterIPs (MetalLB derives the Service family from the
   * cluster IPs; ipFamilies[0] is the primary family). One entry = single family; two = dual.
   * Empty = no parseable ClusterIP: the allocator answers `no-cluster-ip`.
   */
  readonly ipFamilies: readonly Family[];
  readonly ipFamilyPolicy: IPFamilyPolicy;
  /**
   * Specific IPs: spec.loadBalancerIP, metallb.io/loadBalancerIPs, or the OpenELB v1alpha1 IP
   * annotation (config applies the dialect's precedence and parses them with parseIP). Empty = none.
   */
  readonly requestedIPs: readonly IPAddress[];
  /** metallb.io/address-pool or eip.openelb.kubesphere.io/v1alpha2 (Eip name). */
  readonly requestedPool: string | undefined;
  /** protocol.porter.kubesphere.io/v1alpha1 (Porter <= 0.5): only pools with this protocol qualify. */
  readonly protocol: PoolProtocol | undefined;
  /** metallb.io/allow-shared-ip value; undefined or "" = no sharing. */
  readonly sharingKey: string | undefined;
  /**
   * Sharing backend key: ETP=Local -> the selector rendered canonically (sorted `k=v` joined by ","),
   * ETP=Cluster -> "". Two sharers need equal backend keys.
   */
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
  /**
   * MetalLB: automatic allocation uses pinned pools (serviceAllocation) then autoAssign fallback pools.
   * OpenELB: automatic allocation uses namespace-bound Eips then the default Eip; one IP per Service;
   * a requested IP held only by OpenELB Services is shared without a key (ports must not clash).
   */
  readonly dialect: Dialect;
}

// ------------------------------------------------------------------------------------------------
// Answers

/** A Service's IPs and the pool they came from (metallb.io/ip-allocated-from-pool, Eip label). */
export interface Assignment {
  readonly service: ServiceKey;
  readonly pool: string;
  /** Primary family first when dual. May be the very array the caller passed in (never mutated). */
  readonly ips: readonly IPAddress[];
}

export const FailureReason = {
  /** No pools configured at all. */
  NoPools: 'no-pools',
  /** ipFamilies is empty (headless or ClusterIP not set yet). */
  NoClusterIP: 'no-cluster-ip',
  /** RequireDualStack with fewer than two cluster IPs (MetalLB event "not enough clusterips"). */
  NotEnoughClusterIPs: 'not-enough-cluster-ips',
  /** Malformed request: more than 2 IPs, two IPs of one family, duplicates. */
  InvalidRequest: 'invalid-request',
  /** Requested IP families do not equal the Service's families. */
  FamilyMismatch: 'family-mismatch',
  /** requestedPool names no pool. */
  PoolNotFound: 'pool-not-found',
  /** The pool's serviceAllocation (or protocol) rules exclude this Service. */
  PoolIncompatible: 'pool-incompatible',
  /** OpenELB Eip with spec.disable. */
  PoolDisabled: 'pool-disabled',
  /** A requested IP is in no pool (or not in the named pool). */
  IPNotInPool: 'ip-not-in-pool',
  /** A requested IP is excluded by avoidBuggyIPs. */
  IPNotAllowed: 'ip-not-allowed',
  /** The IP is held by a Service it may not share with (no/different sharing key). */
  IPInUse: 'ip-in-use',
  /** The IP is shared, but the backend keys differ (ETP Local). */
  BackendMismatch: 'backend-mismatch',
  /** The IP is shared, but a (protocol, port) pair is already used on it. */
  PortConflict: 'port-conflict',
  /** No free address in any candidate pool (or in the named pool). */
  NoAvailableIPs: 'no-available-ips',
  /** OpenELB: no namespace-bound Eip and no default Eip. */
  NoDefaultPool: 'no-default-pool',
} as const;
export type FailureReason = (typeof FailureReason)[keyof typeof FailureReason];

export interface AllocationFailure {
  readonly reason: FailureReason;
  /** Human text for the Event, e.g. `no available IPs in pool "blue"`. */
  readonly message: string;
}

/**
 * `cleared`: the Service's previous IPs were dropped first and why (MetalLB event ClearAssignment).
 * `additionalFailed`: PreferDualStack kept its single IP; the missing family could not be added from the
 * same pool (MetalLB event AdditionalAssignFailed, Normal).
 */
export type AllocationResult =
  | {
      readonly ok: true;
      readonly assignment: Assignment;
      readonly cleared?: AllocationFailure;
      readonly additionalFailed?: AllocationFailure;
    }
  | { readonly ok: false; readonly failure: AllocationFailure; readonly cleared?: AllocationFailure };

/** A Service whose status IPs are replayed into a fresh allocator (restart safety). */
export interface ExistingAssignment {
  readonly request: AllocationRequest;
  /** status.loadBalancer.ingress[].ip, parsed. */
  readonly ips: readonly IPAddress[];
}

/** What setPools did to existing assignments (MetalLB internal/allocator/allocator.go SetPools). */
export interface PoolChange {
  /** Services whose IPs left every pool (or now span two pools): unassigned; reallocate them. */
  readonly evicted: readonly { readonly service: ServiceKey; readonly failure: AllocationFailure }[];
  /** Services whose IPs now belong to a pool of another name: kept, pool name updated. */
  readonly moved: readonly { readonly service: ServiceKey; readonly from: string; readonly to: string }[];
}

// ------------------------------------------------------------------------------------------------
// Pool statistics

/** Largest int64: MetalLB's value for "IPv6 CIDR of 2^62 addresses or more" (MetalLB api/v1beta1/ipaddresspool_types.go; internal/allocator (large IPv6 ranges)). */
export const MAX_INT64 = 0x7fffffffffffffffn;

/** MetalLB IPAddressPool.status. int64 on the wire: bigint here, serialise without going through number. */
export interface IPAddressPoolStatus {
  readonly assignedIPv4: bigint;
  readonly assignedIPv6: bigint;
  readonly availableIPv4: bigint;
  readonly availableIPv6: bigint;
}

/** OpenELB Eip.status (OpenELB api/v1alpha2/eip_types.go). */
export interface EipStatus {
  /** Pool full: no address left for automatic allocation. */
  readonly occupied: boolean;
  /** Distinct IPs in use (not Services). */
  readonly usage: number;
  /** Every address of the pool, clamped to MAX_INT64. */
  readonly poolSize: bigint;
  /** ip -> "ns/svc", or "ns/a;ns/b" when shared (keys sorted). */
  readonly used: Readonly<Record<string, string>>;
  readonly firstIP: string;
  readonly lastIP: string;
  readonly v4: boolean;
  /** berth: true when the pool takes new allocations (not disabled, has addresses). */
  readonly ready: boolean;
}
