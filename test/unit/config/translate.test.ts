// Translation of both dialects into the protocol-neutral Config: field by field, from the reference
// examples (MetalLB api/v1beta1 and api/v1beta2, OpenELB api/v1alpha2) and the seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileYaml, PEER, POOL, snap } from './helpers.ts';
import { compile } from '../../../src/config/compile.ts';
import type { BgpPeerConfig, Config } from '../../../src/config/model.ts';

function peer(config: Config, name: string): BgpPeerConfig {
  const p = config.bgpPeers.find((x) => x.name === name);
  assert.ok(p !== undefined, `peer ${name} in ${JSON.stringify(config.bgpPeers.map((x) => x.name))}`);
  return p;
}

test('IPAddressPool -> PoolSpec: defaults and serviceAllocation', () => {
  const { config, problems } = compileYaml(
    POOL('plain', '192.0.2.0/24') +
      POOL('alloc', '198.51.100.0/24', '  autoAssign: false\n  avoidBuggyIPs: true\n  serviceAllocation: {priority: 0, namespaces: [a], serviceSelectors: [{matchLabels: {app: x}}]}') +
      POOL('prio', '203.0.113.0/24', '  serviceAllocation: {priority: 5}'),
  );
  assert.deepEqual(problems, []);
  const [alloc, plain, prio] = config.pools; // sorted by namespace/name
  assert.equal(alloc?.spec.name, 'alloc');
  assert.equal(alloc?.spec.autoAssign, false);
  assert.equal(alloc?.spec.avoidBuggyIPs, true);
  assert.equal(alloc?.spec.priority, undefined, 'MetalLB priority 0 means unset');
  assert.equal(alloc?.spec.hasServiceAllocation, true);
  assert.deepEqual(alloc?.spec.namespaces, ['a']);
  assert.deepEqual(alloc?.spec.serviceSelectors, [{ matchLabels: { app: 'x' }, matchExpressions: [] }]);
  assert.equal(plain?.spec.autoAssign, true);
  assert.equal(plain?.spec.hasServiceAllocation, false);
  assert.deepEqual(plain?.spec.ranges, [{ family: 'ipv4', first: 0xc0000200n, last: 0xc00002ffn, prefixLength: 24 }]);
  assert.equal(prio?.spec.priority, 5);
  assert.equal(plain?.spec.dialect, 'metallb');
  assert.equal(plain?.protocol, undefined);
});

test('Eip -> PoolSpec: OpenELB fields, explicit protocol kept apart from the default', () => {
  const { config, problems } = compileYaml(`
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: l2
  annotations: {eip.openelb.kubesphere.io/is-default-eip: "true"}
  labels: {tier: edge}
spec: {address: 192.0.2.10-192.0.2.20, protocol: layer2, interface: "can_reach:192.0.2.1", priority: 3, namespaces: [web], namespaceSelector: {team: a}, disable: true}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: nobody}
spec: {address: 198.51.100.7}`);
  assert.deepEqual(problems, []);
  const l2 = config.pools.find((p) => p.spec.name === 'l2');
  const nobody = config.pools.find((p) => p.spec.name === 'nobody');
  assert.equal(l2?.spec.dialect, 'openelb');
  assert.equal(l2?.spec.autoAssign, false);
  assert.equal(l2?.spec.protocol, 'layer2');
  assert.equal(l2?.protocol, 'layer2');
  assert.equal(l2?.spec.isDefault, true);
  assert.equal(l2?.spec.disabled, true);
  assert.equal(l2?.spec.priority, 3);
  assert.deepEqual(l2?.spec.namespaces, ['web']);
  assert.deepEqual(l2?.spec.namespaceSelectors, [{ matchLabels: { team: 'a' }, matchExpressions: [] }]);
  assert.equal(l2?.spec.interface, 'can_reach:192.0.2.1');
  assert.deepEqual(l2?.eipInterface, { kind: 'can-reach', ip: '192.0.2.1' });
  assert.deepEqual(l2?.labels, { tier: 'edge' });
  assert.equal(nobody?.spec.protocol, 'bgp', 'OpenELB defaults to bgp');
  assert.equal(nobody?.protocol, undefined, 'but the Eip did not say so');
  assert.equal(nobody?.spec.priority, 0, 'an OpenELB priority of 0 is a value');
  assert.deepEqual(nobody?.spec.ranges, [{ family: 'ipv4', first: 0xc6336407n, last: 0xc6336407n }]);
});

