// The core of `berth check`: compile + replay status IPs + allocate + dispatch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkSnapshot } from '../../../src/config/check.ts';
import { POOL, snap } from './helpers.ts';

const svc = (name: string, extra = '', status = ''): string => `
apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: web
${extra}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
${status}
---`;

const L2ALL = `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: all, namespace: metallb-system}
---`;

test('check: IPs already in status are replayed before new allocations', () => {
  // "a" sorts first and would take .1 (the first usable address of the /30) if "b" were not replayed first.
  const r = checkSnapshot(
    snap(POOL('p', '192.0.2.0/30') + L2ALL + svc('a') + svc('b', '', 'status: {loadBalancer: {ingress: [{ip: 192.0.2.1}]}}')),
  );
  assert.deepEqual(r.report.problems, []);
  assert.deepEqual(
    r.report.services.map((s) => [s.name, s.ips, s.pool, s.modes]),
    [
      ['a', ['192.0.2.2'], 'p', ['l2']],
      ['b', ['192.0.2.1'], 'p', ['l2']],
    ],
  );
});

test('check: a pool without advertisement allocates but says the IP is not announced', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/30') + svc('a')));
  const [a] = r.report.services;
  assert.deepEqual([a?.ips, a?.modes], [['192.0.2.1'], []]);
  assert.match(a?.reason ?? '', /not announced/);
});

test('check: exhausted pool gives the allocator reason', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/32') + L2ALL + svc('a') + svc('b')));
  assert.deepEqual(r.report.services.map((s) => s.ips.length), [1, 0]);
  assert.match(r.report.services[1]?.reason ?? '', /no available IPs/);
  assert.equal(r.report.services[1]?.pool, null);
});

test('check: Porter fallback takes the first Eip of the Service protocol when no default Eip exists', () => {
  const eip = (name: string, address: string, protocol: string): string => `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: ${name}}
spec: {address: ${address}, protocol: ${protocol}, interface: eth0}
---`;
  const porter = (name: string, proto: string): string => svc(name, `  annotations: {lb.kubesphere.io/v1alpha1: porter, protocol.porter.kubesphere.io/v1alpha1: ${proto}}`);
  const r = checkSnapshot(snap(eip('b-l2', '192.0.2.10', 'layer2') + eip('a-bgp', '192.0.2.20', 'bgp') + eip('c-l2', '192.0.2.30', 'layer2') + porter('x', 'layer2') + porter('y', 'layer2') + porter('z', 'bgp')));
  assert.deepEqual(r.report.problems, []);
  assert.deepEqual(
    r.report.services.map((s) => [s.name, s.pool, s.ips, s.modes]),
    [
      ['x', 'b-l2', ['192.0.2.10'], ['l2']],
      ['y', 'c-l2', ['192.0.2.30'], ['l2']],
      ['z', 'a-bgp', ['192.0.2.20'], ['bgp']],
    ],
  );
});

test('check: invalid Services, foreign classes and non-LoadBalancer Services', () => {
  const r = checkSnapshot(
    snap(
      POOL('p', '192.0.2.0/30') +
        L2ALL +
        svc('bad', '  annotations: {metallb.io/loadBalancerIPs: "192.0.2.1,192.0.2.2"}') +
        svc('other').replace('type: LoadBalancer', 'type: LoadBalancer\n  loadBalancerClass: example.com/lb') +
        svc('cip').replace('type: LoadBalancer', 'type: ClusterIP'),
    ),
  );
  // The ClusterIP Service is not listed at all.
  assert.deepEqual(
    r.report.services.map((s) => [s.name, s.ips, s.pool]),
    [
      ['bad', [], null],
      ['other', [], null],
    ],
  );
  assert.match(r.report.services[0]?.reason ?? '', /^invalid Service: see problems/);
  assert.match(r.report.services[1]?.reason ?? '', /^not berth's: loadBalancerClass "example.com\/lb"/);
  assert.equal(r.report.problems.length, 1);
  assert.equal(r.report.problems[0]?.kind, 'Service');
});

test('check: extra (manifest) problems are merged and sorted', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/33')), {}, [{ kind: 'File', name: 'x.yaml', message: 'line 1: YAML error' }]);
  assert.deepEqual(r.report.problems.map((p) => p.kind), ['File', 'IPAddressPool']);
});

test('check: a status IP outside every pool is replaced, and the report says so', () => {
  const r = checkSnapshot(snap(POOL('p', '192.0.2.0/30') + L2ALL + svc('a', '', 'status: {loadBalancer: {ingress: [{ip: 203.0.113.9}]}}')));
  const [a] = r.report.services;
  assert.deepEqual([a?.ips, a?.modes], [['192.0.2.1'], ['l2']]);
  assert.match(a?.reason ?? '', /IPs in status were dropped/);
});
