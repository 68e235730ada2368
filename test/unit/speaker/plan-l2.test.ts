// planNode, layer 2: which node answers for a VIP, with which interfaces, and why the others do not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { planNode, type NodePlan, type L2Outcome } from '../../../src/speaker/plan.ts';
import type { Config } from '../../../src/config/model.ts';
import { compile } from '../../../src/config/compile.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { translateService } from '../../../src/config/services.ts';
import { nodeFactsOf } from '../../../src/speaker/nodes.ts';
import { expectedWinner, get, l2Adv, l2Pool, NODES, planAll, service, slice, threeNodes } from './fixtures.ts';

const VIP = '203.0.113.5';

function owners(plans: ReadonlyMap<string, NodePlan>, vip: string): string[] {
  return [...plans.values()].filter((p) => p.l2.some((a) => a.vip === vip)).map((p) => p.node);
}

function l2Of(plan: NodePlan, svc = 'default/web'): L2Outcome | undefined {
  return plan.services.find((s) => s.service === svc)?.l2;
}

test('exactly the node with the smallest sha256(node#ip) announces; the others say who does', () => {
  const p = planAll([threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP })]);
  const winner = expectedWinner(NODES, VIP);
  assert.deepEqual(owners(p.plans, VIP), [winner]);
  for (const n of NODES) {
    const o = l2Of(get(p, n));
    if (n === winner) assert.deepEqual(o, { announced: true, interfaces: [{ kind: 'all' }] });
    else {
      assert.equal(o?.announced, false);
      assert.ok(o !== undefined && !o.announced);
      assert.equal(o.reason.code, 'notOwner');
      assert.equal(o.winner, winner);
    }
  }
});

