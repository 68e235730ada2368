// Rules about one pool that need no allocator state: which addresses automatic allocation may hand out,
// how many there are, which Services the pool accepts, and which pool holds an address.
//
// Reference: MetalLB api/v1beta1/ipaddresspool_types.go (avoidBuggyIPs, serviceAllocation), internal/allocator/allocator.go isPoolCompatibleWithService; OpenELB api/v1alpha2/eip_types.go and its Service annotations (docs; pkg/controllers/lb).
import type { AddressRange, AllocationRequest, Family, IPAddress, PoolSpec } from './types.ts';
import { matchesAny, selectorMatches } from '../labels/selector.ts';

const OCTET_MASK = 0xffn;
const BUGGY_LOW = 0n;
const BUGGY_HIGH = 255n;
const OCTET_SPAN = 256n;
/** IPv4 CIDRs from /31 up have no network/broadcast address (RFC 3021 §2 for /31, a host route for /32). */
const V4_SHORTEST_WITHOUT_BROADCAST = 31;
/** IPv6 /127 and /128 have no Subnet-Router anycast address (RFC 6164 §6). */
const V6_SHORTEST_WITHOUT_ANYCAST = 127;

/** MetalLB `ipConfusesBuggyFirmwares`: an IPv4 address whose last octet is 0 or 255. */
export function isBuggy(ip: IPAddress): boolean {
  return ip.family === 'ipv4' && lastOctetBuggy(ip.value);
}

function lastOctetBuggy(value: bigint): boolean {
  const low = value & OCTET_MASK;
  return low === BUGGY_LOW || low === BUGGY_HIGH;
}

/**
 * Addresses of a CIDR that berth never hands out automatically (an explicit request may still take them):
 * - IPv4 CIDR shorter than /31: the network and broadcast address (RFC 919 §7, RFC 922 §7: all-zeros and
 *   all-ones host parts address the network itself and its broadcast; RFC 3021 makes /31 usable end to end).
 *   MetalLB hands them out (its issue #483).
 * - IPv6 CIDR shorter than /127: the Subnet-Router anycast address, prefix:: (RFC 4291 §2.6.1; RFC 6164
 *   allows /127 point-to-point links to use both). MetalLB hands it out first.
 */
export function isReservedInCIDR(range: AddressRange, value: bigint): boolean {
  if (range.prefixLength === undefined) return false;
  if (range.family === 'ipv4') {
    if (range.prefixLength >= V4_SHORTEST_WITHOUT_BROADCAST) return false;
    return value === range.first || value === range.last;
  }
  if (range.prefixLength >= V6_SHORTEST_WITHOUT_ANYCAST) return false;
  return value === range.first;
}

/** May an explicit request (requested IP, or status being restored) take this address of the pool? */
export function explicitAllowed(pool: PoolSpec, ip: IPAddress): boolean {
  return !(pool.avoidBuggyIPs && isBuggy(ip));
}

/** May automatic allocation hand out this address of `range` (a range of `pool`)? */
export function autoEligible(pool: PoolSpec, range: AddressRange, value: bigint): boolean {
  if (isReservedInCIDR(range, value)) return false;
  return !(pool.avoidBuggyIPs && range.family === 'ipv4' && lastOctetBuggy(value));
}

/** How many v in [0, n] have a last octet of 0 or 255 (n >= -1). */
function buggyUpTo(n: bigint): bigint {
  if (n < 0n) return 0n;
  return n / OCTET_SPAN + 1n + (n + 1n) / OCTET_SPAN;
}

/** Addresses of the range that automatic allocation may hand out. */
export function rangeAutoCapacity(pool: PoolSpec, range: AddressRange): bigint {
  let n = range.last - range.first + 1n;
  const buggy = pool.avoidBuggyIPs && range.family === 'ipv4';
  if (buggy) n -= buggyUpTo(range.last) - buggyUpTo(range.first - 1n);
  for (const end of range.first === range.last ? [range.first] : [range.first, range.last]) {
    if (isReservedInCIDR(range, end) && !(buggy && isBuggy({ family: range.family, value: end }))) n -= 1n;
  }
  return n;
}

/** All addresses of the range (OpenELB poolSize counts every address). */
export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

/**
 * serviceAllocation namespace rule. berth treats the rule as active when the pool *declares* namespaces
 * or namespaceSelectors (MetalLB resolves selectors to a set at parse time, and an empty set lifts the
 * restriction; a selector that matches nothing should not open the pool to everyone).
 */
export function namespaceAllowed(pool: PoolSpec, req: AllocationRequest): boolean {
  if (pool.namespaces.length === 0 && pool.namespaceSelectors.length === 0) return true;
  return (
    pool.namespaces.includes(req.namespace) || pool.namespaceSelectors.some((s) => selectorMatches(s, req.namespaceLabels))
  );
}

/** serviceSelectors rule: any selector matches (OR). `serviceAllocation: {}` matches everything (MetalLB v0.15.0). */
export function serviceAllowed(pool: PoolSpec, req: AllocationRequest): boolean {
  return matchesAny(pool.serviceSelectors, req.serviceLabels);
}

export interface CompatOptions {
  /** A named pool or a requested IP (OpenELB: the namespace binding only steers automatic allocation). */
  readonly explicit: boolean;
}

/** MetalLB internal/allocator/allocator.go isPoolCompatibleWithService; for Eips, OpenELB docs and pkg/controllers/lb (Service annotations) (`getEIP`). */
export function compatible(pool: PoolSpec, req: AllocationRequest, opts: CompatOptions): boolean {
  if (pool.dialect === 'openelb' && opts.explicit) return true;
  return namespaceAllowed(pool, req) && serviceAllowed(pool, req);
}

/** Porter protocol annotation: only Eips of that protocol (v0.5 `assignIPFromEip`). Pools without one accept any. */
export function protocolAllowed(pool: PoolSpec, req: AllocationRequest): boolean {
  return req.protocol === undefined || pool.protocol === undefined || pool.protocol === req.protocol;
}

/** Sort key for priorities: a number first (ascending), unset last. Ties by name (MetalLB: random). */
export function byPriorityThenName(a: PoolSpec, b: PoolSpec): number {
  if (a.priority !== b.priority) {
    if (a.priority === undefined) return 1;
    if (b.priority === undefined) return -1;
    return a.priority - b.priority;
  }
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

interface IndexEntry<T> {
  readonly first: bigint;
  readonly last: bigint;
  readonly owner: T;
}

/**
 * Which pool holds an address: one sorted array per family, binary search. Config rejects overlapping
 * ranges (MetalLB api/v1beta1/ipaddresspool_types.go, Eip webhook); if some slip through, the range with the greatest start wins.
 * `owner` is whatever the caller attaches to a pool (the allocator attaches its pool state).
 */
export class PoolAddressIndex<T> {
  readonly #byFamily: Record<Family, IndexEntry<T>[]> = { ipv4: [], ipv6: [] };

  constructor(pools: readonly { readonly spec: PoolSpec; readonly owner: T }[]) {
    for (const { spec, owner } of pools) {
      for (const r of spec.ranges) this.#byFamily[r.family].push({ first: r.first, last: r.last, owner });
    }
    for (const f of ['ipv4', 'ipv6'] as const) this.#byFamily[f].sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
  }

  poolOf(ip: IPAddress): T | undefined {
    const list = this.#byFamily[ip.family];
    let lo = 0;
    let hi = list.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = list[mid];
      if (e !== undefined && e.first <= ip.value) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const e = list[at];
    return e !== undefined && e.last >= ip.value ? e.owner : undefined;
  }
}
