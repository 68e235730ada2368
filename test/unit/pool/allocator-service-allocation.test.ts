// serviceAllocation: priority, namespaces, namespaceSelectors, serviceSelectors, pinned vs fallback
// pools (MetalLB internal/allocator/allocator.go isPoolCompatibleWithService).
import { test } from 'node:test';
import { pool, req, runScenario, sel } from './helpers.ts';

const sa = { hasServiceAllocation: true } as const;

test('pinned pools by priority; compatibility; explicit paths', () => {
  runScenario(
    [
      pool('fallback', ['192.0.2.0/28']),
      pool('ns-a', ['198.51.100.0/28'], { ...sa, namespaces: ['a'], priority: 20 }),
      pool('prio', ['198.51.100.16/28'], { ...sa, priority: 10, serviceSelectors: [sel({ app: 'web' })] }),
      // serviceAllocation: {} matches every Service (v0.15.0 fix), priority unset = tried last
      pool('empty-sa', ['198.51.100.32/28'], { ...sa }),
      pool('nssel', ['198.51.100.48/28'], { ...sa, namespaceSelectors: [sel({ team: 'blue' })], priority: 5 }),
      pool('off', ['198.51.100.64/28'], { ...sa, autoAssign: false, priority: 1 }),
    ],
    [
      { desc: 'any Service: empty-sa is pinned and beats the fallback', allocate: req('b/s1'), want: { ips: ['198.51.100.33'], pool: 'empty-sa' } },
      { desc: 'namespace a: ns-a (20) before empty-sa (unset)', allocate: req('a/s2'), want: { ips: ['198.51.100.1'], pool: 'ns-a' } },
      { desc: 'a + app=web: prio (10) first', allocate: req('a/s3', { serviceLabels: { app: 'web' } }), want: { ips: ['198.51.100.17'], pool: 'prio' } },
      { desc: 'serviceSelectors alone ignore the namespace', allocate: req('b/s4', { serviceLabels: { app: 'web' } }), want: { ips: ['198.51.100.18'], pool: 'prio' } },
      { desc: 'namespace labels team=blue', allocate: req('c/s5', { namespaceLabels: { team: 'blue' } }), want: { ips: ['198.51.100.49'], pool: 'nssel' } },
      {
        desc: 'nssel (5) before prio (10)',
        allocate: req('c/s6', { namespaceLabels: { team: 'blue' }, serviceLabels: { app: 'web' } }),
        want: { ips: ['198.51.100.50'], pool: 'nssel' },
      },
      { desc: 'named pool that excludes the namespace', allocate: req('b/s7', { requestedPool: 'ns-a' }), want: { fail: 'pool-incompatible' } },
      { desc: 'requested IP in a pool that excludes the namespace', allocate: req('b/s8', { ips: ['198.51.100.5'] }), want: { fail: 'pool-incompatible' } },
      { desc: 'serviceSelectors unmatched: named pool refused', allocate: req('b/s8b', { requestedPool: 'prio' }), want: { fail: 'pool-incompatible' } },
      { desc: 'autoAssign=false pool by name', allocate: req('b/s9', { requestedPool: 'off' }), want: { ips: ['198.51.100.65'], pool: 'off' } },
      { desc: 'autoAssign=false pool by IP', allocate: req('a/s10', { ips: ['198.51.100.70'] }), want: { ips: ['198.51.100.70'], pool: 'off' } },
      {
        desc: 'namespace labels change: s5 no longer fits nssel and moves',
        allocate: req('c/s5', { namespaceLabels: { team: 'red' } }),
        want: { ips: ['198.51.100.34'], pool: 'empty-sa' },
      },
    ],
  );
});

test('a pool with serviceAllocation is never a fallback', () => {
  runScenario(
    [pool('fallback', ['192.0.2.0/28']), pool('ns-a', ['198.51.100.0/28'], { ...sa, namespaces: ['a'] })],
    [
      { desc: 'namespace b: only the fallback fits', allocate: req('b/x'), want: { ips: ['192.0.2.1'], pool: 'fallback' } },
      { desc: 'namespace a: pinned pool', allocate: req('a/y'), want: { ips: ['198.51.100.1'], pool: 'ns-a' } },
    ],
  );
  runScenario(
    [pool('ns-a', ['198.51.100.0/28'], { ...sa, namespaces: ['a'] })],
    [{ desc: 'namespace b with only a restricted pool', allocate: req('b/z'), want: { fail: 'no-available-ips' } }],
  );
});

test('a full pinned pool gives way to the next priority, then to fallback pools', () => {
  runScenario(
    [
      pool('hi', ['192.0.2.0/30'], { ...sa, priority: 1 }),
      pool('lo', ['192.0.2.4/30'], { ...sa, priority: 2 }),
      pool('zz-fallback', ['192.0.2.8/30']),
    ],
    [
      { desc: '1', allocate: req('ns/1'), want: { ips: ['192.0.2.1'], pool: 'hi' } },
      { desc: '2', allocate: req('ns/2'), want: { ips: ['192.0.2.2'], pool: 'hi' } },
      { desc: '3', allocate: req('ns/3'), want: { ips: ['192.0.2.5'], pool: 'lo' } },
      { desc: '4', allocate: req('ns/4'), want: { ips: ['192.0.2.6'], pool: 'lo' } },
      { desc: '5', allocate: req('ns/5'), want: { ips: ['192.0.2.9'], pool: 'zz-fallback' } },
    ],
  );
});

test('equal priorities are ordered by name (MetalLB: random)', () => {
  runScenario(
    [pool('b', ['198.51.100.0/30'], { ...sa, priority: 3 }), pool('a', ['192.0.2.0/30'], { ...sa, priority: 3 })],
    [{ desc: 'pool a first', allocate: req('ns/x'), want: { ips: ['192.0.2.1'], pool: 'a' } }],
  );
});
