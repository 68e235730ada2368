// planNode with l2Window (liveness on): every node among a VIP's first n candidates gets an entry with
// the nodes ranked before and after it; the Service outcomes (status, logs) do not change; the
// members travel with the plan and in its deltas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPlanDiffer, createPlanMirror } from '../../../src/speaker/plan-delta.ts';
import { get, l2Adv, l2Pool, NODES, planAll, service, threeNodes } from './fixtures.ts';
import { electionHash } from '../../../src/l2/election.ts';

const VIP = '203.0.113.5';
const DOCS = [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP })];
const ranked = [...NODES].sort((a, b) => Buffer.compare(electionHash(a, VIP), electionHash(b, VIP)));

test('window 3: each node knows who is ahead of it and behind it', () => {
  const p = planAll(DOCS, { options: { l2Window: 3 } });
  ranked.forEach((n, i) => {
    const e = get(p, n).l2.find((a) => a.vip === VIP);
    assert.deepEqual(e?.election, { key: VIP, ahead: ranked.slice(0, i), behind: ranked.slice(i + 1) }, n);
    // The Service's outcome is the election's, as without liveness.
    assert.equal(get(p, n).services[0]?.l2?.announced, i === 0, n);
  });
});

test('window 2: the last node stands by for nothing; the runner-up has nobody behind it', () => {
  const p = planAll(DOCS, { options: { l2Window: 2 } });
  assert.deepEqual(get(p, ranked[2] ?? '').l2, []);
  assert.deepEqual(get(p, ranked[1] ?? '').l2[0]?.election, { key: VIP, ahead: [ranked[0]], behind: [] });
});

test('default window 1: the plan is what it was (winners only, no members)', () => {
  const p = planAll(DOCS);
  assert.equal(get(p, ranked[1] ?? '').l2.length, 0);
  assert.equal(get(p, ranked[0] ?? '').l2[0]?.election, undefined);
  assert.equal(get(p, ranked[0] ?? '').members, undefined);
});

test('members: every Node with its first IPv4 InternalIP, sorted; sent in the first delta and when they change', () => {
  const p = planAll(DOCS, { options: { l2Window: 3 } });
  const plan = get(p, 'node1');
  assert.deepEqual(plan.members?.map((m) => m.name), [...NODES]);
  for (const m of plan.members ?? []) assert.match(m.address, /^\d+\.\d+\.\d+\.\d+$/);
  const differ = createPlanDiffer();
  const mirror = createPlanMirror();
  const first = differ.diff(plan);
  assert.deepEqual(first.members, plan.members);
  mirror.apply(first);
  assert.deepEqual(mirror.members, plan.members);
  assert.equal(differ.diff(plan).members, undefined, 'unchanged: not sent again');
  const fewer = { ...plan, members: plan.members?.slice(1) ?? [] };
  const d = differ.diff(fewer);
  mirror.apply(d);
  assert.deepEqual(mirror.members, fewer.members);
});
