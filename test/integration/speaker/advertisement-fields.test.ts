// End to end, BGPAdvertisement fields through `berth speaker --manifests` (three node namespaces of
// frr-lab, prefix bspg) into an FRR router (iBGP, AS 64512, dynamic neighbours), asserting what FRR
// received (`show bgp ipv4|ipv6 unicast json`):
//
//   agg-pool  203.0.113.0/24, 2001:db8:f00::/64
//   aggregate        aggregationLength 24 / aggregationLengthV6 64, LOCAL_PREF 200, communities through
//                    a Community alias (vip-tag = 64512:300) and a large one (alias big = large:123:456:789)
//   aggregate-extra  the same aggregation and LOCAL_PREF, community 64512:400 (merged on the aggregate)
//   host-routes      no aggregation, LOCAL_PREF 120, well-known no-advertise (MetalLB's documented
//                    pattern: /32 no-advertise + /24, MetalLB docs, BGPAdvertisement aggregationLength)
//
// Then: an invalid change (aggregationLength 16, shorter than the pool's /24) keeps the previous
// version in force and is logged (a marker Service written after the log line shows the speakers went
// on without announcing the /16); with externalTrafficPolicy Local the /24 comes from every node that
// hosts an endpoint of any contributor (MetalLB docs, BGPAdvertisement aggregationLength); the /24 stays while one contributing Service
// remains and goes with the last one, each change seen at once (folder watch, not the 10 s re-read).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, sliceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ASN = 64512;
const VIP_A = '203.0.113.10';
const VIP_B = '203.0.113.20';
const VIP_MARKER = '203.0.113.30';
const VIP_V6 = '2001:db8:f00::10';
const AGG4 = '203.0.113.0/24';
const AGG6 = '2001:db8:f00::/64';

interface FrrPath {
  readonly nexthops?: readonly { readonly ip?: string; readonly scope?: string }[];
  readonly locPrf?: number;
  readonly origin?: string;
  readonly community?: { readonly string?: string };
  readonly largeCommunity?: { readonly string?: string };
}