const scenarios: readonly {
  readonly name: string;
  readonly docs: (winner: string) => string[];
  readonly alive?: (winner: string) => ReadonlySet<string>;
  /** Expected owner: a node name, 'next' (the best node other than the first winner) or null. */
  readonly owner: string | 'next' | null;
  /** Expected reason code on a node that does not own. */
  readonly reasonOn?: { readonly node: string | 'winner'; readonly code: string };
}[] = [
  {
    name: 'the winner NotReady: the next node takes over, the old one says nodeNotReady',
    docs: (w) => [threeNodes({ [w]: { ready: false } }), l2Pool(), l2Adv('all'), service('web', { ip: VIP })],
    owner: 'next',
    reasonOn: { node: 'winner', code: 'nodeNotReady' },
  },
  {
    name: 'the winner not alive (liveness): the next node takes over',
    docs: () => [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP })],
    alive: (w) => new Set(NODES.filter((n) => n !== w)),
    owner: 'next',
  },
  {
    name: 'nodeSelectors pick node2 only',
    docs: () => [threeNodes(), l2Pool(), l2Adv('only2', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node2' } }] }), service('web', { ip: VIP })],
    owner: 'node2',
    reasonOn: { node: 'node1', code: 'nodeNotSelected' },
  },
  {
    name: 'the winner cordoned (kubectl cordon / drain): the next node takes over, the old one says nodeCordoned',
    docs: (w) => [threeNodes({ [w]: { unschedulable: true } }), l2Pool(), l2Adv('all'), service('web', { ip: VIP })],
    owner: 'next',
    reasonOn: { node: 'winner', code: 'nodeCordoned' },
  },
  {
    name: 'the winner tainted node.kubernetes.io/out-of-service: the next node takes over',
    docs: (w) => [threeNodes({ [w]: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] } }), l2Pool(), l2Adv('all'), service('web', { ip: VIP })],
    owner: 'next',
    reasonOn: { node: 'winner', code: 'outOfService' },
  },
  {
    name: 'exclude-from-external-load-balancers takes the winner out',
    docs: (w) => [threeNodes({ [w]: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } } }), l2Pool(), l2Adv('all'), service('web', { ip: VIP })],
    owner: 'next',
    reasonOn: { node: 'winner', code: 'nodeExcluded' },
  },
  {
    name: 'preferredNodeSelectors outweigh the hash',
    docs: () => [threeNodes(), l2Pool(), l2Adv('pref', { preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { 'kubernetes.io/hostname': 'node3' } } }] }), service('web', { ip: VIP })],
    owner: 'node3',
  },
  {
    name: 'ETP Local: only the node with a serving endpoint is a candidate',
    docs: () => [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP, etp: 'Local' }), slice('web', [{ node: 'node3' }, { node: 'node1', ready: false }])],
    owner: 'node3',
    reasonOn: { node: 'node1', code: 'noLocalEndpoints' },
  },
  {
    name: 'a terminating endpoint that still serves counts',
    docs: () => [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP, etp: 'Local' }), slice('web', [{ node: 'node2', ready: false, serving: true }])],
    owner: 'node2',
  },
  {
    name: 'no serving endpoint anywhere: nobody announces, even with Cluster',
    docs: () => [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP }), slice('web', [{ node: 'node1', ready: false }])],
    owner: null,
    reasonOn: { node: 'node1', code: 'noEndpoints' },
  },
  {
    name: 'no EndpointSlice at all (manifest mode): served everywhere, ETP Local included',
    docs: () => [threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP, etp: 'Local' })],
    owner: expectedWinner(NODES, VIP),
  },
  {
    name: 'allow-shared-ip with an L2Advertisement that has serviceSelectors: not announced',
    docs: () => [
      threeNodes(),
      l2Pool(),
      l2Adv('sel', { serviceSelectors: [{ matchLabels: { tier: 'web' } }] }),
      service('web', { ip: VIP, labels: { tier: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' } }),
    ],
    owner: null,
    reasonOn: { node: 'node1', code: 'sharedIPWithServiceSelector' },
  },
];

for (const s of scenarios) {
  test(`L2: ${s.name}`, () => {
    const first = expectedWinner(NODES, VIP);
    const alive = s.alive?.(first);
    // A node whose speaker is dead plans nothing; only the live ones are asked.
    const p = planAll(s.docs(first), alive === undefined ? {} : { aliveNodes: alive, nodes: [...alive] });
    const expected = s.owner === 'next' ? expectedWinner(NODES.filter((n) => n !== first), VIP) : s.owner;
    assert.deepEqual(owners(p.plans, VIP), expected === null ? [] : [expected]);
    if (s.reasonOn !== undefined) {
      const n = s.reasonOn.node === 'winner' ? first : s.reasonOn.node;
      const o = l2Of(get(p, n));
      assert.ok(o !== undefined && !o.announced, `${n} should not announce`);
      assert.equal(o.reason.code, s.reasonOn.code);
    }
  });
}

test('interfaces: union of the rules that select this node; a rule without interfaces means all', () => {
  const w = expectedWinner(NODES, VIP);
  const named = planAll([threeNodes(), l2Pool(), l2Adv('a', { interfaces: ['eth1'] }), l2Adv('b', { interfaces: ['eth2', 'eth1'] }), service('web', { ip: VIP })]);
  assert.deepEqual(get(named, w).l2, [{ vip: VIP, services: ['default/web'], interfaces: [{ kind: 'names', names: ['eth1'] }, { kind: 'names', names: ['eth2', 'eth1'] }] }]);
  const all = planAll([threeNodes(), l2Pool(), l2Adv('a', { interfaces: ['eth1'] }), l2Adv('b'), service('web', { ip: VIP })]);
  assert.deepEqual(get(all, w).l2[0]?.interfaces, [{ kind: 'all' }]);
  // A rule that does not select the winner does not add its interfaces.
  const other = NODES.find((n) => n !== w) ?? '';
  const scoped = planAll([
    threeNodes(),
    l2Pool(),
    l2Adv('a', { interfaces: ['eth1'] }),
    l2Adv('b', { interfaces: ['eth9'], nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': other } }] }),
    service('web', { ip: VIP }),
  ]);
  assert.deepEqual(get(scoped, w).l2[0]?.interfaces, [{ kind: 'names', names: ['eth1'] }]);
});

test('dual stack: both IPs on the node elected by the first IP', () => {
  const pool = ['apiVersion: metallb.io/v1beta1', 'kind: IPAddressPool', 'metadata: {name: ds, namespace: metallb-system}', 'spec: {addresses: ["203.0.113.0/28", "2001:db8:f00::/124"]}'].join('\n');
  const p = planAll([threeNodes(), pool, l2Adv('all'), service('web', { families: ['IPv4', 'IPv6'], policy: 'RequireDualStack' })]);
  const owner = [...p.plans.values()].filter((x) => x.l2.length > 0);
  assert.equal(owner.length, 1);
  const ips = owner[0]?.l2.map((a) => a.vip) ?? [];
  assert.equal(ips.length, 2);
  assert.ok(ips.some((ip) => ip.includes(':')));
  const first = owner[0]?.services[0]?.ips[0] ?? '';
  assert.equal(owner[0]?.node, expectedWinner(NODES, first));
});

test('Porter seed: layer2 Eip + protocol annotation -> the Eip interface, the node annotation is passed on', () => {
  const eip = ['apiVersion: network.kubesphere.io/v1alpha2', 'kind: Eip', 'metadata: {name: porter-layer2-eip}', 'spec: {address: 203.0.113.91-203.0.113.100, interface: eth0, protocol: layer2}'].join('\n');
  const svc = service('porter-layer2-svc', { annotations: { 'lb.kubesphere.io/v1alpha1': 'porter', 'protocol.porter.kubesphere.io/v1alpha1': 'layer2' } });
  const p = planAll([threeNodes({ node1: { annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '192.0.2.11' } } }), eip, svc]);
  const vip = '203.0.113.91';
  const w = expectedWinner(NODES, vip);
  assert.deepEqual(owners(p.plans, vip), [w]);
  assert.deepEqual(get(p, w).l2[0]?.interfaces, [{ kind: 'eip', spec: 'eth0' }]);
  assert.deepEqual(get(p, 'node1').addressing, { internalIPs: ['192.0.2.11'], annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '192.0.2.11' } });
  assert.deepEqual(get(p, w).services[0]?.modes, ['l2']);
});

test('a node that is not in the snapshot announces nothing and says so for every Service', () => {
  const p = planAll([threeNodes(), l2Pool(), l2Adv('all'), service('web', { ip: VIP })], { nodes: ['node9'] });
  const plan = get(p, 'node9');
  assert.equal(plan.nodeKnown, false);
  assert.deepEqual(plan.l2, []);
  assert.equal(plan.services[0]?.reason?.code, 'nodeUnknown');
});

test('no IP, no advertisement: reasons instead of announcements', () => {
  const pool = l2Pool('tiny', '203.0.113.7/32');
  const p = planAll([threeNodes(), pool, service('a'), service('b')]);
  const plan = get(p, 'node1');
  const byName = new Map(plan.services.map((s) => [s.service, s]));
  assert.equal(byName.get('default/a')?.reason?.code, 'noAdvertisement');
  assert.equal(byName.get('default/b')?.reason?.code, 'noIP');
  assert.match(byName.get('default/b')?.reason?.message ?? '', /./);
  assert.deepEqual(plan.l2, []);
});

test('a shared IP is one announcement listing both Services', () => {
  const ann = { 'metallb.io/allow-shared-ip': 'k' };
  const a = service('a', { ip: VIP, annotations: ann });
  const b = service('b', { ip: VIP, annotations: ann }).replace('port: 80', 'port: 443');
  const p = planAll([threeNodes(), l2Pool(), l2Adv('all'), a, b]);
  const w = expectedWinner(NODES, VIP);
  assert.deepEqual(get(p, w).l2.map((x) => x.services), [['default/a', 'default/b']]);
});

test('property: with every node eligible, exactly one node owns each VIP, and it is the hash winner', () => {
  const svc = translateService(
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
    [],
  );
  assert.equal(svc.kind, 'ours');
  if (svc.kind !== 'ours') return;
  const loaded = parseManifests([{ path: 'p.yaml', text: `${l2Pool('p', '0.0.0.0/0')}\n---\n${l2Adv('a')}` }]);
  const config: Config = compile(loaded.snapshot).config;
  assert.equal(config.l2Rules.length, 1);
  const nodeName = fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/);
  fc.assert(
    fc.property(fc.uniqueArray(nodeName, { minLength: 1, maxLength: 6 }), fc.ipV4(), (names, ip) => {
      const nodes = nodeFactsOf(names.map((name) => ({ metadata: { name } })));
      const plans = names.map((nodeName) => planNode({ config, services: [{ intent: svc.intent, ips: [ip], pool: 'p' }], nodes, endpoints: new Map(), nodeName }));
      const own = plans.filter((p) => p.l2.length === 1).map((p) => p.node);
      assert.deepEqual(own, [expectedWinner(names, ip)]);
    }),
    { numRuns: 200 },
  );
});
