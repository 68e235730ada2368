// Which address automatic allocation picks: next-fit, spec order of CIDRs, reserved addresses of a CIDR,
// avoidBuggyIPs (MetalLB api/v1beta1/ipaddresspool_types.go avoidBuggyIPs; internal/allocator/allocator.go getIPFromCIDR; docs/allocator.md "better than MetalLB").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ip, pool, req, runScenario } from './helpers.ts';

test('next-fit: a freed address waits until the cursor comes round; no network/broadcast automatically', () => {
  runScenario(
    [pool('p', ['192.0.2.0/29'])],
    [
      // MetalLB would hand out 192.0.2.0 first (issue #483); berth starts at .1
      { desc: 'a takes the first usable address', allocate: req('ns/a'), want: { ips: ['192.0.2.1'], pool: 'p' } },
      { desc: 'b next', allocate: req('ns/b'), want: { ips: ['192.0.2.2'] } },
      { desc: 'c next', allocate: req('ns/c'), want: { ips: ['192.0.2.3'] } },
      { desc: 'b deleted', release: 'ns/b' },
      // MetalLB: lowest free wins, so d would get b's old .2 (issues #686, #2723)
      { desc: 'd does not reuse b\'s address', allocate: req('ns/d'), want: { ips: ['192.0.2.4'] } },
      { desc: 'e', allocate: req('ns/e'), want: { ips: ['192.0.2.5'] } },
      { desc: 'f', allocate: req('ns/f'), want: { ips: ['192.0.2.6'] } },
      { desc: 'g wraps round to the freed .2 (.7 is the broadcast)', allocate: req('ns/g'), want: { ips: ['192.0.2.2'] } },
      { desc: 'h: only .0 and .7 are left, not for automatic use', allocate: req('ns/h'), want: { fail: 'no-available-ips' } },
      { desc: 'an explicit request may take the network address', allocate: req('ns/i', { ips: ['192.0.2.0'] }), want: { ips: ['192.0.2.0'] } },
      { desc: 'and the broadcast address', allocate: req('ns/j', { ips: ['192.0.2.7'] }), want: { ips: ['192.0.2.7'] } },
      { desc: 'a keeps its address on every reconcile', allocate: req('ns/a'), want: { ips: ['192.0.2.1'] } },
      { desc: 'c deleted', release: 'ns/c' },
      { desc: 'the pool was full: the only free address goes', allocate: req('ns/k'), want: { ips: ['192.0.2.3'] } },
      {
        desc: 'no Service changed IP because others were deleted',
        check: (a) => {
          assert.deepEqual(a.assignmentOf('ns/a')?.ips, [ip('192.0.2.1')]);
          assert.deepEqual(a.assignmentOf('ns/d')?.ips, [ip('192.0.2.4')]);
          assert.equal(a.assignmentOf('ns/b'), undefined);
        },
      },
    ],
  );
});

test('ranges written a-b hand out every address; /31 and /32 have no network/broadcast', () => {
  runScenario(
    [pool('r', ['192.0.2.0-192.0.2.2']), pool('s', ['198.51.100.0/31', '198.51.100.9/32'])],
    [
      { desc: 'range start is a normal address', allocate: req('ns/a', { requestedPool: 'r' }), want: { ips: ['192.0.2.0'] } },
      { desc: '.1', allocate: req('ns/b', { requestedPool: 'r' }), want: { ips: ['192.0.2.1'] } },
      { desc: '.2', allocate: req('ns/c', { requestedPool: 'r' }), want: { ips: ['192.0.2.2'] } },
      { desc: 'r full', allocate: req('ns/d', { requestedPool: 'r' }), want: { fail: 'no-available-ips' } },
      { desc: '/31: both ends (RFC 3021)', allocate: req('ns/e', { requestedPool: 's' }), want: { ips: ['198.51.100.0'] } },
      { desc: '/31 second', allocate: req('ns/f', { requestedPool: 's' }), want: { ips: ['198.51.100.1'] } },
      { desc: '/32 after, spec order', allocate: req('ns/g', { requestedPool: 's' }), want: { ips: ['198.51.100.9'] } },
    ],
  );
});

