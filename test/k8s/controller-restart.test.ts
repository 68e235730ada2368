// Restart safety and leader election of `berth controller` against a real API server:
// - 1,000 Services allocated; the controller is killed (SIGKILL: no Lease release) while 20 more Services
//   are created; a new controller takes over after the Lease expires, replays every status IP before
//   allocating, and changes no IP; the 20 newcomers get IPs nobody else holds;
// - two controllers run, only the Lease holder writes; SIGTERM on the leader releases the Lease and the
//   standby takes over within a retry period, not a lease duration.
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
let leaderB: BerthProcess | undefined;
const api = apiServerForFile({
  start: { extraApiserverArgs: [`--service-cluster-ip-range=${serviceClusterIpRange},2001:db8:1::/112`] },
  setup: async (k) => {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    await k.kubectlOk(['create', 'namespace', 'many']);
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

function services(prefix: string, from: number, count: number): string {
  const docs: string[] = [];
  for (let i = from; i < from + count; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: {name: ${prefix}-${String(i)}, namespace: many}
spec: {type: LoadBalancer, ipFamilyPolicy: SingleStack, ipFamilies: [IPv6], allocateLoadBalancerNodePorts: false, ports: [{port: 80}]}`);
  }
  return docs.join('\n---\n');
}

/** name -> IPs (joined) of every Service in namespace `many`. */
async function ipsByName(): Promise<Map<string, string>> {
  const list = await getJson(api(), ['services', '-n', 'many']);
  const out = new Map<string, string>();
  for (const s of (list['items'] ?? []) as readonly Json[]) {
    if (!isObject(s)) continue;
    const ingress = field(s, 'status', 'loadBalancer', 'ingress');
    const ips = Array.isArray(ingress) ? (ingress as readonly Json[]).map((i) => String(field(i, 'ip') ?? '')).join(',') : '';
    out.set(String(field(s, 'metadata', 'name')), ips);
  }
  return out;
}

async function allAssigned(count: number): Promise<Map<string, string>> {
  return eventually(
    `${String(count)} Services with an IP`,
    async () => {
      const m = await ipsByName();
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

test(`restart safety: ${String(N)} Services, controller killed and replaced, zero IPs changed`, { timeout: 600_000 }, async () => {
  const k8s = api();
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('svc', 0, N), timeoutMs: 300_000 });
  const a = startController(k8s, ['--identity', 'ctl-a']);
  procs.push(a);
  const first = await allAssigned(N);
  const ips = [...first.values()];
  assert.equal(new Set(ips).size, N, 'every Service has its own IP');
  assert.equal(assigned(a).length, N, 'controller A assigned each once');

  // Crash: no graceful stop, the Lease stays held until it expires.
  await a.kill();
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('late', 0, LATE) });
  const b = startController(k8s, ['--identity', 'ctl-b']);
  procs.push(b);
  leaderB = b;
  const after = await allAssigned(N + LATE);
  for (const [name, ip] of first) assert.equal(after.get(name), ip, `${name} kept its IP`);
  const lateIPs = [...after].filter(([n]) => n.startsWith('late-')).map(([, ip]) => ip);
  assert.equal(new Set([...ips, ...lateIPs]).size, N + LATE, 'newcomers took IPs nobody holds');
  const rebuilt = await eventually('B rebuilt its allocator', async () => b.logged('leading: allocator rebuilt from Service status')[0]);
  assert.equal(rebuilt['restored'], N, 'all status IPs replayed');
  assert.equal(rebuilt['notRestored'], 0);
  // Give B time to go over every Service; it must not have re-assigned any of the first 1,000.
  await new Promise((r) => setTimeout(r, 3_000));
  const reassigned = assigned(b).map((l) => String(l['service'])).filter((s) => s.startsWith('many/svc-'));
  assert.deepEqual(reassigned, [], 'B assigned no IP to an already allocated Service');
  assert.equal(assigned(b).length, LATE, 'B assigned exactly the newcomers');
  assert.deepEqual(await ipsByName(), after, 'nothing moved afterwards either');
});

test('two controllers: only the Lease holder writes; SIGTERM hands over at once', { timeout: 300_000 }, async () => {
  const k8s = api();
  const b = leaderB;
  assert.ok(b !== undefined && b.child.exitCode === null && b.child.signalCode === null, 'the controller from the previous test runs');
  assert.equal(await leaseHolder(), 'ctl-b');
  const healthPort = await freePort();
  const c = startController(k8s, ['--identity', 'ctl-c', '--health-port', String(healthPort)]);
  procs.push(c);
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
  await new Promise((r) => setTimeout(r, 2_000));
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('two', 0, 10) });
  await allAssigned(N + LATE + 10);
  assert.equal(assigned(c).length, 0, 'the standby wrote nothing');
  assert.equal(c.logged('became leader').length, 0);
  assert.equal(assigned(b).filter((l) => String(l['service']).startsWith('many/two-')).length, 10, 'the leader assigned them');

  // Graceful stop of the leader: the Lease is released (holder cleared) and C takes over quickly.
  const t0 = Date.now();
  assert.equal(await b.stop(), 0, 'leader exits 0 on SIGTERM');
  const released = await getJson(k8s, ['lease', 'berth-controller', '-n', 'berth-system']);
  const holderAfterStop = field(released, 'spec', 'holderIdentity');
  assert.ok(holderAfterStop === undefined || holderAfterStop === 'ctl-c', `holder cleared on release, got ${String(holderAfterStop)}`);
  await eventually('C holds the Lease', async () => ((await leaseHolder()) === 'ctl-c' ? true : undefined), 10_000, 100);
  const handover = Date.now() - t0;
  assert.ok(handover < 4_000, `hand-over took ${String(handover)} ms; the lease duration is 4 s, so the Lease was not released`);
  await k8s.kubectlOk(['create', '-f', '-'], { stdin: services('after', 0, 1) });
  await allAssigned(N + LATE + 11);
  assert.equal(assigned(c).length, 1, 'the new leader assigned the new Service, and only it');
  // /metrics of the new leader: leading, and its allocations counted (at least the new Service's).
  const leader = await metrics();
  assert.ok(leader.split('\n').includes('berth_controller_leader 1'), leader);
  assert.match(leader, /^berth_controller_allocations_total [1-9]\d*$/m, leader);
});
