// The IP allocator: which pool and which address a LoadBalancer Service gets, with MetalLB's and
// OpenELB's rules. Pure: no I/O, no clock, no randomness; the same calls give the same answers.
//
// State (all in memory, grows with allocations, never with pool size):
//   used[family]   IntervalSet of addresses in use       -> free-address search without scanning
//   ips[family]    address -> {pool, sharing key, backend key, holders [service, ports, dialect]}
//   services       service -> assignment {service, pool, ips}
//   sharing        sharing key -> ips carrying it         -> sharers find each other without scanning
//   pools          name -> {spec, ranges per family, next-fit cursor per family, IPs in use}
//                  (the cursor makes a freed address wait a full lap)
//
// Entry points:
//   allocate(req)        converge one Service (MetalLB controller/service.go convergeBalancer): keep its IPs when still valid, clear and
//                        re-allocate when not; requested IPs, else named pool, else automatic (MetalLB internal/allocator Allocate)
//   restore(req, ips)    accept IPs read from Service status (MetalLB `Assign`); restoreAll() for a
//                        whole cluster, replayed before any allocate() (restart safety, MetalLB controller/service.go convergeBalancer)
//   release(service)     the Service is gone or no longer a LoadBalancer
//   setPools(pools)      configuration change (MetalLB internal/allocator SetPools)
//   poolStatus / eipStatus   IPAddressPool.status and Eip.status
import type {
  AddressRange,
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
import { formatIP } from './address.ts';
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

/** MetalLB internal/allocator poolCount: an IPv6 range of 2^62 addresses or more counts as MaxInt64. */
const HUGE_V6 = 1n << 62n;

interface Holder {
  readonly service: ServiceKey;
  /** allow-shared-ip value ("" = none) and backend key of this holder: sharing is judged per holder. */
  readonly sharingKey: string;
  readonly backendKey: string;
  readonly ports: readonly ServicePort[];
  readonly dialect: Dialect;
}

interface IPState {
  readonly ip: IPAddress;
  pool: PoolState;
  /** The key every holder shares ("" when none or mixed): only indexes the IP under #sharing. */
  sharingKey: string;
  /** One holder (the common case, stored without an array) or several when shared; empty only inside #commit. */
  holders: Holder | readonly Holder[];
  /** Counted in the pool's eligibleInUse (automatic allocation could have handed it out). */
  eligible: boolean;
}

interface Cursor {
  /** Index into the pool's ranges of that family (spec order). */
  readonly range: number;
  /** Next address to try in that range. */
  readonly next: bigint;
}

/** A configured pool and what the allocator keeps about it. */
interface PoolState {
  readonly spec: PoolSpec;
  /** The spec's ranges split by family, spec order kept. */
  readonly ranges: Readonly<Record<Family, readonly AddressRange[]>>;
  readonly cursor: Record<Family, Cursor | undefined>;
  /** Distinct IPs in use, and how many of them automatic allocation could have handed out. */
  readonly inUse: Record<Family, number>;
  readonly eligibleInUse: Record<Family, number>;
}

function holdersOf(st: IPState): readonly Holder[] {
  return Array.isArray(st.holders) ? st.holders : [st.holders as Holder];
}

function poolState(spec: PoolSpec, previous: PoolState | undefined): PoolState {
  return {
    spec,
    ranges: { ipv4: spec.ranges.filter((r) => r.family === 'ipv4'), ipv6: spec.ranges.filter((r) => r.family === 'ipv6') },
    // next-fit continues where it was for a pool that stays
    cursor: { ipv4: previous?.cursor.ipv4, ipv6: previous?.cursor.ipv6 },
    inUse: { ipv4: 0, ipv6: 0 },
    eligibleInUse: { ipv4: 0, ipv6: 0 },
  };
}

/** How the Service's families are to be served (MetalLB internal/allocator/allocator.go findBestPoolForService; OpenELB: one IP). */
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
  return a.every((x) => b.some((y) => x.family === y.family && x.value === y.value));
}

const OK: { readonly ok: true; readonly value: null } = { ok: true, value: null };

const SINGLE: Readonly<Record<Family, { readonly ok: true; readonly value: FamilyPlan }>> = {
  ipv4: { ok: true, value: { kind: 'single', family: 'ipv4' } },
  ipv6: { ok: true, value: { kind: 'single', family: 'ipv6' } },
};

