// Which Services are ours and Service -> AllocationRequest (MetalLB docs, Usage: Service annotations, OpenELB docs and pkg/controllers/lb (Service annotations)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import { translateService, type ServiceOptions, type ServiceTranslation } from '../../../src/config/services.ts';
import { parseIP, type IPAddress } from '../../../src/pool/types.ts';

function svc(spec: Record<string, unknown>, annotations: Record<string, string> = {}, extra: Record<string, unknown> = {}): V1Service {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'web', annotations, labels: { app: 'x' } }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }], ...spec }, ...extra } as V1Service;
}

function ip(text: string): IPAddress {
  const r = parseIP(text);
  assert.ok(r.ok);
  return r.value;
}

function ours(t: ServiceTranslation): Extract<ServiceTranslation, { kind: 'ours' }>['intent'] {
  if (t.kind !== 'ours') assert.fail(`expected an ours translation, got ${JSON.stringify(t)}`);
  return t.intent;
}

const namespaces: V1Namespace[] = [{ metadata: { name: 'web', labels: { team: 'a' } } }];

interface OwnRow {
  readonly name: string;
  readonly service: V1Service;
  readonly opts?: ServiceOptions;
  readonly kind: ServiceTranslation['kind'];
  readonly dialect?: 'metallb' | 'openelb';
}

const ownership: readonly OwnRow[] = [
  { name: 'plain LoadBalancer is MetalLB-ours', service: svc({}), kind: 'ours', dialect: 'metallb' },
  { name: 'ClusterIP is not ours', service: svc({ type: 'ClusterIP' }), kind: 'ignored' },
  { name: 'NodePort is not ours', service: svc({ type: 'NodePort' }), kind: 'ignored' },
  { name: 'foreign loadBalancerClass', service: svc({ loadBalancerClass: 'other.io/lb' }), kind: 'ignored' },
  { name: 'our configured class', service: svc({ loadBalancerClass: 'berth.io/lb' }), opts: { loadBalancerClass: 'berth.io/lb' }, kind: 'ours', dialect: 'metallb' },
  { name: 'no class while berth has one', service: svc({}), opts: { loadBalancerClass: 'berth.io/lb' }, kind: 'ignored' },
  { name: 'OpenELB porter annotation', service: svc({}, { 'lb.kubesphere.io/v1alpha1': 'porter' }), kind: 'ours', dialect: 'openelb' },
  { name: 'OpenELB openelb annotation', service: svc({}, { 'lb.kubesphere.io/v1alpha1': 'openelb' }), kind: 'ours', dialect: 'openelb' },
  { name: 'other lb.kubesphere.io value is MetalLB dialect', service: svc({}, { 'lb.kubesphere.io/v1alpha1': 'something' }), kind: 'ours', dialect: 'metallb' },
  { name: 'OpenELB with a foreign class is not ours', service: svc({ loadBalancerClass: 'x' }, { 'lb.kubesphere.io/v1alpha1': 'openelb' }), kind: 'ignored' },
];

for (const row of ownership) {
  test(`services: ${row.name}`, () => {
    const t = translateService(row.service, namespaces, row.opts);
    assert.equal(t.kind, row.kind);
    if (row.dialect !== undefined) assert.equal(ours(t).request.dialect, row.dialect);
  });
}

