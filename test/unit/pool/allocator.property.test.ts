// Property tests over random sequences of allocate/release against a fixed set of pools:
// - no IP outside its pool; assignments name an existing pool
// - no IP held twice unless sharing allows it (same non-empty key + backend, or OpenELB implicit), and
//   never a (protocol, port) used twice on one IP
// - avoidBuggyIPs pools never hold .0/.255; automatic allocation never hands out reserved CIDR addresses
// - a restart (restoreAll in a random order) reproduces every IP, and reconciling afterwards keeps them
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Allocator } from '../../../src/pool/allocator.ts';
import { formatIP } from '../../../src/pool/address.ts';
import { isBuggy, isReservedInCIDR } from '../../../src/pool/pool.ts';
import type { AllocationRequest, Family, PoolSpec, ServicePort } from '../../../src/pool/types.ts';
import { eip, ip, pool, req } from './helpers.ts';

const POOLS: readonly PoolSpec[] = [
  pool('p4', ['192.0.2.0/28']),
  pool('r', ['198.51.100.250-198.51.101.5'], { avoidBuggyIPs: true }),
  pool('d', ['203.0.113.0/29', '2001:db8::/125']),
  pool('sa', ['203.0.113.32/29'], { hasServiceAllocation: true, namespaces: ['n1'], priority: 3 }),
  eip('e', '203.0.113.16/29', { isDefault: true }),
];

const REQUESTABLE = ['192.0.2.0', '192.0.2.5', '198.51.100.255', '198.51.101.1', '203.0.113.2', '2001:db8::', '203.0.113.18', '203.0.113.33', '203.0.113.200'];

const portSets: readonly (readonly ServicePort[])[] = [
  [{ protocol: 'TCP', port: 80 }],
  [{ protocol: 'TCP', port: 443 }],
  [{ protocol: 'UDP', port: 53 }],
  [{ protocol: 'TCP', port: 53 }, { protocol: 'TCP', port: 80 }],
];

const familySpecs: readonly Pick<AllocationRequest, 'ipFamilies' | 'ipFamilyPolicy'>[] = [
  { ipFamilies: ['ipv4'], ipFamilyPolicy: 'SingleStack' },
  { ipFamilies: ['ipv6'], ipFamilyPolicy: 'SingleStack' },
  { ipFamilies: ['ipv4', 'ipv6'] as readonly Family[], ipFamilyPolicy: 'PreferDualStack' },
  { ipFamilies: ['ipv6', 'ipv4'] as readonly Family[], ipFamilyPolicy: 'RequireDualStack' },
];

const arbRequest: fc.Arbitrary<AllocationRequest> = fc
  .record({
    name: fc.integer({ min: 0, max: 11 }),
    ns: fc.constantFrom('n1', 'n2'),
    key: fc.constantFrom(undefined, 'k1', 'k2'),
    backend: fc.constantFrom('', '', 'app=x'),
    ports: fc.constantFrom(...portSets),
    fam: fc.constantFrom(...familySpecs),
    pool: fc.constantFrom(undefined, undefined, undefined, 'p4', 'r', 'd', 'sa', 'e'),
    ip: fc.option(fc.constantFrom(...REQUESTABLE), { freq: 3 }),
    dialect: fc.constantFrom('metallb', 'metallb', 'openelb'),
  })
  .map((r) => {
    const family = r.ip !== null ? ip(r.ip).family : undefined;
    return req(`${r.ns}/s${r.name}`, {
      sharingKey: r.key,
      backendKey: r.backend,
      ports: r.ports,
      // a requested IP comes with a matching single family, otherwise most requests would only fail
      ...(family !== undefined ? { ipFamilies: [family], ipFamilyPolicy: 'SingleStack' as const } : r.fam),
      requestedPool: r.pool,
      ...(r.ip !== null ? { ips: [r.ip] } : {}),
      dialect: r.dialect as 'metallb' | 'openelb',
    });
  });