/** Failures caused by another Service holding the IP (the only ones that depend on replay order). */
const CONFLICTS: ReadonlySet<FailureReason> = new Set([FailureReason.IPInUse, FailureReason.BackendMismatch, FailureReason.PortConflict]);

function byPriority(a: PoolState, b: PoolState): number {
  return byPriorityThenName(a.spec, b.spec);
}

function ipsText(ips: readonly IPAddress[]): string {
  return ips.map(formatIP).join(',');
}

function portText(p: ServicePort): string {
  return `${p.protocol}/${p.port}`;
}

export class Allocator {
  #pools = new Map<string, PoolState>();
  #poolList: readonly PoolState[] = [];
  /** MetalLB automatic order (MetalLB internal/allocator/allocator.go isPoolCompatibleWithService): autoAssign pools with / without serviceAllocation, by priority. */
  #pinned: readonly PoolState[] = [];
  #fallback: readonly PoolState[] = [];
  #index = new PoolAddressIndex<PoolState>([]);
  readonly #used: Record<Family, IntervalSet> = { ipv4: new IntervalSet(), ipv6: new IntervalSet() };
  readonly #ips: Record<Family, Map<bigint, IPState>> = { ipv4: new Map(), ipv6: new Map() };
  readonly #services = new Map<ServiceKey, Assignment>();
  readonly #sharing = new Map<string, Set<IPState>>();

  constructor(pools: readonly PoolSpec[]) {
    this.setPools(pools);
  }

  // ----------------------------------------------------------------------------------------------
  // Queries

  assignmentOf(service: ServiceKey): Assignment | undefined {
    return this.#services.get(service);
  }

  /** Services holding an IP, sorted. */
  servicesOn(ip: IPAddress): readonly ServiceKey[] {
    const st = this.#ips[ip.family].get(ip.value);
    return st === undefined ? [] : holdersOf(st).map((h) => h.service).sort();
  }

