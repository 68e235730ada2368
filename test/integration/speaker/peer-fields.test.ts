// End to end, BGPPeer fields (and BGPAdvertisement nodeSelectors / peers) through `berth speaker
// --manifests` (three node namespaces of frr-lab, prefix bspg2) against two FRR routers on the LAN,
// asserting what they received (`show bgp ipv4|ipv6 unicast json`, `show bgp neighbors json`) and,
// for LOCAL_PREF, the UPDATEs on the wire (tcpdump on each router's LAN side):
//
//   router  FRR AS 64512, `remote-as internal` (dynamic neighbours), timers 60 180 so the nodes' hold
//           time wins the negotiation
//     rtr   v1beta2, myASN 64512, dynamicASN internal, holdTime 30s, keepaliveTime 2s, every node
//     rtr6  v1beta1, myASN 64512, peerASN 64512 over IPv6, holdTime 15s, legacy nodeSelectors
//           (matchExpressions hostname In [node2, node3])
//   edge    FRR AS 64600 on the client host, `remote-as external`
//     edge  v1beta2, myASN 64513, dynamicASN external, nodeSelectors: node1 only
//
//   main-pool  203.0.113.0/26, 2001:db8:f00::/120  main-adv: LOCAL_PREF 150, nodeSelectors node1+node2
//   edge-pool  203.0.113.64/26                      edge-adv: peers [edge]
import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { routerConfig, withLab, type Capture, type Lab, type FrrInstance } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ROUTER_ASN = 64512;
const EDGE_ASN = 64600;
const NODE_EBGP_ASN = 64513;
const VIP_MAIN = '203.0.113.10';
const VIP_MAIN6 = '2001:db8:f00::10';
const VIP_EDGE = '203.0.113.70';

interface FrrPath {
  readonly nexthops?: readonly { readonly ip?: string; readonly scope?: string }[];
  readonly locPrf?: number;
  readonly origin?: string;
  readonly aspath?: { readonly string?: string };
}

interface FrrNeighbor {
  readonly remoteAs?: number;
  readonly localAs?: number;
  readonly bgpState?: string;
  readonly bgpTimerHoldTimeMsecs?: number;
  readonly nbrInternalLink?: boolean;
  readonly nbrExternalLink?: boolean;
  readonly messageStats?: { readonly keepalivesRecv?: number; readonly keepalivesSent?: number };
}

type Vtysh = Pick<FrrInstance, 'vtyshJson' | 'vtysh'>;

