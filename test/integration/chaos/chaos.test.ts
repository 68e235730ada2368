// The short chaos run of bench/chaos (issue 14 §3) in the test command: 100 IPv4 Services across a BGP
// pool and a Layer 2 pool (some pairs sharing an IP), churn by two workers (creates, deletes, pool address
// edits, a pool added and removed) for 60 s while kube-apiserver is SIGKILLed and restarted 3 times (etcd kept), the
// leading controller SIGKILLed 4 times (two of them right after a Service status write) and speakers
// SIGKILLed and restarted in a loop; then, once settled, zero IP changes, zero duplicates, zero pool
// counter mismatches, zero announcement mismatches (FRR next hops, one ARP answer from the elected node),
// zero leaks. The seed is printed (and drawn anew each run): a failure names it for replay with
// `npm run bench:chaos -- --services 100 --seed N --churn-s 60 --churn-workers 2 --api-kills 3 --controller-kills 4`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { formatResult, runChaos } from '../../../bench/chaos/chaos.ts';

test('chaos under load: API server, controller and speaker kills during churn lose nothing', { timeout: 600_000 }, async (t) => {
  const seed = process.env['BERTH_CHAOS_SEED'] === undefined ? randomInt(2 ** 31) : Number(process.env['BERTH_CHAOS_SEED']);
  t.diagnostic(`seed ${String(seed)}`);
  const r = await runChaos({ services: 100, seed, churnMs: 60_000, churnWorkers: 2, apiKills: 3, controllerKills: 4, settleMs: 120_000, log: (l) => t.diagnostic(l) });
  const report = formatResult(r);
  t.diagnostic(report);
  const faults = (kind: string): number => Object.entries(r.faults).filter(([k]) => k.startsWith(kind)).reduce((a, [, v]) => a + v, 0);
  assert.equal(faults('kube-apiserver'), 3, `API server kills\n${report}`);
  assert.equal(faults('controller'), 4, `controller kills\n${report}`);
  assert.ok(faults('speaker') > 0, `speaker kills\n${report}`);
  assert.ok(r.servicesCreated > 0 && r.servicesDeleted > 0 && r.poolEdits > 0, `churn happened\n${report}`);
  assert.deepEqual(r.changes, [], `IP changes (seed ${String(seed)})\n${report}`);
  assert.deepEqual(r.duplicates, [], `duplicate IPs (seed ${String(seed)})\n${report}`);
  assert.deepEqual(r.counterMismatches, [], `pool counters (seed ${String(seed)})\n${report}`);
  assert.deepEqual(r.announcementMismatches, [], `announcements (seed ${String(seed)})\n${report}`);
  assert.deepEqual(r.leaks, [], `leaks (seed ${String(seed)})\n${report}`);
});
