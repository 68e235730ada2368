import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  elect,
  electionHash,
  EXCLUDE_FROM_LB_LABEL,
  OUT_OF_SERVICE_TAINT,
  type ElectionAdvertisement,
  type ElectionInput,
  type ElectionNode,
} from '../../../src/l2/election.ts';

const IP = '203.0.113.10';
const ALL: ElectionAdvertisement = { nodeSelectors: [], preferredNodeSelectors: [] };

const node = (name: string, over: Partial<ElectionNode> = {}): ElectionNode => ({
  name,
  labels: {},
  ready: true,
  networkUnavailable: false,
  taints: [],
  alive: true,
  ...over,
});

const input = (nodes: readonly ElectionNode[], over: Partial<ElectionInput> = {}): ElectionInput => ({
  ip: IP,
  nodes,
  advertisements: [ALL],
  externalTrafficPolicy: 'Cluster',
  servingEndpointNodes: nodes.map((n) => n.name),
  hasServingEndpoint: true,
  ...over,
});

const winnerOf = (i: ElectionInput): string | undefined => {
  const r = elect(i);
  return r.kind === 'elected' ? r.winner : undefined;
};

test('hash is sha256(nodeName + "#" + ip), checked against sha256sum', () => {
  // printf '%s' 'node-a#203.0.113.10' | sha256sum
  assert.equal(electionHash('node-a', IP).toString('hex'), '939733108e705e1c953f95ec29eaeffd206635e3ba16b242cd13b2d122424376');
  assert.equal(electionHash('node-b', IP).toString('hex'), 'd84adac440a0aa7190708d8e175dc4d8cc9928a0daae298cab4356b01da1cc09');
  assert.equal(electionHash('node-c', IP).toString('hex'), '64a599b0338d098f43890be905de2d9ddeef07495852d5a0948affa2963de7c0');
});

test('order is ascending hash bytes (MetalLB sortL2Candidates): node-c (64..) < node-a (93..) < node-b (d8..)', () => {
  const r = elect(input([node('node-a'), node('node-b'), node('node-c')]));
  assert.ok(r.kind === 'elected');
  assert.equal(r.winner, 'node-c');
  assert.deepEqual(
    r.ranking.map((x) => x.node),
    ['node-c', 'node-a', 'node-b'],
  );
  assert.equal(r.ranking[0]?.hash, '64a599b0338d098f43890be905de2d9ddeef07495852d5a0948affa2963de7c0');
  // Input order does not matter.
  assert.equal(winnerOf(input([node('node-b'), node('node-c'), node('node-a')])), 'node-c');
});

const EXCLUSIONS: readonly { name: string; n: ElectionNode; reason: string; over?: Partial<ElectionInput> }[] = [
  { name: 'exclude label', n: node('node-c', { labels: { [EXCLUDE_FROM_LB_LABEL]: '' } }), reason: 'excludeLabel' },
  { name: 'NetworkUnavailable', n: node('node-c', { networkUnavailable: true }), reason: 'networkUnavailable' },
  { name: 'NotReady', n: node('node-c', { ready: false }), reason: 'notReady' },
  {
    name: 'out-of-service taint',
    n: node('node-c', { taints: [{ key: OUT_OF_SERVICE_TAINT, effect: 'NoExecute' }] }),
    reason: 'outOfService',
  },
  { name: 'cordoned (spec.unschedulable; kubectl drain cordons first)', n: node('node-c', { unschedulable: true }), reason: 'cordoned' },
  { name: 'speaker dead', n: node('node-c', { alive: false }), reason: 'notAlive' },
  {
    name: 'Local without an endpoint',
    n: node('node-c'),
    reason: 'noLocalEndpoint',
    over: { externalTrafficPolicy: 'Local', servingEndpointNodes: ['node-a', 'node-b'] },
  },
  {
    name: 'not selected by nodeSelectors',
    n: node('node-c', { labels: { role: 'worker' } }),
    reason: 'notSelected',
    over: { advertisements: [{ nodeSelectors: [{ matchLabels: { role: 'edge' } }], preferredNodeSelectors: [] }] },
  },
];

test('every exclusion removes the would-be winner and names its reason', () => {
  for (const e of EXCLUSIONS) {
    const others = [node('node-a', { labels: { role: 'edge' } }), node('node-b', { labels: { role: 'edge' } })];
    const r = elect(input([...others, e.n], e.over));
    assert.ok(r.kind === 'elected', e.name);
    assert.equal(r.winner, 'node-a', e.name); // node-c would have won
    assert.deepEqual(r.excluded, [{ node: 'node-c', reason: e.reason }], e.name);
  }
});

test('a taint other than out-of-service does not exclude; ignoreExcludeLabel keeps labelled nodes', () => {
  assert.equal(winnerOf(input([node('node-a'), node('node-c', { taints: [{ key: 'dedicated', effect: 'NoSchedule' }] })])), 'node-c');
  const labelled = [node('node-a'), node('node-c', { labels: { [EXCLUDE_FROM_LB_LABEL]: 'true' } })];
  assert.equal(winnerOf(input(labelled)), 'node-a');
  assert.equal(winnerOf(input(labelled, { ignoreExcludeLabel: true })), 'node-c');
});

