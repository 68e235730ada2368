// Watch resilience against a real API server that is restarted mid-run (harness restart()):
// - the reflector notices the outage, keeps retrying with backoff, and after the restart its store equals
//   the server's state, including a deletion, an addition and a change made while it was disconnected;
// - a watch whose connection goes silent (a middlebox drops it without a FIN or RST: kubernetes-client/
//   javascript #1933) is cut after its timeout plus a grace, and the reflector resumes;
// - the controller process survives the restart and catches up: a Service created while its watches
//   were down gets an IP, a Service deleted while they were down has its IP released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { silentLogger } from '../../src/log.ts';
import { createRest, loadConnection } from '../../src/k8s/rest.ts';
import { Resources } from '../../src/k8s/resources.ts';
import { createReflector, WatchEvent, type KubeObject } from '../../src/k8s/watch.ts';
import { apiServerForFile, field, getJson, installCrds } from './helpers.ts';
import { eventually, startController, type BerthProcess } from './berth-process.ts';

let ctl: BerthProcess | undefined;
const api = apiServerForFile({
  setup: async (k) => {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    for (const ns of ['w', 'wr', 'ws']) await k.kubectlOk(['create', 'namespace', ns]);
  },
  beforeStop: async () => {
    await ctl?.kill();
  },
});

/** A LoadBalancer Service; each test works in its own namespace (w, wr, ws) so tests run alone and in any order. */
const svcYaml = (name: string, extra = '', namespace = 'w'): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}${extra}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`;

test('reflector: survives an API server restart and catches up with changes made while it was away', { timeout: 180_000 }, async () => {
  const k8s = api();
  await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('keep', '', 'wr') + '---\n' + svcYaml('drop', '', 'wr') });
  const rest = createRest(await loadConnection({ kubeconfig: k8s.kubeconfigPath }));
  // A long first backoff (10-30 s with jitter) leaves a window after the restart in which the reflector
  // is still away, even on a loaded machine.
  const r = createReflector<KubeObject>({ rest, resource: Resources.services, namespace: 'wr', logger: silentLogger(), backoff: { initialMs: 20_000, maxMs: 30_000 }, watchTimeoutSeconds: 30 });
  try {
    r.start();
    await r.synced;
    assert.deepEqual(r.keys().sort(), ['wr/drop', 'wr/keep']);
    const listsBefore = r.lists();

    await k8s.restart();
    assert.ok(r.failures() > 0, 'the reflector noticed the outage');
    // Changes while the reflector is disconnected (it is in its backoff).
    await k8s.kubectlOk(['delete', 'service', 'drop', '-n', 'wr']);
    await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('new', '', 'wr') });
    await k8s.kubectlOk(['label', 'service', 'keep', '-n', 'wr', 'changed=yes']);
    assert.ok(r.failures() > 0, 'the changes were made before the reflector was back');
    assert.deepEqual(r.keys().sort(), ['wr/drop', 'wr/keep'], 'the store is stale while away');

    await eventually('the reflector caught up', async () => {
      const keys = r.keys().sort();
      const keep = r.get('wr/keep');
      return keys.join() === 'wr/keep,wr/new' && keep?.metadata?.labels?.['changed'] === 'yes' ? true : undefined;
    }, 90_000);
    // And it keeps following afterwards.
    await k8s.kubectlOk(['delete', 'service', 'new', '-n', 'wr']);
    await eventually('the deletion after the restart is seen', async () => (r.get('wr/new') === undefined ? true : undefined));
    assert.equal(r.failures(), 0, 'healthy again');
    // Either it resumed from its resourceVersion or (410 Gone) relisted; both must end in the same store.
    assert.ok(r.lists() >= listsBefore);
  } finally {
    r.stop();
    rest.close();
  }
  await k8s.kubectlOk(['delete', 'service', 'keep', '-n', 'wr']);
});

test('controller: keeps running through an API server restart and converges on what changed', { timeout: 240_000 }, async () => {
  const k8s = api();
  await k8s.kubectlOk(['apply', '-f', '-'], {
    stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: w, namespace: metallb-system}
spec: {addresses: [203.0.113.0/28]}
---
${svcYaml('one')}---
${svcYaml('two')}`,
  });
  // Default-like Lease timings: an API server restart of a few seconds must not cost the leadership.
  ctl = startController(k8s, ['--identity', 'ctl-w', '--lease-duration', '15', '--renew-deadline', '10', '--retry-period', '1']);
  const ipOf = async (name: string): Promise<string | undefined> => {
    const s = await getJson(k8s, ['service', name, '-n', 'w']);
    const list = field(s, 'status', 'loadBalancer', 'ingress');
    return Array.isArray(list) && list.length > 0 ? String(field(list[0], 'ip')) : undefined;
  };
  const one = await eventually('one has an IP', () => ipOf('one'));
  await eventually('two has an IP', () => ipOf('two'));
  const pid = ctl.pid;

  await k8s.restart();
  // While the controller's watches are still reconnecting: delete one, create three.
  await k8s.kubectlOk(['delete', 'service', 'one', '-n', 'w']);
  await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('three') });

  const three = await eventually('three gets an IP', () => ipOf('three'), 90_000).catch((e: unknown) => {
    throw new Error(`${String(e)}\ncontroller log:\n${ctl?.stderr().slice(-6000) ?? ''}`);
  });
  assert.ok(three.startsWith('203.0.113.'), three);
  await eventually('pool status shows one IP released', async () => {
    const p = await getJson(k8s, ['ipaddresspool', 'w', '-n', 'metallb-system']);
    return field(p, 'status', 'assignedIPv4') === 2 ? true : undefined;
  }, 60_000);
  assert.equal(ctl.child.exitCode, null, `the controller is still running (stderr: ${ctl.stderr().slice(-1500)})`);
  assert.equal(ctl.pid, pid);
  assert.ok(ctl.logged('list/watch failed; retrying').length > 0, 'it saw the outage');
  // The pool has 14 usable addresses; the IP one released is free again: a Service asking for it gets it.
  await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('four', `, annotations: {metallb.io/loadBalancerIPs: '${one}'}`) });
  assert.equal(await eventually('four gets the released IP', () => ipOf('four')), one);
});