  /** All current assignments, sorted by service key. */
  assignments(): readonly Assignment[] {
    return [...this.#services.values()].sort((a, b) => (a.service < b.service ? -1 : 1));
  }

  // ----------------------------------------------------------------------------------------------
  // Configuration

  /**
   * Replace the pools (MetalLB internal/allocator/allocator.go SetPools). Each assignment's pool is recomputed from its IPs: IPs that left
   * every pool (or now sit in two different pools) unassign the Service, which the caller re-allocates
   * (MetalLB's ReprocessAll); IPs now in a pool of another name stay, under the new name. Everything else
   * (compatibility, avoidBuggyIPs turned on) is checked by the next allocate() of each Service, so the
   * caller must allocate() every Service after setPools. A pool that keeps its name keeps its next-fit
   * cursor.
   */
  setPools(pools: readonly PoolSpec[]): PoolChange {
    const old = this.#pools;
    this.#poolList = pools.map((p) => poolState(p, old.get(p.name)));
    this.#pools = new Map(this.#poolList.map((p) => [p.spec.name, p]));
    this.#pinned = this.#poolList.filter((p) => p.spec.autoAssign && p.spec.hasServiceAllocation).sort(byPriority);
    this.#fallback = this.#poolList.filter((p) => p.spec.autoAssign && !p.spec.hasServiceAllocation).sort(byPriority);
    this.#index = new PoolAddressIndex(this.#poolList.map((p) => ({ spec: p.spec, owner: p })));
    const evicted: { service: ServiceKey; failure: AllocationFailure }[] = [];
    const moved: { service: ServiceKey; from: string; to: string }[] = [];
    for (const [service, held] of [...this.#services].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const owners = held.ips.map((ip) => this.#index.poolOf(ip));
      const first = owners[0];
      const lost = held.ips.find((_, i) => owners[i] === undefined);
      if (lost !== undefined || first === undefined) {
        this.release(service);
        const text = lost === undefined ? '' : formatIP(lost);
        evicted.push({ service, failure: { reason: FailureReason.IPNotInPool, message: `IP ${text} is no longer in any pool` } });
      } else if (owners.some((o) => o !== first)) {
        this.release(service);
        evicted.push({ service, failure: { reason: FailureReason.IPNotInPool, message: `IPs of ${service} are now in different pools` } });
      } else if (first.spec.name !== held.pool) {
        moved.push({ service, from: held.pool, to: first.spec.name });
        this.#services.set(service, { ...held, pool: first.spec.name });
      }
    }
    // Every IP state follows its (possibly renamed) pool.
    for (const fam of ['ipv4', 'ipv6'] as const) {
      for (const st of this.#ips[fam].values()) {
        const owner = this.#index.poolOf(st.ip);
        if (owner === undefined) continue; // unreachable: Services holding such IPs were released above
        st.pool = owner;
        this.#count(st, 1);
      }
    }
    return { evicted, moved };
  }

  // ----------------------------------------------------------------------------------------------
  // Allocation

  /**
   * Converge one Service (MetalLB controller/service.go convergeBalancer). Idempotent: calling it again with the same request
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
   * here: the allocate() that follows does that. The pool's cursor moves past the restored IPs, so new
   * allocations continue after them.
   */
  restore(req: AllocationRequest, ips: readonly IPAddress[]): AllocationResult {
    const held = this.#services.get(req.service);
    if (held !== undefined && !sameIPs(held.ips, ips)) this.release(req.service);
    const plan = this.#plan(req);
    if (!plan.ok) return plan;
    const fit = this.#familyFit(req, plan.value, ips, { current: true });
    if (!fit.ok) return fit;
    const checked = this.#checkExplicit(req, ips, { current: true });
    if (!checked.ok) return checked;
    const assignment = this.#commit(req, checked.value, ips, { cursor: false });
    for (const ip of ips) this.#advanceCursorPast(checked.value, ip);
    return { ok: true, assignment };
  }

  /**
   * Rebuild from a whole cluster's status before any allocate() (MetalLB controller/service.go convergeBalancer, which restores IPs from Service status). One entry per Service.
   * The outcome does not depend on the order of `existing`. Entries are replayed as they come; if some
   * failed because another entry already held their IP (two Services claiming one IP without being
   * allowed to share), every entry claiming such an IP is released and replayed again in a fixed order
   * (more IPs first, as MetalLB, then service key), so the same one always wins. Without conflicts (the
   * normal case) nothing is sorted, which keeps a 100k rebuild cheap.
   */
  restoreAll(existing: readonly ExistingAssignment[]): ReadonlyMap<ServiceKey, AllocationResult> {
    const out = new Map<ServiceKey, AllocationResult>();
    const disputed: Record<Family, Set<bigint>> = { ipv4: new Set(), ipv6: new Set() };
    let conflicts = false;
    for (const e of existing) {
      if (e.ips.length === 0) continue;
      const r = this.restore(e.request, e.ips);
      out.set(e.request.service, r);
      if (r.ok || !CONFLICTS.has(r.failure.reason)) continue;
      for (const ip of e.ips) {
        if (this.#ips[ip.family].has(ip.value)) {
          disputed[ip.family].add(ip.value);
          conflicts = true;
        }
      }
    }
    if (!conflicts) return out;
    const contested = existing.filter((e) => e.ips.some((ip) => disputed[ip.family].has(ip.value)));
    for (const e of contested) this.release(e.request.service);
    contested.sort((a, b) => b.ips.length - a.ips.length || (a.request.service < b.request.service ? -1 : a.request.service > b.request.service ? 1 : 0));
    for (const e of contested) out.set(e.request.service, this.restore(e.request, e.ips));
    return out;
  }

  /** Forget a Service's IPs. Returns false when it held none. */
  release(service: ServiceKey): boolean {
    const held = this.#services.get(service);
    if (held === undefined) return false;
    this.#services.delete(service);
    for (const ip of held.ips) this.#dropIP(service, ip);
    return true;
  }

  // ----------------------------------------------------------------------------------------------
  // Statistics

  /** MetalLB IPAddressPool.status; undefined for an unknown pool. Constant time (counters). */
  poolStatus(name: string): IPAddressPoolStatus | undefined {
    const state = this.#pools.get(name);
    if (state === undefined) return undefined;
    const pool = state.spec;
    const assigned = { ipv4: BigInt(state.inUse.ipv4), ipv6: BigInt(state.inUse.ipv6) };
    const eligibleInUse = { ipv4: BigInt(state.eligibleInUse.ipv4), ipv6: BigInt(state.eligibleInUse.ipv6) };
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

  /** OpenELB Eip.status; undefined for an unknown pool or one without addresses. Cost: all IPs in use. */
  eipStatus(name: string): EipStatus | undefined {
    const state = this.#pools.get(name);
    const metal = this.poolStatus(name);
    const pool = state?.spec;
    const firstRange = pool?.ranges[0];
    const lastRange = pool?.ranges[pool.ranges.length - 1];
    if (state === undefined || pool === undefined || metal === undefined || firstRange === undefined || lastRange === undefined) return undefined;
    const used: Record<string, string> = {};
    const mine = [...this.#ips.ipv4.values(), ...this.#ips.ipv6.values()].filter((st) => st.pool === state);
    const sorted = mine.sort((a, b) =>
      a.ip.family !== b.ip.family ? (a.ip.family === 'ipv4' ? -1 : 1) : a.ip.value < b.ip.value ? -1 : 1,
    );
    for (const st of sorted) used[formatIP(st.ip)] = holdersOf(st).map((h) => h.service).sort().join(';');
    let size = 0n;
    for (const r of pool.ranges) size += rangeSize(r);
    return {
      occupied: metal.availableIPv4 + metal.availableIPv6 === 0n,
      usage: sorted.length,
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

  /** MetalLB internal/allocator/allocator.go findBestPoolForService (Service family from cluster IPs), controller/service.go convergeBalancer; OpenELB: one IP of a listed family. */
  #plan(req: AllocationRequest): Check<FamilyPlan> {
    const [primary, secondary] = req.ipFamilies;
    if (primary === undefined) return failure(FailureReason.NoClusterIP, `service ${req.service} has no cluster IP`);
    if (req.dialect === 'openelb') return { ok: true, value: { kind: 'one-of', families: req.ipFamilies } };
    if (req.ipFamilyPolicy === 'RequireDualStack' && (secondary === undefined || secondary === primary)) {
      return failure(FailureReason.NotEnoughClusterIPs, 'not enough clusterips');
    }
    if (secondary === undefined || secondary === primary || req.ipFamilyPolicy === 'SingleStack') return SINGLE[primary];
    return { ok: true, value: { kind: req.ipFamilyPolicy === 'RequireDualStack' ? 'both' : 'prefer', primary, secondary } };
  }

  /**
   * Do these IPs fit the Service's families? Requested IPs must equal the Service family (MetalLB docs, Usage: Service annotations);
   * current IPs of a PreferDualStack dual Service may be a single one (Kubernetes ipFamilyPolicy PreferDualStack).
   */
  #familyFit(req: AllocationRequest, plan: FamilyPlan, ips: readonly IPAddress[], opts: { readonly current: boolean }): Check<null> {
    const [x, y] = ips;
    if (x === undefined || ips.length > 2 || (y !== undefined && x.family === y.family)) {
      return failure(FailureReason.InvalidRequest, `invalid IPs "${ipsText(ips)}": at most one IPv4 and one IPv6`);
    }
    let fits: boolean;
    switch (plan.kind) {
      case 'one-of':
        fits = y === undefined && plan.families.includes(x.family);
        break;
      case 'single':
        fits = y === undefined && x.family === plan.family;
        break;
      case 'both':
        fits = y !== undefined;
        break;
      case 'prefer':
        fits = y !== undefined || opts.current;
        break;
      default: {
        const never: never = plan;
        return never;
      }
    }
    if (fits) return OK;
    return failure(FailureReason.FamilyMismatch, `requested loadBalancer IP(s) "${ipsText(ips)}" does not match the ipFamily of the service ${req.service}`);
  }

  /**
   * Explicit IPs (requested, or current from status): one pool holds them all, the pool accepts the
   * Service, avoidBuggyIPs, sharing (MetalLB controller/service.go allocateIPs; IPAddressPool avoidBuggyIPs; internal/allocator/allocator.go checkSharing; OpenELB docs and pkg/controllers/lb (Service annotations)).
   */
  #checkExplicit(req: AllocationRequest, ips: readonly IPAddress[], opts: { readonly current: boolean }): Check<PoolState> {
    let pool: PoolState | undefined;
    for (const ip of ips) {
      const owner = this.#index.poolOf(ip);
      if (owner === undefined) return failure(FailureReason.IPNotInPool, `${formatIP(ip)} is not allowed in config`);
      if (pool !== undefined && owner !== pool) {
        return failure(FailureReason.InvalidRequest, `IPs ${ipsText(ips)} are in different pools`);
      }
      pool = owner;
      if (!explicitAllowed(owner.spec, ip)) {
        return failure(FailureReason.IPNotAllowed, `${formatIP(ip)} is not allowed in config (pool ${owner.spec.name} avoids .0 and .255)`);
      }
    }
    if (pool === undefined) return failure(FailureReason.InvalidRequest, 'no IPs');
    if (!opts.current && req.requestedPool !== undefined && req.requestedPool !== pool.spec.name) {
      return failure(FailureReason.IPNotInPool, `${ipsText(ips)} is not in pool ${req.requestedPool}`);
    }
    const usable = this.#poolUsable(req, pool.spec, { explicit: true, current: opts.current });
    if (!usable.ok) return usable;
    for (const ip of ips) {
      const share = this.#canShare(req, ip, { implicit: true });
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
    return OK;
  }

  /**
   * MetalLB internal/allocator/allocator.go checkSharing: another holder is fine only with the same non-empty sharing key, the same backend key
   * and no common (protocol, port). OpenELB (pkg/controllers/lb, implicit sharing): an IP that an OpenELB Service asks
   * for (or already carries in status) and that only OpenELB Services hold is shared without a key;
   * automatic allocation never shares that way (`implicit: false`). berth still refuses a port clash.
   * Status does not say who asked for an IP, so the rule cannot depend on it: a restart must reproduce it.
   */
  #canShare(req: AllocationRequest, ip: IPAddress, opts: { readonly implicit: boolean }): Check<null> {
    const st = this.#ips[ip.family].get(ip.value);
    if (st === undefined) return OK;
    const others = holdersOf(st).filter((h) => h.service !== req.service);
    if (others.length === 0) return OK;
    const implicit = opts.implicit && req.dialect === 'openelb' && others.every((h) => h.dialect === 'openelb');
    if (!implicit) {
      const key = req.sharingKey ?? '';
      if (key === '' || others.some((h) => h.sharingKey !== key)) {
        const users = others.map((h) => h.service).sort().join(',');
        return failure(FailureReason.IPInUse, `can't use ${formatIP(ip)} for ${req.service}: address also in use by ${users}`);
      }
      if (others.some((h) => h.backendKey !== req.backendKey)) {
        return failure(FailureReason.BackendMismatch, `can't share ${formatIP(ip)}: ${req.service} selects other backends (externalTrafficPolicy Local)`);
      }
    }
    for (const h of others) {
      for (const p of req.ports) {
        if (h.ports.some((q) => q.protocol === p.protocol && q.port === p.port)) {
          return failure(FailureReason.PortConflict, `port ${portText(p)} is already in use on "${formatIP(ip)}"`);
        }
      }
    }
    return OK;
  }

  // ----------------------------------------------------------------------------------------------
  // Internals: keep or re-allocate

  /** §3.4 steps 3–7 for a Service that holds IPs. */
  #keep(req: AllocationRequest, held: Assignment, plan: Check<FamilyPlan>): Check<AllocationResult> {
    if (!plan.ok) return plan;
    const ips = held.ips;
    const fit = this.#familyFit(req, plan.value, ips, { current: true });
    if (!fit.ok) return fit;
    if (req.requestedPool !== undefined && req.requestedPool !== held.pool) {
      return failure(FailureReason.PoolIncompatible, `requested pool ${req.requestedPool} differs from current pool ${held.pool}`);
    }
    if (req.requestedIPs.length > 0 && !sameIPs(req.requestedIPs, ips)) {
      return failure(FailureReason.InvalidRequest, `requested IPs differ from current ${ipsText(ips)}`);
    }
    const checked = this.#checkExplicit(req, ips, { current: true });
    if (!checked.ok) return checked;
    const pool = checked.value;
    let assignment = this.#commit(req, pool, ips, { cursor: false });
    // §3.4 step 7, §2.3 "later upgrade": add the missing family from the same pool.
    const have = ips[0];
    if (plan.value.kind === 'prefer' && ips.length === 1 && have !== undefined) {
      const want = have.family === plan.value.primary ? plan.value.secondary : plan.value.primary;
      const extra = this.#pick(req, pool, want);
      if (extra === undefined) {
        const additionalFailed = { reason: FailureReason.NoAvailableIPs, message: `no available ${want} IPs in pool ${pool.spec.name}` };
        return { ok: true, value: { ok: true, assignment, additionalFailed } };
      }
      const both = want === plan.value.primary ? [extra, have] : [have, extra];
      assignment = this.#commit(req, pool, both, { cursor: true });
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
      const checked = this.#checkExplicit(req, req.requestedIPs, { current: false });
      if (!checked.ok) return checked;
      return { ok: true, assignment: this.#commit(req, checked.value, req.requestedIPs, { cursor: false }) };
    }
    // 2. A named pool (autoAssign does not apply, MetalLB IPAddressPool autoAssign).
    if (req.requestedPool !== undefined) {
      const pool = this.#pools.get(req.requestedPool);
      if (pool === undefined) return failure(FailureReason.PoolNotFound, `pool ${req.requestedPool} does not exist`);
      const usable = this.#poolUsable(req, pool.spec, { explicit: true, current: false });
      if (!usable.ok) return usable;
      const got = this.#chooseFrom(req, [pool], plan.value);
      if (got === undefined) return failure(FailureReason.NoAvailableIPs, `no available IPs in pool ${pool.spec.name}`);
      return { ok: true, assignment: this.#commit(req, got.pool, got.ips, { cursor: true }) };
    }
    // 3. Automatic.
    const tiers = req.dialect === 'metallb' ? this.#metallbTiers(req) : this.#openelbTiers(req);
    if (tiers[0]?.length === 0 && tiers[1]?.length === 0) {
      return req.dialect === 'openelb'
        ? failure(FailureReason.NoDefaultPool, 'no available default eip found')
        : failure(FailureReason.NoAvailableIPs, 'no available IPs');
    }
    for (const tier of tiers) {
      const got = this.#chooseFrom(req, tier, plan.value);
      if (got !== undefined) return { ok: true, assignment: this.#commit(req, got.pool, got.ips, { cursor: true }) };
    }
    return failure(FailureReason.NoAvailableIPs, 'no available IPs');
  }

  /**
   * MetalLB internal/allocator/allocator.go isPoolCompatibleWithService: pinned pools (with serviceAllocation, compatible), by priority, then fallback pools
   * (no serviceAllocation). Both skip autoAssign=false. Ties: by name, not random.
   */
  #metallbTiers(req: AllocationRequest): readonly (readonly PoolState[])[] {
    const pinned: PoolState[] = [];
    const fallback: PoolState[] = [];
    // plain loops: this runs once per allocation, and a closure per call costs more than the filtering
    for (const p of this.#pinned) if (this.#usableForAuto(req, p.spec)) pinned.push(p);
    for (const p of this.#fallback) if (this.#usableForAuto(req, p.spec)) fallback.push(p);
    return [pinned, fallback];
  }

  /** #poolUsable for automatic allocation, without building a failure. */
  #usableForAuto(req: AllocationRequest, pool: PoolSpec): boolean {
    return !pool.disabled && protocolAllowed(pool, req) && compatible(pool, req, { explicit: false });
  }

  /**
   * OpenELB docs and pkg/controllers/lb (Service annotations) "Automatic selection (0.6)": Eips bound to the namespace (namespaces or
   * namespaceSelector), priority ascending, then the default Eip. OpenELB uses only the first bound Eip;
   * berth moves on to the next one, then to the default Eip, when a pool is full.
   */
  #openelbTiers(req: AllocationRequest): readonly (readonly PoolState[])[] {
    const eips = this.#poolList.filter((p) => p.spec.dialect === 'openelb');
    const bound = eips
      .filter((p) => p.spec.namespaces.length > 0 || p.spec.namespaceSelectors.length > 0)
      .filter((p) => this.#poolUsable(req, p.spec, { explicit: false, current: false }).ok)
      .sort(byPriority);
    // The default Eip serves every opted-in Service: its namespace binding does not apply.
    const defaults = eips.filter((p) => p.spec.isDefault && !bound.includes(p) && this.#poolUsable(req, p.spec, { explicit: true, current: false }).ok);
    return [bound, defaults];
  }

  /** MetalLB internal/allocator/allocator.go findBestPoolForService: the pool order applied to the family plan. Loops, no closures: this is the hot path. */
  #chooseFrom(req: AllocationRequest, pools: readonly PoolState[], plan: FamilyPlan): { pool: PoolState; ips: IPAddress[] } | undefined {
    switch (plan.kind) {
      case 'single':
        for (const pool of pools) {
          const x = this.#pick(req, pool, plan.family);
          if (x !== undefined) return { pool, ips: [x] };
        }
        return undefined;
      case 'both':
      case 'prefer':
        for (const pool of pools) {
          const x = this.#pick(req, pool, plan.primary);
          const y = x === undefined ? undefined : this.#pick(req, pool, plan.secondary);
          if (x !== undefined && y !== undefined) return { pool, ips: [x, y] };
        }
        if (plan.kind === 'both') return undefined;
        for (const family of [plan.primary, plan.secondary]) {
          for (const pool of pools) {
            const x = this.#pick(req, pool, family);
            if (x !== undefined) return { pool, ips: [x] };
          }
        }
        return undefined;
      case 'one-of':
        for (const pool of pools) {
          for (const family of plan.families) {
            const x = this.#pick(req, pool, family);
            if (x !== undefined) return { pool, ips: [x] };
          }
        }
        return undefined;
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
  #pick(req: AllocationRequest, pool: PoolState, family: Family): IPAddress | undefined {
    const key = req.sharingKey ?? '';
    if (key !== '') {
      const candidates = [...(this.#sharing.get(key) ?? [])]
        .filter((st) => st.pool === pool && st.ip.family === family)
        .sort((a, b) => (a.ip.value < b.ip.value ? -1 : 1));
      for (const st of candidates) {
        if (explicitAllowed(pool.spec, st.ip) && this.#canShare(req, st.ip, { implicit: false }).ok) return st.ip;
      }
    }
    const v = this.#nextFree(pool, family);
    return v === undefined ? undefined : { family, value: v };
  }

  /**
   * Next-fit: from the cursor to the end of its range, the ranges after it, the ranges before it, then
   * the start of its own range. Each step is one IntervalSet lookup that jumps a whole run of used
   * addresses; only ineligible free addresses (reserved, buggy) are stepped over one at a time.
   */
  #nextFree(pool: PoolState, family: Family): bigint | undefined {
    const ranges = pool.ranges[family];
    const n = ranges.length;
    if (n === 0) return undefined;
    const cursor = pool.cursor[family];
    const start = cursor !== undefined && cursor.range < n ? cursor.range : 0;
    const startRange = ranges[start];
    if (startRange === undefined) return undefined;
    const from = cursor !== undefined && cursor.range === start ? cursor.next : startRange.first;
    const found = this.#searchRange(pool.spec, startRange, from, startRange.last);
    if (found !== undefined) return found;
    for (let i = 1; i < n; i++) {
      const r = ranges[(start + i) % n];
      const v = r === undefined ? undefined : this.#searchRange(pool.spec, r, r.first, r.last);
      if (v !== undefined) return v;
    }
    return this.#searchRange(pool.spec, startRange, startRange.first, from - 1n);
  }

  #searchRange(spec: PoolSpec, range: AddressRange, lo: bigint, hi: bigint): bigint | undefined {
    const used = this.#used[range.family];
    let at = lo < range.first ? range.first : lo;
    const end = hi > range.last ? range.last : hi;
    while (at <= end) {
      const c = used.nextAbsent(at);
      if (c > end) return undefined;
      if (autoEligible(spec, range, c)) return c;
      at = c + 1n;
    }
    return undefined;
  }

  /** Position of an address in the pool's ranges of its family. */
  #rangeIndex(pool: PoolState, ip: IPAddress): number {
    const ranges = pool.ranges[ip.family];
    for (let i = 0; i < ranges.length; i++) {
      const r = ranges[i];
      if (r !== undefined && r.first <= ip.value && ip.value <= r.last) return i;
    }
    return -1;
  }

  /** Move the cursor past a restored address. Never moves it backwards, so replay order does not matter. */
  #advanceCursorPast(pool: PoolState, ip: IPAddress): void {
    const ri = this.#rangeIndex(pool, ip);
    if (ri < 0) return;
    const cur = pool.cursor[ip.family];
    if (cur !== undefined && (cur.range > ri || (cur.range === ri && cur.next > ip.value))) return;
    pool.cursor[ip.family] = { range: ri, next: ip.value + 1n };
  }

  /** Drop one IP from a Service's holding; free the address when nobody else holds it. */
  #dropIP(service: ServiceKey, ip: IPAddress): void {
    const map = this.#ips[ip.family];
    const st = map.get(ip.value);
    if (st === undefined) return;
    const rest = holdersOf(st).filter((h) => h.service !== service);
    const [only] = rest;
    if (only !== undefined) {
      st.holders = rest.length === 1 ? only : rest;
      this.#refreshKey(st);
      return;
    }
    map.delete(ip.value);
    this.#used[ip.family].delete(ip.value);
    this.#count(st, -1);
    if (st.sharingKey !== '') {
      const set = this.#sharing.get(st.sharingKey);
      set?.delete(st);
      if (set?.size === 0) this.#sharing.delete(st.sharingKey);
    }
  }

  /**
   * Record `ips` as the Service's assignment: IPs it held and no longer lists are dropped, the others get
   * the request's sharing key, backend key and ports. `cursor`: the IPs were picked by next-fit.
   */
  #commit(req: AllocationRequest, pool: PoolState, ips: readonly IPAddress[], opts: { readonly cursor: boolean }): Assignment {
    const prev = this.#services.get(req.service);
    for (const old of prev?.ips ?? []) {
      if (!ips.some((x) => x.family === old.family && x.value === old.value)) this.#dropIP(req.service, old);
    }
    const key = req.sharingKey ?? '';
    for (const ip of ips) {
      const map = this.#ips[ip.family];
      const st = map.get(ip.value);
      if (st === undefined) {
        // a fresh address: the common case, kept short
        const holder: Holder = { service: req.service, sharingKey: key, backendKey: req.backendKey, ports: req.ports, dialect: req.dialect };
        const fresh: IPState = { ip, pool, sharingKey: key, holders: holder, eligible: false };
        map.set(ip.value, fresh);
        this.#used[ip.family].add(ip.value);
        this.#count(fresh, 1);
        if (opts.cursor) {
          const ri = this.#rangeIndex(pool, ip);
          if (ri >= 0) pool.cursor[ip.family] = { range: ri, next: ip.value + 1n };
        }
        if (key !== '') this.#shareIndex(fresh);
        continue;
      }
      const current = holdersOf(st);
      const mine = current.find((h) => h.service === req.service);
      const holder: Holder = { service: req.service, sharingKey: key, backendKey: req.backendKey, ports: req.ports, dialect: req.dialect };
      const next = mine === undefined ? [...current, holder] : current.map((h) => (h === mine ? holder : h));
      st.holders = next.length === 1 ? holder : next;
      // a sole holder may change its own sharing key in place (MetalLB internal/allocator/allocator.go checkSharing)
      this.#refreshKey(st);
    }
    // `ips` is kept, not copied (readonly): sharing the caller's array saves memory at 100k Services
    const assignment: Assignment = { service: req.service, pool: pool.spec.name, ips };
    this.#services.set(req.service, assignment);
    return assignment;
  }

  /** Recompute the key all holders share and move the IP in the #sharing index accordingly. */
  #refreshKey(st: IPState): void {
    const hs = holdersOf(st);
    const first = hs[0];
    let key = first?.sharingKey ?? '';
    for (const h of hs) {
      if (h.sharingKey !== key || h.backendKey !== first?.backendKey) {
        key = '';
        break;
      }
    }
    if (key === st.sharingKey) return;
    if (st.sharingKey !== '') {
      const set = this.#sharing.get(st.sharingKey);
      set?.delete(st);
      if (set?.size === 0) this.#sharing.delete(st.sharingKey);
    }
    st.sharingKey = key;
    if (key !== '') this.#shareIndex(st);
  }

  #shareIndex(st: IPState): void {
    let set = this.#sharing.get(st.sharingKey);
    if (set === undefined) {
      set = new Set();
      this.#sharing.set(st.sharingKey, set);
    }
    set.add(st);
  }

  /** Add (+1) or remove (-1) an in-use IP to its pool's counters; eligibility is judged on the way in. */
  #count(st: IPState, delta: 1 | -1): void {
    const pool = st.pool;
    const fam = st.ip.family;
    if (delta > 0) {
      const range = pool.ranges[fam][this.#rangeIndex(pool, st.ip)];
      st.eligible = range !== undefined && autoEligible(pool.spec, range, st.ip.value);
    }
    pool.inUse[fam] += delta;
    if (st.eligible) pool.eligibleInUse[fam] += delta;
  }
}
