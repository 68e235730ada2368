// planNode, BGP: the sessions a node opens and the prefixes it announces on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregate, mergeAdvertisements } from '../../../src/speaker/plan.ts';
import { bgpAdv, bgpPeer, get, l2Adv, l2Pool, NODES, planAll, service, slice, threeNodes } from './fixtures.ts';

const pool = (name = 'bgp-pool', range = '198.51.100.0/24'): string => l2Pool(name, range);
const router = (extra: Record<string, unknown> = {}): string => bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1', ...extra });

test('every eligible node announces the VIP /32 with the rule attributes, to every peer', () => {
  const p = planAll([
    threeNodes(),
    pool(),
    router(),
    bgpAdv('adv', { ipAddressPools: ['bgp-pool'], localPref: 150, communities: ['64512:100', '64512:7', 'large:64512:1:2'] }),
    service('web', { ip: '198.51.100.10' }),
  ]);
  for (const n of NODES) {
    const plan = get(p, n);
    assert.deepEqual(plan.advertisements, [
      { prefix: '198.51.100.10/32', localPref: 150, communities: [(64512 << 16) + 7, (64512 << 16) + 100].map((x) => x >>> 0), largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] },
    ]);
    assert.deepEqual(plan.services[0]?.bgp, { announced: true, prefixes: ['198.51.100.10/32'], peers: ['router'] });
  }
});

test('peers: nodeSelectors, default router id = own InternalIP, password, passive, timers', () => {
  const secret = ['apiVersion: v1', 'kind: Secret', 'metadata: {name: pw, namespace: metallb-system}', 'type: kubernetes.io/basic-auth', 'stringData: {password: s3cret}'].join('\n');
  const p = planAll([
    threeNodes({ node3: { labels: { rack: 'b' } } }),
    pool(),
    router({ holdTime: '30s', passwordSecret: { name: 'pw', namespace: 'metallb-system' }, nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'DoesNotExist' }] }] }),
    bgpAdv('adv'),
    secret,
  ]);
  assert.deepEqual(get(p, 'node1').peers.map((x) => x.spec), [
    { name: 'router', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1', holdTimeSec: 30, keepaliveTimeSec: 10, routerId: '192.0.2.11', password: 's3cret' },
  ]);
  assert.equal(get(p, 'node2').peers[0]?.spec.routerId, '192.0.2.12');
  assert.deepEqual(get(p, 'node3').peers, []);
});