async function frrPaths(frr: Vtysh, family: 'ipv4' | 'ipv6', prefix: string): Promise<readonly FrrPath[]> {
  const r = await frr.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ${family} unicast ${prefix} json`);
  return r.paths ?? [];
}

async function nextHops(frr: Vtysh, family: 'ipv4' | 'ipv6', prefix: string): Promise<string[]> {
  return (await frrPaths(frr, family, prefix)).map((p) => p.nexthops?.find((n) => n.scope !== 'link-local' && !(n.ip ?? '').startsWith('fe80'))?.ip ?? '?').sort();
}

async function tableKeys(frr: Vtysh, family: 'ipv4' | 'ipv6'): Promise<string[]> {
  const t = await frr.vtyshJson<{ routes?: Record<string, unknown> }>(`show bgp ${family} unicast json`);
  return Object.keys(t.routes ?? {}).sort();
}

async function neighbors(frr: Vtysh): Promise<Record<string, FrrNeighbor>> {
  return frr.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
}

const established = (ns: Record<string, FrrNeighbor>): string[] =>
  Object.entries(ns)
    .filter(([, n]) => n.bgpState === 'Established')
    .map(([a]) => a)
    .sort();

function edgeConfig(): string {
  return [
    'frr defaults datacenter',
    'hostname edge',
    '!',
    `router bgp ${EDGE_ASN}`,
    ' bgp router-id 192.0.2.100',
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' neighbor NODES peer-group',
    ' neighbor NODES remote-as external',
    ' neighbor NODES timers 60 180',
    ' bgp listen range 192.0.2.0/24 peer-group NODES',
    ' !',
    ' address-family ipv4 unicast',
    '  neighbor NODES activate',
    '  maximum-paths 64',
    ' exit-address-family',
    'exit',
    '!',
    'end',
    '',
  ].join('\n');
}

function config(edge: { node: string; dynamicASN: 'internal' | 'external' } = { node: 'node1', dynamicASN: 'external' }): string[] {
  return [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: main-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/26", "2001:db8:f00::/120"]}',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: edge-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.64/26"]}',
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: rtr, namespace: metallb-system}\nspec: {myASN: ${ROUTER_ASN}, dynamicASN: internal, peerAddress: 192.0.2.1, holdTime: 30s, keepaliveTime: 2s}`,
    [
      'apiVersion: metallb.io/v1beta1',
      'kind: BGPPeer',
      'metadata: {name: rtr6, namespace: metallb-system}',
      `spec: {myASN: ${ROUTER_ASN}, peerASN: ${ROUTER_ASN}, peerAddress: "2001:db8:1::1", holdTime: 15s, keepaliveTime: 5s,`,
      '  nodeSelectors: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node2, node3]}]}]}',
    ].join('\n'),
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: edge, namespace: metallb-system}\nspec: {myASN: ${NODE_EBGP_ASN}, dynamicASN: ${edge.dynamicASN}, peerAddress: 192.0.2.100, holdTime: 9s, nodeSelectors: [{matchLabels: {kubernetes.io/hostname: ${edge.node}}}]}`,
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: main-adv, namespace: metallb-system}\nspec: {ipAddressPools: [main-pool], localPref: 150, nodeSelectors: [{matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [node1, node2]}]}]}',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: edge-adv, namespace: metallb-system}\nspec: {ipAddressPools: [edge-pool], peers: [edge]}',
  ];
}

/** tcpdump -vvv text of a capture, one string per packet (a packet starts at a line without indentation). */
async function packets(lab: Lab, cap: Capture): Promise<string[]> {
  const r = await lab.exec('client', ['tcpdump', '-r', cap.file, '-n', '-vvv'], { check: false, timeoutMs: 20_000 });
  const out: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (/^\S/.test(line)) out.push(line);
    else if (out.length > 0) out[out.length - 1] += `\n${line}`;
  }
  return out;
}

/** UPDATE packets that announce `prefix` (tcpdump prints "Updated routes:" then one prefix per line). */
const updatesFor = (pkts: readonly string[], prefix: string): string[] => pkts.filter((p) => /Update Message/.test(p) && p.includes(prefix));

test('BGPPeer fields reach FRR: dynamicASN internal/external, peer and advertisement nodeSelectors, peers filter, timers, v1beta1, LOCAL_PREF iBGP only', { timeout: 180_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    const frrConfig = routerConfig({
      asn: ROUTER_ASN,
      routerId: '192.0.2.1',
      nodes: [],
      nodeAsn: 'internal',
      bfd: false,
      extraBgp: [' neighbor NODES timers 60 180', ' neighbor NODES6 timers 60 180'],
    });
    await withLab({ prefix: 'bspg2', nodes: 3, router: { asn: ROUTER_ASN, frrConfig }, client: true }, async (lab) => {
      const ip4 = (name: string): string => lab.nodes.find((n) => n.name === name)?.ipv4 ?? `?${name}`;
      const ip6 = (name: string): string => lab.nodes.find((n) => n.name === name)?.ipv6 ?? `?${name}`;
      const edge = await lab.startFrr('client', { config: edgeConfig(), name: 'bspg2-edge' });
      const capRouter = await lab.tcpdump('router', 'eth1', 'router-bgp.pcap', ['tcp', 'port', '179']);
      const capEdge = await lab.tcpdump('client', 'eth1', 'edge-bgp.pcap', ['tcp', 'port', '179']);

      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n)));
      dir.write('config.yaml', config());
      dir.write('services.yaml', [
        serviceDoc('svc-main', { statusIPs: [VIP_MAIN] }),
        serviceDoc('svc-main6', { statusIPs: [VIP_MAIN6], families: ['IPv6'] }),
        serviceDoc('svc-edge', { statusIPs: [VIP_EDGE] }),
      ]);
      const speakers = lab.nodes.map((n) => new SpeakerProcess(lab, n, dir.path));
      const speakerOf = (name: string): SpeakerProcess => {
        const s = speakers.find((x) => x.node.name === name);
        assert.ok(s !== undefined, `no speaker for ${name}`);
        return s;
      };
      /** Peer addresses a speaker logged as configured ("BGP: peer configured"), in order. */
      const configuredPeers = (s: SpeakerProcess): string[] => s.lines.filter((l) => l['msg'] === 'BGP: peer configured').map((l) => String(l['address']));
      const logs = async (): Promise<string> =>
        speakers.map((s) => `--- ${s.node.name} (${s.running ? 'running' : 'exited'})\n${s.tail(25)}`).join('\n') +
        `\n--- router\n${await lab.vtysh(['show bgp summary', 'show bgp ipv4 unicast', 'show bgp ipv6 unicast']).catch((e: unknown) => String(e))}` +
        `\n--- edge\n${await edge.vtysh(['show bgp summary', 'show bgp ipv4 unicast']).catch((e: unknown) => String(e))}`;

      try {
        await t.test('dynamicASN internal: every node peers with the iBGP router; v1beta1 IPv6 peer only on node2 and node3', async () => {
          const v4 = [ip4('node1'), ip4('node2'), ip4('node3')].sort();
          const v6 = [ip6('node2'), ip6('node3')].sort();
          const want = [...v4, ...v6].sort();
          const ns = await waitFor('router sessions', 60_000, async () => {
            const n = await neighbors(lab);
            return established(n).join() === want.join() ? n : undefined;
          }, logs);
          for (const a of want) {
            assert.equal(ns[a]?.remoteAs, ROUTER_ASN, `${a} presents AS ${ROUTER_ASN}`);
            assert.equal(ns[a]?.nbrInternalLink, true, `${a} is iBGP`);
          }
          // Nothing from node1 over IPv6, ever: the v1beta1 peer's legacy matchExpressions exclude it. Positive
          // signal: node1 has configured its peers (one log line per peer, all from the same plan), and the
          // IPv6 router is not among them.
          const node1 = speakerOf('node1');
          const node1Peers = await waitFor('node1 configured its IPv4 peer', 30_000, async () => {
            const lines = configuredPeers(node1);
            return lines.includes('192.0.2.1') ? lines : undefined;
          }, logs);
          assert.ok(!node1Peers.some((a) => a.includes(':')), `node1 configured an IPv6 peer: ${node1Peers.join(', ')}`);
          assert.equal(Object.keys(await neighbors(lab)).includes(ip6('node1')), false);
        });

        await t.test('dynamicASN external + peer nodeSelectors: only node1 peers with the edge router, as AS 64513', async () => {
          const ns = await waitFor('edge session from node1', 60_000, async () => {
            const n = await neighbors(edge);
            return established(n).join() === ip4('node1') ? n : undefined;
          }, logs);
          assert.equal(ns[ip4('node1')]?.remoteAs, NODE_EBGP_ASN);
          assert.equal(ns[ip4('node1')]?.nbrExternalLink, true);
          assert.equal(ns[ip4('node1')]?.bgpTimerHoldTimeMsecs, 9_000, 'holdTime 9s of the edge peer (the edge router offers 180 s)');
          // node2 and node3 have configured their router peer, and the edge router is not among their peers.
          for (const n of ['node2', 'node3']) {
            const peers = await waitFor(`${n} configured its router peer`, 30_000, async () => {
              const lines = configuredPeers(speakerOf(n));
              return lines.includes('192.0.2.1') ? lines : undefined;
            }, logs);
            assert.ok(!peers.includes('192.0.2.100'), `${n} configured the edge router: ${peers.join(', ')}`);
          }
          assert.deepEqual(Object.keys(await neighbors(edge)).sort(), [ip4('node1')], 'node2 and node3 never connect to the edge router');
        });

        await t.test('holdTime as negotiated: 30 s (v1beta2 rtr) and 15 s (v1beta1 rtr6); keepaliveTime 2 s on the wire', async () => {
          const ns = await neighbors(lab);
          for (const n of ['node1', 'node2', 'node3']) assert.equal(ns[ip4(n)]?.bgpTimerHoldTimeMsecs, 30_000, `hold time of ${n} toward rtr`);
          for (const n of ['node2', 'node3']) assert.equal(ns[ip6(n)]?.bgpTimerHoldTimeMsecs, 15_000, `hold time of ${n} toward rtr6`);
          // keepaliveTime 2s on the wire, measured against FRR's own clock rather than a pause: between two
          // KEEPALIVEs FRR sends node1 (every 10 s: the negotiated hold 30 s / 3, RFC 4271 §10), berth sends
          // about 5; a speaker ignoring the field (hold/3 = 10 s too) sends 1 or 2.
          const stats = async () => (await neighbors(lab))[ip4('node1')]?.messageStats ?? {};
          const nextSent = (after: number) => async () => {
            const s = await stats();
            return (s.keepalivesSent ?? 0) > after ? s : undefined;
          };
          const first = await waitFor('FRR sending node1 a KEEPALIVE', 60_000, nextSent((await stats()).keepalivesSent ?? 0), logs);
          const second = await waitFor('FRR sending node1 its next KEEPALIVE', 60_000, nextSent(first.keepalivesSent ?? 0), logs);
          const got = (second.keepalivesRecv ?? 0) - (first.keepalivesRecv ?? 0);
          assert.ok(got >= 3, `KEEPALIVEs from node1 between two of FRR's: ${got}, want >= 3 with keepaliveTime 2s`);
          assert.ok(got <= 8, `KEEPALIVEs from node1 between two of FRR's: ${got}, want <= 8 with keepaliveTime 2s`);
        });

        await t.test('BGPAdvertisement nodeSelectors: only node1 and node2 are next hops at the router (IPv6: node2, the only selected node with an IPv6 session)', async () => {
          const want = [ip4('node1'), ip4('node2')].sort();
          await waitFor(`${VIP_MAIN}/32 via node1 and node2`, 60_000, async () => ((await nextHops(lab, 'ipv4', `${VIP_MAIN}/32`)).join() === want.join() ? true : undefined), logs);
          await waitFor(`${VIP_MAIN6}/128 via node2`, 60_000, async () => ((await nextHops(lab, 'ipv6', `${VIP_MAIN6}/128`)).join() === ip6('node2') ? true : undefined), logs);
          // Positive signal: node3 logged its decision for the main VIP, and it is "not announced by BGP".
          const node3 = await waitFor('node3 decided on the main VIP', 30_000, async () =>
            speakerOf('node3').lines.find((l) => l['msg'] === 'service announcement state' && String(l['vip']).split(',').includes(VIP_MAIN)), logs);
          assert.notEqual(node3['bgp'], 'announced', `node3: ${JSON.stringify(node3)}`);
          assert.deepEqual(await nextHops(lab, 'ipv4', `${VIP_MAIN}/32`), want, 'node3 never announces');
          assert.deepEqual(await tableKeys(lab, 'ipv4'), [`${VIP_MAIN}/32`], `the router does not get ${VIP_EDGE} (edge-adv is for peer edge only)`);
          assert.deepEqual(await tableKeys(lab, 'ipv6'), [`${VIP_MAIN6}/128`]);
          for (const p of await frrPaths(lab, 'ipv4', `${VIP_MAIN}/32`)) {
            assert.equal(p.locPrf, 150, 'LOCAL_PREF on iBGP');
            assert.equal(p.origin, 'IGP');
            assert.equal(p.aspath?.string, 'Local', 'empty AS_PATH on iBGP (FRR prints it as "Local")');
          }
        });

        await t.test('BGPAdvertisement peers: the edge router alone gets edge-pool; it gets main-pool from node1 with AS_PATH 64513', async () => {
          await waitFor('both prefixes at the edge router', 60_000, async () => ((await tableKeys(edge, 'ipv4')).join() === [`${VIP_MAIN}/32`, `${VIP_EDGE}/32`].sort().join() ? true : undefined), logs);
          for (const prefix of [`${VIP_MAIN}/32`, `${VIP_EDGE}/32`]) {
            assert.deepEqual(await nextHops(edge, 'ipv4', prefix), [ip4('node1')]);
            for (const p of await frrPaths(edge, 'ipv4', prefix)) {
              assert.equal(p.aspath?.string, String(NODE_EBGP_ASN));
              assert.equal(p.origin, 'IGP');
            }
          }
        });

        await t.test('LOCAL_PREF is sent on iBGP and absent toward eBGP (UPDATEs on the wire)', async () => {
          await capRouter.stop();
          await capEdge.stop();
          const toRouter = updatesFor(await packets(lab, capRouter), `${VIP_MAIN}/32`).filter((p) => p.includes(`${ip4('node1')}.`) && p.includes('> 192.0.2.1.179'));
          const toEdge = updatesFor(await packets(lab, capEdge), `${VIP_MAIN}/32`).filter((p) => p.includes('> 192.0.2.100.179'));
          assert.ok(toRouter.length > 0, 'an UPDATE for the main VIP from node1 to the router was captured');
          assert.ok(toEdge.length > 0, 'an UPDATE for the main VIP from node1 to the edge router was captured');
          for (const p of toRouter) assert.match(p, /Local Preference \(5\), length: 4, Flags \[T\]: 150\n/, `iBGP UPDATE without LOCAL_PREF 150:\n${p}`);
          for (const p of toEdge) assert.doesNotMatch(p, /Local Preference/, `eBGP UPDATE carries LOCAL_PREF:\n${p}`);
        });

        await t.test('peer nodeSelectors changed at run time: the edge session moves from node1 to node2, the routes follow', async () => {
          dir.write('config.yaml', config({ node: 'node2', dynamicASN: 'external' }));
          await waitFor('edge session from node2 only', 30_000, async () => {
            const n = await neighbors(edge);
            return established(n).join() === ip4('node2') && n[ip4('node1')] === undefined ? true : undefined;
          }, logs);
          for (const prefix of [`${VIP_MAIN}/32`, `${VIP_EDGE}/32`]) {
            await waitFor(`${prefix} via node2 at the edge`, 30_000, async () => ((await nextHops(edge, 'ipv4', prefix)).join() === ip4('node2') ? true : undefined), logs);
          }
          // The router's sessions are untouched by the edge peer's change.
          assert.deepEqual(await nextHops(lab, 'ipv4', `${VIP_MAIN}/32`), [ip4('node1'), ip4('node2')].sort());
        });

        await t.test('dynamicASN internal toward an eBGP router: node2 refuses the OPEN (Bad Peer AS), no session, no routes', async () => {
          const logFile = edge.logFile;
          const since = speakerOf('node2').lines.length;
          dir.write('config.yaml', config({ node: 'node2', dynamicASN: 'internal' }));
          const line = await waitFor('a Bad Peer AS NOTIFICATION from node2 in the edge FRR log', 30_000, async () => {
            const text = await readFile(logFile, 'utf8');
            return text.split('\n').find((l) => l.includes(ip4('node2')) && /NOTIFICATION/i.test(l) && /2\/2|Bad Peer AS/i.test(l) && /received/i.test(l));
          }, async () => `${(await readFile(logFile, 'utf8')).split('\n').slice(-30).join('\n')}\n${await logs()}`);
          assert.ok(line.length > 0);
          // The refusal was observed (above); since the change node2 never reported the edge session established.
          assert.ok(!speakerOf('node2').lines.slice(since).some((l) => l['msg'] === 'BGP session established, table sent' && l['peer'] === 'edge'), 'node2 established with the edge router');
          assert.deepEqual(established(await neighbors(edge)), [], 'no session with the wrong AS kind');
          assert.deepEqual(await tableKeys(edge, 'ipv4'), []);
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
