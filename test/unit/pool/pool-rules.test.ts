// Per-pool rules: reserved addresses, buggy addresses, capacity, priority order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { autoEligible, byPriorityThenName, isBuggy, isReservedInCIDR, rangeAutoCapacity } from '../../../src/pool/pool.ts';
import type { AddressRange } from '../../../src/pool/types.ts';
import { ip, pool, range } from './helpers.ts';

test('reserved addresses of a CIDR', () => {
  const cases: readonly { r: string; addr: string; want: boolean }[] = [
    // MetalLB internal/allocator/allocator.go getIPFromCIDR, issue #483: MetalLB hands out 192.168.10.0 of 192.168.10.0/23 first
    { r: '192.168.10.0/23', addr: '192.168.10.0', want: true },
    { r: '192.168.10.0/23', addr: '192.168.11.255', want: true },
    // the .255/.0 in the middle of a /23 are ordinary addresses (only avoidBuggyIPs skips them)
    { r: '192.168.10.0/23', addr: '192.168.10.255', want: false },
    { r: '192.168.10.0/23', addr: '192.168.11.0', want: false },
    { r: '192.0.2.0/31', addr: '192.0.2.0', want: false },
    { r: '192.0.2.7/32', addr: '192.0.2.7', want: false },
    { r: '192.0.2.0-192.0.2.255', addr: '192.0.2.0', want: false },
    { r: '2001:db8::/64', addr: '2001:db8::', want: true },
    { r: '2001:db8::/64', addr: '2001:db8::ffff:ffff:ffff:ffff', want: false },
    { r: '2001:db8::/127', addr: '2001:db8::', want: false },
  ];
  for (const c of cases) assert.equal(isReservedInCIDR(range(c.r), ip(c.addr).value), c.want, `${c.r} ${c.addr}`);
});

test('buggy addresses are IPv4 only', () => {
  assert.equal(isBuggy(ip('192.0.2.0')), true);
  assert.equal(isBuggy(ip('192.0.2.255')), true);
  assert.equal(isBuggy(ip('192.0.2.254')), false);
  assert.equal(isBuggy(ip('2001:db8::ff')), false);
  assert.equal(isBuggy(ip('2001:db8::100')), false);
});

test('property: capacity equals a brute-force count of eligible addresses', () => {
  const arbRange: fc.Arbitrary<AddressRange> = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 4000 }), fc.integer({ min: 0, max: 1200 })).map(([a, len]) => ({ family: 'ipv4' as const, first: 0xc0000000n + BigInt(a), last: 0xc0000000n + BigInt(a + len) })),
    fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 21, max: 32 })).map(([k, plen]) => {
      const size = 1n << BigInt(32 - plen);
      const first = 0xc0000000n + BigInt(k) * size;
      return { family: 'ipv4' as const, first, last: first + size - 1n, prefixLength: plen };
    }),
    fc.integer({ min: 118, max: 128 }).map((plen) => ({ family: 'ipv6' as const, first: 0x20010db8n << 96n, last: (0x20010db8n << 96n) + (1n << BigInt(128 - plen)) - 1n, prefixLength: plen })),
  );
  fc.assert(
    fc.property(arbRange, fc.boolean(), (r, avoidBuggyIPs) => {
      const p = { ...pool('p', [], { avoidBuggyIPs }), ranges: [r] };
      let n = 0n;
      for (let v = r.first; v <= r.last; v++) if (autoEligible(p, r, v)) n++;
      assert.equal(rangeAutoCapacity(p, r), n);
    }),
    { numRuns: 300 },
  );
});

test('priority order: numbers ascending, unset last, ties by name', () => {
  const pools = [
    pool('d', [], { priority: undefined }),
    pool('c', [], { priority: 5 }),
    pool('a', [], { priority: undefined }),
    pool('b', [], { priority: 5 }),
    pool('e', [], { priority: -1 }),
  ];
  assert.deepEqual([...pools].sort(byPriorityThenName).map((p) => p.name), ['e', 'b', 'c', 'a', 'd']);
});
