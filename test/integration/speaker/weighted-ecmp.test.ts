// Weighted ECMP by local endpoints, end to end (docs/steering.md): three `berth speaker --manifests`
// processes in frr-lab node namespaces (prefix bwec), an eBGP FRR router doing multipath, an outside
// client behind it. A Service with externalTrafficPolicy Local and `berth.io/weighted-ecmp:
// local-endpoints` has 1 serving endpoint on node1, 3 on node2, none on node3:
//   - FRR receives each node's route with the RFC 10005 link bandwidth community (1 Mbit/s per endpoint),
//   - zebra installs the two next hops with weights in the ratio 1:3 in the router's kernel FIB,
//   - 1,000 TCP connections from the outside client (L4 multipath hash) land 1:3 on the nodes' backends,
//   - scaling the pods (2:2:1) changes the weights, with no session reset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const VIP = '203.0.113.40';
const PREFIX = `${VIP}/32`;
const PORT = 8080;
const REQUESTS = 1000;

interface FrrPath {
  readonly nexthops?: readonly { readonly ip?: string }[];
  readonly extendedCommunity?: { readonly string?: string };
}

/** Endpoints per node, as one EndpointSlice. */
function slice(counts: Readonly<Record<string, number>>): string {
  const endpoints = Object.entries(counts).flatMap(([node, n]) => Array.from({ length: n }, () => ({ node })));
  return [
    'apiVersion: discovery.k8s.io/v1',
    'kind: EndpointSlice',
    'metadata: {name: web-1, namespace: default, labels: {kubernetes.io/service-name: web}}',
    'addressType: IPv4',
    `endpoints: ${JSON.stringify(endpoints.map((e, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: e.node, conditions: { ready: true } })))}`,
    `ports: [{port: ${PORT}, protocol: TCP}]`,
  ].join('\n');
}

const config = [
  'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.32/28"]}',
  'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 9s}',
  'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: adv, namespace: metallb-system}\nspec: {ipAddressPools: [pool]}',
];

/** The router's kernel route for the VIP: gateway -> weight (iproute2 prints weight for multipath hops). */
async function fibWeights(lab: Lab): Promise<Record<string, number>> {
  const routes = JSON.parse((await lab.exec('router', ['ip', '-j', 'route', 'show', PREFIX])).stdout) as { gateway?: string; nexthops?: { gateway?: string; weight?: number }[] }[];
  const out: Record<string, number> = {};
  for (const r of routes) {
    if (r.nexthops !== undefined) for (const h of r.nexthops) out[h.gateway ?? '?'] = h.weight ?? 1;
    else if (r.gateway !== undefined) out[r.gateway] = 1;
  }
  return out;
}

