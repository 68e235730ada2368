// Scale benchmark of the Kubernetes mode (issue 9 (b)): the real `berth controller` (root namespace)
// and `berth speaker --node-name node1` (node1 of the netns lab, prefix bksk by default) against the
// real kube-apiserver + etcd of test/k8s/harness, with N LoadBalancer Services (and one EndpointSlice
// each, an endpoint on node1) in one MetalLB BGP pool, announced to the lab router's FRR (static
// passive neighbour, `timers 3 9`). For each size, on a fresh API server (nothing is cached between
// sizes or runs; the harness picks free ports and a new temp dir, removed at the end):
//   1. create the Services and EndpointSlices through the API (bounded concurrency): its time alone;
//   2. start the controller and the speaker together: spawn -> all N IPs in Service status (a watch
//      in the bench), spawn -> all N prefixes at FRR (`show bgp summary json`);
//   3. steady state for --minutes, one API change every --change-every-ms (rotating add: Service +
//      EndpointSlice created, delete: Service and slice deleted, move: the Service's pool annotation
//      and pinned IP patched to pool `alt`; bench/scale/churn.ts), each timed from the API call
//      returning to the router's RIB showing it; session resets, the largest gap between BGP messages
//      from node1 (capture), RSS of both processes every second, the speaker's stall counters;
//   4. the anchor, with both berth processes stopped: a bare API-server loop (list every Service, then
//      write a status IP into each, as many writes in flight as the controller's workers, no planning):
//      the floor the controller's own spawn -> all-in-status cannot beat. Printed with the ratio.
//
//   node --import tsx bench/scale/k8s.ts [--services 10000,100000] [--minutes 2] [--change-every-ms 1000]
//        [--concurrency 32] [--json FILE] [--prefix bksk] [--from-source] [--ipaddress-allocator]
//   (root; FRR, tcpdump, the Kubernetes binaries of scripts/provision-k8s.sh; `npm run build` first)
//
// The API server's ClusterIP allocator: kube-apiserver 1.36's IPAddress allocator (MultiCIDRServiceAllocator,
// locked on since 1.34) refreshes its allocated/available gauges after every allocation by listing every
// IPAddress object and matching labels (pkg/registry/core/service/ipallocator/ipallocator.go,
// createIPAddress -> Used(), Free() in kubernetes v1.36.3): each Service create costs O(Services) of the
// API server's CPU. Measured here: 380 creates/s empty, 110/s on average over 15,000, ~40/s near 20,000
// (30,000 Services took 30 min). So by default the bench's API server emulates 1.33 with that gate off,
// where the bitmap allocator is still the one in use: 534 creates/s flat over 40,000. Only object creation
// is affected (berth never creates Services; status writes, lists and watches do not allocate); the anchor
// runs on the same API server. `--ipaddress-allocator` keeps the stock 1.36 allocator.
//
// Cluster IPs: every LoadBalancer Service needs one, so the API server's --service-cluster-ip-range is
// 198.18.0.0/15 (RFC 2544), the same range the pools are carved from: cluster IPs are only stored here
// (no kube-proxy, nothing routes or answers them), and 100,000 do not fit a documentation /24.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { Server } from 'node:net';
import { distIsFresh } from '../../scripts/build-dist.mjs';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import { NODE_ASN, ROOT, ROUTER, sleep } from '../common/bgp-senders.ts';
import { flagValue } from '../common/args.ts';
import { startApiServer, type ApiServer } from '../../test/k8s/harness/index.ts';
import { spawnNsRelay, unixToApi } from '../../test/k8s/api-relay.ts';
import { startBerth, type BerthProcess } from '../../test/k8s/berth-process.ts';
import { createRest, loadConnection, isNotFound, PatchType, type Rest } from '../../src/k8s/rest.ts';
import { createReflector, type KubeObject } from '../../src/k8s/watch.ts';
import { Resources } from '../../src/k8s/resources.ts';
import { silentLogger } from '../../src/log.ts';
import { configYaml, serviceName } from './manifests.ts';
import { Churn, MAIN_SIZE, POOLS, mainIP, type Change } from './churn.ts';
import { HOLD, RssSampler, exited, mb, metricsOf, mib, quantile, runSizes, steadyState, type RouterView, type RssSample, type SteadyResult } from './steady.ts';