test('nodeSelectors: union over advertisements; an advertisement without selectors selects every node', () => {
  const nodes = [node('node-a', { labels: { rack: '1' } }), node('node-b', { labels: { rack: '2' } }), node('node-c', { labels: { rack: '3' } })];
  const ad = (rack: string): ElectionAdvertisement => ({ nodeSelectors: [{ matchLabels: { rack } }], preferredNodeSelectors: [] });
  assert.equal(winnerOf(input(nodes, { advertisements: [ad('2')] })), 'node-b');
  assert.equal(winnerOf(input(nodes, { advertisements: [ad('1'), ad('2')] })), 'node-a');
  assert.equal(winnerOf(input(nodes, { advertisements: [ad('2'), ALL] })), 'node-c');
});

test('preferredNodeSelectors: highest summed weight wins, across advertisements; hash breaks ties', () => {
  const nodes = [node('node-a', { labels: { zone: 'x' } }), node('node-b', { labels: { zone: 'y', ssd: 'true' } }), node('node-c')];
  const prefer = (weight: number, labels: Record<string, string>): ElectionAdvertisement => ({
    nodeSelectors: [],
    preferredNodeSelectors: [{ weight, preference: { matchLabels: labels } }],
  });
  // node-b: 30 (zone y) vs node-a: 40 -> node-a; adding ssd (+20 on another advertisement) -> node-b (50).
  assert.equal(winnerOf(input(nodes, { advertisements: [prefer(40, { zone: 'x' }), prefer(30, { zone: 'y' })] })), 'node-a');
  const stacked = elect(input(nodes, { advertisements: [prefer(40, { zone: 'x' }), prefer(30, { zone: 'y' }), prefer(20, { ssd: 'true' })] }));
  assert.ok(stacked.kind === 'elected');
  assert.deepEqual(
    stacked.ranking.map((r) => [r.node, r.score]),
    [
      ['node-b', 50],
      ['node-a', 40],
      ['node-c', 0],
    ],
  );
  // Equal weights on node-a and node-b: the hash breaks the tie (node-a 93.. before node-b d8..).
  assert.equal(winnerOf(input(nodes, { advertisements: [prefer(10, { zone: 'x' }), prefer(10, { zone: 'y' })] })), 'node-a');
  // An empty preference matches every node, so it changes nothing.
  assert.equal(winnerOf(input(nodes, { advertisements: [{ nodeSelectors: [], preferredNodeSelectors: [{ weight: 100, preference: {} }] }] })), 'node-c');
});

test('no winner: no advertisement, no serving endpoint anywhere, every node excluded', () => {
  const nodes = [node('node-a')];
  assert.deepEqual(elect(input(nodes, { advertisements: [] })), { kind: 'none', reason: 'noAdvertisement', excluded: [] });
  assert.deepEqual(elect(input(nodes, { servingEndpointNodes: [], hasServingEndpoint: false })), {
    kind: 'none',
    reason: 'noServingEndpoint',
    excluded: [],
  });
  assert.deepEqual(elect(input([node('node-a', { ready: false })])), {
    kind: 'none',
    reason: 'noCandidate',
    excluded: [{ node: 'node-a', reason: 'notReady' }],
  });
  // An endpoint without a node name still counts as "serving somewhere" for Cluster.
  assert.equal(winnerOf(input(nodes, { servingEndpointNodes: [], hasServingEndpoint: true })), 'node-a');
});

test('ETP Local: only nodes with a serving endpoint are candidates', () => {
  const nodes = [node('node-a'), node('node-b'), node('node-c')];
  assert.equal(winnerOf(input(nodes, { externalTrafficPolicy: 'Local', servingEndpointNodes: ['node-b'] })), 'node-b');
  assert.equal(winnerOf(input(nodes, { externalTrafficPolicy: 'Cluster', servingEndpointNodes: ['node-b'] })), 'node-c');
});

test('stability (MetalLB layer2 concept): removing a non-winner never moves the VIP; adding a node moves it only to that node', () => {
  const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), { minLength: 2, maxLength: 8 });
  const ip = fc.tuple(fc.nat(255), fc.nat(255)).map(([a, b]) => `198.51.${a}.${b}`);
  fc.assert(
    fc.property(names, ip, fc.nat(), (ns, addr, pick) => {
      const all = ns.map((n) => node(n));
      const w = winnerOf(input(all, { ip: addr }));
      const victim = all[pick % all.length];
      assert.ok(w !== undefined && victim !== undefined);
      const rest = all.filter((n) => n !== victim);
      const after = winnerOf(input(rest, { ip: addr }));
      if (victim.name !== w) assert.equal(after, w);
      // Re-adding the victim: the winner is either unchanged or the victim itself.
      assert.ok([after, victim.name].includes(winnerOf(input(all, { ip: addr }))));
    }),
  );
});