/** A TCP relay to the API server whose established connections can be frozen: open, but silent. */
function freezableRelay(target: number): Promise<{ port: number; freeze: () => number; close: () => void }> {
  const pairs: [Socket, Socket][] = [];
  const server = createServer((client) => {
    const up = connect(target, '127.0.0.1');
    client.pipe(up);
    up.pipe(client);
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    pairs.push([client, up]);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      resolve({
        port: typeof addr === 'object' && addr !== null ? addr.port : 0,
        /** Freezes every connection open now (later ones pass); returns how many it froze. */
        freeze: () => {
          const open = pairs.splice(0);
          for (const [c, u] of open) {
            c.unpipe(u);
            u.unpipe(c);
            c.pause();
            u.pause();
          }
          return open.length;
        },
        close: () => {
          for (const [c, u] of pairs) {
            c.destroy();
            u.destroy();
          }
          server.close();
        },
      });
    });
  });
}

test('reflector: a watch that goes silent is cut after its timeout and resumed', { timeout: 120_000 }, async () => {
  const k8s = api();
  const relay = await freezableRelay(k8s.port);
  const cfg = JSON.parse(readFileSync(k8s.kubeconfigPath, 'utf8')) as { clusters: { cluster: { server: string } }[] };
  for (const c of cfg.clusters) c.cluster.server = `https://127.0.0.1:${String(relay.port)}`;
  const path = join(k8s.dir, 'relay.kubeconfig');
  writeFileSync(path, JSON.stringify(cfg), { mode: 0o600 });
  const rest = createRest(await loadConnection({ kubeconfig: path }));
  // Server-side timeout 2-4 s, 2 s grace: a silent watch must be gone within ~6 s.
  const logged: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logged.push(line) });
  let frozen = 0;
  // The relay freezes while the reflector handles the watch event of ws/live: that watch is open and
  // carrying data at that moment, so it is the one frozen (no pause guessing when it is established).
  const onEvent = (type: WatchEvent, key: string): void => {
    if (key === 'ws/live' && type === WatchEvent.Added && r.hasSynced() && frozen === 0) frozen = relay.freeze();
  };
  const r = createReflector<KubeObject>({ rest, resource: Resources.services, namespace: 'ws', logger, onEvent, watchTimeoutSeconds: 2, stallGraceMs: 2_000, backoff: { initialMs: 100, maxMs: 1_000 } });
  try {
    r.start();
    await r.synced;
    await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('live', '', 'ws') });
    await eventually('the relay froze on the watch event of ws/live', async () => (frozen > 0 ? true : undefined), 30_000, 100);
    await k8s.kubectlOk(['apply', '-f', '-'], { stdin: svcYaml('silent', '', 'ws') });
    // A frozen relay never delivers the change nor closes the watch: only the stall detection (cut and
    // resume) lets the reflector see it, so seeing it at all is the behaviour under test (no timing).
    await eventually('the change made during the stall is seen', async () => (r.get('ws/silent') !== undefined ? true : undefined), 30_000, 100);
    assert.ok(logged.some((l) => l.includes('closing a stalled watch')), `the stall guard cut the watch: ${logged.join('')}`);
  } finally {
    r.stop();
    rest.close();
    relay.close();
  }
  await k8s.kubectlOk(['delete', 'service', 'live', '-n', 'ws']);
  await k8s.kubectlOk(['delete', 'service', 'silent', '-n', 'ws']);
});