type Op = { readonly kind: 'alloc'; readonly req: AllocationRequest } | { readonly kind: 'release'; readonly name: number; readonly ns: string };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: arbRequest.map((r) => ({ kind: 'alloc' as const, req: r })) },
  { weight: 1, arbitrary: fc.record({ name: fc.integer({ min: 0, max: 11 }), ns: fc.constantFrom('n1', 'n2') }).map((r) => ({ kind: 'release' as const, ...r })) },
);

/** Run ops; returns the allocator and, per Service holding IPs, the request that produced them. */
function run(ops: readonly Op[]): { al: Allocator; last: Map<string, AllocationRequest> } {
  const al = new Allocator(POOLS);
  const last = new Map<string, AllocationRequest>();
  for (const op of ops) {
    if (op.kind === 'release') {
      const svc = `${op.ns}/s${op.name}`;
      assert.equal(al.release(svc), last.has(svc));
      last.delete(svc);
    } else {
      const res = al.allocate(op.req);
      if (res.ok) last.set(op.req.service, op.req);
      else last.delete(op.req.service);
      checkInvariants(al, last);
    }
  }
  return { al, last };
}

function checkInvariants(al: Allocator, last: ReadonlyMap<string, AllocationRequest>): void {
  const holders = new Map<string, string[]>();
  const all = al.assignments();
  assert.deepEqual(all.map((a) => a.service).sort(), [...last.keys()].sort(), 'the allocator holds exactly the Services that got IPs');
  for (const a of all) {
    const p = POOLS.find((x) => x.name === a.pool);
    assert.ok(p !== undefined, `${a.service}: unknown pool ${a.pool}`);
    for (const addr of a.ips) {
      const inside = p.ranges.some((r) => r.family === addr.family && r.first <= addr.value && addr.value <= r.last);
      assert.ok(inside, `${a.service}: ${formatIP(addr)} outside pool ${p.name}`);
      if (p.avoidBuggyIPs) assert.ok(!isBuggy(addr), `${a.service}: buggy ${formatIP(addr)} in ${p.name}`);
      const k = formatIP(addr);
      holders.set(k, [...(holders.get(k) ?? []), a.service]);
    }
  }
  for (const [addr, svcs] of holders) {
    for (let i = 0; i < svcs.length; i++) {
      for (let j = i + 1; j < svcs.length; j++) {
        const x = last.get(svcs[i] ?? '');
        const y = last.get(svcs[j] ?? '');
        assert.ok(x !== undefined && y !== undefined);
        const keyed = (x.sharingKey ?? '') !== '' && x.sharingKey === y.sharingKey && x.backendKey === y.backendKey;
        const implicit = x.dialect === 'openelb' && y.dialect === 'openelb';
        assert.ok(keyed || implicit, `${addr} held by ${x.service} and ${y.service} without a right to share`);
        for (const p of x.ports) {
          assert.ok(!y.ports.some((q) => q.protocol === p.protocol && q.port === p.port), `${addr}: ${p.protocol}/${p.port} twice`);
        }
      }
    }
  }
  for (const p of POOLS) {
    const st = al.poolStatus(p.name);
    const inPool = new Set(all.filter((a) => a.pool === p.name).flatMap((a) => a.ips.map(formatIP)));
    assert.equal(Number((st?.assignedIPv4 ?? 0n) + (st?.assignedIPv6 ?? 0n)), inPool.size, `${p.name}: assigned count`);
  }
}

test('property: pool membership, sharing, avoidBuggyIPs, status counts hold after every step', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { minLength: 15, maxLength: 80 }), (ops) => {
      run(ops);
    }),
    { numRuns: 300 },
  );
});