test('CIDRs are used in spec order, not address order', () => {
  runScenario(
    [pool('p', ['198.51.100.8/30', '192.0.2.0/30'])],
    [
      { desc: 'first CIDR first', allocate: req('ns/a'), want: { ips: ['198.51.100.9'] } },
      { desc: 'first CIDR again', allocate: req('ns/b'), want: { ips: ['198.51.100.10'] } },
      { desc: 'then the second CIDR', allocate: req('ns/c'), want: { ips: ['192.0.2.1'] } },
      { desc: 'second CIDR', allocate: req('ns/d'), want: { ips: ['192.0.2.2'] } },
      { desc: 'full', allocate: req('ns/e'), want: { fail: 'no-available-ips' } },
    ],
  );
});

test('IPv6: a whole /64 works; the Subnet-Router anycast prefix:: is not handed out automatically', () => {
  const v6 = { ipFamilies: ['ipv6'] as const };
  runScenario(
    [pool('v6', ['2001:db8::/64'])],
    [
      { desc: 'first is ::1 (MetalLB gives prefix::)', allocate: req('ns/a', v6), want: { ips: ['2001:db8::1'] } },
      { desc: 'second', allocate: req('ns/b', v6), want: { ips: ['2001:db8::2'] } },
      { desc: 'explicit prefix:: is allowed', allocate: req('ns/c', { ...v6, ips: ['2001:db8::'] }), want: { ips: ['2001:db8::'] } },
      { desc: 'explicit last address', allocate: req('ns/d', { ...v6, ips: ['2001:db8::ffff:ffff:ffff:ffff'] }), want: { ips: ['2001:db8::ffff:ffff:ffff:ffff'] } },
      { desc: 'an IPv4 Service gets nothing from a v6 pool', allocate: req('ns/e'), want: { fail: 'no-available-ips' } },
    ],
  );
});

test('avoidBuggyIPs skips .0 and .255 of every /24, also inside a range (MetalLB IPAddressPool avoidBuggyIPs)', () => {
  runScenario(
    [pool('b', ['192.0.2.254-192.0.3.1'], { avoidBuggyIPs: true }), pool('n', ['198.51.100.254-198.51.101.1'], { autoAssign: false })],
    [
      { desc: '.254 is fine', allocate: req('ns/a'), want: { ips: ['192.0.2.254'] } },
      { desc: 'skips 192.0.2.255 and 192.0.3.0', allocate: req('ns/b'), want: { ips: ['192.0.3.1'] } },
      { desc: 'nothing left', allocate: req('ns/c'), want: { fail: 'no-available-ips' } },
      { desc: 'explicit .255 in an avoidBuggyIPs pool is refused', allocate: req('ns/d', { ips: ['192.0.2.255'] }), want: { fail: 'ip-not-allowed' } },
      { desc: 'without the flag .255 is handed out', allocate: req('ns/e', { requestedPool: 'n' }), want: { ips: ['198.51.100.254'] } },
      { desc: 'and .255', allocate: req('ns/f', { requestedPool: 'n' }), want: { ips: ['198.51.100.255'] } },
      { desc: 'and .0', allocate: req('ns/g', { requestedPool: 'n' }), want: { ips: ['198.51.101.0'] } },
    ],
  );
});

test('MetalLB internal/allocator/allocator.go getIPFromCIDR example (issue #483): 192.168.10.0/23 starts at .1, the middle .255/.0 are ordinary', () => {
  runScenario(
    [pool('p', ['192.168.10.0/23'])],
    [
      { desc: 'first automatic address', allocate: req('ns/a'), want: { ips: ['192.168.10.1'] } },
      { desc: 'middle .255 by request', allocate: req('ns/b', { ips: ['192.168.10.254'] }), want: { ips: ['192.168.10.254'] } },
      { desc: 'the next automatic ones jump the requested address', allocate: req('ns/c'), want: { ips: ['192.168.10.2'] } },
      {
        desc: 'the /23 middle addresses are handed out automatically in turn',
        check: (al) => {
          const got: string[] = [];
          for (let i = 0; i < 253; i++) {
            const res = al.allocate(req(`ns/f${i}`));
            if (res.ok) got.push(res.assignment.ips.map((x) => x.value.toString()).join());
          }
          assert.ok(got.includes(ip('192.168.10.255').value.toString()));
          assert.ok(got.includes(ip('192.168.11.0').value.toString()));
          assert.ok(!got.includes(ip('192.168.10.254').value.toString()), 'requested address handed out twice');
        },
      },
      { desc: 'the broadcast by request', allocate: req('ns/d', { ips: ['192.168.11.255'] }), want: { ips: ['192.168.11.255'] } },
    ],
  );
});
