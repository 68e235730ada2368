// IP sharing (MetalLB internal/allocator/allocator.go checkSharing): same non-empty key, same backend key, no common (protocol, port).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, pool, req, runScenario } from './helpers.ts';

const tcp = (port: number) => ({ protocol: 'TCP' as const, port });
const udp = (port: number) => ({ protocol: 'UDP' as const, port });

test('sharing rules', () => {
  runScenario(
    [pool('p', ['192.0.2.0/29'])],
    [
      { desc: 'a with key k1', allocate: req('ns/a', { sharingKey: 'k1', ports: [tcp(80)] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'b with k1 and other ports packs onto a\'s IP', allocate: req('ns/b', { sharingKey: 'k1', ports: [tcp(443)] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'c with k1 but TCP/80 gets its own IP', allocate: req('ns/c', { sharingKey: 'k1', ports: [tcp(80)] }), want: { ips: ['192.0.2.2'] } },
      { desc: 'd requests .1 with k1 and UDP/53', allocate: req('ns/d', { sharingKey: 'k1', ports: [udp(53)], ips: ['192.0.2.1'] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'TCP/53 and UDP/53 can share', allocate: req('ns/e', { sharingKey: 'k1', ports: [tcp(53)], ips: ['192.0.2.1'] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'another key', allocate: req('ns/f', { sharingKey: 'k2', ports: [tcp(1)], ips: ['192.0.2.1'] }), want: { fail: 'ip-in-use' } },
      { desc: 'no key', allocate: req('ns/g', { ports: [tcp(2)], ips: ['192.0.2.1'] }), want: { fail: 'ip-in-use' } },
      { desc: 'empty key is no key', allocate: req('ns/g2', { sharingKey: '', ports: [tcp(2)], ips: ['192.0.2.1'] }), want: { fail: 'ip-in-use' } },
      { desc: 'a port already used on the IP', allocate: req('ns/h', { sharingKey: 'k1', ports: [tcp(443)], ips: ['192.0.2.1'] }), want: { fail: 'port-conflict' } },
      {
        desc: 'Local Service with its own selector cannot join Cluster sharers',
        allocate: req('ns/i', { sharingKey: 'k1', ports: [tcp(8080)], backendKey: 'app=x', ips: ['192.0.2.1'] }),
        want: { fail: 'backend-mismatch' },
      },
      { desc: 'sole holder c changes its key in place', allocate: req('ns/c', { sharingKey: 'k9', ports: [tcp(80)] }), want: { ips: ['192.0.2.2'] } },
      { desc: 'and joins nobody else\'s key', allocate: req('ns/j', { sharingKey: 'k1', ports: [tcp(80)] }), want: { ips: ['192.0.2.3'] } },
      // MetalLB internal/allocator/allocator.go checkSharing: "can't change sharing key ... address also in use by"; MetalLB clears and re-allocates
      { desc: 'a changes its key while b, d, e still share: a moves', allocate: req('ns/a', { sharingKey: 'k2', ports: [tcp(80)] }), want: { ips: ['192.0.2.4'] } },
      {
        desc: 'the shared IP stays with the remaining holders',
        check: (al) => assert.deepEqual(al.servicesOn(ip('192.0.2.1')), ['ns/b', 'ns/d', 'ns/e']),
      },
      { desc: 'b goes', release: 'ns/b' },
      { desc: 'd goes', release: 'ns/d' },
      { desc: 'e goes', release: 'ns/e' },
      {
        desc: 'the IP is free once nobody holds it',
        check: (al) => {
          assert.deepEqual(al.servicesOn(ip('192.0.2.1')), []);
          assert.equal(al.poolStatus('p')?.assignedIPv4, 3n);
        },
      },
      { desc: 'a plain Service may take it explicitly now', allocate: req('ns/k', { ips: ['192.0.2.1'] }), want: { ips: ['192.0.2.1'] } },
    ],
  );
});

test('ETP Local Services share when their selectors are equal', () => {
  const local = { sharingKey: 'dns', backendKey: 'app=dns' };
  runScenario(
    [pool('p', ['192.0.2.0/29'])],
    [
      { desc: 'tcp', allocate: req('ns/tcp', { ...local, ports: [tcp(53)] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'udp joins', allocate: req('ns/udp', { ...local, ports: [udp(53)] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'a Cluster Service with the key does not join', allocate: req('ns/cl', { sharingKey: 'dns', ports: [tcp(80)] }), want: { ips: ['192.0.2.2'] } },
    ],
  );
});

test('sharers only pack onto an IP of a pool they may use', () => {
  runScenario(
    [pool('a', ['192.0.2.0/29']), pool('b', ['198.51.100.0/29'], { autoAssign: false })],
    [
      { desc: 'x in pool b', allocate: req('ns/x', { sharingKey: 'k', requestedPool: 'b', ports: [tcp(1)] }), want: { ips: ['198.51.100.1'] } },
      { desc: 'y with the key, automatic: pool a, not b', allocate: req('ns/y', { sharingKey: 'k', ports: [tcp(2)] }), want: { ips: ['192.0.2.1'], pool: 'a' } },
      { desc: 'z names pool b and joins x', allocate: req('ns/z', { sharingKey: 'k', requestedPool: 'b', ports: [tcp(3)] }), want: { ips: ['198.51.100.1'], pool: 'b' } },
    ],
  );
});

test('sharing is judged against every remaining holder (a departed holder\'s key does not linger)', () => {
  const ob = (svc: string, opts: Parameters<typeof req>[1]) => req(svc, { dialect: 'openelb', ...opts });
  runScenario(
    [pool('p', ['192.0.2.0/29'])],
    [
      { desc: 'a (OpenELB, key k1) asks for .3', allocate: ob('ns/a', { sharingKey: 'k1', ports: [tcp(443)], ips: ['192.0.2.3'] }), want: { ips: ['192.0.2.3'] } },
      { desc: 'b (OpenELB, no key) joins implicitly', allocate: ob('ns/b', { ports: [tcp(80)], ips: ['192.0.2.3'] }), want: { ips: ['192.0.2.3'] } },
      { desc: 'a goes', release: 'ns/a' },
      // b has no key: a MetalLB Service with k1 must not pack onto .3
      { desc: 'c (MetalLB, k1) gets its own IP', allocate: req('ns/c', { sharingKey: 'k1', ports: [tcp(8080)] }), want: { ips: ['192.0.2.1'] } },
      { desc: 'nor may it ask for .3', allocate: req('ns/d', { sharingKey: 'k1', ports: [tcp(8081)], ips: ['192.0.2.3'] }), want: { fail: 'ip-in-use' } },
    ],
  );
});

test('OpenELB implicit sharing survives a restart in either order', () => {
  const a = req('ns/a', { dialect: 'openelb', ports: [tcp(80)] });
  const b = req('ns/b', { dialect: 'openelb', ports: [tcp(443)], ips: ['192.0.2.3'] });
  for (const order of [[a, b], [b, a]]) {
    const al = runScenario([pool('p', ['192.0.2.0/29'])], []);
    const res = al.restoreAll(order.map((r) => ({ request: r, ips: [ip('192.0.2.3')] })));
    for (const r of res.values()) assert.ok(r.ok, r.ok ? "" : r.failure.message);
    assert.deepEqual(al.servicesOn(ip('192.0.2.3')), ['ns/a', 'ns/b']);
  }
});
