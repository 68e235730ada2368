// The pure parts of src/k8s, without an API server: the work queue's semantics (de-duplication, a key
// changed during its reconcile is reconciled again, never twice at once, per-key backoff), backoff
// bounds, the Service status patch, int64 JSON, MicroTime, ConfigurationState conditions and leader
// election over an in-memory Lease endpoint. (Moved from test/k8s: none of it needs an API server.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { silentLogger } from '../../../src/log.ts';
import { createQueue, ok, retry, type ReconcileResult } from '../../../src/k8s/queue.ts';
import { backoffDelay } from '../../../src/k8s/watch.ts';
import { configurationStateStatus, ConditionType, jsonWithBigints, sameStatus, serviceStatusPatch } from '../../../src/k8s/status.ts';
import { createLeaderElector, microTime, type LeaderElector } from '../../../src/k8s/lease.ts';
import { ApiError, type Rest } from '../../../src/k8s/rest.ts';
import type { V1Service } from '@kubernetes/client-node';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('queue: a key added many times while waiting is reconciled once', async () => {
  const seen: string[] = [];
  const q = createQueue({ logger: silentLogger(), reconcile: (k) => (seen.push(k), Promise.resolve(ok)) });
  for (let i = 0; i < 5; i++) q.add('a');
  q.add('b');
  q.add('a');
  q.start();
  await q.idle();
  assert.deepEqual(seen, ['a', 'b']);
});

test('queue: a key added during its reconcile runs again afterwards, never concurrently', async () => {
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const q = createQueue({
    logger: silentLogger(),
    workers: 4,
    reconcile: async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      calls++;
      if (calls === 1) {
        q.add('k');
        q.add('k');
      }
      await sleep(20);
      running--;
      return ok;
    },
  });
  q.add('k');
  q.start();
  await q.idle(); // nothing queued, delayed or running: no pause needed before it
  assert.equal(calls, 2, 'reconciled again once after the change, not once per add');
  assert.equal(maxRunning, 1, 'never two reconciles of one key at once');
});

test('queue: retry backs off per key and stops on ok', async () => {
  const times: number[] = [];
  const q = createQueue({
    logger: silentLogger(),
    backoff: { initialMs: 20, maxMs: 1000 },
    reconcile: (): Promise<ReconcileResult> => {
      times.push(Date.now());
      return Promise.resolve(times.length < 4 ? retry('not yet') : ok);
    },
  });
  q.add('x');
  q.start();
  await q.idle(); // the retries are delayed timers, which idle() waits for
  assert.equal(times.length, 4);
  assert.equal(q.failures('x'), 0, 'reset by ok');
  const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
  // initial 20 ms doubling, +-50 % jitter: >= 10, 20, 40 ms.
  assert.ok((gaps[0] ?? 0) >= 9 && (gaps[1] ?? 0) >= 19 && (gaps[2] ?? 0) >= 39, `gaps ${gaps.join(',')}`);
});

test('queue: a thrown error is a retry, not a crash', async () => {
  let n = 0;
  const q = createQueue({
    logger: silentLogger(),
    backoff: { initialMs: 5, maxMs: 10 },
    reconcile: () => {
      n++;
      if (n === 1) throw new Error('boom');
      return Promise.resolve(ok);
    },
  });
  q.add('x');
  q.start();
  await q.idle(); // nothing queued, delayed or running: no pause needed before it
  assert.equal(n, 2);
});

test('backoffDelay stays within [base/2, 1.5 base] and never exceeds 1.5 max', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 100 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
      const b = { initialMs: 200, maxMs: 30_000 };
      const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(30, attempt - 1));
      const d = backoffDelay(attempt, b, () => r);
      return d >= Math.floor(base / 2) && d <= Math.ceil(base * 1.5) && d <= b.maxMs * 1.5;
    }),
  );
});

const svc = (o: { ips?: string[]; pool?: string; label?: string }): V1Service => ({
  metadata: {
    name: 's',
    namespace: 'd',
    ...(o.pool === undefined ? {} : { annotations: { 'metallb.io/ip-allocated-from-pool': o.pool } }),
    ...(o.label === undefined ? {} : { labels: { 'eip.openelb.kubesphere.io/v1alpha2': o.label } }),
  },
  ...(o.ips === undefined ? {} : { status: { loadBalancer: { ingress: o.ips.map((ip) => ({ ip })) } } }),
});

