// Chaos under load (issue 14 §3), on the product path: the frr-lab namespace lab (prefix bch: FRR router,
// three nodes, a LAN client; frr-lab/netns.ts) with a management network so the nodes reach the real
// kube-apiserver + etcd of test/k8s/harness; `berth controller` x2 (leader-elected by Lease, in node1 and
// node2) and `berth speaker --node-name` (Kubernetes mode) in every node, as child processes
// (test/k8s/berth-process.ts). Services across BGP pools (IPv4, and IPv6 for counts beyond the IPv4
// pools) and a Layer 2 pool, with churn (creates, deletes, pool address edits, a pool added and removed)
// while faults strike at seeded random moments:
//   - kube-apiserver SIGKILLed and started again on the same etcd (data kept);
//   - the controller SIGKILLed: half of the kills at a random moment, half right after a Service status
//     write is observed (its "IP assigned" log line follows the PATCH). berth writes a Service's
//     status.loadBalancer.ingress and its metallb.io/ip-allocated-from-pool annotation in ONE merge patch
//     on the status subresource (src/k8s/status.ts serviceStatusPatch), so there is no moment between the
//     two; the kill lands between that write and the pool status counters / Event writes that follow;
//   - speakers SIGKILLed and restarted in a loop.
// Then, once the churn stops and everything settles (waited on positive signals), the checks: IP history
// from an independent watch (bench/chaos/api.ts) has no change, no two Services hold an IP unless their
// sharing keys allow it, every pool's status counters equal a recount, every BGP VIP is at FRR with
// exactly the nodes' next hops (and nothing else is), every Layer 2 VIP gets exactly one ARP answer from
// the node MetalLB's election picks (src/l2/election.ts electionHash), nothing leaked.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { deployNetns } from '../../frr-lab/netns.ts';
import { run } from '../../frr-lab/run.ts';
import type { LabHandle } from '../../frr-lab/topology.ts';
import { startApiServer, type ApiServer } from '../../test/k8s/harness/index.ts';
import { startBerth, type BerthProcess } from '../../test/k8s/berth-process.ts';
import { arpingReplies } from '../../test/integration/common.ts';
import { electionHash } from '../../src/l2/election.ts';
import { Address4, Address6 } from 'ip-address';
import { random } from '../../scripts/test-order.mjs';
import { apiOf, ApiError, ingressIPs, ServiceWatch, type Api, type ServiceObject } from './api.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PREFIX = 'bch';
const MGMT_SUBNET = '203.0.113.224/28';
const NODES = ['node1', 'node2', 'node3'] as const;
type Node = (typeof NODES)[number];
const NODE_IP: Record<Node, string> = { node1: '192.0.2.11', node2: '192.0.2.12', node3: '192.0.2.13' };
const NODE_IP6: Record<Node, string> = { node1: '2001:db8:1::11', node2: '2001:db8:1::12', node3: '2001:db8:1::13' };
const NS = 'chaos';
const SYSTEM_NS = 'berth-system';
const POOL_NS = 'metallb-system';
const SHARE = 'metallb.io/allow-shared-ip';
const POOL_ANN = 'metallb.io/address-pool';
const ALLOCATED_ANN = 'metallb.io/ip-allocated-from-pool';

/**
 * The pools and the two spellings of their addresses the churn switches between: the same addresses, but a
 * CIDR's network/broadcast address is not handed out automatically while a range's ends are (src/pool/pool.ts),
 * so an edit changes which addresses automatic allocation may use, and the pool's counters.
 */
const POOLS = {
  bgp4: { spellings: [['203.0.113.0/26'], ['203.0.113.0-203.0.113.31', '203.0.113.32/27']] },
  l2v4: { spellings: [['192.0.2.128/26'], ['192.0.2.128/27', '192.0.2.160-192.0.2.191']] },
  bgp6: { spellings: [['2001:db8:f00::/116'], ['2001:db8:f00::-2001:db8:f00::7ff', '2001:db8:f00::800/117']] },
} as const;
type PoolName = keyof typeof POOLS;
/** The pool added and removed by the churn: autoAssign false and requested by nobody. */
const SPARE = { name: 'spare', addresses: ['192.0.2.208/28'] };
/** Services per IPv4 pool at most (slack for churn: a create may wait for a delete's IP). */
const V4_PER_POOL = 50;

export interface ChaosOptions {
  readonly services: number;
  readonly seed: number;
  /** How long the churn and the faults run. */
  readonly churnMs: number;
  readonly apiKills: number;
  readonly controllerKills: number;
  /** Concurrent churn workers (default 4); the first also edits pools, the others delete and create. */
  readonly churnWorkers?: number;
  /** Wait for settling (each check) at most this long. */
  readonly settleMs?: number;
  readonly log?: (line: string) => void;
}

