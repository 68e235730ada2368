// OpenELB dialect end to end (frr-lab prefix bspko): BgpConf `default` (AS, a routerId, listenPort
// 1790), a BgpPeer that is passive (transport.passiveMode) with a TCP MD5 password, a bgp Eip and an
// OpenELB-annotated Service. The FRR router dials each node on port 1790 with MD5; every node
// announces the Eip VIP with itself as next hop (eBGP ECMP), and each presents its own BGP Identifier
// although BgpConf names one (OpenELB's shared-routerId defect avoided).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type LabHost } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, SpeakerProcess, waitFor } from './harness.ts';

const VIP = '203.0.113.50';
const PASSWORD = 'berth-md5';
const PORT = 1790;

function routerConfig(nodes: readonly LabHost[]): string {
  return [
    'frr defaults datacenter',
    'hostname bspko-router',
    '!',
    'ip forwarding',
    '!',
    'router bgp 64512',
    ' bgp router-id 192.0.2.1',
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    ...nodes.flatMap((n) => [` neighbor ${n.ipv4} remote-as 64513`, ` neighbor ${n.ipv4} port ${PORT}`, ` neighbor ${n.ipv4} password ${PASSWORD}`, ` neighbor ${n.ipv4} timers connect 2`]),
    ' address-family ipv4 unicast',
    ...nodes.map((n) => `  neighbor ${n.ipv4} activate`),
    '  maximum-paths 64',
    ' exit-address-family',
    'exit',
    'end',
    '',
  ].join('\n');
}

const manifests = [
  'apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpConf\nmetadata: {name: default}\nspec: {as: 64513, routerId: 192.0.2.250, listenPort: 1790}',
  `apiVersion: network.kubesphere.io/v1alpha2\nkind: BgpPeer\nmetadata: {name: tor}\nspec:\n  conf: {peerAs: 64512, neighborAddress: 192.0.2.1, authPassword: ${PASSWORD}}\n  transport: {passiveMode: true}`,
  'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: eip-bgp}\nspec: {address: 203.0.113.50-203.0.113.60, protocol: bgp}',
  'apiVersion: v1\nkind: Service\nmetadata:\n  name: openelb-svc\n  namespace: default\n  annotations: {lb.kubesphere.io/v1alpha1: openelb, eip.openelb.kubesphere.io/v1alpha2: eip-bgp}\nspec: {type: LoadBalancer, ports: [{port: 80}], selector: {app: web}}',
];

interface FrrNeighbor {
  readonly bgpState?: string;
  readonly remoteRouterId?: string;
  readonly hostLocal?: string;
  readonly portLocal?: number;
  readonly portForeign?: number;
}

test('OpenELB BGP: passive peer on BgpConf listenPort with TCP MD5, per-node router ids, ECMP', { timeout: 240_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bspko', nodes: 2, router: { asn: 64512, frrConfig: '' } }, async (lab) => {
      await lab.router?.reload(routerConfig(lab.nodes));
      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n)));
      dir.write('openelb.yaml', manifests);
      const speakers = lab.nodes.map((n) => new SpeakerProcess(lab, n, dir.path));
      const logs = async (): Promise<string> =>
        `${speakers.map((s) => `--- ${s.node.name}\n${s.tail(20)}`).join('\n')}\n--- FRR\n${await lab.vtysh('show bgp summary').catch((e: unknown) => String(e))}`;
      try {
        await t.test('the router reaches both nodes on port 1790 with MD5; each node has its own identifier', async () => {
          const neighbors = await waitFor('both sessions Established', 60_000, async () => {
            const all = await lab.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
            return lab.nodes.every((n) => all[n.ipv4]?.bgpState === 'Established') ? all : undefined;
          }, logs);
          assert.deepEqual(lab.nodes.map((n) => neighbors[n.ipv4]?.remoteRouterId), lab.nodes.map((n) => n.ipv4));
          // The router dialled the nodes: the nodes' side of the TCP connection is port 1790.
          assert.deepEqual(lab.nodes.map((n) => neighbors[n.ipv4]?.portForeign), lab.nodes.map(() => PORT));
        });

        await t.test('the Eip VIP has both nodes as next hops (eBGP, AS_PATH 64513)', async () => {
          const want = lab.nodes.map((n) => n.ipv4).sort().join();
          const paths = await waitFor(`${VIP}/32 from both nodes`, 30_000, async () => {
            const r = await lab.vtyshJson<{ paths?: { nexthops?: { ip?: string }[]; aspath?: { string?: string } }[] }>(`show bgp ipv4 unicast ${VIP}/32 json`);
            const hops = (r.paths ?? []).map((p) => p.nexthops?.[0]?.ip ?? '?').sort().join();
            return hops === want ? r.paths : undefined;
          }, logs);
          for (const p of paths ?? []) assert.equal(p.aspath?.string, '64513');
        });

        await t.test('a wrong MD5 password on the router side: no session', async () => {
          const wrong = routerConfig(lab.nodes).replaceAll(`password ${PASSWORD}`, 'password not-the-one');
          await lab.router?.reload(wrong);
          await lab.vtysh(['clear bgp *']).catch(() => '');
          await waitFor('sessions down with the wrong key', 30_000, async () => {
            const all = await lab.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
            return lab.nodes.every((n) => all[n.ipv4]?.bgpState !== 'Established') ? true : undefined;
          }, logs);
          await lab.router?.reload(routerConfig(lab.nodes));
          await waitFor('sessions back with the right key', 60_000, async () => {
            const all = await lab.vtyshJson<Record<string, FrrNeighbor>>('show bgp neighbors json');
            return lab.nodes.every((n) => all[n.ipv4]?.bgpState === 'Established') ? true : undefined;
          }, logs);
        });
      } finally {
        for (const s of speakers) if (s.running) await s.stop().catch(() => undefined);
      }
    });
  } finally {
    dir.remove();
  }
});