test('L2Advertisement: names ∪ selectors; none = every MetalLB pool, never an Eip', () => {
  const { config, problems } = compileYaml(
    POOL('a', '192.0.2.0/26') +
      POOL('b', '192.0.2.64/26') +
      `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: c, namespace: metallb-system, labels: {tier: edge}}
spec: {addresses: [192.0.2.128/26]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: e, labels: {tier: edge}}
spec: {address: 198.51.100.0/24}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: some, namespace: metallb-system}
spec:
  ipAddressPools: [a]
  ipAddressPoolSelectors: [{matchLabels: {tier: edge}}]
  interfaces: [eth0, eth1]
  nodeSelectors: [{matchLabels: {kubernetes.io/hostname: n1}}]
  preferredNodeSelectors: [{weight: 50, preference: {matchLabels: {zone: a}}}]
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: all, namespace: metallb-system}`,
  );
  assert.deepEqual(problems, []);
  const some = config.l2Rules.find((r) => r.source.name === 'some');
  const all = config.l2Rules.find((r) => r.source.name === 'all');
  assert.deepEqual(some?.pools, ['a', 'c', 'e']);
  assert.deepEqual(some?.interfaces, [{ kind: 'name', name: 'eth0' }, { kind: 'name', name: 'eth1' }]);
  assert.deepEqual(some?.nodeSelectors, [{ matchLabels: { 'kubernetes.io/hostname': 'n1' }, matchExpressions: [] }]);
  assert.deepEqual(some?.preferredNodes, [{ weight: 50, preference: { matchLabels: { zone: 'a' }, matchExpressions: [] } }]);
  assert.deepEqual(all?.pools, ['a', 'b', 'c']);
  assert.deepEqual(all?.interfaces, []);
});