test('serviceStatusPatch: nothing when the Service shows the wanted state; exactly the differing parts otherwise', () => {
  assert.equal(serviceStatusPatch(svc({ ips: ['192.0.2.1'], pool: 'p' }), { ips: ['192.0.2.1'], pool: 'p', eipLabel: false }), undefined);
  assert.deepEqual(serviceStatusPatch(svc({}), { ips: ['192.0.2.1'], pool: 'p', eipLabel: true }), {
    metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': 'p' }, labels: { 'eip.openelb.kubesphere.io/v1alpha2': 'p' } },
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } },
  });
  // Clearing: nulls remove what berth wrote.
  assert.deepEqual(serviceStatusPatch(svc({ ips: ['192.0.2.1'], pool: 'p', label: 'p' }), { ips: [], pool: undefined, eipLabel: false }), {
    metadata: { annotations: { 'metallb.io/ip-allocated-from-pool': null }, labels: { 'eip.openelb.kubesphere.io/v1alpha2': null } },
    status: { loadBalancer: { ingress: null } },
  });
  // Order matters (primary family first).
  assert.notEqual(serviceStatusPatch(svc({ ips: ['2001:db8::1', '192.0.2.1'], pool: 'p' }), { ips: ['192.0.2.1', '2001:db8::1'], pool: 'p', eipLabel: false }), undefined);
});

test('jsonWithBigints writes int64 exactly; sameStatus compares the API server\'s numbers', () => {
  const max = 0x7fffffffffffffffn;
  assert.equal(jsonWithBigints({ a: 1n, b: max, s: '1' }), '{"a":1,"b":9223372036854775807,"s":"1"}');
  assert.ok(sameStatus(JSON.parse('{"a":1,"b":9223372036854775807}'), { a: 1n, b: max }));
  assert.ok(!sameStatus({ a: 2 }, { a: 1n }));
  assert.ok(sameStatus({ used: { y: '1', x: '2' } }, { used: { x: '2', y: '1' } }), 'key order does not matter');
});

test('microTime has six fractional digits (metav1.MicroTime)', () => {
  assert.equal(microTime(Date.UTC(2026, 0, 2, 3, 4, 5, 678)), '2026-01-02T03:04:05.678000Z');
});

test('ConfigurationState: Valid/Invalid, summary, lastTransitionTime kept while the status holds', () => {
  const bad = configurationStateStatus(ConditionType.Pool, [{ kind: 'IPAddressPool', namespace: 'm', name: 'g', field: 'spec.addresses[0]', message: 'overlaps' }], undefined, 'T1');
  assert.equal(bad.result, 'Invalid');
  assert.equal(bad.errorSummary, 'IPAddressPool m/g spec.addresses[0]: overlaps');
  assert.deepEqual(bad.conditions[0], { type: 'poolReconcilerValid', status: 'False', reason: 'ConfigurationError', message: bad.errorSummary, lastTransitionTime: 'T1' });
  const still = configurationStateStatus(ConditionType.Pool, [{ kind: 'Eip', name: 'r', message: 'x' }], bad, 'T2');
  assert.equal(still.conditions[0]?.lastTransitionTime, 'T1', 'same status: time kept');
  const good = configurationStateStatus(ConditionType.Pool, [], still, 'T3');
  assert.equal(good.result, 'Valid');
  assert.equal(good.conditions[0]?.lastTransitionTime, 'T3');
  assert.equal(good.conditions[0]?.reason, 'Reconciled');
});

/**
 * An in-memory Lease endpoint with the API server's optimistic concurrency (resourceVersion). `restFor(id)`
 * is one elector's view of it, counting that elector's requests: the positive signal that it has tried.
 */