const NS = 'scale';
const CLUSTER_IP_RANGE = '198.18.0.0/15';
const SPEAKER_HEALTH_PORT = 17481;
const CONTROLLER_WORKERS = 16; // the controller's default (src/k8s/controller.ts)
const CONVERGE_TIMEOUT_MS = 3_600_000;
/** kube-apiserver emulating 1.33 with the bitmap ClusterIP allocator (see the comment at the top). */
const BITMAP_ALLOCATOR_ARGS = ['--emulated-version=1.33', '--feature-gates=MultiCIDRServiceAllocator=false'];

interface Args {
  readonly services: readonly number[];
  readonly minutes: number;
  readonly changeEveryMs: number;
  readonly concurrency: number;
  readonly json: string;
  readonly prefix: string;
  readonly fromSource: boolean;
  readonly ipaddressAllocator: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (k: string): string | undefined => flagValue(argv, k);
  const services = (get('services') ?? '10000,100000').split(',').map(Number);
  if (services.some((n) => !Number.isInteger(n) || n < 1 || n > MAIN_SIZE - 4096)) throw new Error(`--services: positive integers up to ${MAIN_SIZE - 4096} (the adds of the churn take the rest of pool scale), got ${get('services') ?? ''}`);
  const minutes = Number(get('minutes') ?? 2);
  const changeEveryMs = Number(get('change-every-ms') ?? 1000);
  const concurrency = Number(get('concurrency') ?? 32);
  if (!(minutes > 0) || !(changeEveryMs >= 50) || !(concurrency >= 1 && concurrency <= 256)) throw new Error('--minutes > 0, --change-every-ms >= 50, --concurrency 1-256');
  const prefix = get('prefix') ?? 'bksk';
  if (!/^[a-z][a-z0-9]{1,5}$/.test(prefix)) throw new Error(`--prefix: 2-6 lower-case letters or digits, got ${prefix}`);
  return {
    services,
    minutes,
    changeEveryMs,
    concurrency,
    prefix,
    json: get('json') ?? `scale-k8s-results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    fromSource: argv.includes('--from-source'),
    ipaddressAllocator: argv.includes('--ipaddress-allocator'),
  };
}

const load = (): readonly number[] => loadavg().map((x) => Math.round(x * 100) / 100);
const ms = (x: number): string => `${(x / 1000).toFixed(1)} s`;

// ------------------------------------------------------------------------------------------ objects

function serviceBody(i: number, ip: string, pool?: string): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: serviceName(i), namespace: NS, annotations: { 'metallb.io/loadBalancerIPs': ip, ...(pool === undefined ? {} : { 'metallb.io/address-pool': pool }) } },
    spec: { type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

function sliceBody(i: number, node: LabHost): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${serviceName(i)}-1`, namespace: NS, labels: { 'kubernetes.io/service-name': serviceName(i) } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [node.ipv4], nodeName: node.name, conditions: { ready: true } }],
    ports: [{ port: 8080, protocol: 'TCP' }],
  };
}

const servicePath = (i?: number): string => `/api/v1/namespaces/${NS}/services${i === undefined ? '' : `/${serviceName(i)}`}`;
const slicePath = (i?: number): string => `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices${i === undefined ? '' : `/${serviceName(i)}-1`}`;