test('router id: a configured id shared by several nodes is replaced by each node own address, with a note', () => {
  const shared = planAll([threeNodes(), pool(), router({ routerID: '192.0.2.11' }), bgpAdv('adv')]);
  assert.deepEqual(NODES.map((n) => get(shared, n).peers[0]?.spec.routerId), ['192.0.2.11', '192.0.2.12', '192.0.2.13']);
  assert.deepEqual(get(shared, 'node1').peerNotes, []);
  assert.match(get(shared, 'node2').peerNotes[0]?.message ?? '', /routerID 192\.0\.2\.11 would be shared/);
  // Pinned to one node by nodeSelectors: honoured as written.
  const pinned = planAll([threeNodes(), pool(), router({ routerID: '10.9.9.9', nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node2' } }] }), bgpAdv('adv')]);
  assert.equal(get(pinned, 'node2').peers[0]?.spec.routerId, '10.9.9.9');
  assert.deepEqual(get(pinned, 'node2').peerNotes, []);
});

test('OpenELB: BgpConf asPerRack gives the rack ASN, BgpConf routerId is not shared', () => {
  const conf = ['apiVersion: network.kubesphere.io/v1alpha2', 'kind: BgpConf', 'metadata: {name: default}', 'spec: {as: 64600, routerId: 192.0.2.250, listenPort: 17900, asPerRack: {r1: 64601}}'].join('\n');
  const peer = ['apiVersion: network.kubesphere.io/v1alpha2', 'kind: BgpPeer', 'metadata: {name: tor}', 'spec: {conf: {peerAs: 64512, neighborAddress: 192.0.2.1}, transport: {passiveMode: true}}'].join('\n');
  const eip = ['apiVersion: network.kubesphere.io/v1alpha2', 'kind: Eip', 'metadata: {name: eip}', 'spec: {address: 198.51.100.0/24}'].join('\n');
  const p = planAll([threeNodes({ node1: { labels: { 'openelb.kubesphere.io/rack': 'r1' } } }), conf, peer, eip]);
  assert.deepEqual(get(p, 'node1').peers[0]?.spec, { name: 'tor', myAsn: 64601, peerAsn: 64512, peerAddress: '192.0.2.1', routerId: '192.0.2.11', passive: true });
  assert.deepEqual(get(p, 'node2').peers[0]?.spec, { name: 'tor', myAsn: 64600, peerAsn: 64512, peerAddress: '192.0.2.1', routerId: '192.0.2.12', passive: true });
});

test('aggregationLength: Services in one /24 become one prefix whose communities are the union', () => {
  const p = planAll([
    threeNodes(),
    pool(),
    router(),
    bgpAdv('host', { communities: ['64512:1'] }),
    bgpAdv('agg', { aggregationLength: 24, communities: ['64512:24'] }),
    service('a', { ip: '198.51.100.10' }),
    service('b', { ip: '198.51.100.20' }),
  ]);
  assert.deepEqual(get(p, 'node1').advertisements, [
    { prefix: '198.51.100.0/24', communities: [(64512 * 65536 + 24) >>> 0] },
    { prefix: '198.51.100.10/32', communities: [(64512 * 65536 + 1) >>> 0] },
    { prefix: '198.51.100.20/32', communities: [(64512 * 65536 + 1) >>> 0] },
  ]);
});

test('peer filter: an advertisement naming one peer reaches only it; IPv6 prefixes only go to sessions that carry IPv6', () => {
  const p = planAll([
    threeNodes(),
    pool('v4', '198.51.100.0/24'),
    pool('v6', '2001:db8:f00::/120'),
    router(),
    bgpPeer('router6', { myASN: 64513, peerASN: 64512, peerAddress: '2001:db8:1::1' }),
    bgpAdv('only4', { ipAddressPools: ['v4'], peers: ['router'] }),
    bgpAdv('six', { ipAddressPools: ['v6'] }),
    service('a', { ip: '198.51.100.10' }),
    service('b', { ip: '2001:db8:f00::10', families: ['IPv6'] }),
  ]);
  const plan = get(p, 'node2');
  assert.deepEqual(plan.advertisements, [{ prefix: '198.51.100.10/32', peers: ['router'] }, { prefix: '2001:db8:f00::10/128' }]);
  const byName = new Map(plan.services.map((s) => [s.service, s.bgp]));
  assert.deepEqual(byName.get('default/a'), { announced: true, prefixes: ['198.51.100.10/32'], peers: ['router'] });
  assert.deepEqual(byName.get('default/b'), { announced: true, prefixes: ['2001:db8:f00::10/128'], peers: ['router6'] });
});

const eligibility: readonly { name: string; docs: string[]; announcing: readonly string[]; reason?: { node: string; code: string } }[] = [
  {
    name: 'ETP Local: only nodes with a serving endpoint are next hops',
    docs: [threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', etp: 'Local' }), slice('web', [{ node: 'node1' }, { node: 'node3' }, { node: 'node2', ready: false }])],
    announcing: ['node1', 'node3'],
    reason: { node: 'node2', code: 'noLocalEndpoints' },
  },
  {
    name: 'ETP Local with every endpoint gone: withdrawn everywhere',
    docs: [threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', etp: 'Local' }), slice('web', [])],
    announcing: [],
    reason: { node: 'node1', code: 'noLocalEndpoints' },
  },
  {
    name: 'ETP Cluster: a serving endpoint anywhere is enough',
    docs: [threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' }), slice('web', [{ node: 'node3' }])],
    announcing: ['node1', 'node2', 'node3'],
  },
  {
    name: 'ETP Cluster and no serving endpoint: withdrawn',
    docs: [threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' }), slice('web', [{ node: 'node3', ready: false }])],
    announcing: [],
    reason: { node: 'node3', code: 'noEndpoints' },
  },
  {
    name: 'a NotReady node withdraws (next hops follow readiness)',
    docs: [threeNodes({ node2: { ready: false } }), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })],
    announcing: ['node1', 'node3'],
    reason: { node: 'node2', code: 'nodeNotReady' },
  },
  {
    name: 'a cordoned node withdraws (kubectl cordon / drain: the same node rules as the L2 election)',
    docs: [threeNodes({ node2: { unschedulable: true } }), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })],
    announcing: ['node1', 'node3'],
    reason: { node: 'node2', code: 'nodeCordoned' },
  },
  {
    name: 'an out-of-service node withdraws',
    docs: [threeNodes({ node3: { taints: [{ key: 'node.kubernetes.io/out-of-service', effect: 'NoExecute' }] } }), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })],
    announcing: ['node1', 'node2'],
    reason: { node: 'node3', code: 'outOfService' },
  },
  {
    name: 'an excluded node withdraws',
    docs: [threeNodes({ node1: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': 'true' } } }), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })],
    announcing: ['node2', 'node3'],
    reason: { node: 'node1', code: 'nodeExcluded' },
  },
  {
    name: 'BGPAdvertisement nodeSelectors',
    docs: [threeNodes(), pool(), router(), bgpAdv('adv', { nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': 'node3' } }] }), service('web', { ip: '198.51.100.10' })],
    announcing: ['node3'],
    reason: { node: 'node1', code: 'nodeNotSelected' },
  },
  {
    name: 'no peer on the node: the Service says noPeer',
    docs: [threeNodes(), pool(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })],
    announcing: ['node1', 'node2', 'node3'],
    reason: { node: 'node1', code: 'noPeer' },
  },
];

for (const s of eligibility) {
  test(`BGP: ${s.name}`, () => {
    const p = planAll(s.docs);
    const announcing = NODES.filter((n) => get(p, n).advertisements.some((a) => a.prefix === '198.51.100.10/32'));
    assert.deepEqual(announcing, s.announcing);
    if (s.reason !== undefined) {
      const o = get(p, s.reason.node).services[0]?.bgp;
      assert.ok(o !== undefined && !o.announced, `${s.reason.node} should not announce`);
      assert.equal(o.reason.code, s.reason.code);
    }
  });
}

test('a Service forced to BGP by the protocol annotation uses the default rule (every peer, /32) even if only L2 is advertised', () => {
  const svc = service('web', { ip: '198.51.100.9', annotations: { 'protocol.porter.kubesphere.io/v1alpha1': 'bgp' } });
  const p = planAll([threeNodes(), pool(), l2Adv('l2'), router(), svc]);
  assert.deepEqual(get(p, 'node1').services[0]?.modes, ['bgp']);
  assert.deepEqual(get(p, 'node1').advertisements, [{ prefix: '198.51.100.9/32' }]);
  assert.deepEqual(NODES.flatMap((n) => get(p, n).l2), []);
});

test('aggregate() masks IPv4 and IPv6; mergeAdvertisements keeps peer filters apart and the largest LOCAL_PREF', () => {
  assert.equal(aggregate('198.51.100.77', { aggregationLength: 26, aggregationLengthV6: 128 }), '198.51.100.64/26');
  assert.equal(aggregate('2001:db8:f00::1234', { aggregationLength: 32, aggregationLengthV6: 64 }), '2001:db8:f00::/64');
  assert.equal(aggregate('not-an-ip', { aggregationLength: 32, aggregationLengthV6: 128 }), undefined);
  assert.deepEqual(
    mergeAdvertisements([
      { prefix: '198.51.100.0/24', communities: [5] },
      { prefix: '198.51.100.0/24', localPref: 200, communities: [3, 5] },
      { prefix: '198.51.100.0/24', localPref: 150 },
      { prefix: '198.51.100.0/24', localPref: 300, peers: ['a'] },
    ]),
    [
      { prefix: '198.51.100.0/24', localPref: 200, communities: [3, 5] },
      { prefix: '198.51.100.0/24', localPref: 300, peers: ['a'] },
    ],
  );
});

test('Kubernetes semantics (withoutEndpointSlices: noEndpoints): a Service without slices is not announced', () => {
  const docs = [threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10' })];
  const k8s = planAll(docs, { options: { withoutEndpointSlices: 'noEndpoints' } });
  assert.deepEqual(get(k8s, 'node1').advertisements, []);
  const o = get(k8s, 'node1').services[0]?.bgp;
  assert.ok(o !== undefined && !o.announced);
  assert.equal(o.reason.code, 'noEndpoints');
  assert.equal(get(planAll(docs), 'node1').advertisements.length, 1);
});

test('berth.io/weighted-ecmp: local-endpoints: each node carries its serving endpoints as link bandwidth (1 Mbit/s each)', () => {
  const docs = (eps: readonly { node: string; ready?: boolean }[]): string[] => [
    threeNodes(),
    pool(),
    router(),
    bgpAdv('adv'),
    service('web', { ip: '198.51.100.10', etp: 'Local', annotations: { 'berth.io/weighted-ecmp': 'local-endpoints' } }),
    slice('web', eps),
  ];
  const p = planAll(docs([{ node: 'node1' }, { node: 'node3' }, { node: 'node3' }, { node: 'node3' }, { node: 'node2', ready: false }]));
  assert.deepEqual(get(p, 'node1').advertisements, [{ prefix: '198.51.100.10/32', linkBandwidth: 125_000 }]);
  assert.deepEqual(get(p, 'node3').advertisements, [{ prefix: '198.51.100.10/32', linkBandwidth: 375_000 }]);
  assert.deepEqual(get(p, 'node2').advertisements, [], 'no serving endpoint: not announced at all (Local)');
  // Scaling the pods changes the weight, nothing else.
  const scaled = planAll(docs([{ node: 'node1' }, { node: 'node1' }, { node: 'node3' }]));
  assert.deepEqual(get(scaled, 'node1').advertisements, [{ prefix: '198.51.100.10/32', linkBandwidth: 250_000 }]);
  assert.deepEqual(get(scaled, 'node3').advertisements, [{ prefix: '198.51.100.10/32', linkBandwidth: 125_000 }]);
});

test('berth.io/weighted-ecmp: without the annotation no link bandwidth; a bad value or Cluster policy is a problem naming the field', () => {
  const plain = planAll([threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', etp: 'Local' }), slice('web', [{ node: 'node1' }, { node: 'node1' }])]);
  assert.deepEqual(get(plain, 'node1').advertisements, [{ prefix: '198.51.100.10/32' }]);
  const bad = planAll([threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', etp: 'Local', annotations: { 'berth.io/weighted-ecmp': 'yes' } })], { allowProblems: true });
  assert.match(bad.problems.join('\n'), /metadata\.annotations\["berth\.io\/weighted-ecmp"\].*must be "local-endpoints", got "yes"/);
  const cluster = planAll([threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', annotations: { 'berth.io/weighted-ecmp': 'local-endpoints' } })], { allowProblems: true });
  assert.match(cluster.problems.join('\n'), /berth\.io\/weighted-ecmp.*only with spec\.externalTrafficPolicy Local/);
});

test('mergeAdvertisements keeps the larger link bandwidth of one prefix', () => {
  assert.deepEqual(mergeAdvertisements([{ prefix: '198.51.100.0/24', linkBandwidth: 125_000 }, { prefix: '198.51.100.0/24', linkBandwidth: 500_000 }, { prefix: '198.51.100.0/24' }]), [
    { prefix: '198.51.100.0/24', linkBandwidth: 500_000 },
  ]);
});

test('berth.io/bgp-communities and berth.io/bgp-local-pref add to this Service\'s prefixes only, over the BGPAdvertisement', () => {
  const p = planAll([
    threeNodes(),
    pool(),
    router(),
    bgpAdv('adv', { localPref: 150, communities: ['64512:1'] }),
    service('tagged', { ip: '198.51.100.10', annotations: { 'berth.io/bgp-communities': '64512:700, no-export,large:1:2:3', 'berth.io/bgp-local-pref': '250' } }),
    service('plain', { ip: '198.51.100.11' }),
  ]);
  assert.deepEqual(get(p, 'node1').advertisements, [
    { prefix: '198.51.100.10/32', localPref: 250, communities: [(64512 << 16) + 1, (64512 << 16) + 700, 0xffffff01].map((x) => x >>> 0), largeCommunities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }] },
    { prefix: '198.51.100.11/32', localPref: 150, communities: [((64512 << 16) + 1) >>> 0] },
  ]);
});

test('per-Service attributes: bad values are problems naming the annotation; Services sharing an IP with different LOCAL_PREFs send the largest and warn', () => {
  const bad = planAll([threeNodes(), pool(), router(), bgpAdv('adv'), service('web', { ip: '198.51.100.10', annotations: { 'berth.io/bgp-communities': 'my-alias', 'berth.io/bgp-local-pref': '-1' } })], { allowProblems: true });
  assert.match(bad.problems.join('\n'), /berth\.io\/bgp-communities.*Community aliases are read in BGPAdvertisements only/);
  assert.match(bad.problems.join('\n'), /berth\.io\/bgp-local-pref.*must be an integer 0\.\.4294967295, got "-1"/);
  const shared = (name: string, lp: string, c: string, port: number): string => service(name, { ip: '198.51.100.20', port, annotations: { 'metallb.io/allow-shared-ip': 'k', 'berth.io/bgp-local-pref': lp, 'berth.io/bgp-communities': c } });
  const p = planAll([threeNodes(), pool(), router(), bgpAdv('adv'), shared('a', '180', '64512:1', 80), shared('b', '300', '64512:2', 443)], { allowProblems: true });
  assert.deepEqual(get(p, 'node1').advertisements, [{ prefix: '198.51.100.20/32', localPref: 300, communities: [((64512 << 16) + 1) >>> 0, ((64512 << 16) + 2) >>> 0] }]);
  assert.match(p.problems.join('\n'), /Service a metadata\.annotations\["berth\.io\/bgp-local-pref"\]: 180 is not sent: 198\.51\.100\.20 is shared with default\/b, whose 300 is larger/);
});