test('Eips imply rules: layer2 -> L2 on its interface; bgp or unstated -> BGP defaults unless a BGPAdvertisement names it', () => {
  const { config, problems } = compileYaml(`
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: l2}
spec: {address: 192.0.2.1, protocol: layer2, interface: eth1}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: plain}
spec: {address: 192.0.2.2}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: named}
spec: {address: 192.0.2.3, protocol: bgp}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: for-named, namespace: metallb-system}
spec: {ipAddressPools: [named], communities: [no-export], localPref: 50}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(
    config.l2Rules.map((r) => [r.source.kind, r.source.name, r.pools, r.interfaces]),
    [['Eip', 'l2', ['l2'], [{ kind: 'name', name: 'eth1' }]]],
  );
  const bgp = config.bgpAdvertisements.map((r) => [r.source.kind, r.source.name, r.pools, r.aggregationLength, r.aggregationLengthV6, r.communities.length]);
  assert.deepEqual(bgp, [
    ['BGPAdvertisement', 'for-named', ['named'], 32, 128, 1],
    ['Eip', 'plain', ['plain'], 32, 128, 0],
  ]);
});

test('BGPAdvertisement: communities through aliases, well-known names and literals; sorted, deduplicated', () => {
  const { config, problems } = compileYaml(
    POOL('p', '198.51.100.0/24') +
      `
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c, namespace: metallb-system}
spec: {communities: [{name: no-adv, value: "65535:65282"}, {name: big, value: "large:64500:1:2"}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec:
  ipAddressPools: [p]
  aggregationLength: 28
  localPref: 100
  peers: [r1]
  nodeSelectors: [{matchLabels: {rack: a}}]
  communities: [big, "64500:10", no-adv, no-advertise, blackhole, graceful-shutdown]`,
  );
  assert.deepEqual(problems, []);
  const [a] = config.bgpAdvertisements;
  assert.equal(a?.aggregationLength, 28);
  assert.equal(a?.aggregationLengthV6, 128);
  assert.equal(a?.localPref, 100);
  assert.deepEqual(a?.peers, ['r1']);
  assert.deepEqual(a?.communities, [
    { kind: 'standard', value: 64500 * 65536 + 10 },
    { kind: 'standard', value: 0xffff0000 }, // graceful-shutdown, RFC 8326
    { kind: 'standard', value: 0xffff029a }, // blackhole, RFC 7999
    { kind: 'standard', value: 0xffffff02 }, // no-advertise (alias and name, once)
    { kind: 'large', globalAdmin: 64500, localData1: 1, localData2: 2 },
  ]);
});

test('BGPPeer v1beta2: every field', () => {
  const { config, problems } = compileYaml(
    `
apiVersion: v1
kind: Secret
metadata: {name: md5, namespace: metallb-system}
type: kubernetes.io/basic-auth
data: {password: c2VjcmV0}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100}
---` +
      PEER(
        'full',
        `  myASN: 64500
  peerASN: 64501
  localASN: 64999
  peerAddress: 192.0.2.1
  sourceAddress: 192.0.2.10
  peerPort: 1790
  holdTime: 1m30s
  keepaliveTime: 30s
  connectTime: 10s
  routerID: 192.0.2.10
  nodeSelectors: [{matchLabels: {rack: a}}]
  passwordSecret: {name: md5}
  enableGracefulRestart: true
  ebgpMultiHop: true
  dualStackAddressFamily: true`,
      ) +
      PEER('hold-only', '  {myASN: 64500, peerASN: 64500, peerAddress: 192.0.2.2, holdTime: 9s, password: pw}') +
      PEER('ka-only', '  {myASN: 64500, dynamicASN: external, peerAddress: 192.0.2.3, keepaliveTime: 5s}'),
  );
  assert.deepEqual(problems, []);
  const full = peer(config, 'full');
  assert.deepEqual(
    { ...full, source: undefined },
    {
      source: undefined,
      name: 'full',
      dialect: 'metallb',
      myASN: 64500,
      myASNPerRack: {},
      peerASN: { kind: 'asn', asn: 64501 },
      localASN: 64999,
      peerAddress: '192.0.2.1',
      interface: undefined,
      sourceAddress: '192.0.2.10',
      peerPort: 1790,
      holdTime: 90,
      keepaliveTime: 30,
      connectTime: 10,
      routerID: '192.0.2.10',
      nodeSelectors: [{ matchLabels: { rack: 'a' }, matchExpressions: [] }],
      password: { kind: 'secret', namespace: 'metallb-system', name: 'md5', password: 'secret' },
      // bfdProfile and vrf are refused until implemented (test/unit/config/compat.test.ts).
      bfdProfile: undefined,
      enableGracefulRestart: true,
      ebgpMultiHop: true,
      ebgpMultiHopTTL: undefined,
      vrf: undefined,
      dualStackAddressFamily: true,
      passive: false,
      adminDown: false,
    },
  );
  const hold = peer(config, 'hold-only');
  assert.deepEqual([hold.holdTime, hold.keepaliveTime, hold.peerPort, hold.password], [9, 3, 179, { kind: 'inline', password: 'pw' }]);
  const ka = peer(config, 'ka-only');
  assert.deepEqual([ka.holdTime, ka.keepaliveTime, ka.peerASN], [15, 5, { kind: 'dynamic', type: 'external' }]);
  const bfd = config.bfdProfiles[0];
  assert.deepEqual(
    [bfd?.receiveInterval, bfd?.transmitInterval, bfd?.detectMultiplier, bfd?.echoInterval, bfd?.echoMode, bfd?.passiveMode, bfd?.minimumTtl],
    [100, 300, 3, 50, false, false, 254],
  );
});

test('BGPPeer v1beta1 converts up: port 0 -> 179, unset timers stay unset, legacy selectors', () => {
  const { config, problems } = compileYaml(`
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: old, namespace: metallb-system}
spec:
  myASN: 64500
  peerASN: 64501
  peerAddress: 192.0.2.1
  peerPort: 0
  password: pw
  nodeSelectors: [{matchLabels: {a: b}, matchExpressions: [{key: rack, operator: notin, values: [x]}]}]`);
  assert.deepEqual(problems, []);
  const old = peer(config, 'old');
  assert.equal(old.peerPort, 179);
  assert.equal(old.holdTime, undefined);
  assert.equal(old.keepaliveTime, undefined);
  assert.deepEqual(old.nodeSelectors, [{ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'rack', operator: 'NotIn', values: ['x'] }] }]);
  assert.deepEqual(old.password, { kind: 'inline', password: 'pw' });
});

test('OpenELB BgpConf + BgpPeer map onto the same peer model', () => {
  const { config, problems } = compileYaml(`
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 64500, asPerRack: {rack1: 64601}, routerId: 192.0.2.100, listenPort: 17900, gracefulRestart: {enabled: true}}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: leaf1}
spec:
  conf: {peerAs: 65001, neighborAddress: 192.0.2.1, authPassword: md5pw, localAs: 64777}
  ebgpMultihop: {enabled: true, multihopTtl: 3}
  timers: {config: {holdTime: "30", keepaliveInterval: "10", connectRetry: "5"}}
  transport: {remotePort: 1179, passiveMode: true}
  nodeSelector: {matchLabels: {openelb.kubesphere.io/rack: leaf1}}`);
  assert.deepEqual(
    problems.map((p) => [p.name, p.field, p.severity]),
    [['leaf1', 'spec.ebgpMultihop.multihopTtl', 'warning']],
    'multihopTtl is read but not implemented: a warning',
  );
  assert.deepEqual(config.bgpSpeaker && { ...config.bgpSpeaker, source: undefined }, {
    source: undefined,
    asn: 64500,
    asPerRack: { rack1: 64601 },
    routerID: '192.0.2.100',
    listenPort: 17900,
    listenAddresses: [],
    gracefulRestart: true,
  });
  const leaf = peer(config, 'leaf1');
  assert.equal(leaf.dialect, 'openelb');
  assert.equal(leaf.myASN, 64500);
  assert.deepEqual(leaf.myASNPerRack, { rack1: 64601 });
  assert.deepEqual(leaf.peerASN, { kind: 'asn', asn: 65001 });
  assert.equal(leaf.localASN, 64777);
  assert.equal(leaf.peerAddress, '192.0.2.1');
  assert.equal(leaf.peerPort, 1179);
  assert.deepEqual([leaf.holdTime, leaf.keepaliveTime, leaf.connectTime], [30, 10, 5]);
  assert.deepEqual(leaf.password, { kind: 'inline', password: 'md5pw' });
  assert.deepEqual([leaf.ebgpMultiHop, leaf.ebgpMultiHopTTL, leaf.passive, leaf.enableGracefulRestart], [true, 3, true, true]);
  assert.equal(leaf.routerID, '192.0.2.100');
  assert.deepEqual(leaf.nodeSelectors, [{ matchLabels: { 'openelb.kubesphere.io/rack': 'leaf1' }, matchExpressions: [] }]);
});

test('localPref conflicts use the Node objects when present', () => {
  const ads = `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100, nodeSelectors: [{matchLabels: {zone: x}}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: b, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 200, nodeSelectors: [{matchLabels: {rack: r}}]}
