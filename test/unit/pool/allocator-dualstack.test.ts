// Dual stack (MetalLB internal/allocator/allocator.go findBestPoolForService; controller/service.go convergeBalancer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, pool, req, runScenario } from './helpers.ts';
import type { Family } from '../../../src/pool/types.ts';

const v4v6: readonly Family[] = ['ipv4', 'ipv6'];
const v6v4: readonly Family[] = ['ipv6', 'ipv4'];
const pools = [
  pool('dual', ['198.51.100.0/30', '2001:db8:1::/126']),
  pool('v4', ['192.0.2.0/30']),
  pool('v6', ['2001:db8:2::/126']),
];

test('RequireDualStack, PreferDualStack, SingleStack: pool choice', () => {
  runScenario(pools, [
    { desc: 'Require with one cluster IP', allocate: req('ns/r1', { ipFamilyPolicy: 'RequireDualStack' }), want: { fail: 'not-enough-cluster-ips' } },
    {
      desc: 'Require: both families from one pool',
      allocate: req('ns/r2', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: v4v6 }),
      want: { ips: ['198.51.100.1', '2001:db8:1::1'], pool: 'dual' },
    },
    {
      desc: 'Prefer, IPv6 primary: both, primary first',
      allocate: req('ns/p1', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v6v4 }),
      want: { ips: ['2001:db8:1::2', '198.51.100.2'], pool: 'dual' },
    },
    {
      desc: 'Require when no pool has both left (never one family from each of two pools)',
      allocate: req('ns/r3', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: v4v6 }),
      want: { fail: 'no-available-ips' },
    },
    {
      desc: 'Prefer: no pool has both -> first pool with the primary family',
      allocate: req('ns/p2', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v4v6 }),
      want: { ips: ['192.0.2.1'], pool: 'v4' },
    },
    {
      desc: 'p2 reconciled: the missing family only from the same pool, which has none',
      check: (al) => {
        const res = al.allocate(req('ns/p2', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v4v6 }));
        assert.ok(res.ok);
        assert.deepEqual(res.assignment.ips, [ip('192.0.2.1')]);
        assert.equal(res.additionalFailed?.reason, 'no-available-ips');
      },
    },
    { desc: 'SingleStack IPv6', allocate: req('ns/s6', { ipFamilies: ['ipv6'] }), want: { ips: ['2001:db8:1::3'], pool: 'dual' } },
    {
      desc: 'Prefer IPv6: dual has no v6 left, v4 pool has none, v6 pool does',
      allocate: req('ns/p3', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v6v4 }),
      want: { ips: ['2001:db8:2::1'], pool: 'v6' },
    },
    {
      desc: 'Prefer: neither family of the primary left -> the secondary',
      check: (al) => {
        al.allocate(req('ns/fill1'));
        const res = al.allocate(req('ns/p4', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v4v6 }));
        assert.ok(res.ok);
        assert.deepEqual(res.assignment.ips, [ip('2001:db8:2::2')]);
      },
    },
    { desc: 'r2 goes', release: 'ns/r2' },
    {
      desc: 'requested dual IPs from one pool',
      allocate: req('ns/q1', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: v4v6, ips: ['198.51.100.1', '2001:db8:1::1'] }),
      want: { ips: ['198.51.100.1', '2001:db8:1::1'], pool: 'dual' },
    },
    {
      desc: 'requested dual IPs from two pools',
      allocate: req('ns/q2', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: v4v6, ips: ['192.0.2.2', '2001:db8:2::3'] }),
      want: { fail: 'invalid-request' },
    },
    {
      desc: 'requested IPs must equal the Service family: one IP for a dual Service',
      allocate: req('ns/q3', { ipFamilyPolicy: 'PreferDualStack', ipFamilies: v4v6, ips: ['192.0.2.2'] }),
      want: { fail: 'family-mismatch' },
    },
  ]);
});

test('later upgrade: a PreferDualStack Service with one IP gets the other family from the same pool', () => {
  const prefer = { ipFamilyPolicy: 'PreferDualStack' as const, ipFamilies: v4v6 };
  runScenario(
    [pool('dual', ['198.51.100.0/30', '2001:db8:1::/126'])],
    [
      { desc: 'status carries only an IPv4', restore: req('ns/u', prefer), ips: ['198.51.100.1'], want: { ips: ['198.51.100.1'] } },
      { desc: 'reconcile adds IPv6', allocate: req('ns/u', prefer), want: { ips: ['198.51.100.1', '2001:db8:1::1'], pool: 'dual' } },
      { desc: 'steady', allocate: req('ns/u', prefer), want: { ips: ['198.51.100.1', '2001:db8:1::1'] } },
      // MetalLB internal/allocator/allocator.go findBestPoolForService: a dual-stack pool that becomes single-stack clears both IPs
      { desc: 'the pool loses its IPv6 range', setPools: [pool('dual', ['198.51.100.0/30'])], evicted: ['ns/u'] },
      { desc: 'u re-allocated: single IPv4, the next one (next-fit)', allocate: req('ns/u', prefer), want: { ips: ['198.51.100.2'] } },
      {
        desc: 'Require with a single current IP is cleared and fails',
        allocate: req('ns/u', { ipFamilyPolicy: 'RequireDualStack', ipFamilies: v4v6 }),
        want: { fail: 'no-available-ips' },
      },
    ],
  );
});
