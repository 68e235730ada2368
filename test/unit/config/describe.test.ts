// The human view of announcements used by `berth check`'s table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aggregatePrefix, describeAnnouncements, formatSelector } from '../../../src/config/describe.ts';
import { dispatch } from '../../../src/config/dispatch.ts';
import { parseIP, type IPAddress } from '../../../src/pool/types.ts';
import type { BgpAdvertisementRule } from '../../../src/config/model.ts';
import { compileYaml, PEER, POOL } from './helpers.ts';

function ip(t: string): IPAddress {
  const r = parseIP(t);
  assert.ok(r.ok);
  return r.value;
}

const rule = (v4: number, v6: number): BgpAdvertisementRule => ({
  source: { kind: 'BGPAdvertisement', name: 'x' },
  pools: [],
  aggregationLength: v4,
  aggregationLengthV6: v6,
  localPref: undefined,
  communities: [],
  nodeSelectors: [],
  peers: [],
  serviceSelectors: [],
});

test('aggregatePrefix masks the VIP (MetalLB docs, BGPAdvertisement aggregationLength)', () => {
  assert.equal(aggregatePrefix(ip('198.51.100.10'), rule(24, 128)), '198.51.100.0/24');
  assert.equal(aggregatePrefix(ip('198.51.100.10'), rule(32, 128)), '198.51.100.10/32');
  assert.equal(aggregatePrefix(ip('198.51.100.10'), rule(30, 128)), '198.51.100.8/30');
  assert.equal(aggregatePrefix(ip('2001:db8::1:5'), rule(32, 112)), '2001:db8::1:0/112');
  assert.equal(aggregatePrefix(ip('2001:db8::1:5'), rule(32, 128)), '2001:db8::1:5/128');
});

test('formatSelector', () => {
  assert.equal(formatSelector({ matchLabels: {}, matchExpressions: [] }), 'all');
  assert.equal(formatSelector({ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d', 'e'] }, { key: 'f', operator: 'Exists', values: [] }] }), 'a=b,c In (d,e),f Exists');
});

test('describeAnnouncements lists every prefix per BGP rule and every address per L2 rule', () => {
  const { config } = compileYaml(
    POOL('p', '198.51.100.0/24') +
      PEER('r1', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1}') +
      `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: host, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100, communities: [no-advertise]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: agg, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24, peers: [r1]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [p], interfaces: [eth1], nodeSelectors: [{matchLabels: {rack: a}}]}`,
  );
  const d = dispatch(config, { pool: 'p', serviceProtocol: undefined, serviceLabels: {} });
  assert.deepEqual(describeAnnouncements(config, [ip('198.51.100.7')], d), [
    { mode: 'bgp', what: '198.51.100.7/32', how: 'peers r1; nodes all; local-pref 100; communities 65535:65282' },
    { mode: 'bgp', what: '198.51.100.0/24', how: 'peers r1; nodes all' },
    { mode: 'l2', what: '198.51.100.7', how: 'nodes rack=a; interfaces eth1' },
  ]);
  // berth.io/weighted-ecmp: BGP lines say how the link bandwidth is set; L2 lines do not change.
  const weighted = describeAnnouncements(config, [ip('198.51.100.7')], d, { weightedEcmp: true });
  assert.equal(weighted[0]?.how, 'peers r1; nodes all; local-pref 100; communities 65535:65282; link-bandwidth: 1 Mbit/s per serving endpoint on the node (weighted ECMP)');
  assert.equal(weighted[2]?.how, 'nodes rack=a; interfaces eth1');
});

test('describeAnnouncements names the VRF of each peer that has one (BGPPeer spec.vrf)', () => {
  const { config, problems } = compileYaml(
    POOL('p', '198.51.100.0/24') +
      PEER('red-router', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, vrf: red}') +
      PEER('plain', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.2}') +
      `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: all, namespace: metallb-system}
spec: {ipAddressPools: [p]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: red-only, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24, peers: [red-router]}`,
  );
  assert.deepEqual(problems, []);
  const d = dispatch(config, { pool: 'p', serviceProtocol: undefined, serviceLabels: {} });
  assert.deepEqual(describeAnnouncements(config, [ip('198.51.100.7')], d), [
    { mode: 'bgp', what: '198.51.100.7/32', how: 'peers red-router (vrf red),plain; nodes all' },
    { mode: 'bgp', what: '198.51.100.0/24', how: 'peers red-router (vrf red); nodes all' },
  ]);
});
