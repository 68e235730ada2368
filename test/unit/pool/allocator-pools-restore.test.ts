// Pool changes (MetalLB internal/allocator/allocator.go SetPools), restart replay (MetalLB controller/service.go convergeBalancer), pool statistics (MetalLB api/v1beta1/ipaddresspool_types.go status; Eip in the
// OpenELB test file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Allocator } from '../../../src/pool/allocator.ts';
import { MAX_INT64 } from '../../../src/pool/types.ts';
import { eip, ip, pool, req, runScenario } from './helpers.ts';

test('setPools: shrink, rename, vanish', () => {
  runScenario(
    [pool('A', ['192.0.2.0/29'])],
    [
      { desc: 'a', allocate: req('ns/a'), want: { ips: ['192.0.2.1'] } },
      { desc: 'b', allocate: req('ns/b'), want: { ips: ['192.0.2.2'] } },
      { desc: 'c', allocate: req('ns/c'), want: { ips: ['192.0.2.3'] } },
      { desc: 'pool shrinks below c', setPools: [pool('A', ['192.0.2.0-192.0.2.2'])], evicted: ['ns/c'] },
      { desc: 'a unchanged', allocate: req('ns/a'), want: { ips: ['192.0.2.1'] } },
      { desc: 'c re-allocated inside the new range', allocate: req('ns/c'), want: { ips: ['192.0.2.0'] } },
      {
        desc: 'renamed pool: assignments kept under the new name',
        check: (al) => {
          const change = al.setPools([pool('B', ['192.0.2.0-192.0.2.2'])]);
          assert.deepEqual(change.evicted, []);
          assert.deepEqual(
            change.moved.map((m) => `${m.service}:${m.from}->${m.to}`),
            ['ns/a:A->B', 'ns/b:A->B', 'ns/c:A->B'],
          );
          assert.equal(al.assignmentOf('ns/a')?.pool, 'B');
          assert.equal(al.poolStatus('B')?.assignedIPv4, 3n);
          assert.equal(al.poolStatus('A'), undefined);
        },
      },
      { desc: 'steady under the new name', allocate: req('ns/b'), want: { ips: ['192.0.2.2'], pool: 'B' } },
      { desc: 'pool gone', setPools: [pool('C', ['198.51.100.0/30'])], evicted: ['ns/a', 'ns/b', 'ns/c'] },
      { desc: 'a moves to the new pool', allocate: req('ns/a'), want: { ips: ['198.51.100.1'], pool: 'C' } },
    ],
  );
});

test('setPools: rules that changed are enforced by the next allocate', () => {
  runScenario(
    [pool('p', ['192.0.2.0-192.0.2.9']), pool('q', ['198.51.100.0/29'])],
    [
      { desc: 'a takes .0 (range form)', allocate: req('ns/a', { requestedPool: 'p' }), want: { ips: ['192.0.2.0'] } },
      { desc: 'b in q', allocate: req('ns/b', { requestedPool: 'q' }), want: { ips: ['198.51.100.1'] } },
      { desc: 'p turns avoidBuggyIPs on; q gets a namespace restriction', setPools: [pool('p', ['192.0.2.0-192.0.2.9'], { avoidBuggyIPs: true }), pool('q', ['198.51.100.0/29'], { hasServiceAllocation: true, namespaces: ['other'] })] },
      {
        desc: 'a is cleared and moves off .0',
        check: (al) => {
          const res = al.allocate(req('ns/a', { requestedPool: 'p' }));
          assert.ok(res.ok);
          assert.deepEqual(res.assignment.ips, [ip('192.0.2.1')]);
          assert.equal(res.cleared?.reason, 'ip-not-allowed');
        },
      },
      { desc: 'b no longer fits q and q is its named pool', allocate: req('ns/b', { requestedPool: 'q' }), want: { fail: 'pool-incompatible' } },
    ],
  );
});

test('setPools keeps the next-fit cursor of a pool that stays', () => {
  runScenario(
    [pool('p', ['192.0.2.0/28'])],
    [
      { desc: 'a', allocate: req('ns/a'), want: { ips: ['192.0.2.1'] } },
      { desc: 'b', allocate: req('ns/b'), want: { ips: ['192.0.2.2'] } },
      { desc: 'a goes', release: 'ns/a' },
      { desc: 'same pools again', setPools: [pool('p', ['192.0.2.0/28'])] },
      { desc: 'c does not get a\'s freed .1', allocate: req('ns/c'), want: { ips: ['192.0.2.3'] } },
    ],
  );
});