/** Runs `work(0..count-1)` with at most `limit` in flight. */
async function bounded(count: number, limit: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await work(next++);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

/** The cluster's objects: namespaces, CRDs, pools (`scale`, `alt`), advertisement, peer, node1 (Ready). */
async function setUp(k: ApiServer, node: LabHost): Promise<void> {
  await k.kubectlOk(['apply', '-f', join(ROOT, 'deploy/crds')]);
  await k.kubectlOk(['wait', '--for=condition=Established', '--timeout=120s', 'crd', '-l', 'app.kubernetes.io/part-of=berth']);
  for (const ns of ['berth-system', 'metallb-system', NS]) await k.kubectlOk(['create', 'namespace', ns]);
  const cfg = configYaml({ services: 0, nodes: [], peer: { address: ROUTER.ipv4, asn: ROUTER.asn }, myASN: NODE_ASN, pool: POOLS.scale, extraPools: { alt: POOLS.alt } });
  await k.kubectlOk(['apply', '-f', '-'], { stdin: cfg, timeoutMs: 120_000 });
  await k.kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: node.name, labels: { 'kubernetes.io/hostname': node.name } } }) });
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  await k.kubectlOk(['patch', 'node', node.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: node.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
}

// --------------------------------------------------------------------------------------- status watch

/** The bench's own watch on the Services: how many carry their pinned IP in status. */
class StatusWatch {
  readonly #want = new Map<string, string>();
  readonly #ok = new Set<string>();
  readonly #reflector;
  constructor(rest: Rest) {
    this.#reflector = createReflector<KubeObject & { status?: { loadBalancer?: { ingress?: readonly { ip?: string }[] } } }>({
      rest,
      resource: Resources.services,
      namespace: NS,
      logger: silentLogger(),
      // Only what the count needs is kept.
      transform: (o) => ({ metadata: { name: o.metadata?.name ?? '', namespace: NS, ...(o.metadata?.resourceVersion === undefined ? {} : { resourceVersion: o.metadata.resourceVersion }) }, ...(o.status === undefined ? {} : { status: o.status }) }),
      onEvent: (type, key, obj) => {
        const ip = obj.status?.loadBalancer?.ingress?.[0]?.ip;
        if (type !== 'DELETED' && ip !== undefined && ip === this.#want.get(key)) this.#ok.add(key);
        else this.#ok.delete(key);
      },
    });
  }
  expect(i: number, ip: string): void {
    this.#want.set(`${NS}/${serviceName(i)}`, ip);
  }
  start(): void {
    this.#reflector.start();
  }
  get count(): number {
    return this.#ok.size;
  }
  stop(): void {
    this.#reflector.stop();
  }
}

// ---------------------------------------------------------------------------------------- processes

function startSpeaker(lab: Lab, node: LabHost, k: ApiServer, fromSource: boolean): SpawnedProcess {
  const argv = [process.execPath, 'bin/berth.mjs', 'speaker', '--node-name', node.name, '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', String(SPEAKER_HEALTH_PORT), '--log-level', 'warn'];
  return lab.spawn(node, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, BERTH_RESTART_STATE: `${lab.workDir}/speaker-restart.json`, ...(fromSource ? { BERTH_FROM_SOURCE: '1' } : {}) } });
}

function startController(k: ApiServer, fromSource: boolean): BerthProcess {
  return startBerth(['controller', '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', '0', '--log-level', 'warn', '--identity', 'bench'], { env: fromSource ? { BERTH_FROM_SOURCE: '1' } : {} });
}

const controllerDead = (c: BerthProcess): string | undefined => (c.child.exitCode !== null || c.child.signalCode !== null ? `controller exited (${String(c.child.exitCode ?? c.child.signalCode)}): ${c.stderr().slice(-2000)}` : undefined);

// ------------------------------------------------------------------------------------------- anchor

interface AnchorResult {
  readonly listMs: number;
  readonly writeMs: number;
  readonly totalMs: number;
  readonly services: number;
}

/**
 * The bare API-server loop: list every Service of the namespace (pages of 500, as berth's reflector
 * lists), then merge-patch a status IP into each with CONTROLLER_WORKERS writes in flight. Each
 * written IP (198.51.100.0/24, outside both pools) differs from the one in status, so every write is a
 * real write. No planning at all.
 */
async function bareLoop(rest: Rest): Promise<AnchorResult> {
  const t0 = performance.now();
  const names: string[] = [];
  let cont: string | undefined;
  do {
    const page = await rest.request<{ items: KubeObject[]; metadata?: { continue?: string } }>('GET', `${servicePath()}?limit=500${cont === undefined ? '' : `&continue=${encodeURIComponent(cont)}`}`, { timeoutMs: 120_000 });
    for (const o of page.items) names.push(o.metadata?.name ?? '');
    cont = page.metadata?.continue;
  } while (cont !== undefined && cont !== '');
  const t1 = performance.now();
  await bounded(names.length, CONTROLLER_WORKERS, async (j) => {
    const ip = `198.51.100.${String(j % 256)}`;
    await rest.request('PATCH', `${servicePath()}/${names[j] ?? ''}/status`, { body: { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } }, contentType: PatchType.Merge });
  });
  const t2 = performance.now();
  return { listMs: t1 - t0, writeMs: t2 - t1, totalMs: t2 - t0, services: names.length };
}