export interface ChaosResult {
  readonly seed: number;
  readonly faults: Record<string, number>;
  readonly services: number;
  readonly servicesCreated: number;
  readonly servicesDeleted: number;
  readonly poolEdits: number;
  readonly changes: readonly string[];
  readonly duplicates: readonly string[];
  readonly counterMismatches: readonly string[];
  readonly announcementMismatches: readonly string[];
  readonly leaks: readonly string[];
  readonly watchGaps: number;
  readonly rss: Record<string, { start: number; end: number }>;
  readonly durationMs: number;
  readonly load: { start: string; end: string };
}

/** mulberry32 (scripts/test-order.mjs, the test shuffler's): a run is replayed from its printed seed. */
export const prng = random;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const rssKb = (pid: number): number => {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
};
const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

interface Planned {
  readonly name: string;
  readonly pool: PoolName;
  readonly share?: string;
  readonly port: number;
}

/** The Service and its EndpointSlice (one ready endpoint on node1: Cluster policy, every node eligible). */
function objects(p: Planned): [string, unknown][] {
  const v6 = p.pool === 'bgp6';
  return [
    [
      `/api/v1/namespaces/${NS}/services`,
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: p.name, namespace: NS, annotations: { [POOL_ANN]: p.pool, ...(p.share === undefined ? {} : { [SHARE]: p.share }) } },
        spec: {
          type: 'LoadBalancer',
          allocateLoadBalancerNodePorts: false,
          ipFamilyPolicy: 'SingleStack',
          ipFamilies: [v6 ? 'IPv6' : 'IPv4'],
          ports: [{ name: 'http', port: p.port, targetPort: 8080, protocol: 'TCP' }],
        },
      },
    ],
    [
      `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${p.name}-ep`, namespace: NS, labels: { 'kubernetes.io/service-name': p.name } },
        addressType: v6 ? 'IPv6' : 'IPv4',
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        endpoints: [{ addresses: [v6 ? '2001:db8:1::11' : '192.0.2.11'], conditions: { ready: true }, nodeName: 'node1' }],
      },
    ],
  ];
}

/** Retries a write until the API server answers (it is killed now and then); 409 on create / 404 on delete count as done. */
async function write(api: Api, method: string, path: string, body?: unknown, contentType?: string): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await api.req(method, path, body, contentType);
      return;
    } catch (e) {
      if (e instanceof ApiError && ((method === 'POST' && e.status === 409) || (method === 'DELETE' && e.status === 404))) return;
      if (e instanceof ApiError && e.status >= 400 && e.status < 500 && e.status !== 429) throw e;
      if (i > 600) throw e;
      await sleep(250);
    }
  }
}

async function pool(api: Api, name: string, addresses: readonly string[], autoAssign = true): Promise<void> {
  await write(api, 'POST', `/apis/metallb.io/v1beta1/namespaces/${POOL_NS}/ipaddresspools`, {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name, namespace: POOL_NS },
    spec: { addresses, autoAssign },
  });
}

/** Runs the whole chaos run; always tears down what it built. */
export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => undefined);
  const settleMs = o.settleMs ?? 180_000;
  const rnd = prng(o.seed);
  const started = Date.now();
  const loadStart = loadavg();
  const v6 = o.services > 2 * V4_PER_POOL;
  const lab = await deployNetns({ prefix: PREFIX, mgmtIpv4Subnet: MGMT_SUBNET });
  let k: ApiServer | undefined;
  const procs: BerthProcess[] = [];
  const allPids = new Set<number>();
  const watchers: ServiceWatch[] = [];
  try {
    log(`lab ${PREFIX} up (netns runner); kube-apiserver + etcd on ${lab.mgmtGateway ?? '?'}`);
    if (lab.mgmtGateway === undefined) throw new Error('the chaos lab has no management gateway');
    k = await startApiServer({
      bindAddress: lab.mgmtGateway,
      serviceClusterIpRange: v6 ? '198.51.100.0/24,2001:db8:c1::/112' : '198.51.100.0/24',
    });
    const api = apiOf(k);
    return await chaos(o, { lab, k, api, log, rnd, procs, allPids, watchers, settleMs, v6, started, loadStart });
  } finally {
    for (const w of watchers) await w.stop();
    for (const p of procs) await p.stop(5_000).catch(() => undefined);
    await k?.stop().catch(() => undefined);
    await lab.destroy();
  }
}