test('restore: status IPs are accepted before anything new; conflicts resolve the same way in any order', () => {
  const pools = [pool('p', ['192.0.2.0/28']), pool('manual', ['198.51.100.0/28'], { autoAssign: false }), eip('off', '203.0.113.0/30', { disabled: true })];
  const existing = [
    { request: req('ns/z'), ips: [ip('192.0.2.5')] },
    { request: req('ns/b'), ips: [ip('192.0.2.2')] },
    { request: req('ns/m'), ips: [ip('198.51.100.7')] },
    { request: req('ns/e', { dialect: 'openelb' }), ips: [ip('203.0.113.2')] },
    // two Services claim .9 without a sharing key (e.g. written by another LB): ns/c wins, ns/d is cleared
    { request: req('ns/d'), ips: [ip('192.0.2.9')] },
    { request: req('ns/c'), ips: [ip('192.0.2.9')] },
    { request: req('ns/x'), ips: [ip('203.0.113.200')] },
    { request: req('ns/pending'), ips: [] },
  ];
  const outcomes: string[] = [];
  for (const order of [existing, [...existing].reverse()]) {
    const al = new Allocator(pools);
    const res = al.restoreAll(order);
    const summary = [...res].sort(([a], [b]) => (a < b ? -1 : 1)).map(([svc, r]) => `${svc}=${r.ok ? r.assignment.ips.length : r.failure.reason}`);
    outcomes.push(summary.join(' '));
    assert.equal(res.has('ns/pending'), false, 'a Service without status IPs is not replayed');
    // nothing new lands on a restored IP; the cursor continues after the highest restored address
    const n = al.allocate(req('ns/new'));
    assert.ok(n.ok);
    assert.deepEqual(n.assignment.ips, [ip('192.0.2.10')]);
    // the loser is re-allocated by its next allocate()
    const d = al.allocate(req('ns/d'));
    assert.ok(d.ok);
    assert.deepEqual(d.assignment.ips, [ip('192.0.2.11')]);
    // restored Services keep their IPs on reconcile, even in an autoAssign=false or disabled pool
    for (const [svc, want] of [['ns/b', '192.0.2.2'], ['ns/m', '198.51.100.7'], ['ns/c', '192.0.2.9']] as const) {
      const r = al.allocate(req(svc));
      assert.ok(r.ok, svc);
      assert.deepEqual(r.assignment.ips, [ip(want)], svc);
    }
    const e = al.allocate(req('ns/e', { dialect: 'openelb' }));
    assert.ok(e.ok);
    assert.deepEqual(e.assignment.ips, [ip('203.0.113.2')]);
  }
  assert.equal(outcomes[0], 'ns/b=1 ns/c=1 ns/d=ip-in-use ns/e=1 ns/m=1 ns/x=ip-not-in-pool ns/z=1');
  assert.equal(outcomes[1], outcomes[0]);
});

test('restore refuses what the pools no longer allow', () => {
  runScenario(
    [pool('b', ['192.0.2.0/24'], { avoidBuggyIPs: true }), pool('r', ['198.51.100.0/28'], { hasServiceAllocation: true, namespaces: ['r'] })],
    [
      { desc: '.255 in an avoidBuggyIPs pool', restore: req('ns/a'), ips: ['192.0.2.255'], want: { fail: 'ip-not-allowed' } },
      { desc: 'a pool that excludes the namespace', restore: req('ns/b'), ips: ['198.51.100.3'], want: { fail: 'pool-incompatible' } },
      { desc: 'the namespace it allows', restore: req('r/b'), ips: ['198.51.100.3'], want: { ips: ['198.51.100.3'] } },
      { desc: 'wrong family for the Service', restore: req('ns/c', { ipFamilies: ['ipv6'] }), ips: ['192.0.2.3'], want: { fail: 'family-mismatch' } },
      {
        desc: 'RequireDualStack with one IP in status',
        restore: req('ns/d', { ipFamilies: ['ipv4', 'ipv6'], ipFamilyPolicy: 'RequireDualStack' }),
        ips: ['192.0.2.3'],
        want: { fail: 'family-mismatch' },
      },
      { desc: 'restore is idempotent', restore: req('r/b'), ips: ['198.51.100.3'], want: { ips: ['198.51.100.3'] } },
      { desc: 'restore with other IPs replaces', restore: req('r/b'), ips: ['198.51.100.4'], want: { ips: ['198.51.100.4'] } },
      { desc: 'the old one is free again', restore: req('r/c'), ips: ['198.51.100.3'], want: { ips: ['198.51.100.3'] } },
    ],
  );
});

test('IPAddressPool.status counts (MetalLB api/v1beta1/ipaddresspool_types.go)', () => {
  const al = new Allocator([
    pool('mix', ['192.0.2.0/24', '2001:db8::/120']),
    pool('huge', ['2001:db8:1::/64']),
    pool('buggy', ['198.51.100.0/23'], { avoidBuggyIPs: true }),
  ]);
  assert.deepEqual(al.poolStatus('mix'), { assignedIPv4: 0n, assignedIPv6: 0n, availableIPv4: 254n, availableIPv6: 255n });
  al.allocate(req('ns/a', { requestedPool: 'mix' }));
  al.allocate(req('ns/b', { ipFamilies: ['ipv6'], requestedPool: 'mix' }));
  // an explicit network address counts as assigned but was never part of what is available
  al.allocate(req('ns/c', { ips: ['192.0.2.0'] }));
  assert.deepEqual(al.poolStatus('mix'), { assignedIPv4: 2n, assignedIPv6: 1n, availableIPv4: 253n, availableIPv6: 254n });
  // 2^64 addresses: MetalLB reports MaxInt64 for 2^62 or more
  assert.deepEqual(al.poolStatus('huge'), { assignedIPv4: 0n, assignedIPv6: 0n, availableIPv4: 0n, availableIPv6: MAX_INT64 });
  // capacity is reduced by 2 per /24 (MetalLB api/v1beta1/ipaddresspool_types.go); the CIDR ends are among them
  assert.equal(al.poolStatus('buggy')?.availableIPv4, 508n);
  assert.equal(al.poolStatus('nope'), undefined);
});