test('services: MetalLB annotations (current and deprecated spellings)', () => {
  const a = ours(
    translateService(
      svc({ externalTrafficPolicy: 'Local', selector: { b: '2', a: '1' }, ports: [{ port: 53, protocol: 'UDP' }, { port: 53 }] }, {
        'metallb.io/loadBalancerIPs': '192.0.2.5, 2001:db8::5',
        'metallb.io/address-pool': 'blue',
        'metallb.io/allow-shared-ip': 'k',
      }),
      namespaces,
    ),
  );
  assert.deepEqual(a.request.requestedIPs, [ip('192.0.2.5'), ip('2001:db8::5')]);
  assert.equal(a.request.requestedPool, 'blue');
  assert.equal(a.request.sharingKey, 'k');
  assert.equal(a.request.backendKey, 'a=1,b=2');
  assert.deepEqual(a.request.ports, [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }]);
  assert.equal(a.externalTrafficPolicy, 'Local');
  assert.deepEqual(a.request.namespaceLabels, { 'kubernetes.io/metadata.name': 'web', team: 'a' });
  assert.equal(a.request.service, 'web/s');
  const old = ours(
    translateService(svc({}, { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.6', 'metallb.universe.tf/address-pool': 'green', 'metallb.universe.tf/allow-shared-ip': 'k2' }), namespaces),
  );
  assert.deepEqual([old.request.requestedIPs, old.request.requestedPool, old.request.sharingKey, old.request.backendKey], [[ip('192.0.2.6')], 'green', 'k2', '']);
  const both = ours(translateService(svc({}, { 'metallb.io/address-pool': 'new', 'metallb.universe.tf/address-pool': 'old' }), namespaces));
  assert.equal(both.request.requestedPool, 'new', 'metallb.io/* wins');
});

test('services: spec.loadBalancerIP and OpenELB annotations', () => {
  assert.deepEqual(ours(translateService(svc({ loadBalancerIP: '192.0.2.9' }), namespaces)).request.requestedIPs, [ip('192.0.2.9')]);
  const o = ours(
    translateService(svc({}, { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha2': 'eip1', 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7', 'protocol.openelb.kubesphere.io/v1alpha1': 'layer2' }), namespaces),
  );
  assert.deepEqual([o.request.requestedPool, o.request.requestedIPs, o.protocol, o.request.protocol], ['eip1', [ip('192.0.2.7')], 'layer2', 'layer2']);
  const p = ours(translateService(svc({}, { 'lb.kubesphere.io/v1alpha1': 'porter', 'eip.porter.kubesphere.io/v1alpha2': 'old-eip', 'protocol.porter.kubesphere.io/v1alpha1': 'bgp' }), namespaces));
  assert.deepEqual([p.request.requestedPool, p.protocol], ['old-eip', 'bgp']);
  // The same IP in spec and annotation agrees.
  assert.equal(translateService(svc({ loadBalancerIP: '192.0.2.7' }, { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7' }), namespaces).kind, 'ours');
});

test('services: families from clusterIPs, else spec.ipFamilies, else the policy', () => {
  const fam = (spec: Record<string, unknown>): readonly string[] => ours(translateService(svc(spec), namespaces)).request.ipFamilies;
  assert.deepEqual(fam({ clusterIPs: ['2001:db8::1', '10.0.0.1'], ipFamilyPolicy: 'PreferDualStack' }), ['ipv6', 'ipv4']);
  assert.deepEqual(fam({ clusterIP: '10.0.0.1' }), ['ipv4']);
  assert.deepEqual(fam({ ipFamilies: ['IPv6'] }), ['ipv6']);
  assert.deepEqual(fam({ ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' }), ['ipv6', 'ipv4']);
  assert.deepEqual(fam({ ipFamilyPolicy: 'PreferDualStack' }), ['ipv4', 'ipv6']);
  assert.deepEqual(fam({}), ['ipv4']);
});

test('services: status IPs are carried for replay', () => {
  const s = ours(translateService(svc({}, {}, { status: { loadBalancer: { ingress: [{ ip: '192.0.2.44' }, { hostname: 'x' }] } } }), namespaces));
  assert.deepEqual(s.currentIPs, [ip('192.0.2.44')]);
});

interface BadRow {
  readonly name: string;
  readonly service: V1Service;
  readonly field: string;
  readonly includes: string;
}

const invalid: readonly BadRow[] = [
  { name: 'annotation and spec.loadBalancerIP', service: svc({ loadBalancerIP: '192.0.2.1' }, { 'metallb.io/loadBalancerIPs': '192.0.2.2' }), field: 'metadata.annotations["metallb.io/loadBalancerIPs"]', includes: 'can not have both' },
  { name: 'three IPs', service: svc({}, { 'metallb.io/loadBalancerIPs': '192.0.2.1,2001:db8::1,192.0.2.2' }), field: 'metadata.annotations["metallb.io/loadBalancerIPs"]', includes: 'at most 2' },
  { name: 'two IPv4', service: svc({}, { 'metallb.io/loadBalancerIPs': '192.0.2.1,192.0.2.2' }), field: 'metadata.annotations["metallb.io/loadBalancerIPs"]', includes: 'one IPv4 and one IPv6' },
  { name: 'bad IP', service: svc({ loadBalancerIP: '192.0.2.256' }), field: 'spec.loadBalancerIP', includes: 'invalid IP' },
  { name: 'OpenELB IP disagrees with spec', service: svc({ loadBalancerIP: '192.0.2.1' }, { 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.2' }), field: 'metadata.annotations["eip.openelb.kubesphere.io/v1alpha1"]', includes: 'disagree' },
  { name: 'two pool annotations disagree', service: svc({}, { 'metallb.io/address-pool': 'a', 'eip.openelb.kubesphere.io/v1alpha2': 'b' }), field: 'metadata.annotations["eip.openelb.kubesphere.io/v1alpha2"]', includes: 'different pools' },
  { name: 'vip protocol', service: svc({}, { 'protocol.porter.kubesphere.io/v1alpha1': 'vip' }), field: 'metadata.annotations["protocol.porter.kubesphere.io/v1alpha1"]', includes: 'not supported' },
  { name: 'unknown protocol', service: svc({}, { 'protocol.openelb.kubesphere.io/v1alpha1': 'ospf' }), field: 'metadata.annotations["protocol.openelb.kubesphere.io/v1alpha1"]', includes: 'layer2 or bgp' },
  { name: 'bad externalTrafficPolicy', service: svc({ externalTrafficPolicy: 'Nearest' }), field: 'spec.externalTrafficPolicy', includes: 'Cluster or Local' },
  { name: 'bad ipFamilyPolicy', service: svc({ ipFamilyPolicy: 'Dual' }), field: 'spec.ipFamilyPolicy', includes: 'must be one of' },
];

for (const row of invalid) {
  test(`services invalid: ${row.name}`, () => {
    const t = translateService(row.service, namespaces);
    assert.equal(t.kind, 'invalid');
    if (t.kind !== 'invalid') return;
    assert.equal(t.problems.length, 1, JSON.stringify(t.problems));
    assert.equal(t.problems[0]?.field, row.field);
    assert.equal(t.problems[0]?.kind, 'Service');
    assert.equal(t.problems[0]?.namespace, 'web');
    assert.match(t.problems[0]?.message ?? '', new RegExp(row.includes));
  });
}

test('openelb false: Services handed to OpenELB are left to it; no eip.* or protocol.* annotation is read', () => {
  const porter = svc({}, { 'lb.kubesphere.io/v1alpha1': 'porter', 'eip.porter.kubesphere.io/v1alpha2': 'eip1' });
  assert.equal(translateService(porter, namespaces).kind, 'ours');
  const left = translateService(porter, namespaces, { openelb: false });
  assert.equal(left.kind, 'ignored');
  assert.match((left as { reason: string }).reason, /lb\.kubesphere\.io\/v1alpha1 hands it to OpenELB.*--openelb off/);
  // A MetalLB Service carrying OpenELB annotations: read with both dialects, not with OpenELB off.
  const annotated = svc({}, { 'eip.openelb.kubesphere.io/v1alpha2': 'eip1', 'eip.openelb.kubesphere.io/v1alpha1': '192.0.2.7', 'protocol.openelb.kubesphere.io/v1alpha1': 'layer2' });
  const both = ours(translateService(annotated, namespaces));
  assert.deepEqual([both.request.requestedPool, both.request.requestedIPs.length, both.protocol], ['eip1', 1, 'layer2']);
  const metallbOnly = ours(translateService(annotated, namespaces, { openelb: false }));
  assert.deepEqual([metallbOnly.request.requestedPool, metallbOnly.request.requestedIPs.length, metallbOnly.protocol], [undefined, 0, undefined]);
});