interface Ctx {
  readonly lab: LabHandle;
  readonly k: ApiServer;
  readonly api: Api;
  readonly log: (l: string) => void;
  readonly rnd: () => number;
  readonly procs: BerthProcess[];
  readonly allPids: Set<number>;
  readonly watchers: ServiceWatch[];
  readonly settleMs: number;
  readonly v6: boolean;
  readonly started: number;
  readonly loadStart: string;
}

async function chaos(o: ChaosOptions, c: Ctx): Promise<ChaosResult> {
  const { lab, k, api, log, rnd } = c;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const faults: Record<string, number> = {};
  const fault = (kind: string): void => void (faults[kind] = (faults[kind] ?? 0) + 1);

  // --- the API: CRDs, namespaces, Nodes (Ready), config.
  await k.kubectlOk(['apply', '-f', `${REPO_ROOT}deploy/crds`]);
  await k.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  for (const ns of [SYSTEM_NS, POOL_NS, NS]) await k.kubectlOk(['create', 'namespace', ns]);
  for (const d of parseAllDocuments(readFileSync(`${REPO_ROOT}frr-lab/manifests/nodes.yaml`, 'utf8'))) {
    const n = d.toJS() as { metadata: { name: string }; status: unknown };
    await k.kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify({ ...n, status: undefined }) });
    await k.kubectlOk(['patch', 'node', n.metadata.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: n.status })]);
  }
  const spelling: Record<PoolName, 0 | 1> = { bgp4: 0, l2v4: 0, bgp6: 0 };
  const poolNames = (c.v6 ? ['bgp4', 'l2v4', 'bgp6'] : ['bgp4', 'l2v4']) as PoolName[];
  for (const p of poolNames) await pool(api, p, POOLS[p].spellings[0]);
  const mb = (kind: string, plural: string, name: string, spec: unknown, version = 'v1beta1'): Promise<void> =>
    write(api, 'POST', `/apis/metallb.io/${version}/namespaces/${POOL_NS}/${plural}`, { apiVersion: `metallb.io/${version}`, kind, metadata: { name, namespace: POOL_NS }, spec });
  await mb('BGPPeer', 'bgppeers', 'router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1', holdTime: '9s' }, 'v1beta2');
  if (c.v6) await mb('BGPPeer', 'bgppeers', 'router6', { myASN: 64513, peerASN: 64512, peerAddress: '2001:db8:1::1', holdTime: '9s' }, 'v1beta2');
  await mb('BGPAdvertisement', 'bgpadvertisements', 'bgp', { ipAddressPools: poolNames.filter((p) => p !== 'l2v4') });
  await mb('L2Advertisement', 'l2advertisements', 'l2', { ipAddressPools: ['l2v4'] });

  // --- the Services: IPv4 split between the BGP and L2 pools (some pairs sharing an IP), the rest IPv6 BGP.
  const v4Count = Math.min(o.services, 2 * V4_PER_POOL);
  let serial = 0;
  const perPool: Record<PoolName, number> = { bgp4: 0, l2v4: 0, bgp6: 0 };
  const plan = (poolName: PoolName): Planned => {
    const i = serial++;
    const j = perPool[poolName]++;
    // Two of every five BGP IPv4 Services form a sharing pair (one key, ports 80 and 81).
    const share = poolName === 'bgp4' && j % 5 < 2 ? `pair-${String(Math.floor(j / 5))}` : undefined;
    return { name: `s${String(i)}`, pool: poolName, port: 80 + (j % 5), ...(share === undefined ? {} : { share }) };
  };
  const live = new Map<string, Planned>();
  const initial: Planned[] = [];
  for (let i = 0; i < o.services; i++) initial.push(plan(i < v4Count ? (i % 2 === 0 ? 'bgp4' : 'l2v4') : 'bgp6'));
  const create = async (p: Planned): Promise<void> => {
    for (const [path, body] of objects(p)) await write(api, 'POST', path, body);
    live.set(p.name, p);
  };
  const watch = new ServiceWatch(api, NS);
  c.watchers.push(watch);
  watch.start();
  await watch.ready;
  log(`creating ${String(o.services)} Services (${String(v4Count)} IPv4 in bgp4/l2v4, ${String(o.services - v4Count)} IPv6 in bgp6) with their EndpointSlices`);
  for (let i = 0; i < initial.length; i += 16) await Promise.all(initial.slice(i, i + 16).map(create));

  // --- berth: two controllers, three speakers.
  const inNode = (n: Node): string[] => ['ip', 'netns', 'exec', `${PREFIX}-${n}`];
  const controllers = new Map<string, BerthProcess>();
  const speakers = new Map<Node, BerthProcess>();
  const track = (p: BerthProcess): BerthProcess => {
    c.procs.push(p);
    c.allPids.add(p.pid);
    return p;
  };
  const startController = (n: Node): BerthProcess => {
    const p = track(
      startBerth(
        ['controller', '--kubeconfig', k.kubeconfigPath, '--namespace', SYSTEM_NS, '--health-port', '0', '--identity', `controller-${n}`, '--lease-duration', '6', '--renew-deadline', '4', '--retry-period', '1'],
        { wrap: inNode(n) },
      ),
    );
    controllers.set(n, p);
    return p;
  };
  const startSpeaker = (n: Node): BerthProcess => {
    const p = track(startBerth(['speaker', '--node-name', n, '--kubeconfig', k.kubeconfigPath, '--namespace', SYSTEM_NS, '--health-port', '0'], { wrap: inNode(n) }));
    speakers.set(n, p);
    return p;
  };
  for (const n of ['node1', 'node2'] as const) startController(n);
  for (const n of NODES) startSpeaker(n);

  const settle = async (what: string): Promise<void> => {
    const t0 = Date.now();
    await settled(c, live, spelling, poolNames, true);
    log(`${what}: settled in ${String(Math.round((Date.now() - t0) / 1000))} s (load ${loadavg()})`);
  };
  await settle('initial allocation and announcements');
  const rssStart: Record<string, number> = {};
  for (const [n, p] of controllers) rssStart[`controller-${n}`] = rssKb(p.pid);
  for (const [n, p] of speakers) rssStart[`speaker-${n}`] = rssKb(p.pid);

  // --- churn and faults, for churnMs.
  const until = Date.now() + o.churnMs;
  let created = 0;
  let deleted = 0;
  let poolEdits = 0;
  let spareUp = false;
  const churn = async (worker: number): Promise<void> => {
    while (Date.now() < until) {
      const r = worker === 0 ? rnd() : rnd() * 0.4;
      if (r < 0.4) {
        const victims = [...live.values()];
        const v = pick(victims);
        live.delete(v.name);
        await write(api, 'DELETE', `/api/v1/namespaces/${NS}/services/${v.name}`);
        await write(api, 'DELETE', `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices/${v.name}-ep`);
        deleted++;
        await create(plan(v.pool));
        created++;
      } else if (r < 0.5) {
        const p = pick(poolNames);
        spelling[p] = spelling[p] === 0 ? 1 : 0;
        await write(api, 'PATCH', `/apis/metallb.io/v1beta1/namespaces/${POOL_NS}/ipaddresspools/${p}`, { spec: { addresses: POOLS[p].spellings[spelling[p]] } }, 'application/merge-patch+json');
        poolEdits++;
      } else if (r < 0.55) {
        if (spareUp) await write(api, 'DELETE', `/apis/metallb.io/v1beta1/namespaces/${POOL_NS}/ipaddresspools/${SPARE.name}`);
        else await pool(api, SPARE.name, SPARE.addresses, false);
        spareUp = !spareUp;
        poolEdits++;
      } else {
        await sleep(50 + rnd() * 200);
      }
    }
  };
  const at = (n: number): number[] => Array.from({ length: n }, () => o.churnMs * (0.05 + 0.85 * rnd())).sort((a, b) => a - b);
  const apiKillsAt = at(o.apiKills);
  const controllerKillsAt = at(o.controllerKills);
  const t0 = Date.now();
  const apiFaults = async (): Promise<void> => {
    for (const t of apiKillsAt) {
      await sleep(Math.max(0, t0 + t - Date.now()));
      const pid = k.apiserverPid();
      if (pid === undefined) continue;
      process.kill(pid, 'SIGKILL');
      fault('kube-apiserver SIGKILL + restart (etcd kept)');
      await sleep(rnd() * 3000);
      await k.restart();
    }
  };
  const controllerFaults = async (): Promise<void> => {
    for (const [i, t] of controllerKillsAt.entries()) {
      await sleep(Math.max(0, t0 + t - Date.now()));
      const leader = await leaseHolder(api);
      const node = (leader?.replace('controller-', '') ?? pick(['node1', 'node2'])) as Node;
      const victim = controllers.get(node) ?? startController(node);
      if (i % 2 === 0) {
        // Right after a Service status write (status + annotation, one PATCH): its "IP assigned" line.
        const hit = await new Promise<boolean>((resolve) => {
          const onData = (chunk: Buffer | string): void => {
            if (String(chunk).includes('"msg":"IP assigned"')) {
              victim.child.kill('SIGKILL');
              resolve(true);
            }
          };
          victim.child.stderr?.on('data', onData);
          setTimeout(() => {
            victim.child.stderr?.off('data', onData);
            resolve(false);
          }, 30_000);
        });
        if (!hit) victim.child.kill('SIGKILL');
        fault(hit ? 'controller SIGKILL right after a Service status write' : 'controller SIGKILL (no status write within 30 s)');
      } else {
        victim.child.kill('SIGKILL');
        fault('controller SIGKILL at a random moment');
      }
      await victim.exited;
      startController(node);
    }
  };
  const speakerFaults = async (): Promise<void> => {
    while (Date.now() < until) {
      await sleep(1000 + rnd() * 4000);
      const n = pick(NODES);
      const p = speakers.get(n);
      if (p !== undefined) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
      fault('speaker SIGKILL + restart');
      await sleep(rnd() * 3000);
      startSpeaker(n);
    }
  };
  log(`churn (${String(o.churnWorkers ?? 4)} workers) and faults for ${String(Math.round(o.churnMs / 1000))} s: ${String(o.apiKills)} API server kills, ${String(o.controllerKills)} controller kills, speakers in a loop`);
  await Promise.all([...Array.from({ length: o.churnWorkers ?? 4 }, (_, w) => churn(w)), apiFaults(), controllerFaults(), speakerFaults()]);
  log(`churn done: ${String(created)} created, ${String(deleted)} deleted, ${String(poolEdits)} pool edits; faults ${JSON.stringify(faults)}`);
  // The spare pool's state is a choice of the churn; the config the checks expect ends without it.
  if (spareUp) await write(api, 'DELETE', `/apis/metallb.io/v1beta1/namespaces/${POOL_NS}/ipaddresspools/${SPARE.name}`);

  // --- settle, then check.
  const s = await settled(c, live, spelling, poolNames, false);
  log(`settled after the chaos (load ${loadavg()})`);
  const rss: Record<string, { start: number; end: number }> = {};
  for (const [n, p] of controllers) rss[`controller-${n}`] = { start: rssStart[`controller-${n}`] ?? 0, end: rssKb(p.pid) };
  for (const [n, p] of speakers) rss[`speaker-${n}`] = { start: rssStart[`speaker-${n}`] ?? 0, end: rssKb(p.pid) };

  // --- leaks: sockets (one BGP session per node and family, FRR sees exactly the nodes), then processes and namespaces.
  const leaks: string[] = [...s.sessionProblems];
  await watch.stop();
  for (const p of c.procs) await p.stop(5_000);
  const survivors = [...c.allPids].filter(alive);
  if (survivors.length > 0) leaks.push(`processes still alive after stop: ${survivors.join(' ')}`);
  for (const n of NODES) {
    const pids = (await run(['ip', 'netns', 'pids', `${PREFIX}-${n}`], { check: false })).stdout.trim();
    if (pids !== '') leaks.push(`${n}: processes left in the node's namespace: ${pids.split('\n').join(' ')}`);
  }
  await lab.destroy();
  // The kernel frees a deleted namespace's veths asynchronously (netns cleanup work): wait for them to go.
  const left = async (): Promise<string[]> => {
    const ns = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${PREFIX}-`));
    const links = (await run(['ip', '-o', 'link', 'show'])).stdout.split('\n').filter((l) => new RegExp(`^\\d+: ${PREFIX}`).test(l));
    return [
      ...(ns.length > 0 ? [`namespaces left: ${ns.join(', ')}`] : []),
      ...(links.length > 0 ? [`host links left: ${links.map((l) => l.split(':')[1]?.trim()).join(', ')}`] : []),
    ];
  };
  const gone = Date.now() + 60_000;
  let remaining = await left();
  while (remaining.length > 0 && Date.now() < gone) {
    await sleep(500);
    remaining = await left();
  }
  leaks.push(...remaining);

  return {
    seed: o.seed,
    faults,
    services: live.size,
    servicesCreated: created,
    servicesDeleted: deleted,
    poolEdits,
    changes: watch.changes(),
    duplicates: s.duplicates,
    counterMismatches: s.counters,
    announcementMismatches: s.announcements,
    leaks,
    watchGaps: watch.gaps,
    rss,
    durationMs: Date.now() - c.started,
    load: { start: c.loadStart, end: loadavg() },
  };
}

async function leaseHolder(api: Api): Promise<string | undefined> {
  try {
    const l = await api.req<{ spec?: { holderIdentity?: string } }>('GET', `/apis/coordination.k8s.io/v1/namespaces/${SYSTEM_NS}/leases/berth-controller`);
    return l.spec?.holderIdentity;
  } catch {
    return undefined;
  }
}

interface Settled {
  readonly duplicates: string[];
  readonly counters: string[];
  readonly announcements: string[];
  readonly sessionProblems: string[];
}

const ipValue = (ip: string): bigint => (ip.includes(':') ? new Address6(ip).bigInt() : new Address4(ip).bigInt());

/** The addresses of a pool spelling that automatic allocation may hand out, by value (family as value). */
function autoEligible(entries: readonly string[]): Map<bigint, 'v4' | 'v6'> {
  const out = new Map<bigint, 'v4' | 'v6'>();
  for (const e of entries) {
    const fam = e.includes(':') ? 'v6' : 'v4';
    let first: bigint;
    let last: bigint;
    let reserved: bigint[] = [];
    if (e.includes('/')) {
      const [addr = '', len = ''] = e.split('/');
      const bits = BigInt((fam === 'v6' ? 128 : 32) - Number(len));
      first = (ipValue(addr) >> bits) << bits;
      last = first + (1n << bits) - 1n;
      if (fam === 'v4' && Number(len) < 31) reserved = [first, last];
      if (fam === 'v6' && Number(len) < 127) reserved = [first];
    } else {
      const [a = '', b = ''] = e.split('-');
      first = ipValue(a);
      last = ipValue(b);
    }
    for (let v = first; v <= last; v++) if (!reserved.includes(v)) out.set(v, fam);
  }
  return out;
}

const inPool = (ip: string, p: PoolName): boolean => {
  if (p === 'bgp4') return /^203\.0\.113\.(\d|[1-5]\d|6[0-3])$/.test(ip);
  if (p === 'l2v4') return /^192\.0\.2\.(1(2[89]|[3-8]\d|9[01]))$/.test(ip);
  return ip.toLowerCase().startsWith('2001:db8:f00::');
};

/**
 * Waits (up to settleMs) until the cluster shows the wanted state, then returns what is still wrong:
 * every planned Service has an IP from its pool; duplicates; pool counters vs a recount; FRR and ARP views.
 * With `strict`, anything still wrong at the deadline throws (the initial settle: the setup is broken).
 */
async function settled(c: Ctx, live: ReadonlyMap<string, Planned>, spelling: Record<PoolName, 0 | 1>, poolNames: readonly PoolName[], strict: boolean): Promise<Settled> {
  const deadline = Date.now() + c.settleMs;
  let last: Settled & { missing: string[] } = { duplicates: [], counters: [], announcements: [], sessionProblems: [], missing: [] };
  for (;;) {
    try {
      last = await observe(c, live, spelling, poolNames);
      const wrong = [last.missing, last.duplicates, last.counters, last.announcements, last.sessionProblems].flat();
      if (wrong.length === 0) return last;
    } catch (e) {
      last = { ...last, missing: [`observe failed: ${String(e)}`] };
    }
    if (Date.now() > deadline) {
      const wrong = [last.missing, last.duplicates, last.counters, last.announcements, last.sessionProblems].flat();
      if (strict) throw new Error(`not settled after ${String(c.settleMs)} ms:\n${wrong.slice(0, 30).join('\n')}`);
      c.log(`not settled after ${String(c.settleMs)} ms (${String(wrong.length)} problems; first: ${wrong.slice(0, 5).join(' | ')})`);
      return { ...last, announcements: [...last.announcements, ...last.missing] };
    }
    await sleep(2000);
  }
}

async function observe(c: Ctx, live: ReadonlyMap<string, Planned>, spelling: Record<PoolName, 0 | 1>, poolNames: readonly PoolName[]): Promise<Settled & { missing: string[] }> {
  const { api, lab } = c;
  const svcs = (await api.req<{ items: ServiceObject[] }>('GET', `/api/v1/namespaces/${NS}/services`)).items;
  const byName = new Map(svcs.map((s) => [s.metadata.name, s]));
  const missing: string[] = [];
  for (const [name, p] of live) {
    const s = byName.get(name);
    const ips = s === undefined ? [] : ingressIPs(s);
    if (s === undefined) missing.push(`${name}: Service missing`);
    else if (ips.length !== 1 || !inPool(ips[0] ?? '', p.pool)) missing.push(`${name}: IPs ${ips.join(',') || '(none)'}, want one from ${p.pool}`);
    else if (s.metadata.annotations?.[ALLOCATED_ANN] !== p.pool) missing.push(`${name}: ${ALLOCATED_ANN}=${String(s.metadata.annotations?.[ALLOCATED_ANN])}, want ${p.pool}`);
  }
  for (const name of byName.keys()) if (!live.has(name)) missing.push(`${name}: exists, deleted by the churn`);

  // Duplicates: an IP held by more than one Service needs one sharing key among them all and distinct ports (MetalLB's rule).
  const holders = new Map<string, ServiceObject[]>();
  for (const s of svcs) for (const ip of ingressIPs(s)) holders.set(ip, [...(holders.get(ip) ?? []), s]);
  const duplicates: string[] = [];
  for (const [ip, hs] of holders) {
    if (hs.length < 2) continue;
    const keys = new Set(hs.map((h) => h.metadata.annotations?.[SHARE] ?? ''));
    const ports = hs.flatMap((h) => (h.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${String(p.port)}`));
    if (keys.size !== 1 || keys.has('') || new Set(ports).size !== ports.length) duplicates.push(`${ip}: ${hs.map((h) => `${h.metadata.name}(${h.metadata.annotations?.[SHARE] ?? 'no key'})`).join(', ')}`);
  }

  // Pool counters vs a recount of the Services' IPs (a shared IP counts once).
  const counters: string[] = [];
  const pools = (await api.req<{ items: { metadata: { name: string }; spec: { addresses: string[] }; status?: Record<string, number> }[] }>('GET', `/apis/metallb.io/v1beta1/namespaces/${POOL_NS}/ipaddresspools`)).items;
  for (const p of poolNames) {
    const obj = pools.find((x) => x.metadata.name === p);
    if (obj === undefined) {
      counters.push(`${p}: pool missing`);
      continue;
    }
    if (JSON.stringify(obj.spec.addresses) !== JSON.stringify(POOLS[p].spellings[spelling[p]])) {
      counters.push(`${p}: spec.addresses ${JSON.stringify(obj.spec.addresses)}, the churn wrote ${JSON.stringify(POOLS[p].spellings[spelling[p]])}`);
    }
    const ips = new Set(svcs.filter((s) => s.metadata.annotations?.[ALLOCATED_ANN] === p).flatMap(ingressIPs));
    const v4 = [...ips].filter((ip) => !ip.includes(':')).length;
    const v6 = ips.size - v4;
    // available: berth's rule (src/pool/pool.ts rangeAutoCapacity, isReservedInCIDR): the addresses automatic
    // allocation may hand out (an IPv4 CIDR's network and broadcast address, an IPv6 CIDR's first, are not)
    // minus those of them in use. Recounted here from the spelling the churn last wrote.
    const eligible = autoEligible(POOLS[p].spellings[spelling[p]]);
    const usedEligible = (fam: 'v4' | 'v6'): number => [...ips].filter((ip) => ip.includes(':') === (fam === 'v6') && eligible.has(ipValue(ip))).length;
    const cap = (fam: 'v4' | 'v6'): number => [...eligible.values()].filter((f) => f === fam).length;
    const want = { assignedIPv4: v4, assignedIPv6: v6, availableIPv4: cap('v4') - usedEligible('v4'), availableIPv6: cap('v6') - usedEligible('v6') };
    const got = obj.status ?? {};
    for (const [key, w] of Object.entries(want)) if (Number(got[key]) !== w) counters.push(`${p}: status.${key} ${String(got[key])}, recount ${String(w)}`);
  }
  if (pools.some((x) => x.metadata.name === SPARE.name)) counters.push(`${SPARE.name}: pool still listed after its deletion`);

  // Announcements: FRR's BGP table (every BGP VIP with the three nodes' next hops, no other /32 or /128), ARP from the LAN client.
  const announcements: string[] = [];
  const bgpWant = new Map<string, string>();
  const l2Want = new Map<string, Node>();
  for (const [name, p] of live) {
    const ip = ingressIPs(byName.get(name) ?? { metadata: { name, uid: '' } })[0];
    if (ip === undefined) continue;
    if (p.pool === 'l2v4') l2Want.set(ip, [...NODES].sort((a, b) => Buffer.compare(electionHash(a, ip), electionHash(b, ip)))[0] ?? 'node1');
    else bgpWant.set(ip.includes(':') ? `${ip}/128` : `${ip}/32`, (ip.includes(':') ? NODES.map((n) => NODE_IP6[n]) : NODES.map((n) => NODE_IP[n])).sort().join(','));
  }
  const bgpGot = new Map<string, string>();
  for (const fam of c.v6 ? ['ipv4', 'ipv6'] : ['ipv4']) {
    const t = JSON.parse(await lab.vtysh(`show bgp ${fam} unicast json`)) as { routes?: Record<string, { nexthops?: { ip?: string; scope?: string }[] }[]> };
    for (const [prefix, paths] of Object.entries(t.routes ?? {})) {
      const hops = paths.flatMap((x) => (x.nexthops ?? []).filter((h) => h.scope !== 'link-local' && !(h.ip ?? '').startsWith('fe80')).map((h) => h.ip ?? '?'));
      bgpGot.set(prefix, [...new Set(hops)].sort().join(','));
    }
  }
  for (const [prefix, want] of bgpWant) if (bgpGot.get(prefix) !== want) announcements.push(`BGP ${prefix}: next hops ${bgpGot.get(prefix) ?? '(none)'}, want ${want}`);
  for (const [prefix, got] of bgpGot) if (!bgpWant.has(prefix)) announcements.push(`BGP ${prefix}: announced (${got}) but no Service holds it`);
  const macs = new Map<string, Node>();
  for (const n of NODES) {
    const link = JSON.parse((await lab.exec(n, ['ip', '-j', 'link', 'show', 'eth1'])).stdout) as { address?: string }[];
    macs.set((link[0]?.address ?? '?').toLowerCase(), n);
  }
  const l2 = [...l2Want];
  for (let i = 0; i < l2.length; i += 8) {
    await Promise.all(
      l2.slice(i, i + 8).map(async ([ip, owner]) => {
        const r = await lab.exec('client', ['arping', '-c', '2', '-w', '3', '-i', 'eth1', ip], { check: false, timeoutMs: 15_000 });
        const answers = arpingReplies(r.stdout).map((m) => macs.get(m) ?? `not a node (${m})`);
        // Two requests: exactly one answer to each, both from the owner.
        if (answers.length !== 2 || answers.some((a) => a !== owner)) announcements.push(`ARP ${ip}: answers from [${answers.join(', ')}], want ${owner} twice`);
      }),
    );
  }

  // BGP sessions: FRR has exactly one established session per node and family, and nothing else.
  const sessionProblems: string[] = [];
  const sum = JSON.parse(await lab.vtysh('show bgp summary json')) as Record<string, { peers?: Record<string, { state?: string }> }>;
  for (const [fam, ips] of [['ipv4Unicast', NODES.map((n) => NODE_IP[n])], ...(c.v6 ? [['ipv6Unicast', NODES.map((n) => NODE_IP6[n])] as const] : [])] as const) {
    const peers = sum[fam]?.peers ?? {};
    const est = Object.entries(peers).filter(([, p]) => p.state === 'Established').map(([a]) => a).sort();
    if (est.join() !== [...ips].sort().join()) sessionProblems.push(`FRR ${fam}: established peers ${est.join(',') || '(none)'}, want ${ips.join(',')}; all: ${Object.keys(peers).join(',')}`);
  }
  for (const n of NODES) {
    const ss = (await lab.exec(n, ['ss', '-Htn', 'state', 'established', '( dport = :179 )'])).stdout.trim();
    const count = ss === '' ? 0 : ss.split('\n').length;
    const want = c.v6 ? 2 : 1;
    if (count !== want) sessionProblems.push(`${n}: ${String(count)} established TCP sockets to port 179, want ${String(want)}`);
  }
  return { missing, duplicates, counters, announcements, sessionProblems };
}