test('property: automatic allocation never hands out a reserved or buggy address, nor one in use', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({ name: fc.integer({ min: 0, max: 40 }), fam: fc.constantFrom(...familySpecs), release: fc.boolean() }),
        { maxLength: 120 },
      ),
      (steps) => {
        const al = new Allocator(POOLS);
        for (const s of steps) {
          const svc = `n2/a${s.name}`;
          if (s.release) {
            al.release(svc);
            continue;
          }
          const before = new Set(al.assignments().filter((a) => a.service !== svc).flatMap((a) => a.ips.map(formatIP)));
          const res = al.allocate(req(svc, s.fam));
          if (!res.ok) continue;
          const p = POOLS.find((x) => x.name === res.assignment.pool);
          assert.ok(p !== undefined);
          for (const addr of res.assignment.ips) {
            const r = p.ranges.find((x) => x.family === addr.family && x.first <= addr.value && addr.value <= x.last);
            assert.ok(r !== undefined);
            assert.ok(!isReservedInCIDR(r, addr.value), `reserved ${formatIP(addr)} handed out`);
            assert.ok(!(p.avoidBuggyIPs && isBuggy(addr)), `buggy ${formatIP(addr)} handed out`);
            assert.ok(!before.has(formatIP(addr)), `${formatIP(addr)} handed out twice`);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: restart replay in any order reproduces every IP', () => {
  fc.assert(
    fc.property(fc.array(arbOp, { minLength: 15, maxLength: 80 }), fc.array(fc.double({ noNaN: true }), { minLength: 12, maxLength: 12 }), (ops, keys) => {
      const { al, last } = run(ops);
      const before = al.assignments();
      // status as the controller would read it, in a random order
      const existing = before
        .map((a, i) => ({ a, k: keys[i % keys.length] ?? 0 }))
        .sort((x, y) => x.k - y.k)
        .map(({ a }) => {
          const r = last.get(a.service);
          assert.ok(r !== undefined);
          return { request: r, ips: a.ips };
        });
      const fresh = new Allocator(POOLS);
      const results = fresh.restoreAll(existing);
      for (const a of before) {
        const r = results.get(a.service);
        assert.ok(r?.ok, `${a.service}: ${r !== undefined && !r.ok ? r.failure.message : 'not replayed'}`);
        assert.deepEqual(r.assignment, a);
      }
      assert.deepEqual(fresh.assignments(), before);
      // reconciling every Service afterwards keeps its IPs (PreferDualStack may only add one)
      for (const a of before) {
        const r = last.get(a.service);
        assert.ok(r !== undefined);
        const res = fresh.allocate(r);
        assert.ok(res.ok, a.service);
        for (const addr of a.ips) assert.ok(res.assignment.ips.some((x) => x.family === addr.family && x.value === addr.value), `${a.service} lost ${formatIP(addr)}`);
      }
      checkInvariants(fresh, new Map([...last].filter(([svc]) => fresh.assignmentOf(svc) !== undefined)));
    }),
    { numRuns: 300 },
  );
});

test('property: conflicting status (two Services on one IP) resolves the same way in every replay order', () => {
  const addrs = ['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::1', '2001:db8::2', '198.51.100.255', '203.0.113.200'];
  const arbEntry = fc.record({
    name: fc.integer({ min: 0, max: 9 }),
    v4: fc.constantFrom('192.0.2.1', '192.0.2.2', '192.0.2.3', '198.51.100.255', '203.0.113.200'),
    v6: fc.option(fc.constantFrom('2001:db8::1', '2001:db8::2'), { freq: 2 }),
    key: fc.constantFrom(undefined, 'k1', 'k2'),
    backend: fc.constantFrom('', 'app=x'),
    ports: fc.constantFrom(...portSets),
    dialect: fc.constantFrom('metallb', 'openelb'),
  });
  fc.assert(
    fc.property(fc.uniqueArray(arbEntry, { selector: (e) => e.name, maxLength: 10 }), fc.array(fc.double({ noNaN: true }), { minLength: 10, maxLength: 10 }), (entries, keys) => {
      const existing = entries.map((e) => ({
        request: req(`n2/s${e.name}`, {
          sharingKey: e.key,
          backendKey: e.backend,
          ports: e.ports,
          dialect: e.dialect as 'metallb' | 'openelb',
          ...(e.v6 !== null ? { ipFamilies: ['ipv4', 'ipv6'] as readonly Family[], ipFamilyPolicy: 'RequireDualStack' as const } : {}),
        }),
        ips: e.v6 !== null ? [ip(e.v4), ip(e.v6)] : [ip(e.v4)],
      }));
      const summary = (order: typeof existing): string => {
        const al = new Allocator(POOLS);
        const res = al.restoreAll(order);
        const lines = [...res].map(([svc, r]) => `${svc}=${r.ok ? r.assignment.ips.map(formatIP).join(',') : r.failure.reason}`).sort();
        // and the allocator state agrees with the answers
        assert.deepEqual(
          al.assignments().map((a) => a.service),
          [...res].filter(([, r]) => r.ok).map(([svc]) => svc).sort(),
        );
        for (const a of addrs) assert.ok(al.servicesOn(ip(a)).length <= existing.length);
        return lines.join(' ');
      };
      const shuffled = existing.map((e, i) => ({ e, k: keys[i] ?? 0 })).sort((a, b) => a.k - b.k).map(({ e }) => e);
      assert.equal(summary(shuffled), summary(existing));
      assert.equal(summary([...existing].reverse()), summary(existing));
    }),
    { numRuns: 1000 },
  );
});

test('property: after any sequence of pool changes every assignment lies in a current pool of its name', () => {
  const configs: readonly (readonly PoolSpec[])[] = [
    POOLS,
    // shrunk, renamed, avoidBuggyIPs turned on, one pool gone, a dual pool losing its IPv6 range
    [
      pool('p4-renamed', ['192.0.2.0/29']),
      pool('r', ['198.51.100.250-198.51.101.1'], { avoidBuggyIPs: true }),
      pool('d', ['203.0.113.0/29']),
      eip('e', '203.0.113.16/29', { isDefault: true }),
    ],
    [pool('p4', ['192.0.2.0/28'], { avoidBuggyIPs: true }), pool('d', ['2001:db8::/125'])],
  ];
  fc.assert(
    fc.property(
      fc.array(fc.oneof({ weight: 5, arbitrary: arbOp }, { weight: 1, arbitrary: fc.integer({ min: 0, max: configs.length - 1 }) }), { maxLength: 60 }),
      (steps) => {
        const al = new Allocator(POOLS);
        let current: readonly PoolSpec[] = POOLS;
        const last = new Map<string, AllocationRequest>();
        for (const step of steps) {
          if (typeof step === 'number') {
            current = configs[step] ?? POOLS;
            const change = al.setPools(current);
            for (const e of change.evicted) last.delete(e.service);
            // the controller re-runs every Service after a pool change
            for (const [svc, r] of [...last]) {
              const res = al.allocate(r);
              if (!res.ok) last.delete(svc);
            }
          } else if (step.kind === 'release') {
            al.release(`${step.ns}/s${step.name}`);
            last.delete(`${step.ns}/s${step.name}`);
          } else {
            const res = al.allocate(step.req);
            if (res.ok) last.set(step.req.service, step.req);
            else last.delete(step.req.service);
          }
          assert.deepEqual(al.assignments().map((a) => a.service), [...last.keys()].sort());
          for (const a of al.assignments()) {
            const p = current.find((x) => x.name === a.pool);
            assert.ok(p !== undefined, `${a.service} in vanished pool ${a.pool}`);
            for (const addr of a.ips) {
              assert.ok(p.ranges.some((r) => r.family === addr.family && r.first <= addr.value && addr.value <= r.last), `${formatIP(addr)} outside ${p.name}`);
              if (p.avoidBuggyIPs) assert.ok(!isBuggy(addr), `buggy ${formatIP(addr)} kept in ${p.name}`);
            }
          }
          for (const p of current) {
            const st = al.poolStatus(p.name);
            const inPool = new Set(al.assignments().filter((a) => a.pool === p.name).flatMap((a) => a.ips.map(formatIP)));
            assert.equal(Number((st?.assignedIPv4 ?? 0n) + (st?.assignedIPv6 ?? 0n)), inPool.size, `${p.name}: assigned count`);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});