function fakeLeaseRest(): { restFor: (id: string) => Rest; requests: (id: string) => number; lease: () => Record<string, unknown> | undefined } {
  let stored: Record<string, unknown> | undefined;
  let rv = 0;
  const counts = new Map<string, number>();
  const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
  const request = (method: string, opts: { body?: unknown }): Promise<unknown> => {
    const body = opts.body as { metadata: { resourceVersion?: string } } | undefined;
    if (method === 'GET') return stored === undefined ? Promise.reject(new ApiError(404, 'NotFound', 'not found')) : Promise.resolve(clone(stored));
    if (method === 'POST') {
      if (stored !== undefined) return Promise.reject(new ApiError(409, 'AlreadyExists', 'exists'));
      stored = { ...clone(body as object), metadata: { ...clone(body?.metadata), resourceVersion: String(++rv) } };
      return Promise.resolve(clone(stored));
    }
    if (method === 'PUT') {
      if ((stored?.['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion !== body?.metadata.resourceVersion) return Promise.reject(new ApiError(409, 'Conflict', 'conflict'));
      stored = { ...clone(body as object), metadata: { ...clone(body?.metadata), resourceVersion: String(++rv) } };
      return Promise.resolve(clone(stored));
    }
    return Promise.reject(new Error(`unexpected ${method}`));
  };
  const restFor = (id: string): Rest =>
    ({
      server: 'fake',
      onUnreachable: () => undefined,
      close: () => undefined,
      stream: () => Promise.reject(new Error('no streams')),
      request: (method: string, _path: string, opts: { body?: unknown } = {}): Promise<unknown> => {
        counts.set(id, (counts.get(id) ?? 0) + 1);
        return request(method, opts);
      },
    }) as unknown as Rest;
  return { restFor, requests: (id) => counts.get(id) ?? 0, lease: () => stored };
}

/** Polls `cond` every 10 ms until it holds; fails with `what` after `timeoutMs` (a bound for a hung test, not a measurement). */
async function until(what: string, cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

const holder = (lease: Record<string, unknown> | undefined): string | undefined => (lease?.['spec'] as { holderIdentity?: string } | undefined)?.holderIdentity;

function electors(timings: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number }) {
  const fake = fakeLeaseRest();
  const log: string[] = [];
  const mk = (id: string): LeaderElector =>
    createLeaderElector({ rest: fake.restFor(id), logger: silentLogger(), namespace: 'ns', name: 'l', identity: id, ...timings, onStartedLeading: () => log.push(`${id}+`), onStoppedLeading: () => log.push(`${id}-`) });
  return { ...fake, log, mk };
}

test('lease: one leader among two; release hands over at the next retry, long before the lease would expire', async (t) => {
  // A one-hour lease: b can only lead within this test if a's release handed it over.
  const { mk, log, lease, requests } = electors({ leaseDurationMs: 3_600_000, renewDeadlineMs: 400, retryPeriodMs: 50 });
  const a = mk('a');
  const b = mk('b');
  t.after(() => Promise.all([a.release(), b.release()]));
  a.start();
  await until('a leads', () => a.isLeader());
  b.start();
  const seen = requests('b');
  await until('b tried the held lease three times', () => requests('b') >= seen + 3);
  assert.deepEqual(log, ['a+']);
  assert.ok(a.isLeader() && !b.isLeader());
  assert.equal(holder(lease()), 'a');
  await a.release();
  assert.equal(holder(lease()) ?? 'b', 'b', 'holder cleared (or already b)');
  await until('b leads after the release', () => b.isLeader());
  const spec = lease()?.['spec'] as { holderIdentity?: string; leaseTransitions?: number };
  assert.equal(spec.holderIdentity, 'b');
  assert.equal(spec.leaseTransitions, 1);
  assert.deepEqual(log, ['a+', 'b+'], 'release is not a lost lease: no onStoppedLeading');
});

test('lease: a crashed leader (no release) is replaced only after the lease duration', async (t) => {
  const leaseDurationMs = 600;
  const { mk, lease, requests } = electors({ leaseDurationMs, renewDeadlineMs: 400, retryPeriodMs: 50 });
  const b = mk('b');
  const c = mk('c');
  t.after(() => Promise.all([b.release(), c.release()]));
  b.start();
  await until('b leads', () => b.isLeader());
  c.start();
  const seen = requests('c');
  await until('c tried the held lease twice', () => requests('c') >= seen + 2);
  assert.ok(!c.isLeader(), 'a held lease is respected');
  // Crash: b stops renewing without releasing (abandon); c, campaigning, waits out the lease.
  const renewed = lease()?.['spec'] as { renewTime?: string };
  const crashed = Date.now();
  b.abandon();
  await until('c leads after the lease expired', () => c.isLeader());
  // A lower bound only (the lease must have run out), which a slow machine cannot break.
  assert.ok(Date.now() - crashed >= leaseDurationMs - 100, `c waited for the lease to expire (${String(Date.now() - crashed)} ms)`);
  assert.notEqual((lease()?.['spec'] as { renewTime?: string }).renewTime, renewed.renewTime);
  assert.equal(holder(lease()), 'c');
});
