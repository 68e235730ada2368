// The last-good rule: valid v1, invalid v2 -> v1 stays in force, a problem says so, everything else is
// unaffected; v3 valid -> v3 in force; never-valid objects are absent; compile is pure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compile, ObjectState } from '../../../src/config/compile.ts';
import { compileYaml, PEER, POOL, snap } from './helpers.ts';

const L2 = `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [blue, green]}
---`;

test('valid v1, invalid v2: v1 stays in force, the problem names it, the rest is unaffected', () => {
  const v1 = compileYaml(POOL('blue', '192.0.2.0/24') + POOL('green', '198.51.100.0/24') + L2);
  assert.deepEqual(v1.problems, []);
  // v2: blue gets a broken address; green changes validly.
  const v2 = compileYaml(POOL('blue', '192.0.2.0/33') + POOL('green', '198.51.100.0/25') + L2, v1.store);
  const blue = v2.config.pools.find((p) => p.spec.name === 'blue');
  const green = v2.config.pools.find((p) => p.spec.name === 'green');
  assert.equal(blue?.spec.ranges[0]?.prefixLength, 24, 'blue v1 in force');
  assert.equal(green?.spec.ranges[0]?.prefixLength, 25, 'green v2 in force');
  assert.equal(v2.problems.length, 1);
  assert.equal(v2.problems[0]?.name, 'blue');
  assert.match(v2.problems[0]?.message ?? '', /the last valid version stays in force/);
  assert.deepEqual(v2.config.l2Rules[0]?.pools, ['blue', 'green'], 'the advertisement still sees blue');
  assert.deepEqual(
    v2.statuses.map((s) => [s.ref.name, s.state]).sort(),
    [
      ['blue', ObjectState.Stale],
      ['green', ObjectState.Valid],
      ['l2', ObjectState.Valid],
    ],
  );
  // v3: blue fixed to a new value -> v3 in force, no problem.
  const v3 = compileYaml(POOL('blue', '192.0.2.0/26') + POOL('green', '198.51.100.0/25') + L2, v2.store);
  assert.deepEqual(v3.problems, []);
  assert.equal(v3.config.pools.find((p) => p.spec.name === 'blue')?.spec.ranges[0]?.prefixLength, 26);
});

test('an object that was never valid is absent; the store does not keep it', () => {
  const r = compileYaml(POOL('bad', '192.0.2.0/33') + POOL('ok', '198.51.100.0/24'));
  assert.deepEqual(
    r.config.pools.map((p) => p.spec.name),
    ['ok'],
  );
  assert.equal(r.statuses.find((s) => s.ref.name === 'bad')?.state, ObjectState.Invalid);
  assert.match(r.problems[0]?.message ?? '', /no effect until fixed/);
  assert.deepEqual([...r.store.objects.keys()], ['IPAddressPool/metallb-system/ok']);
});

test('a change that overlaps a pool in force is the one rejected; the old version stays', () => {
  const v1 = compileYaml(POOL('a', '192.0.2.0/25') + POOL('b', '192.0.2.128/25'));
  assert.deepEqual(v1.problems, []);
  // b grows into a: b is the changed one, so b is rejected and its v1 stays.
  const v2 = compileYaml(POOL('a', '192.0.2.0/25') + POOL('b', '192.0.2.0/24'), v1.store);
  assert.equal(v2.problems.length, 1);
  assert.equal(v2.problems[0]?.name, 'b');
  assert.equal(v2.config.pools.find((p) => p.spec.name === 'b')?.spec.ranges[0]?.prefixLength, 25);
  // A new pool that sorts before "a" and overlaps it: the pool in force wins.
  const v3 = compileYaml(POOL('a', '192.0.2.0/25') + POOL('b', '192.0.2.128/25') + POOL('0-new', '192.0.2.0/26'), v2.store);
  assert.deepEqual(
    v3.problems.map((p) => p.name),
    ['0-new'],
  );
});

test('Eip spec.address is immutable: the change is refused, the old address stays', () => {
  const eip = (address: string): string => `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: e}
spec: {address: ${address}}`;
  const v1 = compileYaml(eip('192.0.2.0/28'));
  const v2 = compileYaml(eip('192.0.2.0/27'), v1.store);
  assert.equal(v2.problems.length, 1);
  assert.equal(v2.problems[0]?.field, 'spec.address');
  assert.match(v2.problems[0]?.message ?? '', /may not change/);
  assert.equal(v2.config.pools[0]?.spec.ranges[0]?.last, 0xc000020fn, 'still the /28');
  // Deleting and re-creating (no previous) accepts the new address.
  assert.deepEqual(compileYaml(eip('192.0.2.0/27')).problems, []);
});

