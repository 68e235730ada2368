// The end-to-end checks of berth in the lab, run through each runner (berth-containerlab.test.ts,
// berth-netns.test.ts): the seed manifests of frr-lab/manifests with `berth speaker --manifests` on three
// nodes, an FRR router (eBGP, ECMP), a LAN client and an outside client behind the router.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bgpPaths, clientNeighbour, curl, LAB_NODES, MANIFESTS_DIR, routerNextHops, startBerth, type BerthLab } from '../../../frr-lab/berth-lab.ts';
import type { LabHandle } from '../../../frr-lab/topology.ts';
import { arpingReplies, waitFor } from '../common.ts';
import { hashWinner } from '../speaker/harness.ts';

const NODE_IPS = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const BGP_VIP = '203.0.113.1';
const METALLB_L2_VIP = '192.0.2.161';
const PORTER_VIP = '192.0.2.91';

/** A manifest file of frr-lab/manifests with its documents edited. */
function edited(file: string, edit: (docs: string[]) => string[]): string {
  return edit(readFileSync(join(MANIFESTS_DIR, file), 'utf8').split(/\n---\n/)).join('\n---\n');
}
const withoutService = (docs: string[]): string[] => docs.filter((d) => !/^kind: Service$/m.test(d));

async function arpingMacs(lab: LabHandle, ip: string, count: number): Promise<string[]> {
  const r = await lab.exec('client', ['arping', '-c', String(count), '-w', String(count + 1), '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

export async function berthScenario(t: TestContext, lab: LabHandle): Promise<void> {
  const b: BerthLab = await startBerth(lab);
  const logs = async (): Promise<string> => `${await b.speakerLogs()}\n--- router\n${await lab.vtysh('show bgp summary').catch((e: unknown) => String(e))}`;
  const macOf = (node: string): string => b.macs.get(node) ?? '?';

  await t.test('each Service gets its IP: berth check in node1 agrees with the plan', async () => {
    assert.deepEqual(
      b.services.map((s) => [s.name, s.ips.join(), s.modes.join('+')]),
      [
        ['metallb-demo', BGP_VIP, 'bgp'],
        ['metallb1-cluster', METALLB_L2_VIP, 'l2'],
        ['porter-layer2-svc', PORTER_VIP, 'l2'],
      ],
    );
    const out = (await lab.exec('node1', [...lab.berth('node1'), 'check', '--manifests', b.manifestsDir('node1')], { timeoutMs: 60_000 })).stdout;
    assert.match(out, /default\/metallb-demo\s+203\.0\.113\.1\s+bgp-pool\s+bgp\n/);
    assert.match(out, /default\/porter-layer2-svc\s+192\.0\.2\.91\s+porter-layer2-eip\s+l2\n/);
    assert.match(out, /No problems\./);
  });

  await t.test('BGP: the router has one next hop per node, with the advertisement\'s communities', async () => {
    await waitFor(`${BGP_VIP}/32 with next hops ${NODE_IPS.join(' ')}`, 90_000, async () => ((await routerNextHops(lab, `${BGP_VIP}/32`)).join() === NODE_IPS.join() ? true : undefined), { describe: logs, everyMs: 250 });
    const paths = await bgpPaths(lab, `${BGP_VIP}/32`);
    assert.equal(paths.length, 3);
    for (const p of paths) assert.equal(p.community?.string, '64512:100 64512:200');
    // The kernel of the router has the ECMP route too (zebra installed it).
    const fib = JSON.parse((await lab.exec('router', ['ip', '-j', 'route', 'show', `${BGP_VIP}/32`])).stdout) as { nexthops?: { gateway?: string }[] }[];
    assert.deepEqual((fib[0]?.nexthops ?? []).map((n) => n.gateway).sort(), NODE_IPS);
  });

  await t.test('BGP: the outside client reaches the backends through the router, spread over the nodes', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 15; i++) {
      const body = await curl(lab, 'ext', BGP_VIP, 18081);
      assert.match(body, /^hello from node[123]$/, `answer ${String(i)}`);
      seen.add(body);
    }
    assert.ok(seen.size >= 2, `ECMP: 15 connections all went to ${[...seen].join()}`);
  });

  await t.test('Layer 2: the LAN client resolves each VIP to the elected node\'s MAC and reaches the Service', async () => {
    const owners: [string, string][] = [
      [METALLB_L2_VIP, 'node2'], // the seed's nodeSelectors pin it (kind-control-plane -> node2)
      [PORTER_VIP, hashWinner([...LAB_NODES], PORTER_VIP)],
    ];
    for (const [vip, owner] of owners) {
      const n = await waitFor(`the client's neighbour entry for ${vip}`, 60_000, () => clientNeighbour(lab, vip), { describe: logs, everyMs: 250 });
      assert.equal(n.mac, macOf(owner), `${vip} resolved to ${owner}`);
      // Only the elected node answers.
      assert.deepEqual(await arpingMacs(lab, vip, 3), [macOf(owner), macOf(owner), macOf(owner)]);
      const port = vip === PORTER_VIP ? 80 : 18081;
      assert.equal(await curl(lab, 'client', vip, port), `hello from ${owner}`);
    }
  });

  await t.test('changing the BGPAdvertisement\'s communities changes what the router sees', async () => {
    await b.writeManifest('metallb-bgp.yaml', edited('metallb-bgp.yaml', (docs) => docs.map((d) => d.replace('  - 64512:100\n  - 64512:200', '  - 64512:300'))));
    await waitFor('the new communities on the three paths', 60_000, async () => {
      const paths = await bgpPaths(lab, `${BGP_VIP}/32`);
      return paths.length === 3 && paths.every((p) => p.community?.string === '64512:300') ? true : undefined;
    }, { describe: logs, everyMs: 250 });
  });

  await t.test('deleting the Services removes the route and the ARP answer', async () => {
    await b.writeManifest('metallb-bgp.yaml', edited('metallb-bgp.yaml', withoutService));
    await b.writeManifest('porter-layer2.yaml', edited('porter-layer2.yaml', withoutService));
    await waitFor(`${BGP_VIP}/32 withdrawn`, 60_000, async () => ((await bgpPaths(lab, `${BGP_VIP}/32`)).length === 0 ? true : undefined), { describe: logs, everyMs: 250 });
    assert.deepEqual(await routerNextHops(lab, `${BGP_VIP}/32`), []);
    await waitFor(`no ARP answer for ${PORTER_VIP}`, 60_000, async () => ((await arpingMacs(lab, PORTER_VIP, 2)).length === 0 ? true : undefined), { describe: logs, everyMs: 250 });
    assert.equal(await curl(lab, 'ext', BGP_VIP, 18081), '');
    // The Service that stays is still answered by its node.
    assert.deepEqual(await arpingMacs(lab, METALLB_L2_VIP, 1), [macOf('node2')]);
  });
}
