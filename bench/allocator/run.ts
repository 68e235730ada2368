// Allocator benchmark: 100,000 Services from an IPv4 /15 and from an IPv6 /64, then a full rebuild from
// status (restoreAll, in a shuffled order), then churn (10% deleted, as many new). Prints time per
// allocation, totals and peak RSS, and the ratio against MetalLB's lowest-free linear scan measured in
// the same run. The anchor is quadratic, so it runs at a smaller N (and both are timed at that N).
//
// Run: node --import tsx bench/allocator/run.ts [N]
import { Allocator } from '../../src/pool/allocator.ts';
import { parsePoolAddress } from '../../src/pool/address.ts';
import type { AllocationRequest, ExistingAssignment, Family, PoolSpec } from '../../src/pool/types.ts';
import { NaiveLowestFree } from './naive.ts';
import { setFlagsFromString } from 'node:v8';
import { cpus, loadavg } from 'node:os';
import { runInNewContext } from 'node:vm';

// A full collection between phases, so one phase's garbage is not billed to the next (time or RSS).
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

const N = Number(process.argv[2] ?? 100_000);
const ANCHOR_N = 10_000;

function poolOf(cidr: string): PoolSpec {
  const p = parsePoolAddress(cidr);
  if (!p.ok) throw new Error(p.error.message);
  return {
    name: 'bench',
    dialect: 'metallb',
    ranges: [p.value.range],
    autoAssign: true,
    avoidBuggyIPs: false,
    priority: undefined,
    hasServiceAllocation: false,
    namespaces: [],
    namespaceSelectors: [],
    serviceSelectors: [],
    protocol: undefined,
    disabled: false,
    isDefault: false,
    interface: undefined,
  };
}

const NO_LABELS = {};
const FAMILIES = { ipv4: ['ipv4'], ipv6: ['ipv6'] } as const;
const PORTS = [{ protocol: 'TCP', port: 80 }] as const;
const NO_IPS: readonly never[] = [];

/** What config would hand over for Service i (label maps and port lists shared, as informer caches do not). */
function request(i: number, family: Family): AllocationRequest {
  return {
    service: `bench/svc-${i}`,
    namespace: 'bench',
    namespaceLabels: NO_LABELS,
    serviceLabels: NO_LABELS,
    ipFamilies: FAMILIES[family],
    ipFamilyPolicy: 'SingleStack',
    requestedIPs: NO_IPS,
    requestedPool: undefined,
    protocol: undefined,
    sharingKey: undefined,
    backendKey: '',
    ports: PORTS,
    dialect: 'metallb',
  };
}

/** Deterministic shuffle (xorshift32) so runs are comparable. */
function shuffle<T>(xs: T[], seed: number): T[] {
  let s = seed >>> 0 || 1;
  for (let i = xs.length - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = xs[i] as T;
    xs[i] = xs[j] as T;
    xs[j] = t;
  }
  return xs;
}

const ms = (ns: bigint): number => Number(ns) / 1e6;

/** Wall time and CPU time (user + system) of `f`; the CPU figure is steadier on a shared, loaded machine. */
interface Took {
  readonly wall: bigint;
  readonly cpuMs: number;
}
function timed<T>(f: () => T): { value: T; took: Took } {
  const c = process.cpuUsage();
  const t = process.hrtime.bigint();
  const value = f();
  const wall = process.hrtime.bigint() - t;
  const d = process.cpuUsage(c);
  return { value, took: { wall, cpuMs: (d.user + d.system) / 1000 } };
}
const rssMB = (): string => (process.resourceUsage().maxRSS / 1024).toFixed(1);

function fmt(label: string, count: number, took: Took): string {
  const total = ms(took.wall);
  return (
    `${label.padEnd(40)} ${String(count).padStart(7)} ops ${total.toFixed(1).padStart(9)} ms ${((total * 1000) / count).toFixed(2).padStart(8)} µs/op` +
    `   cpu ${took.cpuMs.toFixed(1).padStart(8)} ms`
  );
}

interface Timing {
  readonly alloc: Took;
  readonly replay: Took;
}

function allocateAll(pools: readonly PoolSpec[], family: Family, n: number): { alloc: Took; existing: ExistingAssignment[] } {
  const al = new Allocator(pools);
  const alloc = timed(() => {
    for (let i = 0; i < n; i++) {
      const res = al.allocate(request(i, family));
      if (!res.ok) throw new Error(`allocation ${i} failed: ${res.failure.message}`);
    }
  }).took;
  // status as the controller reads it after a restart, in API-server order (not allocation order)
  const existing: ExistingAssignment[] = [];
  for (let i = 0; i < n; i++) {
    const req = request(i, family);
    const a = al.assignmentOf(req.service);
    if (a !== undefined) existing.push({ request: req, ips: a.ips });
  }
  shuffle(existing, 0x9e3779b9);
  return { alloc, existing };
}

