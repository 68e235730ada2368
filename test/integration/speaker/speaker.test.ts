// End to end: `berth speaker --manifests` in three node namespaces of frr-lab (prefix bspk) against
// an FRR router (iBGP, AS 64512, dynamic neighbours, ECMP) and a LAN client (arping, ndisc6, its
// kernel neighbour table). One manifest folder, shared by the three speakers, is edited during the test.
//
//   bgp-pool  203.0.113.0/26, 2001:db8:f00::/120   BGPAdvertisement: LOCAL_PREF 150, 64512:100 64512:200
//   l2-pool   203.0.113.128/26, 2001:db8:f00::1:0/120   L2Advertisement on eth1
//   Porter seed: Eip porter-layer2-eip (layer2, eth1) + Service with the porter annotations
//   MetalLB seed ("L2&BGP 模式说明", L2): demo-pool selected by name and label, announced from node2 only
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { checkSnapshot } from '../../../src/config/check.ts';
import { loadManifests } from '../../../src/config/manifests.ts';
import { withLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import { arpingReplies, hashWinner, ManifestDir, ndisc6Replies, nodeDoc, sleep, sliceDoc, SpeakerProcess, waitFor } from './harness.ts';
import { ASN, BGP_A, BGP_LOCAL, BGP_V6, COMMUNITIES, config, L2_A, L2_V6, PORTER, SEED, services } from './manifests.ts';

interface FrrPath {
  readonly nexthops?: readonly { readonly ip?: string; readonly afi?: string; readonly scope?: string }[];
  readonly locPrf?: number;
  readonly localpref?: number;
  readonly community?: { readonly string?: string };
  readonly valid?: boolean;
  readonly multipath?: boolean;
  readonly bestpath?: { readonly overall?: boolean };
}

async function frrPaths(lab: Lab, family: 'ipv4' | 'ipv6', prefix: string): Promise<readonly FrrPath[]> {
  const r = await lab.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ${family} unicast ${prefix} json`);
  return r.paths ?? [];
}

/** The global next hops of the router's paths for a prefix, sorted. */
async function nextHops(lab: Lab, family: 'ipv4' | 'ipv6', prefix: string): Promise<string[]> {
  const paths = await frrPaths(lab, family, prefix);
  return paths
    .map((p) => p.nexthops?.find((n) => n.scope !== 'link-local' && !(n.ip ?? '').startsWith('fe80'))?.ip ?? '?')
    .sort();
}

async function arping(lab: Lab, ip: string, count = 3): Promise<string[]> {
  const r = await lab.exec('client', ['arping', '-c', String(count), '-w', String(count + 1), '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

async function ndisc6(lab: Lab, ip: string): Promise<string[]> {
  const r = await lab.exec('client', ['ndisc6', '-m', '-n', '-r', '1', '-w', '1500', ip, 'eth1'], { check: false, timeoutMs: 20_000 });
  return ndisc6Replies(r.stdout);
}

async function neighMac(lab: Lab, ip: string): Promise<string | undefined> {
  const entries = await lab.neigh('client', { family: 4, dev: 'eth1' });
  return entries.find((e) => e.dst === ip)?.lladdr?.toLowerCase();
}

const HEALTH_PORT = 17480;

test('berth speaker from manifests: BGP with ECMP to FRR, L2 election, failover, withdrawal, IPv6, seeds', { timeout: 300_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bspk', nodes: 3, router: { asn: ASN, nodeAsn: ASN }, client: true }, async (lab) => {
      const byName = (name: string): LabHost => {
        const n = lab.nodes.find((x) => x.name === name);
        assert.ok(n, name);
        return n;
      };
      const names = lab.nodes.map((n) => n.name);
      const macOf = (name: string): string => byName(name).mac.toLowerCase();
      // The client reaches the L2 ranges on the link (it ARPs / solicits for them).
      await lab.exec('client', ['ip', 'route', 'add', '203.0.113.128/25', 'dev', 'eth1']);

      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n, n.name === 'node1' ? { annotations: { 'layer2.porter.kubesphere.io/v1alpha1': n.ipv4 } } : {})));
      dir.write('config.yaml', config());
      dir.write('services.yaml', services({ withB: true }));
      dir.write('slices.yaml', [sliceDoc('svc-local', ['node1', 'node3'])]);

      // svc-b has no IP in status: the speakers must announce the one `berth check` shows for it.
      const checked = checkSnapshot(loadManifests(dir.path).snapshot).report;
      assert.deepEqual(checked.problems, []);
      const BGP_B = checked.services.find((s) => s.name === 'svc-b')?.ips[0] ?? '';
      assert.match(BGP_B, /^203\.0\.113\.([0-9]|[1-5][0-9]|6[0-3])$/, 'svc-b allocated from bgp-pool 203.0.113.0/26');
      assert.ok(![BGP_A, BGP_LOCAL].includes(BGP_B));

      const speakers = new Map<string, SpeakerProcess>();
      // --health-port: /healthz, /readyz and /metrics, each node in its own namespace on the same port.
      for (const n of lab.nodes) speakers.set(n.name, new SpeakerProcess(lab, n, dir.path, ['--health-port', String(HEALTH_PORT)]));
      const speaker = (name: string): SpeakerProcess => {
        const s = speakers.get(name);
        assert.ok(s, name);
        return s;
      };
      const logs = async (): Promise<string> =>
        [...speakers.values()].map((s) => `--- ${s.node.name} (${s.running ? 'running' : 'exited'})\n${s.tail(25)}`).join('\n') +
        `\n--- FRR\n${await lab.vtysh('show bgp summary').catch((e: unknown) => String(e))}`;

      try {
        await t.test('each BGP VIP reaches FRR with the three nodes as next hops, LOCAL_PREF and communities', async () => {
          const all = lab.nodes.map((n) => n.ipv4).sort();
          for (const vip of [BGP_A, BGP_B]) {
            await waitFor(`${vip}/32 with three next hops`, 60_000, async () => ((await nextHops(lab, 'ipv4', `${vip}/32`)).join() === all.join() ? true : undefined), async () =>
              `paths: ${JSON.stringify(await frrPaths(lab, 'ipv4', `${vip}/32`))}\n${await logs()}`,
            );
            for (const p of await frrPaths(lab, 'ipv4', `${vip}/32`)) {
              assert.equal(p.locPrf ?? p.localpref, 150);
              assert.deepEqual((p.community?.string ?? '').split(' ').sort(), COMMUNITIES);
            }
          }
          // Nothing else: L2-only pools and the Porter Eip are not in BGP.
          const table = await lab.vtyshJson<{ routes?: Record<string, unknown> }>('show bgp ipv4 unicast json');
          assert.deepEqual(Object.keys(table.routes ?? {}).sort(), [`${BGP_B}/32`, `${BGP_A}/32`, `${BGP_LOCAL}/32`].sort());
        });

        await t.test('the router kernel has an ECMP route with the three nodes', async () => {
          const fib = await waitFor('ECMP route in the router FIB', 20_000, async () => {
            const r = (await lab.routes('router')).find((x) => x.dst === BGP_A);
            return r?.nexthops?.length === 3 ? r : undefined;
          });
          assert.deepEqual((fib.nexthops ?? []).map((h) => h.gateway).sort(), lab.nodes.map((n) => n.ipv4).sort());
        });

        await t.test('an IPv6 VIP over BGP (MP_REACH_NLRI) with the three nodes as next hops', async () => {
          const all = lab.nodes.map((n) => n.ipv6).sort();
          await waitFor(`${BGP_V6}/128 with three next hops`, 60_000, async () => ((await nextHops(lab, 'ipv6', `${BGP_V6}/128`)).join() === all.join() ? true : undefined), logs);
          const fib = await waitFor('IPv6 ECMP route in the router FIB', 20_000, async () => {
            const r = (await lab.routes('router', { family: 6 })).find((x) => x.dst === BGP_V6);
            return r?.nexthops?.length === 3 ? r : undefined;
          });
          assert.equal(fib.nexthops?.length, 3);
        });

        await t.test('externalTrafficPolicy Local: only nodes with a serving endpoint are next hops; none left = withdrawn', async () => {
          const ip = (n: string): string => byName(n).ipv4;
          await waitFor('next hops node1 and node3', 30_000, async () => ((await nextHops(lab, 'ipv4', `${BGP_LOCAL}/32`)).join() === [ip('node1'), ip('node3')].sort().join() ? true : undefined), logs);
          dir.write('slices.yaml', [sliceDoc('svc-local', ['node2', 'node3'], ['node3'])]);
          await waitFor('next hop node2 only', 30_000, async () => ((await nextHops(lab, 'ipv4', `${BGP_LOCAL}/32`)).join() === ip('node2') ? true : undefined), logs);
          dir.write('slices.yaml', [sliceDoc('svc-local', ['node2'], ['node2'])]);
          await waitFor(`${BGP_LOCAL}/32 withdrawn`, 30_000, async () => ((await frrPaths(lab, 'ipv4', `${BGP_LOCAL}/32`)).length === 0 ? true : undefined), logs);
        });

        const l2Owner = hashWinner(names, L2_A);
        await t.test('the L2 VIP is answered by exactly the elected node', async () => {
          const macs = await waitFor('ARP replies for the L2 VIP', 30_000, async () => {
            const m = await arping(lab, L2_A, 3);
            return m.length === 3 ? m : undefined;
          }, logs);
          assert.deepEqual(macs, [macOf(l2Owner), macOf(l2Owner), macOf(l2Owner)]);
        });

        await t.test('the IPv6 L2 VIP is answered over NDP by the node elected for it', async () => {
          const owner = hashWinner(names, L2_V6);
          const macs = await waitFor('an NDP answer', 30_000, async () => {
            const m = await ndisc6(lab, L2_V6);
            return m.length > 0 ? m : undefined;
          }, logs);
          // The owner may also be in its announcement burst (unsolicited NA to ff02::1): every
          // advertisement the client sees must come from the owner, and at least one does.
          assert.deepEqual([...new Set(macs)], [macOf(owner)]);
          assert.deepEqual([...new Set(await ndisc6(lab, L2_V6))], [macOf(owner)]);
        });

        await t.test('/metrics and /readyz on --health-port: sessions up, prefixes sent, the L2 owner counts its answers', async () => {
          const get = async (node: string, path: string): Promise<{ code: string; body: string }> => {
            const r = await lab.exec(node, ['curl', '-s', '-w', '\n%{http_code}', `http://127.0.0.1:${String(HEALTH_PORT)}${path}`], { check: false });
            const i = r.stdout.lastIndexOf('\n');
            return { body: r.stdout.slice(0, i), code: r.stdout.slice(i + 1) };
          };
          for (const n of names) {
            assert.equal((await get(n, '/readyz')).code, '200', `${n} ready`);
            const m = await get(n, '/metrics');
            assert.equal(m.code, '200');
            assert.match(m.body, /^berth_bgp_session_up\{peer="[^"]+"\} 1$/m, `${n}: a session up`);
            assert.match(m.body, /^berth_bgp_announced_prefixes\{peer="[^"]+"\} [1-9]\d*$/m, `${n}: prefixes sent`);
          }
          const owner = (await get(l2Owner, '/metrics')).body;
          const replies = Number(/^berth_l2_replies_total\{protocol="arp"\} (\d+)$/m.exec(owner)?.[1] ?? 'NaN');
          assert.ok(replies >= 3, `the owner counted its ARP replies: ${String(replies)}`);
          assert.ok(owner.includes(`berth_l2_vip_owned{vip="${L2_A}",interface="${byName(l2Owner).iface}"} 1`), owner);
          for (const n of names.filter((x) => x !== l2Owner)) assert.ok(!(await get(n, '/metrics')).body.includes(`vip="${L2_A}"`), `${n} does not own ${L2_A}`);
        });

        await t.test('Porter seed: layer2 Eip + annotated Service, answered by the elected node only', async () => {
          const owner = hashWinner(names, PORTER);
          const macs = await waitFor('ARP replies for the Porter VIP', 30_000, async () => {
            const m = await arping(lab, PORTER, 2);
            return m.length === 2 ? m : undefined;
          }, logs);
          assert.deepEqual(macs, [macOf(owner), macOf(owner)]);
        });

        await t.test('MetalLB L2 seed: nodeSelectors pin the announcement to node2', async () => {
          const macs = await waitFor('ARP replies for the MetalLB seed VIP', 30_000, async () => {
            const m = await arping(lab, SEED, 2);
            return m.length === 2 ? m : undefined;
          }, logs);
          assert.deepEqual(macs, [macOf('node2'), macOf('node2')]);
        });

        await t.test('an L2 loser that is still alive stops answering at once (MetalLB seed moved to node3)', async () => {
          const moved = config().map((d) => d.replace('kubernetes.io/hostname: node2', 'kubernetes.io/hostname: node3'));
          dir.write('config.yaml', moved);
          await waitFor('node3 answering for the seed VIP', 20_000, async () => ((await arping(lab, SEED, 1))[0] === macOf('node3') ? true : undefined), logs);
          assert.deepEqual(await arping(lab, SEED, 3), [macOf('node3'), macOf('node3'), macOf('node3')]);
          dir.write('config.yaml', config());
          await waitFor('node2 answering again', 20_000, async () => ((await arping(lab, SEED, 1))[0] === macOf('node2') ? true : undefined), logs);
        });

        await t.test('next hops follow the Node list: a dropped Node withdraws, a re-added one announces again', async () => {
          const all = lab.nodes.map((n) => n.ipv4).sort();
          dir.write('nodes.yaml', lab.nodes.filter((n) => n.name !== 'node3').map((n) => nodeDoc(n, n.name === 'node1' ? { annotations: { 'layer2.porter.kubesphere.io/v1alpha1': n.ipv4 } } : {})));
          await waitFor(`${BGP_A}/32 without node3`, 20_000, async () => ((await nextHops(lab, 'ipv4', `${BGP_A}/32`)).join() === all.filter((ip) => ip !== byName('node3').ipv4).join() ? true : undefined), logs);
          dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n, n.name === 'node1' ? { annotations: { 'layer2.porter.kubesphere.io/v1alpha1': n.ipv4 } } : {})));
          await waitFor(`${BGP_A}/32 with node3 again`, 20_000, async () => ((await nextHops(lab, 'ipv4', `${BGP_A}/32`)).join() === all.join() ? true : undefined), logs);
        });

        await t.test('removing a Service from the manifests withdraws its prefix', async () => {
          dir.write('services.yaml', services({ withB: false }));
          await waitFor(`${BGP_B}/32 withdrawn`, 30_000, async () => ((await frrPaths(lab, 'ipv4', `${BGP_B}/32`)).length === 0 ? true : undefined), logs);
          assert.equal((await nextHops(lab, 'ipv4', `${BGP_A}/32`)).length, 3);
          await waitFor(`${BGP_B} gone from the router FIB`, 20_000, async () => ((await lab.routes('router')).some((r) => r.dst === BGP_B) ? undefined : true));
        });

        await t.test('failover: owner stopped and marked NotReady; the new owner announces, the client entry switches without asking', async () => {
          // The client learns the owner's MAC for the VIP.
          await lab.exec('client', ['ping', '-c', '1', '-W', '1', L2_A], { check: false });
          await waitFor('a neighbour entry for the L2 VIP', 10_000, async () => ((await neighMac(lab, L2_A)) === macOf(l2Owner) ? true : undefined));
          const next = hashWinner(names.filter((n) => n !== l2Owner), L2_A);
          const old = speaker(l2Owner);
          assert.equal(await old.stop(), 0, `speaker on ${l2Owner} exits 0 on SIGTERM`);
          // Graceful: FRR got a Cease / Administrative Shutdown from the stopped node.
          const stoppedIP = byName(l2Owner).ipv4;
          const ceaseLine = await waitFor('the Cease NOTIFICATION in the FRR log', 10_000, async () => {
            const text = await readFile(lab.router?.logFile ?? '', 'utf8');
            return text.split('\n').find((l) => l.includes(stoppedIP) && /NOTIFICATION/i.test(l) && /6\/2|Administrative(ly)? Shutdown/i.test(l));
          });
          assert.match(ceaseLine, /received/i);
          // Its next hop goes at once.
          await waitFor(`${BGP_A}/32 down to two next hops`, 15_000, async () => ((await nextHops(lab, 'ipv4', `${BGP_A}/32`)).length === 2 ? true : undefined), logs);
          // The old owner no longer answers (stopped at once), nobody else does yet.
          assert.deepEqual(await arping(lab, L2_A, 1), []);
          dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n, { ready: n.name !== l2Owner })));
          // No traffic from the client: the neighbour entry changes from the new owner's announcements.
          await waitFor(`the client neighbour entry switching to ${next}`, 20_000, async () => ((await neighMac(lab, L2_A)) === macOf(next) ? true : undefined), logs);
          const macs = await arping(lab, L2_A, 2);
          assert.deepEqual(macs, [macOf(next), macOf(next)]);
        });
      } finally {
        for (const s of speakers.values()) if (s.running) await s.stop().catch(() => undefined);
        if (t.signal.aborted) process.stderr.write(await logs());
      }
      await sleep(0);
    });
  } finally {
    dir.remove();
  }
});
