// Reconcile benchmark: N LoadBalancer Services (default 10,000) on the test/k8s harness API server.
//
//   berth   `berth controller` started as a process on N Services without IPs; the clock runs from
//           the spawn until a watch in this process has seen an IP on every Service (start-up, the
//           initial list, allocation, status writes and Events included).
//   anchor  then, a bare loop: the same N status writes berth makes (one merge PATCH on the status
//           subresource per Service: ingress IP + pool annotation, with the resourceVersion
//           precondition), through the same client (src/k8s/rest.ts), 16 at a time (the controller's
//           default worker count), on a second set of N Services (of another loadBalancerClass),
//           timed the same way (until the watch has seen every IP).
//
// Prints both times, berth's ratio to the anchor (target <= 1.3) and the controller's peak RSS (VmHWM,
// target < 300 MB). The API server is dual-stack with an IPv6 documentation /108 for cluster IPs (the
// harness's IPv4 /24 holds 254 Services); Services and pool are IPv6 (2001:db8::/32, RFC 3849).
//
// Run: node --import tsx bench/reconcile/run.ts [N]
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { silentLogger } from '../../src/log.ts';
import { createRest, loadConnection, type Rest } from '../../src/k8s/rest.ts';
import { Resources, collectionPath, objectPath } from '../../src/k8s/resources.ts';
import { createReflector, type KubeObject } from '../../src/k8s/watch.ts';
import { startApiServer, serviceClusterIpRange } from '../../test/k8s/harness/index.ts';
import { installCrds, repoRoot } from '../../test/k8s/helpers.ts';

const N = Number(process.argv[2] ?? 10_000);
const CONCURRENCY = 16;
const BARE_CLASS = 'bench.example/bare';

async function pool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        const item = items[i];
        if (item !== undefined) await fn(item);
      }
    }),
  );
}

interface Created {
  readonly name: string;
  readonly resourceVersion: string;
}

async function createServices(rest: Rest, ns: string, count: number, lbClass?: string): Promise<Created[]> {
  const out: Created[] = [];
  const names = Array.from({ length: count }, (_, i) => `s-${String(i)}`);
  await pool(names, 32, async (name) => {
    const svc = await rest.request<KubeObject>('POST', collectionPath(Resources.services, ns), {
      body: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns },
        spec: { type: 'LoadBalancer', ipFamilyPolicy: 'SingleStack', ipFamilies: ['IPv6'], allocateLoadBalancerNodePorts: false, ports: [{ port: 80 }], ...(lbClass === undefined ? {} : { loadBalancerClass: lbClass }) },
      },
    });
    out.push({ name, resourceVersion: svc.metadata?.resourceVersion ?? '' });
  });
  return out;
}

async function stopController(ctl: ReturnType<typeof spawn> | undefined): Promise<void> {
  if (ctl === undefined || ctl.exitCode !== null || ctl.signalCode !== null) return;
  ctl.kill('SIGTERM');
  await new Promise((r) => {
    const t = setTimeout(() => {
      ctl.kill('SIGKILL');
      r(undefined);
    }, 10_000);
    ctl.once('exit', () => {
      clearTimeout(t);
      r(undefined);
    });
  });
}

/** A watch on one namespace that resolves `all` once every one of its N Services has shown an IP. */
function watchUntilAll(rest: Rest, ns: string): { synced: Promise<void>; all: Promise<void>; count: () => number; stop: () => void } {
  const seen = new Set<string>();
  let done: () => void = () => undefined;
  const all = new Promise<void>((r) => (done = r));
  const r = createReflector<KubeObject & { status?: { loadBalancer?: { ingress?: unknown[] } } }>({
    rest,
    resource: Resources.services,
    namespace: ns,
    logger: silentLogger(),
    onEvent: (_type, key, obj) => {
      if (!seen.has(key) && (obj.status?.loadBalancer?.ingress?.length ?? 0) > 0) {
        seen.add(key);
        if (seen.size === N) done();
      }
    },
  });
  r.start();
  return { synced: r.synced, all, count: () => seen.size, stop: () => r.stop() };
}

