// Restart safety and leader election of `berth controller` against a real API server:
// - 1,000 Services allocated; the controller is killed (SIGKILL: no Lease release) while 20 more Services
//   are created; a new controller takes over after the Lease expires, replays every status IP before
//   allocating, and changes no IP; the 20 newcomers get IPs nobody else holds;
// - two controllers run, only the Lease holder writes; SIGTERM on the leader releases the Lease and the
//   standby takes over (the Lease holder changes to it, positively observed).
// Each test starts the controllers it needs and stops them (SIGTERM, Lease released) at its end, and
// uses its own namespace, so either passes alone and in any order.
//
// The harness's /24 of IPv4 cluster IPs cannot hold 1,000 Services, so this API server is dual-stack with
// an IPv6 documentation /112 for cluster IPs, the Services are IPv6 single-stack, and the pool is an IPv6
// documentation range too (RFC 3849).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serviceClusterIpRange } from './harness/index.ts';
import { apiServerForFile, field, getJson, installCrds, isObject, type Json, type JsonObject } from './helpers.ts';
import { createServer } from 'node:net';
import { eventually, startController, type BerthProcess } from './berth-process.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

const N = 1000;
const LATE = 20;
const procs: BerthProcess[] = [];
/** The controller workers (src/k8s/controller.ts default): markers behind the queue, one per worker. */
const WORKERS = 16;
const api = apiServerForFile({
  start: { extraApiserverArgs: [`--service-cluster-ip-range=${serviceClusterIpRange},2001:db8:1::/112`] },
  setup: async (k) => {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    for (const ns of ['many', 'pair']) await k.kubectlOk(['create', 'namespace', ns]);
    await k.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bench, namespace: metallb-system}
spec: {addresses: ['2001:db8:2::/116']}
`,
    });
  },
  beforeStop: async () => {
    for (const p of procs) await p.kill();
  },
});

function services(prefix: string, from: number, count: number, namespace = 'many'): string {
  const docs: string[] = [];
  for (let i = from; i < from + count; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${prefix}-${String(i)}, namespace: ${namespace}}
spec: {type: LoadBalancer, ipFamilyPolicy: SingleStack, ipFamilies: [IPv6], allocateLoadBalancerNodePorts: false, ports: [{port: 80}]}`);
  }
  return docs.join('\n---\n');
}

/** name -> IPs (joined) of every Service in `namespace`. */
async function ipsByName(namespace = 'many'): Promise<Map<string, string>> {
  const list = await getJson(api(), ['services', '-n', namespace]);
  const out = new Map<string, string>();
  for (const s of (list['items'] ?? []) as readonly Json[]) {
    if (!isObject(s)) continue;
    const ingress = field(s, 'status', 'loadBalancer', 'ingress');
    const ips = Array.isArray(ingress) ? (ingress as readonly Json[]).map((i) => String(field(i, 'ip') ?? '')).join(',') : '';
    out.set(String(field(s, 'metadata', 'name')), ips);
  }
  return out;
}

async function allAssigned(count: number, namespace = 'many'): Promise<Map<string, string>> {
  return eventually(
    `${String(count)} Services with an IP in ${namespace}`,
    async () => {
      const m = await ipsByName(namespace);
      const n = [...m.values()].filter((v) => v !== '').length;
      return n === count ? m : undefined;
    },
    180_000,
    1_000,
  );
}

async function leaseHolder(): Promise<string | undefined> {
  const l = await getJson(api(), ['lease', 'berth-controller', '-n', 'berth-system']);
  const h = field(l, 'spec', 'holderIdentity');
  return typeof h === 'string' && h !== '' ? h : undefined;
}

const assigned = (p: BerthProcess): JsonObject[] => p.logged('IP assigned');

/** Stops (SIGTERM: the Lease is released) every controller a test started, so the next test starts clean. */
async function stopAll(started: readonly BerthProcess[]): Promise<void> {
  for (const p of started) if (p.child.exitCode === null && p.child.signalCode === null) await p.stop();
}