async function frrPaths(lab: Lab, family: 'ipv4' | 'ipv6', prefix: string): Promise<readonly FrrPath[]> {
  const r = await lab.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ${family} unicast ${prefix} json`);
  return r.paths ?? [];
}

/** Global next hops of the router's paths for a prefix, sorted. */
async function nextHops(lab: Lab, family: 'ipv4' | 'ipv6', prefix: string): Promise<string[]> {
  return (await frrPaths(lab, family, prefix)).map((p) => p.nexthops?.find((n) => n.scope !== 'link-local' && !(n.ip ?? '').startsWith('fe80'))?.ip ?? '?').sort();
}

async function tableKeys(lab: Lab, family: 'ipv4' | 'ipv6'): Promise<string[]> {
  const t = await lab.vtyshJson<{ routes?: Record<string, unknown> }>(`show bgp ${family} unicast json`);
  return Object.keys(t.routes ?? {}).sort();
}

const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((w) => w !== '').sort();

function config(opts: { aggregationLength?: number } = {}): string[] {
  const agg = opts.aggregationLength ?? 24;
  return [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: agg-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/24", "2001:db8:f00::/64"]}',
    'apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: aliases, namespace: metallb-system}\nspec: {communities: [{name: vip-tag, value: "64512:300"}, {name: big, value: "large:123:456:789"}]}',
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 9s}`,
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router6, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: "2001:db8:1::1", holdTime: 9s}`,
    `apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: aggregate, namespace: metallb-system}\nspec: {ipAddressPools: [agg-pool], aggregationLength: ${agg}, aggregationLengthV6: 64, localPref: 200, communities: [vip-tag, big]}`,
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: aggregate-extra, namespace: metallb-system}\nspec: {ipAddressPools: [agg-pool], aggregationLength: 24, aggregationLengthV6: 64, localPref: 200, communities: ["64512:400"]}',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: host-routes, namespace: metallb-system}\nspec: {ipAddressPools: [agg-pool], localPref: 120, communities: [no-advertise]}',
  ];
}

function services(which: readonly ('a' | 'b')[], local = false): string[] {
  return [
    ...(which.includes('a') ? [serviceDoc('svc-a', { statusIPs: [VIP_A], local })] : []),
    ...(which.includes('b') ? [serviceDoc('svc-b', { statusIPs: [VIP_B], local })] : []),
    serviceDoc('svc-v6', { statusIPs: [VIP_V6], families: ['IPv6'] }),
  ];
}

test('BGPAdvertisement fields reach FRR: aggregation, Community aliases, well-known and large communities, LOCAL_PREF, invalid change kept out', { timeout: 180_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bspg', nodes: 3, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      const all4 = lab.nodes.map((n) => n.ipv4).sort();
      const all6 = lab.nodes.map((n) => n.ipv6).sort();
      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n)));
      dir.write('config.yaml', config());
      dir.write('services.yaml', services(['a', 'b']));
      const speakers = lab.nodes.map((n) => new SpeakerProcess(lab, n, dir.path));
      const logs = async (): Promise<string> =>
        speakers.map((s) => `--- ${s.node.name} (${s.running ? 'running' : 'exited'})\n${s.tail(25)}`).join('\n') +
        `\n--- FRR\n${await lab.vtysh(['show bgp summary', 'show bgp ipv4 unicast', 'show bgp ipv6 unicast']).catch((e: unknown) => String(e))}`;
      const hasAllHops = (family: 'ipv4' | 'ipv6', prefix: string, hops: readonly string[]) => async (): Promise<true | undefined> =>
        (await nextHops(lab, family, prefix)).join() === hops.join() ? true : undefined;

      try {
        await t.test('two Services in one /24 give ONE /24 with every node as next hop, plus their /32s from the second advertisement', async () => {
          for (const p of [AGG4, `${VIP_A}/32`, `${VIP_B}/32`]) await waitFor(`${p} with three next hops`, 60_000, hasAllHops('ipv4', p, all4), logs);
          assert.deepEqual(await tableKeys(lab, 'ipv4'), [AGG4, `${VIP_A}/32`, `${VIP_B}/32`].sort(), 'nothing else: no second /24, no other length');
          for (const p of await frrPaths(lab, 'ipv4', AGG4)) assert.equal(p.origin, 'IGP');
        });

        await t.test('the aggregate carries LOCAL_PREF 200, the alias community, the large community, and the other advertisement\'s community merged', async () => {
          const paths = await frrPaths(lab, 'ipv4', AGG4);
          assert.equal(paths.length, 3);
          for (const p of paths) {
            assert.equal(p.locPrf, 200);
            assert.deepEqual(words(p.community?.string), ['64512:300', '64512:400']);
            assert.deepEqual(words(p.largeCommunity?.string), ['123:456:789']);
          }
        });

        await t.test('the /32s carry LOCAL_PREF 120 and only the well-known no-advertise, ORIGIN IGP', async () => {
          for (const vip of [VIP_A, VIP_B]) {
            const paths = await frrPaths(lab, 'ipv4', `${vip}/32`);
            assert.equal(paths.length, 3);
            for (const p of paths) {
              assert.equal(p.locPrf, 120);
              assert.equal(p.origin, 'IGP');
              assert.deepEqual(words(p.community?.string), ['no-advertise']);
              assert.equal(p.largeCommunity, undefined, 'no large community on the host routes');
            }
          }
        });

        await t.test('IPv6: aggregationLengthV6 64 gives the /64 next to the /128, each node a next hop', async () => {
          for (const p of [AGG6, `${VIP_V6}/128`]) await waitFor(`${p} with three next hops`, 60_000, hasAllHops('ipv6', p, all6), logs);
          assert.deepEqual(await tableKeys(lab, 'ipv6'), [AGG6, `${VIP_V6}/128`].sort());
          for (const p of await frrPaths(lab, 'ipv6', AGG6)) {
            assert.equal(p.locPrf, 200);
            assert.deepEqual(words(p.community?.string), ['64512:300', '64512:400']);
            assert.deepEqual(words(p.largeCommunity?.string), ['123:456:789']);
          }
        });

        await t.test('an invalid change (aggregationLength 16 < the pool /24) is logged and the previous version stays in force', async () => {
          const before4 = await lab.vtyshJson<unknown>('show bgp ipv4 unicast json');
          const sinceLog = speakers.map((s) => s.lines.length);
          dir.write('config.yaml', config({ aggregationLength: 16 }));
          await waitFor('every speaker logging the aggregationLength problem', 20_000, async () =>
            speakers.every((s, i) =>
              s.lines.slice(sinceLog[i]).some((l) => l['msg'] === 'configuration problem' && String(l['object']).includes('aggregate') && String(l['field']).includes('aggregationLength')),
            )
              ? true
              : undefined,
          logs);
          // The marker: a Service written after every speaker logged the problem. Once FRR holds its /32 from
          // every node, each speaker has sent everything it planned for the invalid version before it, so a
          // speaker that wrongly applied aggregationLength 16 would have announced 203.0.0.0/16 by now.
          dir.write('marker.yaml', [serviceDoc('svc-marker', { statusIPs: [VIP_MARKER] })]);
          await waitFor(`marker ${VIP_MARKER}/32 with three next hops`, 30_000, hasAllHops('ipv4', `${VIP_MARKER}/32`, all4), logs);
          assert.deepEqual(await tableKeys(lab, 'ipv4'), [AGG4, `${VIP_A}/32`, `${VIP_B}/32`, `${VIP_MARKER}/32`].sort());
          assert.deepEqual(await nextHops(lab, 'ipv4', AGG4), all4);
          for (const p of await frrPaths(lab, 'ipv4', AGG4)) {
            assert.equal(p.locPrf, 200);
            assert.deepEqual(words(p.community?.string), ['64512:300', '64512:400'], 'the aggregate keeps the invalid object\'s last valid communities');
          }
          const after4 = await lab.vtyshJson<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast json');
          const beforeKeys = Object.keys((before4 as { routes?: Record<string, unknown> }).routes ?? {});
          assert.deepEqual(Object.keys(after4.routes ?? {}).sort(), [...beforeKeys, `${VIP_MARKER}/32`].sort());
          assert.ok(speakers.every((s) => s.running), 'no speaker exited on the invalid change');
          dir.write('config.yaml', config());
          dir.write('marker.yaml', []);
          await waitFor(`marker ${VIP_MARKER}/32 withdrawn`, 30_000, async () => ((await frrPaths(lab, 'ipv4', `${VIP_MARKER}/32`)).length === 0 ? true : undefined), logs);
        });

        await t.test('externalTrafficPolicy Local: the /24 is announced by every node hosting an endpoint of ANY contributor, each /32 by its own', async () => {
          const ip = (name: string): string => lab.nodes.find((n) => n.name === name)?.ipv4 ?? `?${name}`;
          dir.write('slices.yaml', [sliceDoc('svc-a', ['node1']), sliceDoc('svc-b', ['node2'])]);
          dir.write('services.yaml', services(['a', 'b'], true));
          await waitFor(`${VIP_A}/32 via node1 only`, 30_000, async () => ((await nextHops(lab, 'ipv4', `${VIP_A}/32`)).join() === ip('node1') ? true : undefined), logs);
          await waitFor(`${VIP_B}/32 via node2 only`, 30_000, async () => ((await nextHops(lab, 'ipv4', `${VIP_B}/32`)).join() === ip('node2') ? true : undefined), logs);
          await waitFor(`${AGG4} via node1 and node2`, 30_000, async () => ((await nextHops(lab, 'ipv4', AGG4)).join() === [ip('node1'), ip('node2')].sort().join() ? true : undefined), logs);
          dir.write('services.yaml', services(['a', 'b']));
          dir.write('slices.yaml', []);
          await waitFor(`${AGG4} via every node again`, 30_000, hasAllHops('ipv4', AGG4, all4), logs);
        });

        await t.test('the /24 stays while one contributor remains, and is withdrawn with the last one', async () => {
          const t0 = Date.now();
          dir.write('services.yaml', services(['b']));
          // 5 s: the change must be seen by the folder watch (200 ms debounce), not by the 10 s periodic
          // re-read (services.yaml was already replaced once, which Node 20's recursive watch loses).
          await waitFor(`${VIP_A}/32 withdrawn within 5 s`, 5_000, async () => ((await frrPaths(lab, 'ipv4', `${VIP_A}/32`)).length === 0 ? true : undefined), logs);
          assert.deepEqual(await tableKeys(lab, 'ipv4'), [AGG4, `${VIP_B}/32`].sort());
          assert.deepEqual(await nextHops(lab, 'ipv4', AGG4), all4, 'the /24 is still announced by every node');
          dir.write('services.yaml', services([]));
          const t1 = Date.now();
          await waitFor(`${AGG4} withdrawn with the last Service within 5 s`, 5_000, async () => ((await tableKeys(lab, 'ipv4')).length === 0 ? true : undefined), logs);
          t.diagnostic(`withdrawals seen after ${t1 - t0} ms and ${Date.now() - t1} ms`);
          // The IPv6 Service was not touched: its aggregate is still there.
          assert.deepEqual(await nextHops(lab, 'ipv6', AGG6), all6);
        });
      } finally {
        for (const s of speakers) if (s.running) await s.stop().catch(() => undefined);
        if (t.signal.aborted) process.stderr.write(await logs());
      }
    });
  } finally {
    dir.remove();
  }
});