/** Link bandwidth per next hop as FRR shows it (`LB:64513:125000 (1.000 Mbps)`). */
async function frrBandwidths(lab: Lab): Promise<Record<string, string>> {
  const r = await lab.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ipv4 unicast ${PREFIX} json`);
  const out: Record<string, string> = {};
  for (const p of r.paths ?? []) out[p.nexthops?.[0]?.ip ?? '?'] = (p.extendedCommunity?.string ?? '').replace(/\s*\(.*\)$/, '');
  return out;
}

/** A backend on a node: the VIP on lo, a TCP server answering the node's name. */
function backend(lab: Lab, n: LabHost): void {
  const js = `require('node:net').createServer((s) => s.end(${JSON.stringify(n.name)})).listen(${PORT}, ${JSON.stringify(VIP)}, () => console.log('listening'));`;
  lab.spawn(n, [process.execPath, '-e', js]);
}

/** REQUESTS fresh TCP connections from the outside client; the answers counted by node. */
async function spread(lab: Lab): Promise<Record<string, number>> {
  const js = [
    "const net = require('node:net'); const counts = {};",
    `let left = ${REQUESTS}; const one = () => new Promise((res) => { const s = net.connect(${PORT}, ${JSON.stringify(VIP)}); let b = ''; s.on('data', (d) => (b += d)); s.on('close', () => { counts[b || 'none'] = (counts[b || 'none'] || 0) + 1; res(); }); s.on('error', () => {}); s.setTimeout(3000, () => s.destroy()); });`,
    '(async () => { const workers = Array.from({ length: 20 }, async () => { while (left-- > 0) await one(); }); await Promise.all(workers); console.log(JSON.stringify(counts)); })();',
  ].join('\n');
  const r = await lab.exec('externalClient', [process.execPath, '-e', js], { timeoutMs: 60_000 });
  return JSON.parse(r.stdout) as Record<string, number>;
}

async function establishedCount(lab: Lab): Promise<Record<string, number>> {
  const s = await lab.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { state?: string; connectionsEstablished?: number }> } }>('show bgp summary json');
  const out: Record<string, number> = {};
  for (const [ip, p] of Object.entries(s.ipv4Unicast?.peers ?? {})) out[ip] = p.state === 'Established' ? (p.connectionsEstablished ?? -1) : 0;
  return out;
}

test('weighted ECMP: FRR weights the nodes by their serving endpoints, traffic follows, scaling re-weights without a reset', { timeout: 240_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bwec', nodes: 3, router: { asn: 64512, nodeAsn: 64513 }, externalClient: true }, async (lab) => {
      const [n1, n2, n3] = lab.nodes;
      assert.ok(n1 !== undefined && n2 !== undefined && n3 !== undefined);
      for (const n of lab.nodes) {
        await lab.exec(n, ['ip', 'addr', 'add', `${VIP}/32`, 'dev', 'lo']);
        backend(lab, n);
      }
      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n)));
      dir.write('config.yaml', config);
      const svc = serviceDoc('web', { statusIPs: [VIP], local: true, annotations: { 'berth.io/weighted-ecmp': 'local-endpoints' } });
      dir.write('services.yaml', [svc, slice({ [n1.name]: 1, [n2.name]: 3 })]);
      const speakers = lab.nodes.map((n) => new SpeakerProcess(lab, n, dir.path));
      const logs = async (): Promise<string> =>
        speakers.map((s) => `--- ${s.node.name}\n${s.tail(15)}`).join('\n') + `\n--- FRR\n${await lab.vtysh([`show bgp ipv4 unicast ${PREFIX}`, `show ip route ${PREFIX}`]).catch((e: unknown) => String(e))}`;
      try {
        await t.test('FRR has each node\'s route with its link bandwidth: 1 and 3 Mbit/s; node3 (no endpoint) announces nothing', async () => {
          const bw = await waitFor('two paths with link bandwidth', 60_000, async () => {
            const b = await frrBandwidths(lab);
            return Object.keys(b).length === 2 && Object.values(b).every((v) => v.startsWith('LB:')) ? b : undefined;
          }, logs);
          assert.deepEqual(bw, { [n1.ipv4]: 'LB:64513:125000', [n2.ipv4]: 'LB:64513:375000' });
        });

        await t.test('the router\'s kernel FIB weights the two next hops 1:3', async (tt) => {
          const w = await waitFor('weighted multipath route', 30_000, async () => {
            const f = await fibWeights(lab);
            return Object.keys(f).length === 2 ? f : undefined;
          }, logs);
          tt.diagnostic(`FIB weights ${JSON.stringify(w)}`);
          const a = w[n1.ipv4] ?? 0;
          const b = w[n2.ipv4] ?? 0;
          assert.ok(a > 0 && b === 3 * a, `weights ${JSON.stringify(w)}: expected node2 = 3 x node1`);
        });

        await t.test(`${REQUESTS} connections from outside split about 1:3 (node1 250 +/- 80), none to node3`, async (tt) => {
          const counts = await spread(lab);
          tt.diagnostic(`answers ${JSON.stringify(counts)}`);
          assert.equal((counts[n1.name] ?? 0) + (counts[n2.name] ?? 0), REQUESTS, `every connection answered by node1 or node2: ${JSON.stringify(counts)}`);
          const one = counts[n1.name] ?? 0;
          assert.ok(one >= 170 && one <= 330, `node1 got ${one} of ${REQUESTS} (expected ~250): ${JSON.stringify(counts)}`);
        });

        await t.test('scaling the pods to 2:2:1 re-weights the routes (40:40:20) without resetting any session', async () => {
          const before = await establishedCount(lab);
          dir.write('services.yaml', [svc, slice({ [n1.name]: 2, [n2.name]: 2, [n3.name]: 1 })]);
          const w = await waitFor('three weighted next hops', 60_000, async () => {
            const f = await fibWeights(lab);
            return Object.keys(f).length === 3 && f[n1.ipv4] === f[n2.ipv4] && (f[n1.ipv4] ?? 0) === 2 * (f[n3.ipv4] ?? -1) ? f : undefined;
          }, logs);
          assert.ok((w[n3.ipv4] ?? 0) > 0);
          assert.deepEqual(await frrBandwidths(lab), { [n1.ipv4]: 'LB:64513:250000', [n2.ipv4]: 'LB:64513:250000', [n3.ipv4]: 'LB:64513:125000' });
          const after = await establishedCount(lab);
          for (const n of [n1, n2, n3]) assert.equal(after[n.ipv4], before[n.ipv4], `${n.name}'s session was not re-established (connectionsEstablished ${String(before[n.ipv4])} -> ${String(after[n.ipv4])})`);
        });
      } finally {
        for (const s of speakers) await s.stop();
      }
    });
  } finally {
    dir.remove();
  }
});
