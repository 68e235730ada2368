// Requested IPs, named pools and autoAssign; convergence when the request changes
// (MetalLB docs, Usage: Service annotations; controller/service.go allocateIPs and convergeBalancer; IPAddressPool autoAssign).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pool, req, runScenario } from './helpers.ts';

test('requested IPs, named pool, autoAssign', () => {
  runScenario(
    [pool('auto', ['192.0.2.0/28']), pool('manual', ['198.51.100.0/28'], { autoAssign: false })],
    [
      { desc: 'automatic skips autoAssign=false', allocate: req('ns/a'), want: { ips: ['192.0.2.1'], pool: 'auto' } },
      { desc: 'a named pool works without autoAssign', allocate: req('ns/b', { requestedPool: 'manual' }), want: { ips: ['198.51.100.1'], pool: 'manual' } },
      { desc: 'a requested IP works without autoAssign', allocate: req('ns/c', { ips: ['198.51.100.10'] }), want: { ips: ['198.51.100.10'], pool: 'manual' } },
      { desc: 'the same IP without sharing', allocate: req('ns/d', { ips: ['198.51.100.10'] }), want: { fail: 'ip-in-use' } },
      { desc: 'an IP in no pool', allocate: req('ns/e', { ips: ['203.0.113.5'] }), want: { fail: 'ip-not-in-pool' } },
      { desc: 'an unknown pool', allocate: req('ns/f', { requestedPool: 'nope' }), want: { fail: 'pool-not-found' } },
      { desc: 'IP outside the named pool', allocate: req('ns/g', { ips: ['192.0.2.5'], requestedPool: 'manual' }), want: { fail: 'ip-not-in-pool' } },
      { desc: 'IP inside the named pool', allocate: req('ns/h', { ips: ['192.0.2.5'], requestedPool: 'auto' }), want: { ips: ['192.0.2.5'], pool: 'auto' } },
      { desc: 'two IPs for a single-stack Service', allocate: req('ns/i', { ips: ['192.0.2.6', '2001:db8::1'] }), want: { fail: 'family-mismatch' } },
      { desc: 'IPv4 for an IPv6 Service', allocate: req('ns/j', { ipFamilies: ['ipv6'], ips: ['192.0.2.7'] }), want: { fail: 'family-mismatch' } },
      { desc: 'two IPv4 IPs', allocate: req('ns/k', { ipFamilies: ['ipv4', 'ipv6'], ipFamilyPolicy: 'RequireDualStack', ips: ['192.0.2.6', '192.0.2.7'] }), want: { fail: 'invalid-request' } },
      { desc: 'no cluster IP yet', allocate: req('ns/l', { ipFamilies: [] }), want: { fail: 'no-cluster-ip' } },
      // §3.4 step 6: a changed request clears and re-allocates
      { desc: 'c asks for another IP', allocate: req('ns/c', { ips: ['198.51.100.11'] }), want: { ips: ['198.51.100.11'] } },
      { desc: 'd can now have c\'s old IP', allocate: req('ns/d', { ips: ['198.51.100.10'] }), want: { ips: ['198.51.100.10'] } },
      // §3.4 step 5: a changed pool annotation clears and re-allocates
      { desc: 'a now names the manual pool', allocate: req('ns/a', { requestedPool: 'manual' }), want: { ips: ['198.51.100.2'], pool: 'manual' } },
      { desc: 'a keeps it on the next reconcile', allocate: req('ns/a', { requestedPool: 'manual' }), want: { ips: ['198.51.100.2'], pool: 'manual' } },
      // dropping the annotation does not move a Service (MetalLB clears only when it differs from the current pool)
      { desc: 'a drops the annotation and stays', allocate: req('ns/a'), want: { ips: ['198.51.100.2'], pool: 'manual' } },
      { desc: 'a requests an IP that b holds', allocate: req('ns/a', { ips: ['198.51.100.1'] }), want: { fail: 'ip-in-use' } },
      {
        desc: 'a failed request released a\'s old IP (MetalLB clears before allocating)',
        check: (al) => assert.equal(al.assignmentOf('ns/a'), undefined),
      },
    ],
  );
});

test('a cleared assignment says why', () => {
  const al = runScenario([pool('p', ['192.0.2.0/28'])], [{ desc: 'a', allocate: req('ns/a'), want: { ips: ['192.0.2.1'] } }]);
  const res = al.allocate(req('ns/a', { ips: ['192.0.2.9'] }));
  assert.ok(res.ok);
  assert.equal(res.cleared?.reason, 'invalid-request');
  const again = al.allocate(req('ns/a', { ips: ['192.0.2.9'] }));
  assert.ok(again.ok);
  assert.equal(again.cleared, undefined, 'a steady Service reports nothing cleared');
});

test('no pools at all', () => {
  runScenario([], [{ desc: 'a', allocate: req('ns/a'), want: { fail: 'no-pools' } }]);
});
