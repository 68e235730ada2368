// The planner thread (src/speaker/plan-thread.ts) with a fake agent in place of the engines: the main
// thread's timers keep running while a plan takes seconds (a stall on purpose, BERTH_PLAN_STALL_MS's
// option), and what reaches the engines is the change, not the whole plan.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../../src/log.ts';
import { startPlanThread, type ToMain } from '../../../src/speaker/plan-thread.ts';
import type { Agent, ApplyResult } from '../../../src/speaker/agent.ts';
import type { PlanDelta } from '../../../src/speaker/plan-delta.ts';

const CONFIG = [
  'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/28"]}',
  'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: all, namespace: metallb-system}',
  'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1}',
  'apiVersion: v1\nkind: Node\nmetadata: {name: node1}\nstatus: {conditions: [{type: Ready, status: "True"}]}',
].join('\n---\n');
const service = (name: string, ip: string): string => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: default}\nspec: {type: LoadBalancer, loadBalancerIP: ${ip}}\n`;

test('a slow plan runs beside the main thread: its timers tick through it; the engines get the change only', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-plan-thread-'));
  const deltas: PlanDelta[] = [];
  const waiters: (() => void)[] = [];
  const messages: ToMain[] = [];
  let ticks = 0;
  let ticksAtBegin: number | undefined;
  let ticksAtEnd: number | undefined;
  const ticker = setInterval(() => ticks++, 20);
  const agent: Agent = {
    current: undefined,
    apply: () => Promise.reject(new Error('the planner thread sends changes')),
    applyDelta: (d) => {
      deltas.push(d);
      for (const w of waiters.splice(0)) w();
      return Promise.resolve<ApplyResult>({ owned: [], unresolved: [], l2Problems: [] });
    },
    keep: () => undefined,
    close: () => Promise.resolve(),
  };
  const nextDelta = (n: number): Promise<void> => new Promise((r) => (deltas.length >= n ? r() : waiters.push(() => deltas.length >= n && r())));
  writeFileSync(join(dir, 'config.yaml'), CONFIG);
  writeFileSync(join(dir, 'services.yaml'), [service('a', '203.0.113.1'), service('b', '203.0.113.2')].join('---\n'));
  let fatal: string | undefined;
  const planner = startPlanThread({
    data: { kind: 'manifests', path: dir, nodeName: 'node1', logLevel: 'silent', stallMs: 1500, debounceMs: 20, resyncMs: 0 },
    logger: silentLogger(),
    onFatal: (r) => (fatal = r),
    onMessage: (m) => {
      messages.push(m);
      if (m.op === 'stall') {
        if (m.phase === 'begin') ticksAtBegin = ticks;
        else ticksAtEnd = ticks;
      }
    },
  });
  try {
    assert.equal(await planner.hello, undefined, 'no BgpConf listenPort in these manifests');
    planner.attach(agent);
    await planner.started;
    assert.equal(deltas.length, 1);
    assert.equal(deltas[0]?.reset, true);
    assert.deepEqual(deltas[0]?.advertisements.upsert.map((a) => a.prefix).sort(), ['203.0.113.1/32', '203.0.113.2/32']);
    assert.equal(deltas[0]?.peers?.[0]?.spec.name, 'router');

    // One more Service: this plan stalls 1.5 s on the planner thread.
    writeFileSync(join(dir, 'services.yaml'), [service('a', '203.0.113.1'), service('b', '203.0.113.2'), service('c', '203.0.113.3')].join('---\n'));
    await nextDelta(2);
    assert.ok(ticksAtBegin !== undefined && ticksAtEnd !== undefined, `the stall ran (messages: ${messages.map((m) => m.op).join(',')})`);
    // 1.5 s at a 20 ms period is ~75 ticks; a blocked main thread would have none.
    assert.ok(ticksAtEnd - ticksAtBegin >= 20, `the main thread ticked ${ticksAtEnd - ticksAtBegin} times during the planner's 1.5 s stall`);
    const d = deltas[1];
    assert.deepEqual(d?.advertisements.upsert, [{ prefix: '203.0.113.3/32' }]);
    assert.deepEqual(d?.advertisements.remove, []);
    assert.equal(d?.peers, undefined);
    assert.equal(d?.reset, undefined);

    // Removing a Service withdraws only its prefix.
    writeFileSync(join(dir, 'services.yaml'), [service('a', '203.0.113.1'), service('c', '203.0.113.3')].join('---\n'));
    await nextDelta(3);
    assert.deepEqual(deltas[2]?.advertisements.remove, ['203.0.113.2/32']);
    assert.deepEqual(deltas[2]?.advertisements.upsert, []);
    assert.equal(fatal, undefined);
  } finally {
    clearInterval(ticker);
    await planner.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a planner that cannot start is reported, not ignored', async () => {
  let fatal: string | undefined;
  const done = new Promise<void>((resolve) => {
    const planner = startPlanThread({
      data: { kind: 'manifests', path: '/nonexistent', nodeName: 'node1', logLevel: 'silent', resyncMs: 0 },
      logger: silentLogger(),
      entry: new URL('data:text/javascript,throw new Error("planner entry failed")'),
      onFatal: (r) => {
        fatal = r;
        resolve();
        void planner.stop();
      },
    });
  });
  await done;
  assert.match(fatal ?? '', /planner entry failed/);
});