test('BGPPeer enableGracefulRestart is immutable', () => {
  const p = (gr: boolean, hold: string): string => PEER('r', `  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, enableGracefulRestart: ${gr}, holdTime: ${hold}}`);
  const v1 = compileYaml(p(false, '90s'));
  const v2 = compileYaml(p(true, '30s'), v1.store);
  assert.equal(v2.problems.length, 1);
  assert.equal(v2.problems[0]?.field, 'spec.enableGracefulRestart');
  const r = v2.config.bgpPeers[0];
  assert.deepEqual([r?.enableGracefulRestart, r?.holdTime], [false, 90], 'v1 entirely, not a mix');
});

test('a dependency going away removes a dependant whose old version no longer fits either', () => {
  const secret = `
apiVersion: v1
kind: Secret
metadata: {name: md5, namespace: metallb-system}
type: kubernetes.io/basic-auth
stringData: {password: pw}
---`;
  const peer = (hold: string): string => PEER('r', `  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, holdTime: ${hold}, passwordSecret: {name: md5}}`);
  const v1 = compileYaml(secret + peer('90s'));
  assert.deepEqual(v1.problems, []);
  const v2 = compileYaml(peer('2s'), v1.store);
  assert.equal(v2.config.bgpPeers.length, 0);
  assert.equal(v2.statuses.find((s) => s.ref.name === 'r')?.state, 'invalid');
  assert.ok(v2.problems.some((p) => p.field === 'spec.holdTime' && p.message.includes('its last valid version does not fit')), JSON.stringify(v2.problems));
});

test('an invalid pool change keeps advertisements that depend on the old version valid', () => {
  const ad = `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: agg, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24}
---`;
  const v1 = compileYaml(POOL('p', '192.0.2.0/24') + ad);
  assert.deepEqual(v1.problems, []);
  const v2 = compileYaml(POOL('p', '192.0.2.0/24, nonsense') + ad, v1.store);
  assert.equal(v2.problems.length, 1);
  assert.equal(v2.config.bgpAdvertisements.length, 1, 'the /24 aggregation still fits the /24 in force');
});

test('deleting an object is always valid and removes it from the store', () => {
  const v1 = compileYaml(POOL('a', '192.0.2.0/24') + POOL('b', '198.51.100.0/24'));
  const v2 = compileYaml(POOL('a', '192.0.2.0/24'), v1.store);
  assert.deepEqual(v2.problems, []);
  assert.deepEqual([...v2.store.objects.keys()], ['IPAddressPool/metallb-system/a']);
});

test('compile is pure: same input, same output; the previous store is not mutated', () => {
  const s1 = snap(POOL('a', '192.0.2.0/24'));
  const v1 = compile(s1);
  const before = [...v1.store.objects.entries()];
  const s2 = snap(POOL('a', '192.0.2.0/33'));
  const x = compile(s2, v1.store);
  const y = compile(s2, v1.store);
  assert.deepEqual(x, y);
  assert.deepEqual([...v1.store.objects.entries()], before);
});

test('a BFDProfile deleted while a BGPPeer uses it stays in force (MetalLB denies that deletion)', () => {
  const bfd = `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 100}
---`;
  const peer = PEER('r', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, bfdProfile: fast}');
  const v1 = compileYaml(bfd + peer);
  assert.deepEqual(v1.problems, []);
  const v2 = compileYaml(peer, v1.store);
  assert.equal(v2.config.bgpPeers.length, 1, 'the peer keeps its session');
  assert.equal(v2.config.bfdProfiles[0]?.receiveInterval, 100);
  assert.deepEqual(v2.problems.map((p) => [p.kind, p.name]), [['BFDProfile', 'fast']]);
  assert.match(v2.problems[0]?.message ?? '', /BGPPeer metallb-system\/r still use it/);
  // Once no peer names it, the deletion completes.
  const v3 = compileYaml(PEER('r', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1}'), v2.store);
  assert.deepEqual(v3.problems, []);
  assert.equal(v3.config.bfdProfiles.length, 0);
});
