// Planning with memos (snapshot-plan.ts createSnapshotPlanMemo: compile, translations, per-Service
// plans) gives exactly the plans of planning from scratch, over random sequences of cluster changes
// read like the manifest reader reads them (unchanged documents keep their objects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseManifests, type ParseCache } from '../../../src/config/manifests.ts';
import type { ChunkCache } from '../../../src/config/yaml-documents.ts';
import type { LastGoodStore } from '../../../src/config/compile.ts';
import { createSnapshotPlanMemo, planSnapshot, type SnapshotPlanMemo } from '../../../src/speaker/snapshot-plan.ts';
import { bgpAdv, bgpPeer, l2Adv, l2Pool, node, NODES, service, slice } from './fixtures.ts';

const bgpPool = (range: string): string => l2Pool('bgp-pool', range);

/** Each slot: alternatives for one document (undefined = absent). */
const SLOTS: readonly (readonly (string | undefined)[])[] = [
  [l2Pool(), l2Pool('l2-pool', '203.0.113.0/29')],
  [bgpPool('203.0.113.64/28'), bgpPool('203.0.113.80/28'), undefined],
  [l2Adv('l2'), l2Adv('l2', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node2' } }] }), undefined],
  [bgpAdv('bgp', { ipAddressPools: ['bgp-pool'] }), bgpAdv('bgp', { ipAddressPools: ['bgp-pool'], localPref: 200, communities: ['64512:7'] }), undefined],
  [bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1' }), bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.2' })],
  ...NODES.map((n, i) => [node(n, `192.0.2.${11 + i}`), node(n, `192.0.2.${11 + i}`, { ready: false })]),
  ...['a', 'b', 'c', 'd'].map((s) => [
    service(s),
    service(s, { annotations: { 'metallb.io/address-pool': 'bgp-pool' } }),
    service(s, { etp: 'Local', annotations: { 'metallb.io/address-pool': 'bgp-pool' } }),
    service(s, { etp: 'Local' }),
    undefined,
  ]),
  ...['a', 'c'].map((s) => [slice(s, [{ node: 'node1' }]), slice(s, [{ node: 'node2' }, { node: 'node3', ready: false }]), undefined]),
];

function text(choice: readonly number[]): string {
  return SLOTS.map((alts, i) => alts[(choice[i] ?? 0) % alts.length])
    .filter((d): d is string => d !== undefined)
    .join('\n---\n');
}

test('property: plans with the memos equal plans from scratch, step after step, on every node', () => {
  // A start, then steps that each change one or two documents (as users do), so the memos are used.
  const start = fc.array(fc.nat(), { minLength: SLOTS.length, maxLength: SLOTS.length });
  const change = fc.array(fc.tuple(fc.nat({ max: SLOTS.length - 1 }), fc.nat()), { minLength: 1, maxLength: 2 });
  fc.assert(
    fc.property(start, fc.array(change, { minLength: 1, maxLength: 8 }), (first, changes) => {
      const steps: number[][] = [first];
      for (const c of changes) {
        const next = [...(steps.at(-1) ?? first)];
        for (const [slot, alt] of c) next[slot] = alt;
        steps.push(next);
      }
      const memos = new Map<string, SnapshotPlanMemo>(NODES.map((n) => [n, createSnapshotPlanMemo()]));
      const stores = new Map<string, { memo?: LastGoodStore; fresh?: LastGoodStore }>();
      let previous = new Map<string, ChunkCache>();
      const routed: ParseCache['routed'] = new WeakMap();
      for (const choice of steps) {
        const cache: ParseCache = { previous, next: new Map(), routed };
        const snapshot = parseManifests([{ path: 'cluster.yaml', text: text(choice) }], cache).snapshot;
        previous = cache.next;
        for (const n of NODES) {
          const st = stores.get(n) ?? {};
          const withMemo = planSnapshot({ snapshot, nodeName: n, ...(st.memo === undefined ? {} : { store: st.memo }) }, memos.get(n));
          const fresh = planSnapshot({ snapshot, nodeName: n, ...(st.fresh === undefined ? {} : { store: st.fresh }) });
          stores.set(n, { memo: withMemo.store, fresh: fresh.store });
          assert.deepEqual(withMemo.plan, fresh.plan);
          assert.deepEqual(withMemo.problems, fresh.problems);
        }
      }
    }),
    { numRuns: 300 },
  );
});

test('an unchanged snapshot reuses every Service plan; a changed Service gets a new one', () => {
  const memo = createSnapshotPlanMemo();
  const routed: ParseCache['routed'] = new WeakMap();
  const read = (t: string, previous: Map<string, ChunkCache>): { snapshot: ReturnType<typeof parseManifests>['snapshot']; next: Map<string, ChunkCache> } => {
    const cache: ParseCache = { previous, next: new Map(), routed };
    return { snapshot: parseManifests([{ path: 'c.yaml', text: t }], cache).snapshot, next: cache.next };
  };
  const docs = [l2Pool(), l2Adv('l2'), ...NODES.map((n, i) => node(n, `192.0.2.${11 + i}`)), service('a'), service('b')];
  const one = read(docs.join('\n---\n'), new Map());
  const p1 = planSnapshot({ snapshot: one.snapshot, nodeName: 'node1' }, memo);
  const two = read([...docs.slice(0, -1), service('b', { etp: 'Local' })].join('\n---\n'), one.next);
  const p2 = planSnapshot({ snapshot: two.snapshot, nodeName: 'node1', store: p1.store }, memo);
  assert.equal(p2.plan.services[0], p1.plan.services[0], 'default/a: the same plan object, not planned again');
  assert.notEqual(p2.plan.services[1], p1.plan.services[1]);
});