function vmHWM(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${String(pid)}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

const fmt = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

async function main(): Promise<void> {
  process.stdout.write(`reconcile bench: N=${String(N)}, ${String(cpus().length)} CPUs, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`);
  const k = await startApiServer({ extraApiserverArgs: [`--service-cluster-ip-range=${serviceClusterIpRange},2001:db8:1::/108`] });
  const rest = createRest(await loadConnection({ kubeconfig: k.kubeconfigPath }), { maxSockets: 64 });
  let ctl: ReturnType<typeof spawn> | undefined;
  try {
    await installCrds(k);
    for (const ns of ['berth-system', 'metallb-system', 'bench', 'bare']) await k.kubectlOk(['create', 'namespace', ns]);
    await k.kubectlOk(['apply', '-f', '-'], {
      stdin: 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bench, namespace: metallb-system}\nspec: {addresses: ["2001:db8:2::/112"]}\n',
    });
    let t = Date.now();
    await createServices(rest, 'bench', N);
    process.stdout.write(`created ${String(N)} Services in ${fmt(Date.now() - t)}\n`);

    // berth: watch for IPs, start the controller.
    const watcher = watchUntilAll(rest, 'bench');
    await watcher.synced;
    t = Date.now();
    ctl = spawn(process.execPath, [join(repoRoot, 'bin/berth.mjs'), 'controller', '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', '0', '--log-level', process.env['BENCH_LOG'] === undefined ? 'info' : 'debug', '--identity', 'bench'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    // Milestones from the controller's log, relative to the spawn.
    const milestones = new Map<string, number>();
    let assignedCount = 0;
    let partial = '';
    ctl.stderr?.setEncoding('utf8').on('data', (c: string) => {
      stderr = (stderr + c).slice(process.env['BENCH_LOG'] === undefined ? -20_000 : -50_000_000);
      partial += c;
      const lines = partial.split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"IP assigned"')) {
          assignedCount++;
          if (assignedCount === 1) milestones.set('first IP assigned', Date.now() - t);
          if (assignedCount === N) milestones.set('last IP assigned', Date.now() - t);
        } else {
          for (const m of ['controller running', 'became leader', 'leading: allocator rebuilt from Service status']) if (line.includes(`"${m}"`)) milestones.set(m, Date.now() - t);
        }
      }
    });
    const pid = ctl.pid ?? 0;
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, vmHWM(pid));
      } catch {
        // exited
      }
    }, 200);
    const timeout = new Promise<void>((r) => setTimeout(r, 600_000).unref());
    await Promise.race([watcher.all, timeout]);
    const berthMs = Date.now() - t;
    const withIP = watcher.count();
    peak = Math.max(peak, vmHWM(pid));
    clearInterval(sampler);
    watcher.stop();
    if (withIP < N) throw new Error(`only ${String(withIP)} of ${String(N)} Services got an IP in 600 s; controller stderr:\n${stderr}`);
    process.stdout.write(`berth:  controller start -> all ${String(N)} Services have an IP: ${fmt(berthMs)} (${(N / (berthMs / 1000)).toFixed(0)}/s)\n`);
    if (process.env['BENCH_LOG'] !== undefined) (await import('node:fs')).writeFileSync(process.env['BENCH_LOG'], stderr);
    process.stdout.write(`  (${[...milestones].map(([m, ms]) => `${m} at ${fmt(ms)}`).join(', ')})\n`);
    // Stop the controller before the anchor runs (it would only ignore the foreign-class set, but it
    // would still spend CPU on its events), and create the anchor's Services only now, so that the
    // controller's initial list held just its own N.
    await stopController(ctl);
    t = Date.now();
    const bare = await createServices(rest, 'bare', N, BARE_CLASS);
    process.stdout.write(`created ${String(N)} Services for the anchor in ${fmt(Date.now() - t)}\n`);

    // Anchor: the bare loop, timed like berth: until a watch in this process has seen every IP.
    const bareWatch = watchUntilAll(rest, 'bare');
    await bareWatch.synced;
    t = Date.now();
    let i = 0;
    await pool(bare, CONCURRENCY, async (s) => {
      const n = i++;
      const ip = `2001:db8:3::${(n + 1).toString(16)}`;
      await rest.request('PATCH', `${objectPath(Resources.services, 'bare', s.name, 'status')}?fieldManager=berth-controller`, {
        // Same shape and size as berth's write; the annotation key differs (example.io/ vs metallb.io/,
        // same length) so that berth does not take these foreign-class Services for ones it used to own.
        body: { metadata: { annotations: { 'example.io/ip-allocated-from-pool': 'bench' }, resourceVersion: s.resourceVersion }, status: { loadBalancer: { ingress: [{ ip }] } } },
        contentType: 'application/merge-patch+json',
      });
    });
    await bareWatch.all;
    const bareMs = Date.now() - t;
    bareWatch.stop();
    process.stdout.write(`anchor: bare loop, ${String(N)} status writes, ${String(CONCURRENCY)} at a time: ${fmt(bareMs)} (${(N / (bareMs / 1000)).toFixed(0)}/s)\n`);

    process.stdout.write(`ratio berth / bare loop: ${(berthMs / bareMs).toFixed(2)}x (target <= 1.3x)\n`);
    process.stdout.write(`controller peak RSS (VmHWM): ${(peak / 1024 / 1024).toFixed(0)} MB (target < 300 MB)\n`);
  } finally {
    await stopController(ctl);
    rest.close();
    await k.stop();
  }
}

await main();
