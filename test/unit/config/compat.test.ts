// Issue 11 "Users' manifests apply unchanged": one regression test per item, each from a minimal
// manifest, through the same compile() / checkSnapshot() the controller and both speaker modes use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSnapshot } from '../../../src/config/check.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { isError } from '../../../src/config/problems.ts';
import { nearestName } from '../../../src/config/strict.ts';
import { assertProblems, compileYaml, PEER, POOL, snap } from './helpers.ts';

const L2 = (name: string, spec: string): string => `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: ${name}, namespace: metallb-system}
spec: ${spec}
---`;

const BGPADV = (name: string, spec: string): string => `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: ${name}, namespace: metallb-system}
spec: ${spec}
---`;

const EIP = (name: string, apiVersion: string, spec: string): string => `
apiVersion: network.kubesphere.io/${apiVersion}
kind: Eip
metadata: {name: ${name}}
spec: ${spec}
---`;

const SVC = (name: string, annotations: string, spec = ''): string => `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: default
  annotations: ${annotations}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
${spec}
---`;

// ---- 1. passwordSecret: {}

test('1: BGPPeer passwordSecret: {} (MetalLB converter output) is no reference: the peer is valid, no password', () => {
  const r = compileYaml(PEER('migrated', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, passwordSecret: {}}'));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config.bgpPeers[0]?.password, { kind: 'none' });
});

test('1: passwordSecret {} next to an inline password is not "both"', () => {
  const r = compileYaml(PEER('migrated', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, password: pw, passwordSecret: {}}'));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config.bgpPeers[0]?.password, { kind: 'inline', password: 'pw' });
});

test('1: a named passwordSecret next to an inline password is still refused', () => {
  const r = compileYaml(PEER('both', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, password: pw, passwordSecret: {name: s}}'));
  assertProblems(r.problems, [{ kind: 'BGPPeer', name: 'both', field: 'spec.passwordSecret', includes: 'not both' }]);
});

test('1 (config_test.go rows): a password with a line break is refused, inline or from a Secret, as MetalLB does', () => {
  const secret = `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: metallb-system}
type: kubernetes.io/basic-auth
data: {password: bm9wYXNzCg==}
---`;
  const r = compileYaml(secret + PEER('inline', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, password: "pw\\r"}') + PEER('fromsecret', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.2, passwordSecret: {name: s}}'));
  assertProblems(r.problems, [
    { kind: 'BGPPeer', name: 'inline', field: 'spec.password', includes: 'line break' },
    { kind: 'BGPPeer', name: 'fromsecret', field: 'spec.passwordSecret', includes: 'echo pw | base64' },
  ]);
});

// ---- 2. advertisements naming pools that do not exist

test('2: an L2Advertisement naming a missing pool applies to the pools that exist, with a warning', () => {
  const r = compileYaml(POOL('ipv4-pool', '192.0.2.0/24') + L2('docs', '{ipAddressPools: [ipv4-pool, ipv6-pool]}'));
  assert.deepEqual(r.config.l2Rules.map((x) => [x.source.name, x.pools]), [['docs', ['ipv4-pool']]]);
  assertProblems(r.problems, [{ kind: 'L2Advertisement', name: 'docs', field: 'spec.ipAddressPools[1]', includes: 'no valid IPAddressPool or Eip named "ipv6-pool"' }]);
  assert.equal(r.problems[0]?.severity, 'warning');
  assert.equal(r.statuses.find((s) => s.ref.name === 'docs')?.state, 'valid');
});

test('2: a BGPAdvertisement naming a missing pool applies to the pools that exist, with a warning', () => {
  const r = compileYaml(POOL('ipv4-pool', '192.0.2.0/24') + BGPADV('docs', '{ipAddressPools: [dualstack-pool, ipv4-pool]}'));
  assert.deepEqual(r.config.bgpAdvertisements.map((x) => x.pools), [['ipv4-pool']]);
  assert.deepEqual(r.problems.map((p) => [p.field, p.severity]), [['spec.ipAddressPools[0]', 'warning']]);
});

test('2: berth check exits clean of errors with only warnings, and the Service is announced', () => {
  const r = checkSnapshot(snap(POOL('ipv4-pool', '192.0.2.0/24') + L2('docs', '{ipAddressPools: [ipv4-pool, ipv6-pool]}') + SVC('web', '{}')));
  assert.deepEqual(r.report.services.map((s) => [s.name, s.ips, s.modes]), [['web', ['192.0.2.1'], ['l2']]]);
  assert.equal(r.report.problems.filter(isError).length, 0);
  assert.equal(r.report.problems.length, 1);
});

// ---- 3. a layer2 Eip without interface (v1alpha1 has no such field)

test('3: a v1alpha1 layer2 Eip is valid and implies an L2 rule with no fixed NIC (found per node)', () => {
  const r = compileYaml(EIP('porter', 'v1alpha1', '{address: 192.0.2.0/28, protocol: layer2}'));
  assert.deepEqual(r.problems, []);
  const rule = r.config.l2Rules.find((x) => x.pools.includes('porter'));
  assert.deepEqual(rule?.interfaces, []);
});

test('3: berth check says which NIC a layer2 Eip without interface uses', () => {
  const r = checkSnapshot(snap(EIP('porter', 'v1alpha1', '{address: 192.0.2.0/28, protocol: layer2}') + SVC('web', '{lb.kubesphere.io/v1alpha1: porter, protocol.porter.kubesphere.io/v1alpha1: layer2}')));
  assert.deepEqual(r.announcements.get('default/web')?.map((a) => a.how), ['nodes all; interfaces per node: the NIC with an address in the subnet of 192.0.2.0, else the NIC of the node InternalIP']);
});

test('3: a v1alpha2 layer2 Eip without interface is valid too', () => {
  const r = compileYaml(EIP('porter', 'v1alpha2', '{address: 192.0.2.0/28, protocol: layer2}'));
  assert.deepEqual(r.problems, []);
  assert.equal(r.config.pools[0]?.eipInterface, undefined);
});

// ---- 4. usingKnownIPs

test('4: a v1alpha1 Eip (usingKnownIPs absent, Porter 0.3 default false) skips .0 and .255', () => {
  const yaml = EIP('porter', 'v1alpha1', '{address: 192.0.2.255-192.0.3.0}') + SVC('web', '{lb.kubesphere.io/v1alpha1: porter, eip.porter.kubesphere.io/v1alpha2: porter}');
  const r = checkSnapshot(snap(yaml));
  assert.deepEqual(r.report.services.map((s) => s.ips), [[]], 'both addresses end in .255 / .0');
  assert.match(r.report.services[0]?.reason ?? '', /no available IPs in Eip porter/);
});

test('4: usingKnownIPs false skips .0/.255 in any version; true (or absent in v1alpha2) uses them', () => {
  const ips = (apiVersion: string, extra: string): readonly string[] =>
    checkSnapshot(snap(EIP('e', apiVersion, `{address: 192.0.2.255-192.0.3.1${extra}}`) + SVC('web', '{lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha2: e}'))).report.services[0]?.ips ?? [];
  assert.deepEqual(ips('v1alpha2', ', usingKnownIPs: false'), ['192.0.3.1']);
  assert.deepEqual(ips('v1alpha1', ', usingKnownIPs: true'), ['192.0.2.255']);
  assert.deepEqual(ips('v1alpha2', ''), ['192.0.2.255']);
});

// ---- 5. what the API server and MetalLB refuse

test('5: a pool CIDR with a leading space is refused (net.ParseCIDR)', () => {
  const r = compileYaml(POOL('p', '" 10.0.0.0/8"'));
  assertProblems(r.problems, [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', includes: 'spaces around it' }]);
});

test('5: a selector expression with a value listed twice is refused', () => {
  const r = compileYaml(POOL('p', '192.0.2.0/24') + L2('l', '{nodeSelectors: [{matchExpressions: [{key: zone, operator: In, values: [a, a]}]}]}'));
  assertProblems(r.problems, [{ kind: 'L2Advertisement', name: 'l', field: 'spec.nodeSelectors[0].matchExpressions[0].values[1]', includes: 'duplicate entry "a"' }]);
});

// ---- 6. strict fields

test('6: misspelt fields are refused, naming the path and the field meant', () => {
  const r = compileYaml(POOL('p', '192.0.2.0/24', '  autoassign: false') + L2('l', '{ipaddressPools: [p]}'));
  assertProblems(r.problems, [
    { kind: 'IPAddressPool', name: 'p', field: 'spec.autoassign', includes: 'did you mean autoAssign?' },
    { kind: 'L2Advertisement', name: 'l', field: 'spec.ipaddressPools', includes: 'did you mean ipAddressPools?' },
  ]);
  assert.equal(r.config.pools.length, 0, 'the pool is not auto-assigning behind the user\'s back: it is refused');
  assert.equal(r.config.l2Rules.length, 0, 'the advertisement does not become "every pool"');
});

test('6: an unknown field of a Porter BgpConf (ListenAddresses) and a top-level typo are refused', () => {
  const r = compileYaml(`
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 64500, routerId: 192.0.2.9, listenPort: 17900, ListenAddresses: [192.0.2.9]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
specs: {addresses: [192.0.2.0/24]}`);
  assertProblems(r.problems, [
    { kind: 'BgpConf', name: 'default', field: 'spec.ListenAddresses', includes: 'did you mean listenAddresses?' },
    { kind: 'IPAddressPool', name: 'p', field: 'specs', includes: 'did you mean spec?' },
    { kind: 'IPAddressPool', name: 'p', field: 'spec', includes: 'no spec' },
  ]);
});

test('6: unknown fields deep in lists are found; a field with no near name lists the known ones', () => {
  const r = compileYaml(POOL('p', '192.0.2.0/24', '  serviceAllocation: {namespaceSelectors: [{matchLabel: {a: b}}], colour: red}'));
  assertProblems(r.problems, [
    { kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaceSelectors[0].matchLabel', includes: 'did you mean matchLabels?' },
    { kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.colour', includes: 'known fields here: namespaceSelectors, namespaces, priority, serviceSelectors' },
  ]);
});

test('6: nearestName: case first, then a small edit distance, else nothing', () => {
  assert.equal(nearestName('autoassign', ['autoAssign', 'addresses']), 'autoAssign');
  assert.equal(nearestName('adresses', ['autoAssign', 'addresses']), 'addresses');
  assert.equal(nearestName('colour', ['autoAssign', 'addresses']), undefined);
});

// ---- 7. values the API server refuses

test('7: Service ipFamilies in lower case (as in MetalLB docs) are reported, not dropped', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/24') + SVC('web', '{}', '  ipFamilyPolicy: SingleStack\n  ipFamilies: [ipv4]')));
  assert.deepEqual(
    r.report.problems.map((p) => [p.kind, p.field, p.message]),
    [['Service', 'spec.ipFamilies[0]', 'must be IPv4 or IPv6, got "ipv4": write IPv4']],
  );
});

// ---- 8. accepted but unimplemented

test('8: BGPPeer interface and vrf are implemented: no problem, every peer kept (bfdProfile too: docs/bfd.md, docs/speaker.md)', () => {
  const bfd = `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
---`;
  const r = compileYaml(
    bfd +
      PEER('in-vrf', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, vrf: red}') +
      PEER('unnumbered', '  {myASN: 64500, peerASN: 64501, interface: eth1}') +
      PEER('with-bfd', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.3, bfdProfile: fast}'),
  );
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config.bgpPeers.map((p) => [p.name, p.vrf, p.interface]), [['in-vrf', 'red', undefined], ['unnumbered', undefined, 'eth1'], ['with-bfd', undefined, undefined]]);
});

test('8: BGPPeer vrf must be a Linux device name (the session socket is bound to it by name)', () => {
  const r = compileYaml(PEER('long', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, vrf: a-very-long-vrf-name}') + PEER('slash', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.2, vrf: "red/blue"}'));
  assertProblems(r.problems, [
    { kind: 'BGPPeer', name: 'long', field: 'spec.vrf', includes: 'not a Linux VRF device name' },
    { kind: 'BGPPeer', name: 'slash', field: 'spec.vrf', includes: 'not a Linux VRF device name' },
  ]);
  assert.deepEqual(r.config.bgpPeers, []);
});

test('8: BGPPeer vrf with a bfdProfile is accepted (BFD runs in the VRF too)', () => {
  const r = compileYaml('apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast, namespace: metallb-system}\n---' + PEER('vrf-bfd', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, vrf: red, bfdProfile: fast}'));
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.config.bgpPeers.map((p) => [p.name, p.vrf, p.bfdProfile]), [['vrf-bfd', 'red', 'fast']]);
});

test('8: empty or false unimplemented fields are not reported (vrf: "", usingPortForward: false)', () => {
  const r = compileYaml(PEER('p', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, vrf: ""}'));
  assert.deepEqual(r.problems, []);
});

test("8: Porter v1alpha1 BgpPeer usingPortForward and OpenELB fields without effect are reported", () => {
  const r = compileYaml(`
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: default}
spec: {as: 64500, routerId: 192.0.2.9, listenPort: 17900, gracefulRestart: {enabled: true, restartTime: 120}}
---
apiVersion: network.kubesphere.io/v1alpha1
kind: BgpPeer
metadata: {name: old}
spec: {config: {peerAs: 65001, neighborAddress: 192.0.2.1}, usingPortForward: true}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: new}
spec: {conf: {peerAs: 65001, neighborAddress: 192.0.2.2}, afiSafis: [{config: {family: {afi: AFI_IP, safi: SAFI_UNICAST}, enabled: true}, addPaths: {config: {sendMax: 8}}}, {config: {family: {afi: AFI_L2VPN, safi: SAFI_EVPN}}}]}`);
  assertProblems(r.problems, [
    { kind: 'BgpConf', name: 'default', field: 'spec.gracefulRestart.restartTime', includes: 'no effect' },
    { kind: 'BgpPeer', name: 'old', field: 'spec.usingPortForward', includes: 'not implemented' },
    { kind: 'BgpPeer', name: 'new', field: 'spec.afiSafis[0].addPaths', includes: 'ADD-PATH' },
    { kind: 'BgpPeer', name: 'new', field: 'spec.afiSafis[1].config', includes: 'no effect' },
  ]);
  assert.deepEqual(r.problems.filter((p) => !isError(p)).map((p) => p.field).sort(), ['spec.afiSafis[0].addPaths', 'spec.afiSafis[1].config', 'spec.gracefulRestart.restartTime'], 'IPv4 unicast (afiSafis[0]) is what berth does: not reported');
  assert.deepEqual(r.config.bgpPeers.map((p) => p.name), ['new'], 'usingPortForward refuses the old peer; the documented afiSafis only warn');
  assert.equal(r.config.bgpSpeaker?.asn, 64500, 'a warning leaves the BgpConf in force');
});


// ---- 9. frr-k8s

test('9: frrk8s.metallb.io FRRConfiguration is told what berth has instead, not "check the spelling"', () => {
  const r = parseManifests([{ path: 'frr.yaml', text: 'apiVersion: frrk8s.metallb.io/v1beta1\nkind: FRRConfiguration\nmetadata: {name: x, namespace: metallb-system}\nspec: {}\n' }]);
  assert.equal(r.problems.length, 1);
  assert.match(r.problems[0]?.message ?? '', /berth has no equivalent of frr-k8s objects/);
  assert.doesNotMatch(r.problems[0]?.message ?? '', /spelling/);
});

// ---- 10. messages

test('10: a non-breaking space in the indentation is named as such', () => {
  const text = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata:\n\u00a0 name: p\n';
  const r = parseManifests([{ path: 'nbsp.yaml', text }]);
  assert.ok(r.problems.some((p) => p.message.startsWith('line 4: the indentation holds a non-breaking space (U+00A0)')), JSON.stringify(r.problems));
});

test('10: a missing Service port says "missing", not "got undefined"', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/24') + SVC('web', '{}').replace('ports: [{port: 80}]', 'ports: [{name: http}]')));
  const p = r.report.problems.find((x) => x.field === 'spec.ports[0].port');
  assert.match(p?.message ?? '', /^missing/);
  assert.ok(r.report.problems.every((x) => !x.message.includes('undefined')));
});

test('10: OpenELB Services get OpenELB wording: "no Eip contains <IP>"', () => {
  const r = checkSnapshot(snap(EIP('e', 'v1alpha2', '{address: 192.0.2.0/28}') + SVC('web', '{lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha1: 192.168.1.10}')));
  assert.equal(r.report.services[0]?.reason, 'no Eip contains 192.168.1.10');
  const named = checkSnapshot(snap(EIP('e', 'v1alpha2', '{address: 192.0.2.0/28}') + SVC('web', '{lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha2: nope}')));
  assert.equal(named.report.services[0]?.reason, 'no Eip named nope');
});