// --------------------------------------------------------------------------------------------- size

interface SizeResult {
  readonly services: number;
  readonly loadBefore: readonly number[];
  readonly loadAfterCreate: readonly number[];
  readonly loadAfter: readonly number[];
  readonly createMs: number;
  readonly startToAllStatusMs: number;
  readonly startToEstablishedMs: number;
  readonly startToAllPrefixesMs: number;
  readonly steady: SteadyResult;
  readonly rss: { readonly controller: readonly RssSample[]; readonly controllerPeakKiB: number | undefined; readonly speaker: readonly RssSample[]; readonly speakerPeakKiB: number | undefined };
  readonly speakerMetrics: Record<string, number>;
  readonly anchor: AnchorResult;
}

async function runSize(lab: Lab, node: LabHost, rv: RouterView, n: number, a: Args): Promise<SizeResult> {
  const loadBefore = load();
  const k = await startApiServer({
    serviceClusterIpRange: CLUSTER_IP_RANGE,
    // etcd's default 2 GiB backend quota is too small for 100,000 Services, slices and status objects.
    extraEtcdArgs: ['--quota-backend-bytes=8589934592'],
    extraApiserverArgs: a.ipaddressAllocator ? [] : BITMAP_ALLOCATOR_ARGS,
  });
  let relay: Server | undefined;
  let nsRelay: SpawnedProcess | undefined;
  let ctl: BerthProcess | undefined;
  let speaker: SpawnedProcess | undefined;
  const samplers: RssSampler[] = [];
  const rest = createRest(await loadConnection({ kubeconfig: k.kubeconfigPath }), { maxSockets: a.concurrency });
  const watch = new StatusWatch(rest);
  try {
    console.log(`  API server ${k.url} (etcd ${k.etcdUrl}, dir ${k.dir})`);
    await setUp(k, node);
    const churn = new Churn(n);
    const c0 = performance.now();
    await bounded(n, a.concurrency, async (i) => {
      await rest.request('POST', servicePath(), { body: serviceBody(i, mainIP(i)) });
      await rest.request('POST', slicePath(), { body: sliceBody(i, node) });
    });
    const createMs = performance.now() - c0;
    const loadAfterCreate = load();
    console.log(`  created ${n} Services and ${n} EndpointSlices in ${ms(createMs)} (${a.concurrency} in flight; load ${loadAfterCreate.join(' ')})`);
    for (let i = 0; i < n; i++) watch.expect(i, mainIP(i));
    watch.start();

    const sock = join(k.dir, 'api.sock');
    relay = await unixToApi(sock, k.port);
    nsRelay = spawnNsRelay(lab, node, k.port, sock);
    await until('the in-namespace API relay listens', async () => (await lab.exec(node, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes(`127.0.0.1:${String(k.port)}`), 10_000);

    const t0 = performance.now();
    ctl = startController(k, a.fromSource);
    speaker = startSpeaker(lab, node, k, a.fromSource);
    const sp = speaker;
    const c = ctl;
    samplers.push(new RssSampler(c.pid, t0), new RssSampler(sp.pid, t0));
    const dead = (): string | undefined => controllerDead(c) ?? exited(sp);
    const statusP = (async () => {
      const deadline = t0 + CONVERGE_TIMEOUT_MS;
      while (watch.count < n) {
        const d = dead();
        if (d !== undefined) throw new Error(d);
        if (performance.now() > deadline) throw new Error(`IPs in status: timed out with ${watch.count}/${n}`);
        await sleep(20);
      }
      return performance.now() - t0;
    })();
    const routerP = rv.converge(n, 'berth speaker (Kubernetes mode)', dead);
    const [startToAllStatusMs, conv] = await Promise.all([statusP, routerP]);
    const startToEstablishedMs = conv.establishedAt - t0;
    const startToAllPrefixesMs = conv.allAt - t0;
    console.log(`  controller + speaker start -> all ${n} IPs in status ${ms(startToAllStatusMs)}; -> Established ${ms(startToEstablishedMs)}; -> all ${n} prefixes at FRR ${ms(startToAllPrefixesMs)}`);
    console.log(`  steady state: ${a.minutes} min, a change every ${a.changeEveryMs} ms`);
    const steady = await steadyState(lab, rv, {
      minutes: a.minutes,
      changeEveryMs: a.changeEveryMs,
      next: () => churn.next(),
      apply: (ch) => applyChange(rest, node, ch),
      dead,
    });
    const speakerMetrics = await metricsOf(lab, node, SPEAKER_HEALTH_PORT);
    const [cs, ss] = samplers;
    const rss = { controller: cs?.samples ?? [], controllerPeakKiB: await cs?.peakKiB(), speaker: ss?.samples ?? [], speakerPeakKiB: await ss?.peakKiB() };
    for (const s of samplers) s.stop();
    await c.stop(10_000);
    await sp.kill(10_000);
    // The anchor runs alone: nothing else writes or watches-and-plans meanwhile.
    const anchor = await bareLoop(rest);
    console.log(`  anchor (bare list + status writes, ${CONTROLLER_WORKERS} in flight): ${anchor.services} Services listed in ${ms(anchor.listMs)}, statuses written in ${ms(anchor.writeMs)}`);
    return { services: n, loadBefore, loadAfterCreate, loadAfter: load(), createMs, startToAllStatusMs, startToEstablishedMs, startToAllPrefixesMs, steady, rss, speakerMetrics, anchor };
  } finally {
    for (const s of samplers) s.stop();
    watch.stop();
    await ctl?.stop(10_000);
    if (speaker !== undefined) {
      await speaker.kill(10_000);
      await writeFile(`${a.json}.speaker-${n}.log`, speaker.output().stderr).catch(() => undefined);
    }
    if (ctl !== undefined) await writeFile(`${a.json}.controller-${n}.log`, ctl.stderr().slice(-262_144)).catch(() => undefined);
    await nsRelay?.kill(1000);
    relay?.close();
    rest.close();
    await k.stop();
  }
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await probe())) {
    if (performance.now() > deadline) throw new Error(`${what}: timed out`);
    await sleep(100);
  }
}

