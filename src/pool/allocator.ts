// The IP allocator: which pool and which address a LoadBalancer Service gets, with MetalLB's and
// OpenELB's rules. Pure: no I/O, no clock, no randomness; the same calls give the same answers.
//
// State (all in memory, grows with allocations, never with pool size):
//   used[family]   IntervalSet of addresses in use       -> free-address search without scanning
//   ips            ip -> {pool, sharing key, backend key, holders (service -> ports, dialect)}
//   services       service -> {request, assignment}
//   sharing        sharing key -> ips carrying it         -> sharers find each other without scanning
//   cursors        (pool, family) -> next-fit position    -> a freed address waits a full lap
//
// Entry points:
//   allocate(req)        converge one Service (metallb.md §3.4): keep its IPs when still valid, clear and
//                        re-allocate when not; requested IPs, else named pool, else automatic (§2.6)
//   restore(req, ips)    accept IPs read from Service status (MetalLB `Assign`); restoreAll() for a
//                        whole cluster, replayed before any allocate() (restart safety, §3.6)
//   release(service)     the Service is gone or no longer a LoadBalancer
//   setPools(pools)      configuration change (§3.5)
//   poolStatus / eipStatus   IPAddressPool.status and Eip.status
import type {
  AllocationFailure,
  AllocationRequest,
  AllocationResult,
  Assignment,
  Dialect,
  EipStatus,
  ExistingAssignment,
  Family,
  IPAddress,
  IPAddressPoolStatus,
  PoolChange,
  PoolSpec,
  ServiceKey,
  ServicePort,
} from './types.ts';
import { FailureReason, MAX_INT64 } from './types.ts';
import { formatIP, ipKey } from './address.ts';
import { IntervalSet } from './intervals.ts';
import {
  PoolAddressIndex,
  autoEligible,
  byPriorityThenName,
  compatible,
  explicitAllowed,
  protocolAllowed,
  rangeAutoCapacity,
  rangeSize,
} from './pool.ts';

/** MetalLB §3.3: an IPv6 range of 2^62 addresses or more counts as MaxInt64. */
const HUGE_V6 = 1n << 62n;

interface Holder {
  readonly ports: readonly ServicePort[];
  readonly dialect: Dialect;
  /** The Service asked for this very IP (OpenELB implicit sharing applies only then). */
  readonly explicit: boolean;
}

interface IPState {
  readonly ip: IPAddress;
  pool: string;
  sharingKey: string;
  backendKey: string;
  readonly holders: Map<ServiceKey, Holder>;
}

interface Held {
  request: AllocationRequest;
  assignment: Assignment;
}

interface Cursor {
  /** Index into the pool's ranges of that family (spec order). */
  readonly range: number;
  /** Next address to try in that range. */
  readonly next: bigint;
}

/** How the Service's families are to be served (metallb.md §2.3; OpenELB: one IP). */
type FamilyPlan =
  | { readonly kind: 'single'; readonly family: Family }
  | { readonly kind: 'both'; readonly primary: Family; readonly secondary: Family }
  | { readonly kind: 'prefer'; readonly primary: Family; readonly secondary: Family }
  | { readonly kind: 'one-of'; readonly families: readonly Family[] };

type Check<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly failure: AllocationFailure };

function failure(reason: FailureReason, message: string): { readonly ok: false; readonly failure: AllocationFailure } {
  return { ok: false, failure: { reason, message } };
}

function sameIPs(a: readonly IPAddress[], b: readonly IPAddress[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map(ipKey));
  return b.every((ip) => keys.has(ipKey(ip)));
}

function portText(p: ServicePort): string {
  return `${p.protocol}/${p.port}`;
}

export class Allocator {
  #pools = new Map<string, PoolSpec>();
  #poolList: readonly PoolSpec[] = [];
  #index = new PoolAddressIndex([]);
  readonly #used: Record<Family, IntervalSet> = { ipv4: new IntervalSet(), ipv6: new IntervalSet() };
  readonly #ips = new Map<string, IPState>();
  readonly #poolIPs = new Map<string, Set<string>>();
  readonly #services = new Map<ServiceKey, Held>();
  readonly #sharing = new Map<string, Set<string>>();
  readonly #cursors = new Map<string, Cursor>();

  constructor(pools: readonly PoolSpec[]) {
    this.setPools(pools);
  }