function runBerth(cidr: string, family: Family, n: number, print: boolean): Timing {
  const pools = [poolOf(cidr)];
  collect();
  // phase 1 in its own function: the first allocator is unreachable afterwards, as after a restart
  const { alloc, existing } = allocateAll(pools, family, n);
  collect();
  const fresh = new Allocator(pools);
  const { value: results, took: replay } = timed(() => fresh.restoreAll(existing));
  let bad = 0;
  for (const e of existing) {
    const r = results.get(e.request.service);
    const want = e.ips[0];
    const got = r !== undefined && r.ok ? r.assignment.ips[0] : undefined;
    if (want === undefined || got === undefined || got.value !== want.value) bad++;
  }
  if (bad > 0) throw new Error(`replay changed ${bad} assignments`);
  if (print) {
    console.log(`\n[berth] ${n} Services from ${cidr}`);
    console.log(fmt('allocate (next-fit, interval set)', n, alloc));
    console.log(fmt('rebuild from status (restoreAll)', n, replay));
    // churn: 10% of Services deleted at random, as many created; every new one must avoid the freed IPs
    const gone = shuffle(Array.from({ length: n }, (_, i) => i), 7).slice(0, Math.floor(n / 10));
    const churn = timed(() => {
      for (const i of gone) fresh.release(`bench/svc-${i}`);
      for (let i = 0; i < gone.length; i++) fresh.allocate(request(n + i, family));
    }).took;
    console.log(fmt('churn: 10% released + re-created', gone.length * 2, churn));
    const st = fresh.poolStatus('bench');
    console.log(`  pool status: assignedIPv4=${st?.assignedIPv4} assignedIPv6=${st?.assignedIPv6} availableIPv4=${st?.availableIPv4} availableIPv6=${st?.availableIPv6}`);
    console.log(`  peak RSS so far: ${rssMB()} MB`);
  }
  return { alloc, replay };
}

function runNaive(cidr: string, n: number): Timing {
  const p = poolOf(cidr).ranges[0];
  if (p === undefined) throw new Error('no range');
  const naive = new NaiveLowestFree(p.first, p.last);
  const got: bigint[] = [];
  const alloc = timed(() => {
    for (let i = 0; i < n; i++) {
      const v = naive.allocate();
      if (v === undefined) throw new Error('naive: pool full');
      got.push(v);
    }
  }).took;
  const fresh = new NaiveLowestFree(p.first, p.last);
  shuffle(got, 0x9e3779b9);
  const replay = timed(() => {
    for (const v of got) fresh.assign(v);
  }).took;
  return { alloc, replay };
}

console.log(
  `berth allocator benchmark — node ${process.version}, N=${N}, anchor N=${ANCHOR_N}, ${cpus().length} CPUs, load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
// 198.18.0.0/15 is the IPv4 benchmarking range (RFC 2544 §C.2.2), 2001:db8::/32 the IPv6 documentation prefix
const cases: readonly [string, Family][] = [
  ['198.18.0.0/15', 'ipv4'],
  ['2001:db8::/64', 'ipv6'],
];
// warm-up so the JIT has seen every path before anything is timed
runBerth('192.0.2.0/24', 'ipv4', 200, false);
runBerth('2001:db8:ffff::/120', 'ipv6', 200, false);
runNaive('192.0.2.0/24', 200);

for (const [cidr, family] of cases) {
  collect();
  const timing = runBerth(cidr, family, N, true);
  for (const [what, took] of [['allocate', timing.alloc], ['rebuild', timing.replay]] as const) {
    const wall = ms(took.wall);
    console.log(`  ${what}: ${wall.toFixed(0)} ms wall, ${took.cpuMs.toFixed(0)} ms cpu (target < 1000 ms) ${wall < 1000 ? 'OK' : took.cpuMs < 1000 ? 'OK on cpu time, wall slowed by load' : 'OVER'}`);
  }
}

collect();
console.log(`\n[anchor] MetalLB lowest-free linear scan vs berth, ${ANCHOR_N} Services from a fresh 198.18.0.0/15`);
const naive = runNaive('198.18.0.0/15', ANCHOR_N);
const berth = runBerth('198.18.0.0/15', 'ipv4', ANCHOR_N, false);
console.log(fmt('naive allocate (lowest free scan)', ANCHOR_N, naive.alloc));
console.log(fmt('berth allocate', ANCHOR_N, berth.alloc));
console.log(`  ratio naive/berth (allocate): ${(naive.alloc.cpuMs / berth.alloc.cpuMs).toFixed(1)}x on cpu time, ${(Number(naive.alloc.wall) / Number(berth.alloc.wall)).toFixed(1)}x wall`);
console.log(fmt('naive rebuild (map inserts)', ANCHOR_N, naive.replay));
console.log(fmt('berth rebuild (restoreAll, full checks)', ANCHOR_N, berth.replay));
console.log(`  ratio naive/berth (rebuild): ${(Number(naive.replay.wall) / Number(berth.replay.wall)).toFixed(2)}x wall`);
const projected = (naive.alloc.cpuMs * (N / ANCHOR_N) ** 2) / 1000;
console.log(`  the scan is quadratic: ${N} allocations would take about ${projected.toFixed(0)} s of CPU (projected from ${ANCHOR_N})`);
console.log(`\npeak RSS: ${rssMB()} MB (target < 200 MB)`);
