// Property tests: compile() and the loader never throw on arbitrary input, every problem names an object,
// and the literal forms round-trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compile } from '../../../src/config/compile.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { emptySnapshot, type Snapshot } from '../../../src/config/snapshot.ts';
import { formatCommunity, parseCommunity } from '../../../src/config/community.ts';
import { parseDuration } from '../../../src/config/duration.ts';
import { checkSnapshot } from '../../../src/config/check.ts';

const anyJSON = fc.jsonValue({ maxDepth: 3 });

/** A spec that is mostly shaped like the real thing, with arbitrary values in its fields. */
function specOf(fields: readonly string[]): fc.Arbitrary<Record<string, unknown>> {
  return fc.dictionary(fc.constantFrom(...fields), fc.oneof(anyJSON, fc.constantFrom('192.0.2.0/24', '192.0.2.1', '2001:db8::/64', 'eth0', '90s', 'layer2', 'bgp', 64500, true)), { maxKeys: 6 });
}

function obj(apiVersion: string, kind: string, spec: fc.Arbitrary<unknown>, namespaced = true): fc.Arbitrary<unknown> {
  return fc.record({
    apiVersion: fc.constant(apiVersion),
    kind: fc.constant(kind),
    metadata: fc.record({ name: fc.constantFrom('a', 'b', 'default'), ...(namespaced ? { namespace: fc.constant('metallb-system') } : {}) }),
    spec,
  });
}

const snapshotArb: fc.Arbitrary<Snapshot> = fc
  .record({
    ipAddressPools: fc.array(obj('metallb.io/v1beta1', 'IPAddressPool', specOf(['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'])), { maxLength: 3 }),
    l2Advertisements: fc.array(obj('metallb.io/v1beta1', 'L2Advertisement', specOf(['ipAddressPools', 'ipAddressPoolSelectors', 'nodeSelectors', 'interfaces', 'preferredNodeSelectors'])), { maxLength: 2 }),
    bgpAdvertisements: fc.array(obj('metallb.io/v1beta1', 'BGPAdvertisement', specOf(['aggregationLength', 'communities', 'ipAddressPools', 'peers', 'localPref', 'serviceSelectors'])), { maxLength: 2 }),
    bgpPeers: fc.array(obj('metallb.io/v1beta2', 'BGPPeer', specOf(['myASN', 'peerASN', 'peerAddress', 'holdTime', 'keepaliveTime', 'passwordSecret', 'nodeSelectors', 'bfdProfile'])), { maxLength: 2 }),
    communities: fc.array(obj('metallb.io/v1beta1', 'Community', specOf(['communities'])), { maxLength: 2 }),
    bfdProfiles: fc.array(obj('metallb.io/v1beta1', 'BFDProfile', specOf(['receiveInterval', 'echoMode', 'detectMultiplier'])), { maxLength: 1 }),
    eips: fc.array(obj('network.kubesphere.io/v1alpha2', 'Eip', specOf(['address', 'protocol', 'interface', 'namespaces', 'namespaceSelector', 'priority']), false), { maxLength: 2 }),
    bgpConfs: fc.array(obj('network.kubesphere.io/v1alpha2', 'BgpConf', specOf(['as', 'routerId', 'listenPort', 'asPerRack']), false), { maxLength: 1 }),
    openelbBgpPeers: fc.array(obj('network.kubesphere.io/v1alpha2', 'BgpPeer', specOf(['conf', 'timers', 'transport', 'nodeSelector', 'ebgpMultihop']), false), { maxLength: 2 }),
    services: fc.array(
      fc.record({
        apiVersion: fc.constant('v1'),
        kind: fc.constant('Service'),
        metadata: fc.record({ name: fc.constantFrom('s1', 's2'), namespace: fc.constant('web'), annotations: fc.dictionary(fc.constantFrom('metallb.io/loadBalancerIPs', 'metallb.io/address-pool', 'lb.kubesphere.io/v1alpha1', 'protocol.porter.kubesphere.io/v1alpha1'), fc.oneof(fc.string({ maxLength: 12 }), anyJSON)) }),
        spec: fc.record(
          {
            type: fc.constant('LoadBalancer'),
            loadBalancerIP: fc.oneof(fc.constantFrom('192.0.2.5', 'x', '2001:db8::5'), anyJSON),
            ports: fc.oneof(fc.constant([{ port: 80 }]), anyJSON),
            clusterIPs: anyJSON,
            ipFamilies: anyJSON,
            ipFamilyPolicy: anyJSON,
            externalTrafficPolicy: anyJSON,
            selector: anyJSON,
          },
          { requiredKeys: ['type'] },
        ),
        status: fc.option(fc.record({ loadBalancer: fc.record({ ingress: anyJSON }) }), { nil: undefined }),
      }),
      { maxLength: 2 },
    ),
  })
  .map((parts) => ({ ...emptySnapshot, ...parts }) as unknown as Snapshot);

test('property: compile and check never throw; every problem names an object and says something', () => {
  fc.assert(
    fc.property(snapshotArb, (s) => {
      const r = compile(s);
      const c = checkSnapshot(s);
      for (const p of [...r.problems, ...c.report.problems]) {
        assert.equal(typeof p.kind, 'string');
        assert.equal(typeof p.name, 'string');
        assert.ok(p.message.length > 0);
      }
      // Every distinct config object gets exactly one status.
      const keys = new Set(
        [s.ipAddressPools, s.l2Advertisements, s.bgpAdvertisements, s.bgpPeers, s.communities, s.bfdProfiles, s.eips, s.bgpConfs, s.openelbBgpPeers]
          .flat()
          .map((o) => `${o.kind}/${o.metadata?.name ?? ''}`),
      );
      assert.equal(r.statuses.length, keys.size);
      // Recompiling with its own store changes nothing.
      assert.deepEqual(compile(s, r.store).config, r.config);
    }),
    { numRuns: 1000 },
  );
});

test('property: the loader never throws on arbitrary text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      const r = parseManifests([{ path: 'x.yaml', text }]);
      assert.ok(Array.isArray(r.problems));
    }),
    { numRuns: 500 },
  );
});

test('property: communities round-trip through text', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }), (hi, lo) => {
      const r = parseCommunity(`${hi}:${lo}`);
      assert.ok(r.ok);
      assert.equal(formatCommunity(r.value), `${hi}:${lo}`);
    }),
  );
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (g, a, b) => {
      const r = parseCommunity(`large:${g}:${a}:${b}`);
      assert.ok(r.ok);
      assert.equal(formatCommunity(r.value), `large:${g}:${a}:${b}`);
    }),
  );
});

test('durations: Go syntax', () => {
  const ok: readonly [string, number][] = [
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['0', 0],
    ['0s', 0],
    ['2h45m', 9_900_000],
  ];
  for (const [text, ms] of ok) assert.deepEqual(parseDuration(text), { ok: true, ms }, text);
  for (const bad of ['', '90', '-3s', '3 s', 's', '1d']) assert.equal(parseDuration(bad).ok, false, bad);
});
