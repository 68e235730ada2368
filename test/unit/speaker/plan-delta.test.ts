// Plan changes (src/speaker/plan-delta.ts): what a differ sends, replayed by a mirror, is the plan;
// an unchanged plan sends nothing; a new differ resets the receiver.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { adKey, createPlanDiffer, createPlanMirror, emptyDelta } from '../../../src/speaker/plan-delta.ts';
import type { NodePlan } from '../../../src/speaker/plan.ts';
import type { Advertisement } from '../../../src/bgp/speaker.ts';

function plan(vips: readonly string[], ads: readonly Advertisement[], peers: readonly string[] = ['router']): NodePlan {
  return {
    node: 'node1',
    nodeKnown: true,
    addressing: { internalIPs: ['192.0.2.11'] },
    l2: vips.map((vip) => ({ vip, services: [`ns/${vip}`], interfaces: [{ kind: 'all' }] })),
    peers: peers.map((name) => ({ spec: { name, myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1' } }) as unknown as NodePlan['peers'][number]),
    advertisements: ads,
    services: [],
    peerNotes: [],
  };
}

const sorted = <T>(xs: readonly T[], key: (x: T) => string): T[] => [...xs].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));

test('property: a mirror fed the deltas holds exactly the last plan', () => {
  const vip = fc.integer({ min: 1, max: 30 }).map((i) => `198.51.100.${i}`);
  const ad = fc.record({ i: fc.integer({ min: 1, max: 30 }), lp: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }), peers: fc.option(fc.constantFrom(['a'], ['a', 'b']), { nil: undefined }) }).map(
    ({ i, lp, peers }): Advertisement => ({ prefix: `203.0.113.${i}/32`, ...(lp === undefined ? {} : { localPref: lp }), ...(peers === undefined ? {} : { peers }) }),
  );
  const onePlan = fc.tuple(fc.uniqueArray(vip), fc.uniqueArray(ad, { selector: adKey }), fc.constantFrom(['router'], ['router', 'other']));
  fc.assert(
    fc.property(fc.array(onePlan, { minLength: 1, maxLength: 8 }), (plans) => {
      const differ = createPlanDiffer();
      const mirror = createPlanMirror();
      for (const [vips, ads, peers] of plans) {
        const p = plan(vips, ads, peers);
        mirror.apply(differ.diff(p));
        assert.deepEqual(sorted(mirror.l2(), (a) => a.vip), sorted(p.l2, (a) => a.vip));
        assert.deepEqual(sorted(mirror.advertisements(), adKey), sorted(p.advertisements, adKey));
        assert.deepEqual(mirror.peers, p.peers);
      }
    }),
    { numRuns: 200 },
  );
});

test('the same plan again is an empty delta; one changed advertisement is one upsert', () => {
  const differ = createPlanDiffer();
  const ads = Array.from({ length: 1000 }, (_, i): Advertisement => ({ prefix: `198.18.${i >> 8}.${i & 255}/32` }));
  const first = differ.diff(plan([], ads));
  assert.equal(first.reset, true);
  assert.equal(first.advertisements.upsert.length, 1000);
  assert.ok(emptyDelta(differ.diff(plan([], ads))));
  const changed = ads.map((a, i) => (i === 7 ? { ...a, localPref: 200 } : a));
  const d = differ.diff(plan([], changed.slice(1)));
  assert.deepEqual(d.advertisements.upsert, [{ prefix: '198.18.0.7/32', localPref: 200 }]);
  assert.deepEqual(d.advertisements.remove, ['198.18.0.0/32']);
  assert.equal(d.peers, undefined, 'unchanged peers do not travel');
  assert.equal(d.reset, undefined);
});

test('a new differ resets the mirror: entries of the old plan are dropped', () => {
  const mirror = createPlanMirror();
  mirror.apply(createPlanDiffer().diff(plan(['198.51.100.1'], [{ prefix: '203.0.113.1/32' }])));
  mirror.apply(createPlanDiffer().diff(plan(['198.51.100.2'], [])));
  assert.deepEqual(mirror.l2().map((a) => a.vip), ['198.51.100.2']);
  assert.deepEqual(mirror.advertisements(), []);
});