/** One churn step through the API: add (Service + slice), delete (both), move (pool and pinned IP). */
async function applyChange(rest: Rest, node: LabHost, c: Change): Promise<void> {
  const i = c.service;
  const to = c.present[0]?.replace('/32', '');
  if (c.kind === 'add') {
    await rest.request('POST', servicePath(), { body: serviceBody(i, to ?? mainIP(i)) });
    await rest.request('POST', slicePath(), { body: sliceBody(i, node) });
  } else if (c.kind === 'delete') {
    await rest.request('DELETE', servicePath(i));
    await rest.request('DELETE', slicePath(i)).catch((e: unknown) => {
      if (!isNotFound(e)) throw e;
    });
  } else {
    await rest.request('PATCH', servicePath(i), { body: { metadata: { annotations: { 'metallb.io/address-pool': 'alt', 'metallb.io/loadBalancerIPs': to } } }, contentType: PatchType.Merge });
  }
}

// ------------------------------------------------------------------------------------------- report

function report(r: SizeResult): string[] {
  const lines: string[] = [];
  const row = (k: string, v: string): number => lines.push(`  ${k.padEnd(50)} ${v}`);
  lines.push(`${r.services} Services, Kubernetes mode (load average before ${r.loadBefore.join(' ')}, after creating ${r.loadAfterCreate.join(' ')}, at the end ${r.loadAfter.join(' ')})`);
  row('creating Services + EndpointSlices (API)', ms(r.createMs));
  row('controller + speaker start -> all IPs in status', ms(r.startToAllStatusMs));
  row('anchor: bare list + status writes', `${ms(r.anchor.totalMs)} (list ${ms(r.anchor.listMs)}, writes ${ms(r.anchor.writeMs)}); berth / anchor ${(r.startToAllStatusMs / r.anchor.totalMs).toFixed(2)}x`);
  row('start -> Established at FRR', ms(r.startToEstablishedMs));
  row('start -> all prefixes at FRR', ms(r.startToAllPrefixesMs));
  const s = r.steady;
  const seen = s.changes.filter((c) => c.ms !== undefined).map((c) => c.ms ?? NaN);
  row('steady state', `${s.seconds.toFixed(0)} s, ${s.changes.length} changes, ${s.unseen} never seen at the router`);
  const unseen = s.changes.filter((c) => c.ms === undefined);
  if (unseen.length > 0) row('  never seen (first 3)', unseen.slice(0, 3).map((c) => `${c.kind} ${c.service}: ${(c.wrong ?? []).join(' ')}`).join('; '));
  row('session resets (connectionsDropped delta)', `${s.resets.connectionsDroppedDelta} (established delta ${s.resets.connectionsEstablishedDelta}, state ${s.resets.finalState})`);
  row('largest gap between BGP segments (capture)', `${s.capture.largestGapS.toFixed(3)} s at +${s.capture.atS.toFixed(1)} s (${s.capture.segments} segments; hold ${(s.negotiated.holdMs ?? NaN) / 1000} s)`);
  row('largest bgpTimerLastRead at FRR (500 ms polls)', `${(s.routerLastReadMaxMs / 1000).toFixed(3)} s`);
  row('change (API call returned) -> router RIB p50 / p99 / max', `${quantile(seen, 0.5).toFixed(0)} / ${quantile(seen, 0.99).toFixed(0)} / ${Math.max(...seen).toFixed(0)} ms`);
  for (const kind of ['add', 'delete', 'move'] as const) {
    const xs = s.changes.filter((c) => c.kind === kind && c.ms !== undefined).map((c) => c.ms ?? NaN);
    row(`  ${kind} (${xs.length})`, `p50 ${quantile(xs, 0.5).toFixed(0)} ms, p99 ${quantile(xs, 0.99).toFixed(0)} ms`);
  }
  for (const [who, samples, peak] of [['controller', r.rss.controller, r.rss.controllerPeakKiB], ['speaker', r.rss.speaker, r.rss.speakerPeakKiB]] as const) {
    const kib = samples.map((x) => x.kiB);
    row(`${who} RSS MiB min / max / last, peak (VmHWM)`, `${mib(Math.min(...kib))} / ${mib(Math.max(...kib))} / ${mib(kib.at(-1))}, ${mib(peak)}`);
    const every = Math.max(1, Math.round(samples.length / 12));
    row(`  ${who} RSS over time (s: MiB)`, samples.filter((_, i) => i % every === 0).map((x) => `${x.s.toFixed(0)}: ${mib(x.kiB)}`).join(', '));
  }
  const m = r.speakerMetrics;
  row('speaker /metrics stalls (>100 ms), lost', `${m['berth_event_loop_stalls_total'] ?? '?'}, ${(m['berth_event_loop_stall_seconds_total'] ?? NaN).toFixed(3)} s`);
  row('speaker loop delay p50 / p99 / max', ['0.5', '0.99', '1'].map((q) => `${((m[`berth_event_loop_delay_seconds{quantile="${q}"}`] ?? NaN) * 1000).toFixed(0)} ms`).join(' / '));
  const targets = [
    ['zero session resets', s.resets.connectionsDroppedDelta === 0 && s.resets.connectionsEstablishedDelta === 0 && s.resets.finalState === 'Established'],
    ['largest gap < hold time 9 s', s.capture.largestGapS < HOLD.hold],
    ...(r.services >= 100_000 ? [['controller RSS < 400 MB (VmHWM)', mb(r.rss.controllerPeakKiB) < 400]] : []),
  ] as const;
  lines.push(`  targets: ${targets.map(([t, ok]) => `${t}: ${ok ? 'met' : 'MISSED'}`).join('; ')}`);
  return lines;
}

// --------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!a.fromSource && !distIsFresh()) throw new Error('dist/ is missing or older than src/: run `npm run build` first (or pass --from-source)');
  const budgetMs = a.services.length * (a.minutes * 60_000 + 60 * 60_000);
  console.log(`berth scale benchmark, Kubernetes mode ${new Date().toISOString()}: sizes ${a.services.join(', ')}; ${a.minutes} min steady state, a change every ${a.changeEveryMs} ms; ${a.concurrency} creates in flight; product ${a.fromSource ? 'sources through tsx' : 'compiled dist/'}; API server ${a.ipaddressAllocator ? '1.36 (IPAddress ClusterIP allocator)' : `1.36 ${BITMAP_ALLOCATOR_ARGS.join(' ')}`}; budget ${(budgetMs / 60_000).toFixed(0)} min`);
  await runSizes({
    prefix: a.prefix,
    sizes: a.services,
    budgetMs,
    json: a.json,
    args: a,
    runSize: async (lab, node, rv, n) => {
      await rv.idle();
      return runSize(lab, node, rv, n, a);
    },
    report,
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