---`;
  const node = (name: string, labels: string): string => `
apiVersion: v1
kind: Node
metadata: {name: ${name}, labels: ${labels}}
---`;
  // Without nodes the selectors cannot be proven disjoint (different keys).
  assert.equal(compileYaml(POOL('p', '198.51.100.0/24') + ads).problems.length, 1);
  // With nodes where no node has both labels: disjoint.
  assert.equal(compileYaml(POOL('p', '198.51.100.0/24') + ads + node('n1', '{zone: x}') + node('n2', '{rack: r}')).problems.length, 0);
  // One node carries both: conflict.
  assert.equal(compileYaml(POOL('p', '198.51.100.0/24') + ads + node('n1', '{zone: x, rack: r}')).problems.length, 1);
});

test('metallbNamespace: metallb.io objects elsewhere are refused; OpenELB (cluster-scoped) objects are not affected', () => {
  const yaml =
    POOL('in', '192.0.2.0/24') +
    `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: out, namespace: default}
spec: {addresses: [198.51.100.0/24]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: e}
spec: {address: 203.0.113.0/24}`;
  const any = compile(snap(yaml));
  assert.deepEqual(any.config.pools.map((p) => p.spec.name), ['out', 'in', 'e']);
  const only = compile(snap(yaml), undefined, { metallbNamespace: 'metallb-system' });
  assert.deepEqual(only.config.pools.map((p) => p.spec.name), ['in', 'e']);
  assert.deepEqual(only.problems.map((p) => [p.kind, p.namespace, p.name, p.field]), [['IPAddressPool', 'default', 'out', 'metadata.namespace']]);
  assert.equal(only.statuses.find((s) => s.ref.name === 'out')?.state, 'invalid');
});

test('openelb false: Eip, BgpConf and OpenELB BgpPeer are not read; MetalLB objects are unaffected', () => {
  const yaml =
    POOL('in', '192.0.2.0/24') +
    `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: e}
spec: {address: 203.0.113.0/24}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 64512, routerId: 192.0.2.1, listenPort: 17900}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: p}
spec: {conf: {peerAs: 64513, neighborAddress: 192.0.2.254}}`;
  const both = compile(snap(yaml));
  assert.deepEqual(both.config.pools.map((p) => p.spec.name), ['in', 'e']);
  assert.equal(both.config.bgpSpeaker?.listenPort, 17900);
  assert.equal(both.config.bgpPeers.length, 1);
  const off = compile(snap(yaml), undefined, { openelb: false });
  assert.deepEqual(off.config.pools.map((p) => p.spec.name), ['in']);
  assert.equal(off.config.bgpSpeaker, undefined);
  assert.equal(off.config.bgpPeers.length, 0);
  assert.deepEqual(off.problems, []);
});