/** The figures bench/chaos prints (and docs/chaos.md quotes). */
export function formatResult(r: ChaosResult): string {
  const list = (xs: readonly string[]): string => (xs.length === 0 ? '' : `\n${xs.slice(0, 20).map((x) => `      ${x}`).join('\n')}${xs.length > 20 ? `\n      ... ${String(xs.length - 20)} more` : ''}`);
  const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
  return [
    `seed                     ${String(r.seed)}`,
    `faults injected          ${String(Object.values(r.faults).reduce((a, b) => a + b, 0))}`,
    ...Object.entries(r.faults).sort().map(([k, v]) => `  ${k.padEnd(52)} ${String(v)}`),
    `Services at the end      ${String(r.services)} (churn: ${String(r.servicesCreated)} created, ${String(r.servicesDeleted)} deleted; ${String(r.poolEdits)} pool edits)`,
    `changes seen             ${String(r.changes.length)}${list(r.changes)}`,
    `duplicates               ${String(r.duplicates.length)}${list(r.duplicates)}`,
    `counter mismatches       ${String(r.counterMismatches.length)}${list(r.counterMismatches)}`,
    `announcement mismatches  ${String(r.announcementMismatches.length)}${list(r.announcementMismatches)}`,
    `leaks                    ${String(r.leaks.length)}${list(r.leaks)}`,
    `watch gaps (410 relists) ${String(r.watchGaps)}`,
    `RSS start -> end         ${Object.entries(r.rss).map(([k, v]) => `${k} ${mb(v.start)} -> ${mb(v.end)}`).join('; ')}`,
    `duration                 ${(r.durationMs / 1000).toFixed(0)} s (load average at start ${r.load.start}, at end ${r.load.end})`,
  ].join('\n');
}