test(`restart safety: ${String(N)} Services, controller killed and replaced, zero IPs changed`, { timeout: 600_000 }, async (t) => {
  const k8s = api();
  const started: BerthProcess[] = [];
  t.after(() => stopAll(started));
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('svc', 0, N), timeoutMs: 300_000 });
  const a = startController(k8s, ['--identity', 'ctl-a']);
  procs.push(a);
  started.push(a);
  const first = await allAssigned(N);
  const ips = [...first.values()];
  assert.equal(new Set(ips).size, N, 'every Service has its own IP');
  assert.equal(assigned(a).length, N, 'controller A assigned each once');

  // Crash: no graceful stop, the Lease stays held until it expires.
  await a.kill();
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('late', 0, LATE) });
  // Status IPs B must replay: these 1,000 and any the other test left in its namespace.
  const elsewhere = [...(await ipsByName('pair')).values()].filter((v) => v !== '').length;
  const b = startController(k8s, ['--identity', 'ctl-b']);
  procs.push(b);
  started.push(b);
  const after = await allAssigned(N + LATE);
  for (const [name, ip] of first) assert.equal(after.get(name), ip, `${name} kept its IP`);
  const lateIPs = [...after].filter(([n]) => n.startsWith('late-')).map(([, ip]) => ip);
  assert.equal(new Set([...ips, ...lateIPs]).size, N + LATE, 'newcomers took IPs nobody holds');
  const rebuilt = await eventually('B rebuilt its allocator', async () => b.logged('leading: allocator rebuilt from Service status')[0]);
  assert.equal(rebuilt['restored'], N + elsewhere, 'all status IPs replayed');
  assert.equal(rebuilt['notRestored'], 0);
  // B must not re-assign any of the first 1,000. Positive signal that B went over them: marker Services
  // created now queue behind every key B enqueued on taking over; once B has assigned all of them (one per
  // worker), the keys before them have been reconciled.
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('marker', 0, WORKERS) });
  await eventually('B assigned every marker', async () => (assigned(b).filter((l) => String(l['service']).startsWith('many/marker-')).length === WORKERS ? true : undefined), 120_000);
  const reassigned = assigned(b).map((l) => String(l['service'])).filter((s) => s.startsWith('many/svc-'));
  assert.deepEqual(reassigned, [], 'B assigned no IP to an already allocated Service');
  assert.equal(assigned(b).length, LATE + WORKERS, 'B assigned exactly the newcomers and the markers');
  const now = await ipsByName();
  for (const [name, ip] of after) assert.equal(now.get(name), ip, `${name}: nothing moved afterwards either`);
});

test('two controllers: only the Lease holder writes; SIGTERM hands over to the standby', { timeout: 300_000 }, async (t) => {
  const k8s = api();
  const started: BerthProcess[] = [];
  t.after(() => stopAll(started));
  const b = startController(k8s, ['--identity', 'ctl-b2']);
  procs.push(b);
  started.push(b);
  // It leads once any Lease a previous controller left behind has expired (a positive wait, no sleep).
  await eventually('ctl-b2 holds the Lease', async () => ((await leaseHolder()) === 'ctl-b2' ? true : undefined), 60_000, 200);
  const healthPort = await freePort();
  const c = startController(k8s, ['--identity', 'ctl-c', '--health-port', String(healthPort)]);
  procs.push(c);
  started.push(c);
  await eventually('C has synced its caches and tried the Lease', async () => (c.logged('controller running').length > 0 ? true : undefined));
  // A standby is healthy and ready (caches listed) while not leading.
  const probe = async (path: string): Promise<number> => (await fetch(`http://127.0.0.1:${String(healthPort)}${path}`)).status;
  await eventually('C /readyz 200', async () => ((await probe('/readyz').catch(() => 0)) === 200 ? true : undefined));
  assert.equal(await probe('/healthz'), 200);
  assert.equal(await probe('/nope'), 404);
  const metrics = async (): Promise<string> => {
    const r = await fetch(`http://127.0.0.1:${String(healthPort)}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return r.text();
  };
  // /metrics of a standby: ready, not leading, nothing written.
  const standby = await metrics();
  for (const line of ['berth_controller_leader 0', 'berth_controller_ready 1', 'berth_controller_allocations_total 0', 'berth_controller_service_status_writes_total 0']) {
    assert.ok(standby.split('\n').includes(line), `standby /metrics has "${line}":\n${standby}`);
  }
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('two', 0, 10, 'pair') });
  await allAssigned(10, 'pair');
  assert.equal(assigned(c).length, 0, 'the standby wrote nothing');
  assert.equal(c.logged('became leader').length, 0);
  assert.equal(assigned(b).filter((l) => String(l['service']).startsWith('pair/two-')).length, 10, 'the leader assigned them');

  // Graceful stop of the leader: the Lease is released (holder cleared) and C takes over.
  assert.equal(await b.stop(), 0, 'leader exits 0 on SIGTERM');
  const released = await getJson(k8s, ['lease', 'berth-controller', '-n', 'berth-system']);
  const holderAfterStop = field(released, 'spec', 'holderIdentity');
  assert.ok(holderAfterStop === undefined || holderAfterStop === 'ctl-c', `holder cleared on release, got ${String(holderAfterStop)}`);
  await eventually('C holds the Lease', async () => ((await leaseHolder()) === 'ctl-c' ? true : undefined), 30_000, 100);
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('after', 0, 1, 'pair') });
  await allAssigned(11, 'pair');
  assert.equal(assigned(c).length, 1, 'the new leader assigned the new Service, and only it');
  // /metrics of the new leader: leading, and its allocations counted (at least the new Service's).
  const leader = await metrics();
  assert.ok(leader.split('\n').includes('berth_controller_leader 1'), leader);
  assert.match(leader, /^berth_controller_allocations_total [1-9]\d*$/m, leader);
});