  // ----------------------------------------------------------------------------------------------
  // Queries

  assignmentOf(service: ServiceKey): Assignment | undefined {
    return this.#services.get(service)?.assignment;
  }

  /** Services holding an IP, sorted. */
  servicesOn(ip: IPAddress): readonly ServiceKey[] {
    return [...(this.#ips.get(ipKey(ip))?.holders.keys() ?? [])].sort();
  }

  /** All current assignments, sorted by service key. */
  assignments(): readonly Assignment[] {
    return [...this.#services.values()].map((h) => h.assignment).sort((a, b) => (a.service < b.service ? -1 : 1));
  }

  // ----------------------------------------------------------------------------------------------
  // Configuration

  /**
   * Replace the pools (metallb.md §3.5). Each assignment's pool is recomputed from its IPs: IPs that left
   * every pool (or now sit in two different pools) unassign the Service, which the caller re-allocates
   * (MetalLB's ReprocessAll); IPs now in a pool of another name stay, under the new name. Everything else
   * (compatibility, avoidBuggyIPs turned on) is checked by the next allocate() of each Service, so the
   * caller must allocate() every Service after setPools.
   */
  setPools(pools: readonly PoolSpec[]): PoolChange {
    this.#poolList = pools;
    this.#pools = new Map(pools.map((p) => [p.name, p]));
    this.#index = new PoolAddressIndex(pools);
    const evicted: { service: ServiceKey; failure: AllocationFailure }[] = [];
    const moved: { service: ServiceKey; from: string; to: string }[] = [];
    for (const [service, held] of [...this.#services].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const owners = held.assignment.ips.map((ip) => this.#index.poolOf(ip));
      const first = owners[0];
      const lost = held.assignment.ips.find((_, i) => owners[i] === undefined);
      if (lost !== undefined || first === undefined) {
        this.release(service);
        evicted.push({ service, failure: { reason: 'ip-not-in-pool', message: `IP ${lost === undefined ? '' : formatIP(lost)} is no longer in any pool` } });
      } else if (owners.some((o) => o !== first)) {
        this.release(service);
        evicted.push({ service, failure: { reason: 'ip-not-in-pool', message: `IPs of ${service} are now in different pools` } });
      } else if (first.name !== held.assignment.pool) {
        moved.push({ service, from: held.assignment.pool, to: first.name });
        held.assignment = { ...held.assignment, pool: first.name };
      }
    }
    // Every IP state follows its (possibly renamed) pool.
    this.#poolIPs.clear();
    for (const [key, st] of this.#ips) {
      const owner = this.#index.poolOf(st.ip);
      if (owner !== undefined) st.pool = owner.name;
      this.#poolSet(st.pool).add(key);
    }
    for (const key of [...this.#cursors.keys()]) {
      if (!this.#pools.has(key.slice(0, key.lastIndexOf('|')))) this.#cursors.delete(key);
    }
    return { evicted, moved };
  }

  // ----------------------------------------------------------------------------------------------
  // Allocation

  /**
   * Converge one Service (metallb.md §3.4 steps 3–8). Idempotent: calling it again with the same request
   * returns the same assignment.
   */
  allocate(req: AllocationRequest): AllocationResult {
    const plan = this.#plan(req);
    const held = this.#services.get(req.service);
    let cleared: AllocationFailure | undefined;
    if (held !== undefined) {
      const kept = this.#keep(req, held, plan);
      if (kept.ok) return kept.value;
      cleared = kept.failure;
      this.release(req.service);
    }
    const fresh = this.#allocateNew(req, plan);
    if (cleared === undefined) return fresh;
    return { ...fresh, cleared };
  }

  /**
   * Accept IPs a Service already carries in its status (MetalLB `Assign`): they must lie in one pool
   * compatible with the Service, pass avoidBuggyIPs and the sharing rules. autoAssign and an Eip's
   * `disable` do not apply (existing assignments are kept). Requested pool/IP changes are not judged
   * here: the allocate() that follows does that.
   */
  restore(req: AllocationRequest, ips: readonly IPAddress[]): AllocationResult {
    const held = this.#services.get(req.service);
    if (held !== undefined && !sameIPs(held.assignment.ips, ips)) this.release(req.service);
    const plan = this.#plan(req);
    if (!plan.ok) return plan;
    const fit = this.#familyFit(req, plan.value, ips, { current: true });
    if (!fit.ok) return fit;
    const checked = this.#checkExplicit(req, ips, { current: true });
    if (!checked.ok) return checked;
    const assignment = this.#commit(req, checked.value, ips, { explicit: req.requestedIPs.length > 0, cursor: false });
    for (const ip of ips) this.#advanceCursorPast(checked.value, ip);
    return { ok: true, assignment };
  }

  /**
   * Rebuild from a whole cluster's status before any allocate() (metallb.md §3.6). The order is fixed
   * (more IPs first, then service key) so the outcome does not depend on the order of `existing`: when two
   * Services claim one IP without being allowed to share, the same one always wins.
   */
  restoreAll(existing: readonly ExistingAssignment[]): ReadonlyMap<ServiceKey, AllocationResult> {
    const sorted = [...existing]
      .filter((e) => e.ips.length > 0)
      .sort((a, b) => b.ips.length - a.ips.length || (a.request.service < b.request.service ? -1 : a.request.service > b.request.service ? 1 : 0));
    const out = new Map<ServiceKey, AllocationResult>();
    for (const e of sorted) out.set(e.request.service, this.restore(e.request, e.ips));
    return out;
  }

  /** Forget a Service's IPs. Returns false when it held none. */
  release(service: ServiceKey): boolean {
    const held = this.#services.get(service);
    if (held === undefined) return false;
    this.#services.delete(service);
    for (const ip of held.assignment.ips) this.#dropIP(service, ip);
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Statistics

  /** MetalLB IPAddressPool.status; undefined for an unknown pool. */
  poolStatus(name: string): IPAddressPoolStatus | undefined {
    const pool = this.#pools.get(name);
    if (pool === undefined) return undefined;
    const assigned = { ipv4: 0n, ipv6: 0n };
    const eligibleInUse = { ipv4: 0n, ipv6: 0n };
    for (const key of this.#poolIPs.get(name) ?? []) {
      const st = this.#ips.get(key);
      if (st === undefined) continue;
      assigned[st.ip.family] += 1n;
      const range = pool.ranges.find((r) => r.family === st.ip.family && r.first <= st.ip.value && st.ip.value <= r.last);
      if (range !== undefined && autoEligible(pool, range, st.ip.value)) eligibleInUse[st.ip.family] += 1n;
    }
    const capacity = { ipv4: 0n, ipv6: 0n };
    let hugeV6 = false;
    for (const r of pool.ranges) {
      capacity[r.family] += rangeAutoCapacity(pool, r);
      if (r.family === 'ipv6' && rangeSize(r) >= HUGE_V6) hugeV6 = true;
    }
    const clamp = (v: bigint): bigint => (v > MAX_INT64 ? MAX_INT64 : v < 0n ? 0n : v);
    return {
      assignedIPv4: assigned.ipv4,
      assignedIPv6: assigned.ipv6,
      availableIPv4: clamp(capacity.ipv4 - eligibleInUse.ipv4),
      availableIPv6: hugeV6 ? MAX_INT64 : clamp(capacity.ipv6 - eligibleInUse.ipv6),
    };
  }

  /** OpenELB Eip.status; undefined for an unknown pool or one without addresses. */
  eipStatus(name: string): EipStatus | undefined {
    const pool = this.#pools.get(name);
    const metal = this.poolStatus(name);
    const firstRange = pool?.ranges[0];
    const lastRange = pool?.ranges[pool.ranges.length - 1];
    if (pool === undefined || metal === undefined || firstRange === undefined || lastRange === undefined) return undefined;
    const used: Record<string, string> = {};
    const keys = [...(this.#poolIPs.get(name) ?? [])]
      .map((k) => this.#ips.get(k))
      .filter((st): st is IPState => st !== undefined)
      .sort((a, b) => (a.ip.family !== b.ip.family ? (a.ip.family === 'ipv4' ? -1 : 1) : a.ip.value < b.ip.value ? -1 : 1));
    for (const st of keys) used[formatIP(st.ip)] = [...st.holders.keys()].sort().join(';');
    let size = 0n;
    for (const r of pool.ranges) size += rangeSize(r);
    return {
      occupied: metal.availableIPv4 + metal.availableIPv6 === 0n,
      usage: keys.length,
      poolSize: size > MAX_INT64 ? MAX_INT64 : size,
      used,
      firstIP: formatIP({ family: firstRange.family, value: firstRange.first }),
      lastIP: formatIP({ family: lastRange.family, value: lastRange.last }),
      v4: firstRange.family === 'ipv4',
      ready: !pool.disabled && pool.ranges.length > 0,
    };
  }

  // ----------------------------------------------------------------------------------------------
  // Internals: planning

  /** metallb.md §2.3 (Service family from cluster IPs), §3.4 step 2; OpenELB: one IP of a listed family. */
  #plan(req: AllocationRequest): Check<FamilyPlan> {
    const [primary, secondary] = req.ipFamilies;
    if (primary === undefined) return failure(FailureReason.NoClusterIP, `service ${req.service} has no cluster IP`);
    if (req.dialect === 'openelb') return { ok: true, value: { kind: 'one-of', families: req.ipFamilies } };
    if (req.ipFamilyPolicy === 'RequireDualStack' && (secondary === undefined || secondary === primary)) {
      return failure(FailureReason.NotEnoughClusterIPs, 'not enough clusterips');
    }
    if (secondary === undefined || secondary === primary || req.ipFamilyPolicy === 'SingleStack') {
      return { ok: true, value: { kind: 'single', family: primary } };
    }
    return { ok: true, value: { kind: req.ipFamilyPolicy === 'RequireDualStack' ? 'both' : 'prefer', primary, secondary } };
  }

  /**
   * Do these IPs fit the Service's families? Requested IPs must equal the Service family (metallb.md §2);
   * current IPs of a PreferDualStack dual Service may be a single one (§3.4 step 3).
   */
  #familyFit(req: AllocationRequest, plan: FamilyPlan, ips: readonly IPAddress[], opts: { readonly current: boolean }): Check<null> {
    const fams = ips.map((ip) => ip.family);
    const text = ips.map(formatIP).join(',');
    if (ips.length === 0 || ips.length > 2 || (ips.length === 2 && fams[0] === fams[1])) {
      return failure(FailureReason.InvalidRequest, `invalid IPs "${text}": at most one IPv4 and one IPv6`);
    }
    const mismatch = failure(FailureReason.FamilyMismatch, `requested loadBalancer IP(s) "${text}" does not match the ipFamily of the service`);
    switch (plan.kind) {
      case 'one-of':
        return ips.length === 1 && fams[0] !== undefined && plan.families.includes(fams[0]) ? { ok: true, value: null } : mismatch;
      case 'single':
        return ips.length === 1 && fams[0] === plan.family ? { ok: true, value: null } : mismatch;
      case 'both':
        return ips.length === 2 ? { ok: true, value: null } : mismatch;
      case 'prefer':
        return ips.length === 2 || opts.current ? { ok: true, value: null } : mismatch;
      default: {
        const never: never = plan;
        return never;
      }
    }
  }

  /**
   * Explicit IPs (requested, or current from status): one pool holds them all, the pool accepts the
   * Service, avoidBuggyIPs, sharing (metallb.md §2.2, §2.5, §2.1; openelb-and-peers.md §2).
   */
  #checkExplicit(req: AllocationRequest, ips: readonly IPAddress[], opts: { readonly current: boolean }): Check<PoolSpec> {
    let pool: PoolSpec | undefined;
    for (const ip of ips) {
      const owner = this.#index.poolOf(ip);
      if (owner === undefined) return failure(FailureReason.IPNotInPool, `${formatIP(ip)} is not allowed in config`);
      if (pool !== undefined && owner !== pool) {
        return failure(FailureReason.InvalidRequest, `IPs ${ips.map(formatIP).join(',')} are in different pools`);
      }
      pool = owner;
      if (!explicitAllowed(owner, ip)) {
        return failure(FailureReason.IPNotAllowed, `${formatIP(ip)} is not allowed in config (pool ${owner.name} avoids .0 and .255)`);
      }
    }
    if (pool === undefined) return failure(FailureReason.InvalidRequest, 'no IPs');
    if (!opts.current && req.requestedPool !== undefined && req.requestedPool !== pool.name) {
      return failure(FailureReason.IPNotInPool, `${ips.map(formatIP).join(',')} is not in pool ${req.requestedPool}`);
    }
    const usable = this.#poolUsable(req, pool, { explicit: true, current: opts.current });
    if (!usable.ok) return usable;
    for (const ip of ips) {
      const share = this.#canShare(req, ip, { explicit: !opts.current || req.requestedIPs.length > 0 });
      if (!share.ok) return share;
    }
    return { ok: true, value: pool };
  }

  /** Compatibility, protocol and `disable` for one pool. */
  #poolUsable(req: AllocationRequest, pool: PoolSpec, opts: { readonly explicit: boolean; readonly current: boolean }): Check<null> {
    if (!compatible(pool, req, { explicit: opts.explicit })) {
      return failure(FailureReason.PoolIncompatible, `pool ${pool.name} not compatible for ip assignment`);
    }
    if (!protocolAllowed(pool, req)) {
      return failure(FailureReason.PoolIncompatible, `pool ${pool.name} has protocol ${pool.protocol ?? ''}, service wants ${req.protocol ?? ''}`);
    }
    if (pool.disabled && !opts.current) return failure(FailureReason.PoolDisabled, `pool ${pool.name} is disabled`);
    return { ok: true, value: null };
  }

  /**
   * metallb.md §2.1: another holder is fine only with the same non-empty sharing key, the same backend key
   * and no common (protocol, port). OpenELB (§2 "Implicit sharing"): a requested IP held only by OpenELB
   * Services that asked for it too is shared without a key; berth still refuses a port clash.
   */
  #canShare(req: AllocationRequest, ip: IPAddress, opts: { readonly explicit: boolean }): Check<null> {
    const st = this.#ips.get(ipKey(ip));
    if (st === undefined) return { ok: true, value: null };
    const others = [...st.holders].filter(([svc]) => svc !== req.service);
    if (others.length === 0) return { ok: true, value: null };
    const text = formatIP(ip);
    const implicit =
      req.dialect === 'openelb' && opts.explicit && others.every(([, h]) => h.dialect === 'openelb' && h.explicit);
    if (!implicit) {
      const key = req.sharingKey ?? '';
      if (key === '' || key !== st.sharingKey) {
        const users = others.map(([s]) => s).sort().join(',');
        return failure(FailureReason.IPInUse, `can't use ${text} for ${req.service}: address also in use by ${users}`);
      }
      if (req.backendKey !== st.backendKey) {
        return failure(FailureReason.BackendMismatch, `can't share ${text}: ${req.service} selects other backends (externalTrafficPolicy Local)`);
      }
    }
    for (const [, h] of others) {
      for (const p of req.ports) {
        if (h.ports.some((q) => q.protocol === p.protocol && q.port === p.port)) {
          return failure(FailureReason.PortConflict, `port ${portText(p)} is already in use on "${text}"`);
        }
      }
    }
    return { ok: true, value: null };
  }

  // ----------------------------------------------------------------------------------------------
  // Internals: keep or re-allocate

  /** §3.4 steps 3–7 for a Service that holds IPs. */
  #keep(req: AllocationRequest, held: Held, plan: Check<FamilyPlan>): Check<AllocationResult> {
    if (!plan.ok) return plan;
    const ips = held.assignment.ips;
    const fit = this.#familyFit(req, plan.value, ips, { current: true });
    if (!fit.ok) return fit;
    if (req.requestedPool !== undefined && req.requestedPool !== held.assignment.pool) {
      return failure(FailureReason.PoolIncompatible, `requested pool ${req.requestedPool} differs from current pool ${held.assignment.pool}`);
    }
    if (req.requestedIPs.length > 0 && !sameIPs(req.requestedIPs, ips)) {
      return failure(FailureReason.InvalidRequest, `requested IPs differ from current ${ips.map(formatIP).join(',')}`);
    }
    const checked = this.#checkExplicit(req, ips, { current: true });
    if (!checked.ok) return checked;
    const pool = checked.value;
    let assignment = this.#commit(req, pool, ips, { explicit: req.requestedIPs.length > 0, cursor: false });
    // §3.4 step 7, §2.3 "later upgrade": add the missing family from the same pool.
    if (plan.value.kind === 'prefer' && ips.length === 1) {
      const have = ips[0]?.family;
      const want = have === plan.value.primary ? plan.value.secondary : plan.value.primary;
      const extra = this.#pick(req, pool, want);
      if (extra === undefined) {
        return {
          ok: true,
          value: {
            ok: true,
            assignment,
            additionalFailed: { reason: FailureReason.NoAvailableIPs, message: `no available ${want} IPs in pool ${pool.name}` },
          },
        };
      }
      const both = want === plan.value.primary ? [extra, ...ips] : [...ips, extra];
      assignment = this.#commit(req, pool, both, { explicit: false, cursor: true });
    }
    return { ok: true, value: { ok: true, assignment } };
  }

  #allocateNew(req: AllocationRequest, plan: Check<FamilyPlan>): AllocationResult {
    if (!plan.ok) return plan;
    if (this.#poolList.length === 0) return failure(FailureReason.NoPools, 'no pools configured');
    // 1. Requested IPs.
    if (req.requestedIPs.length > 0) {
      const fit = this.#familyFit(req, plan.value, req.requestedIPs, { current: false });
      if (!fit.ok) return fit;
      const seen = new Set(req.requestedIPs.map(ipKey));
      if (seen.size !== req.requestedIPs.length) return failure(FailureReason.InvalidRequest, 'requested IPs repeat');
      const checked = this.#checkExplicit(req, req.requestedIPs, { current: false });
      if (!checked.ok) return checked;
      return { ok: true, assignment: this.#commit(req, checked.value, req.requestedIPs, { explicit: true, cursor: false }) };
    }
    // 2. A named pool (autoAssign does not apply, metallb.md §2.4).
    if (req.requestedPool !== undefined) {
      const pool = this.#pools.get(req.requestedPool);
      if (pool === undefined) return failure(FailureReason.PoolNotFound, `pool ${req.requestedPool} does not exist`);
      const usable = this.#poolUsable(req, pool, { explicit: true, current: false });
      if (!usable.ok) return usable;
      const got = this.#chooseFrom(req, [pool], plan.value);
      if (got === undefined) return failure(FailureReason.NoAvailableIPs, `no available IPs in pool ${pool.name}`);
      return { ok: true, assignment: this.#commit(req, got.pool, got.ips, { explicit: false, cursor: true }) };
    }
    // 3. Automatic.
    const tiers = req.dialect === 'metallb' ? this.#metallbTiers(req) : this.#openelbTiers(req);
    if (tiers.length === 0 || tiers.every((t) => t.length === 0)) {
      return req.dialect === 'openelb'
        ? failure(FailureReason.NoDefaultPool, 'no available default eip found')
        : failure(FailureReason.NoAvailableIPs, 'no available IPs');
    }
    for (const tier of tiers) {
      const got = this.#chooseFrom(req, tier, plan.value);
      if (got !== undefined) return { ok: true, assignment: this.#commit(req, got.pool, got.ips, { explicit: false, cursor: true }) };
    }
    return failure(FailureReason.NoAvailableIPs, 'no available IPs');
  }

  /**
   * metallb.md §2.6: pinned pools (with serviceAllocation, compatible), by priority, then fallback pools
   * (no serviceAllocation). Both skip autoAssign=false. Ties: by name, not random.
   */
  #metallbTiers(req: AllocationRequest): readonly (readonly PoolSpec[])[] {
    const auto = this.#poolList.filter((p) => p.autoAssign && this.#poolUsable(req, p, { explicit: false, current: false }).ok);
    const pinned = auto.filter((p) => p.hasServiceAllocation).sort(byPriorityThenName);
    const fallback = auto.filter((p) => !p.hasServiceAllocation).sort(byPriorityThenName);
    return [pinned, fallback];
  }

  /**
   * openelb-and-peers.md §2 "Automatic selection (0.6)": Eips bound to the namespace (namespaces or
   * namespaceSelector), priority ascending, then the default Eip. OpenELB uses only the first bound Eip;
   * berth moves on to the next one, then to the default Eip, when a pool is full.
   */
  #openelbTiers(req: AllocationRequest): readonly (readonly PoolSpec[])[] {
    const usable = this.#poolList.filter((p) => p.dialect === 'openelb' && this.#poolUsable(req, p, { explicit: false, current: false }).ok);
    const bound = usable.filter((p) => p.namespaces.length > 0 || p.namespaceSelectors.length > 0).sort(byPriorityThenName);
    // The default Eip serves every opted-in Service: its namespace binding does not apply.
    const defaults = this.#poolList.filter(
      (p) => p.dialect === 'openelb' && p.isDefault && !bound.includes(p) && this.#poolUsable(req, p, { explicit: true, current: false }).ok,
    );
    return [bound, defaults];
  }

  /** metallb.md §2.3: the pool order applied to the family plan. */
  #chooseFrom(req: AllocationRequest, pools: readonly PoolSpec[], plan: FamilyPlan): { pool: PoolSpec; ips: IPAddress[] } | undefined {
    const one = (pool: PoolSpec, f: Family): { pool: PoolSpec; ips: IPAddress[] } | undefined => {
      const ip = this.#pick(req, pool, f);
      return ip === undefined ? undefined : { pool, ips: [ip] };
    };
    const both = (pool: PoolSpec, a: Family, b: Family): { pool: PoolSpec; ips: IPAddress[] } | undefined => {
      const x = this.#pick(req, pool, a);
      const y = x === undefined ? undefined : this.#pick(req, pool, b);
      return x === undefined || y === undefined ? undefined : { pool, ips: [x, y] };
    };
    const first = <T>(f: (p: PoolSpec) => T | undefined): T | undefined => {
      for (const p of pools) {
        const r = f(p);
        if (r !== undefined) return r;
      }
      return undefined;
    };
    switch (plan.kind) {
      case 'single':
        return first((p) => one(p, plan.family));
      case 'both':
        return first((p) => both(p, plan.primary, plan.secondary));
      case 'prefer':
        return (
          first((p) => both(p, plan.primary, plan.secondary)) ??
          first((p) => one(p, plan.primary)) ??
          first((p) => one(p, plan.secondary))
        );
      case 'one-of':
        return first((p) => {
          for (const f of plan.families) {
            const r = one(p, f);
            if (r !== undefined) return r;
          }
          return undefined;
        });
      default: {
        const never: never = plan;
        return never;
      }
    }
  }

  /**
   * One address of `family` from `pool` for automatic allocation: first an IP that already carries the
   * Service's sharing key and accepts it (lowest first), else the next free eligible address after the
   * pool's cursor (next-fit, wrapping; ranges in spec order).
   */
  #pick(req: AllocationRequest, pool: PoolSpec, family: Family): IPAddress | undefined {
    const key = req.sharingKey ?? '';
    if (key !== '') {
      const candidates = [...(this.#sharing.get(key) ?? [])]
        .map((k) => this.#ips.get(k))
        .filter((st): st is IPState => st !== undefined && st.pool === pool.name && st.ip.family === family)
        .sort((a, b) => (a.ip.value < b.ip.value ? -1 : 1));
      for (const st of candidates) {
        if (this.#canShare(req, st.ip, { explicit: false }).ok && explicitAllowed(pool, st.ip)) return st.ip;
      }
    }
    return this.#nextFree(pool, family);
  }

  #nextFree(pool: PoolSpec, family: Family): IPAddress | undefined {
    const ranges = pool.ranges.filter((r) => r.family === family);
    if (ranges.length === 0) return undefined;
    const used = this.#used[family];
    const cursor = this.#cursors.get(`${pool.name}|${family}`);
    const start = cursor !== undefined && cursor.range < ranges.length ? cursor.range : 0;
    const search = (ri: number, lo: bigint, hi: bigint): bigint | undefined => {
      const range = ranges[ri];
      if (range === undefined) return undefined;
      let at = lo < range.first ? range.first : lo;
      const end = hi > range.last ? range.last : hi;
      while (at <= end) {
        const c = used.nextAbsent(at);
        if (c > end) return undefined;
        if (autoEligible(pool, range, c)) return c;
        at = c + 1n;
      }
      return undefined;
    };
    const startRange = ranges[start];
    if (startRange === undefined) return undefined;
    const from = cursor !== undefined && cursor.range === start ? cursor.next : startRange.first;
    // the rest of the cursor's range, the ranges after it, the ranges before it, the start of its range
    const order: [number, bigint, bigint][] = [[start, from, startRange.last]];
    for (let i = start + 1; i < ranges.length; i++) order.push([i, -1n, 1n << 128n]);
    for (let i = 0; i < start; i++) order.push([i, -1n, 1n << 128n]);
    order.push([start, startRange.first, from - 1n]);
    for (const [ri, lo, hi] of order) {
      const v = search(ri, lo, hi);
      if (v !== undefined) return { family, value: v };
    }
    return undefined;
  }

  /** Move the cursor past an address taken automatically (or restored). Never moves it backwards. */
  #advanceCursorPast(pool: PoolSpec, ip: IPAddress): void {
    const ranges = pool.ranges.filter((r) => r.family === ip.family);
    const ri = ranges.findIndex((r) => r.first <= ip.value && ip.value <= r.last);
    if (ri < 0) return;
    const key = `${pool.name}|${ip.family}`;
    const cur = this.#cursors.get(key);
    if (cur !== undefined && (cur.range > ri || (cur.range === ri && cur.next > ip.value))) return;
    this.#cursors.set(key, { range: ri, next: ip.value + 1n });
  }

  #setCursorAfter(pool: PoolSpec, ip: IPAddress): void {
    const ranges = pool.ranges.filter((r) => r.family === ip.family);
    const ri = ranges.findIndex((r) => r.first <= ip.value && ip.value <= r.last);
    if (ri >= 0) this.#cursors.set(`${pool.name}|${ip.family}`, { range: ri, next: ip.value + 1n });
  }

  #poolSet(name: string): Set<string> {
    let set = this.#poolIPs.get(name);
    if (set === undefined) {
      set = new Set();
      this.#poolIPs.set(name, set);
    }
    return set;
  }

  /** Drop one IP from a Service's holding; free the address when nobody else holds it. */
  #dropIP(service: ServiceKey, ip: IPAddress): void {
    const key = ipKey(ip);
    const st = this.#ips.get(key);
    if (st === undefined) return;
    st.holders.delete(service);
    if (st.holders.size > 0) return;
    this.#ips.delete(key);
    this.#used[ip.family].delete(ip.value);
    this.#poolIPs.get(st.pool)?.delete(key);
    if (st.sharingKey !== '') {
      const set = this.#sharing.get(st.sharingKey);
      set?.delete(key);
      if (set?.size === 0) this.#sharing.delete(st.sharingKey);
    }
  }

  /**
   * Record `ips` as the Service's assignment: IPs it held and no longer lists are dropped, the others get
   * the request's sharing key, backend key and ports. `cursor`: the IPs were picked by next-fit.
   */
  #commit(
    req: AllocationRequest,
    pool: PoolSpec,
    ips: readonly IPAddress[],
    opts: { readonly explicit: boolean; readonly cursor: boolean },
  ): Assignment {
    const prev = this.#services.get(req.service);
    const keep = new Set(ips.map(ipKey));
    for (const old of prev?.assignment.ips ?? []) if (!keep.has(ipKey(old))) this.#dropIP(req.service, old);
    const key = req.sharingKey ?? '';
    for (const ip of ips) {
      const k = ipKey(ip);
      let st = this.#ips.get(k);
      if (st === undefined) {
        st = { ip, pool: pool.name, sharingKey: key, backendKey: req.backendKey, holders: new Map() };
        this.#ips.set(k, st);
        this.#used[ip.family].add(ip.value);
        this.#poolSet(pool.name).add(k);
        if (opts.cursor) this.#setCursorAfter(pool, ip);
      }
      const others = [...st.holders.keys()].some((s) => s !== req.service);
      if (!others && st.sharingKey !== key) {
        // A sole holder may change its own sharing key in place (metallb.md §2.1).
        if (st.sharingKey !== '') this.#sharing.get(st.sharingKey)?.delete(k);
        st.sharingKey = key;
      }
      if (!others) st.backendKey = req.backendKey;
      if (st.sharingKey !== '') {
        let set = this.#sharing.get(st.sharingKey);
        if (set === undefined) {
          set = new Set();
          this.#sharing.set(st.sharingKey, set);
        }
        set.add(k);
      }
      const wasExplicit = st.holders.get(req.service)?.explicit ?? false;
      st.holders.set(req.service, { ports: req.ports, dialect: req.dialect, explicit: opts.explicit || wasExplicit });
    }
    const assignment: Assignment = { service: req.service, pool: pool.name, ips: [...ips] };
    this.#services.set(req.service, { request: req, assignment });
    return assignment;
  }
}
