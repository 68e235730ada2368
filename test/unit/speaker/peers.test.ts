// planPeers on compiled peer configs built by hand (fields config may reject in some dialects).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BgpPeerConfig } from '../../../src/config/model.ts';
import { planPeers } from '../../../src/speaker/peers.ts';
import { nodeFacts, type NodeFacts } from '../../../src/speaker/nodes.ts';
import { poolOfIPs } from '../../../src/speaker/plan.ts';
import { servicesWithStatusIPs } from '../../../src/speaker/services.ts';
import { compile } from '../../../src/config/compile.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { l2Pool, service } from './fixtures.ts';

const base: BgpPeerConfig = {
  source: { kind: 'BGPPeer', namespace: 'metallb-system', name: 'p' },
  name: 'p',
  dialect: 'metallb',
  myASN: 64513,
  myASNPerRack: {},
  peerASN: { kind: 'asn', asn: 64512 },
  localASN: undefined,
  peerAddress: '192.0.2.1',
  interface: undefined,
  sourceAddress: undefined,
  peerPort: 179,
  holdTime: undefined,
  keepaliveTime: undefined,
  connectTime: undefined,
  routerID: undefined,
  nodeSelectors: [],
  password: { kind: 'none' },
  bfdProfile: undefined,
  enableGracefulRestart: false,
  ebgpMultiHop: false,
  ebgpMultiHopTTL: undefined,
  vrf: undefined,
  dualStackAddressFamily: false,
  passive: false,
  adminDown: false,
};

const n1: NodeFacts = nodeFacts({ metadata: { name: 'n1', labels: { a: 'b' } }, status: { addresses: [{ type: 'InternalIP', address: '2001:db8:1::11' }, { type: 'InternalIP', address: '192.0.2.11' }] } });
const n2: NodeFacts = nodeFacts({ metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: '192.0.2.12' }], conditions: [{ type: 'Ready', status: 'Unknown' }] } });

test('node facts: Ready from the condition (absent = Ready), first IPv4 InternalIP as router id', () => {
  assert.equal(n1.ready, true);
  assert.equal(n2.ready, false);
  assert.equal(planPeers([base], n1, [n1, n2]).peers[0]?.spec.routerId, '192.0.2.11');
});

test('peers the engine cannot run are skipped or noted, never silently changed', () => {
  const peers: BgpPeerConfig[] = [
    { ...base, name: 'down', adminDown: true },
    { ...base, name: 'unnumbered', peerAddress: undefined, interface: 'eth1' },
    { ...base, name: 'vrf', vrf: 'red', bfdProfile: 'fast' },
    { ...base, name: 'dyn', peerASN: { kind: 'dynamic', type: 'external' }, localASN: 65000, peerPort: 1790, enableGracefulRestart: true, dualStackAddressFamily: true, ebgpMultiHop: true, password: { kind: 'inline', password: 'x' } },
  ];
  const plan = planPeers(peers, n1, [n1, n2]);
  assert.deepEqual(plan.peers.map((p) => p.spec.name), ['dyn', 'unnumbered', 'vrf']);
  // Unnumbered: the interface goes to the speaker; its address comes from src/bgp/unnumbered.ts.
  assert.equal(plan.peers[1]?.spec.interface, 'eth1');
  assert.equal(plan.peers[1]?.spec.peerAddress, '');
  assert.deepEqual(plan.peers[0]?.spec, {
    name: 'dyn',
    myAsn: 65000,
    dynamicAsn: 'external',
    peerAddress: '192.0.2.1',
    peerPort: 1790,
    routerId: '192.0.2.11',
    password: 'x',
    ebgpMultiHop: true,
    enableGracefulRestart: true,
    dualStackAddressFamily: true,
  });
  const notes = plan.notes.map((n) => `${n.peer}: ${n.message}`);
  assert.equal(notes.length, 2);
  assert.match(notes.join('\n'), /down: adminDown/);
  assert.doesNotMatch(notes.join('\n'), /vrf: vrf/, 'vrf is implemented: no note');
  assert.equal(plan.peers[2]?.spec.bindDevice, 'red', 'the vrf peer\'s socket is bound to the VRF device');
  assert.match(notes.join('\n'), /vrf: bfdProfile "fast" not found: the session runs without BFD/);
});

test('bfdProfile: the named BFDProfile becomes the session\'s BFD parameters', () => {
  const profile = {
    source: { kind: 'BFDProfile', namespace: 'metallb-system', name: 'fast' },
    name: 'fast',
    receiveInterval: 100,
    transmitInterval: 200,
    detectMultiplier: 5,
    echoInterval: 50,
    echoMode: false,
    passiveMode: true,
    minimumTtl: 250,
  } as const;
  const plan = planPeers([{ ...base, bfdProfile: 'fast' }], n1, [n1, n2], [profile]);
  assert.deepEqual(plan.notes, []);
  assert.deepEqual(plan.peers[0]?.spec.bfd, { profile: 'fast', receiveIntervalMs: 100, transmitIntervalMs: 200, detectMultiplier: 5, passive: true, minimumTtl: 250 });
  assert.equal(planPeers([base], n1, [n1, n2], [profile]).peers[0]?.spec.bfd, undefined);
});

test('a peer whose nodeSelectors do not select the node is absent', () => {
  const sel: BgpPeerConfig = { ...base, nodeSelectors: [{ matchLabels: { a: 'b' }, matchExpressions: [] }] };
  assert.equal(planPeers([sel], n1, [n1, n2]).peers.length, 1);
  assert.equal(planPeers([sel], n2, [n1, n2]).peers.length, 0);
});

test('Kubernetes mode: IPs come from status as they are; the pool is found from the IP', () => {
  const loaded = parseManifests([{ path: 'm.yaml', text: [l2Pool('a', '203.0.113.0/28'), l2Pool('b', '2001:db8:f00::/120'), service('x', { statusIP: '2001:db8:f00::7' }), service('y')].join('\n---\n') }]);
  const config = compile(loaded.snapshot).config;
  const { services } = servicesWithStatusIPs(loaded.snapshot.services, loaded.snapshot.namespaces);
  assert.deepEqual(services.map((s) => [s.intent.request.service, s.ips, s.pendingReason]), [
    ['default/x', ['2001:db8:f00::7'], undefined],
    ['default/y', [], 'no IP in status.loadBalancer.ingress yet'],
  ]);
  assert.equal(poolOfIPs(config.pools, ['2001:db8:f00::7'])?.spec.name, 'b');
  assert.equal(poolOfIPs(config.pools, ['203.0.113.15'])?.spec.name, 'a');
  assert.equal(poolOfIPs(config.pools, ['203.0.113.16']), undefined);
});
