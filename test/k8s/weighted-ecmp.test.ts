// Weighted ECMP by local endpoints in Kubernetes mode (docs/steering.md): `berth controller` allocates the
// VIP, two `berth speaker --node-name` processes in frr-lab node namespaces (prefix bkwe) read the Service
// and its EndpointSlice from the real API server and announce the VIP to an eBGP FRR router that does
// multipath. test/integration/speaker/weighted-ecmp.test.ts proves the same rule in manifest mode, with
// traffic; here the input is the API server's watch, so an EndpointSlice update (pods scaled) must
// re-weight the routes without a session reset.
// The speakers reach the API server through the relay of test/k8s/api-relay.ts (one in-namespace relay
// per node, one Unix socket in the root namespace).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { withLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { nodeDoc, serviceDoc, sliceDoc } from '../integration/speaker/harness.ts';
import { startApiServer } from './harness/index.ts';
import { field, getJson, installCrds, repoRoot, type Json, type JsonObject } from './helpers.ts';
import { eventually, startController, type BerthProcess } from './berth-process.ts';
import { spawnNsRelay, unixToApi } from './api-relay.ts';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.48/28"]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, holdTime: 9s}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: adv, namespace: metallb-system}
spec: {ipAddressPools: [pool]}
`;

function ingressIP(s: JsonObject): string | undefined {
  const list = field(s, 'status', 'loadBalancer', 'ingress');
  return Array.isArray(list) && list.length > 0 ? String(field(list[0] as Json, 'ip')) : undefined;
}

/** Link bandwidth per next hop as FRR shows it (`LB:64513:125000 (1.000 Mbps)` -> `LB:64513:125000`). */
async function frrBandwidths(lab: Lab, prefix: string): Promise<Record<string, string>> {
  const r = await lab.vtyshJson<{ paths?: readonly { nexthops?: readonly { ip?: string }[]; extendedCommunity?: { string?: string } }[] }>(`show bgp ipv4 unicast ${prefix} json`);
  const out: Record<string, string> = {};
  for (const p of r.paths ?? []) out[p.nexthops?.[0]?.ip ?? '?'] = (p.extendedCommunity?.string ?? '').replace(/\s*\(.*\)$/, '');
  return out;
}

/** The router's kernel route for the VIP: gateway -> weight. */
async function fibWeights(lab: Lab, prefix: string): Promise<Record<string, number>> {
  const routes = JSON.parse((await lab.exec('router', ['ip', '-j', 'route', 'show', prefix])).stdout) as { gateway?: string; nexthops?: { gateway?: string; weight?: number }[] }[];
  const out: Record<string, number> = {};
  for (const r of routes) {
    if (r.nexthops !== undefined) for (const h of r.nexthops) out[h.gateway ?? '?'] = h.weight ?? 1;
    else if (r.gateway !== undefined) out[r.gateway] = 1;
  }
  return out;
}

async function connectionsEstablished(lab: Lab): Promise<Record<string, number>> {
  const s = await lab.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { state?: string; connectionsEstablished?: number }> } }>('show bgp summary json');
  const out: Record<string, number> = {};
  for (const [ip, p] of Object.entries(s.ipv4Unicast?.peers ?? {})) out[ip] = p.state === 'Established' ? (p.connectionsEstablished ?? -1) : 0;
  return out;
}

test('weighted ECMP in Kubernetes mode: link bandwidth follows the EndpointSlice, FRR weights 1:3, scaling re-weights without a reset', { timeout: 300_000 }, async (t) => {
  const k = await startApiServer();
  let ctl: BerthProcess | undefined;
  let relay: Server | undefined;
  try {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    await withLab({ prefix: 'bkwe', nodes: 2, router: { asn: 64512, nodeAsn: 64513 } }, async (lab) => {
      const [n1, n2] = lab.nodes;
      assert.ok(n1 !== undefined && n2 !== undefined);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      for (const n of [n1, n2]) {
        await k.kubectlOk(['apply', '-f', '-'], { stdin: nodeDoc(n) });
        await k.kubectlOk(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: n.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
      }
      await k.kubectlOk(['apply', '-f', '-'], { stdin: CONFIG });
      await k.kubectlOk(['apply', '-f', '-'], {
        stdin: [serviceDoc('web', { local: true, annotations: { 'berth.io/weighted-ecmp': 'local-endpoints' } }), sliceDoc('web', [n1.name, n2.name, n2.name, n2.name])].join('\n---\n'),
      });
      ctl = startController(k, ['--identity', 'ctl-weighted-ecmp']);
      const vip = await eventually('web has an IP', async () => ingressIP(await getJson(k, ['service', 'web'])));
      const prefix = `${vip}/32`;

      const sock = join(k.dir, 'api.sock');
      relay = await unixToApi(sock, k.port);
      const processes: SpawnedProcess[] = [];
      const speakers = new Map<LabHost, SpawnedProcess>();
      for (const n of [n1, n2]) {
        processes.push(spawnNsRelay(lab, n, k.port, sock));
        await eventually(`${n.name}'s relay listens`, async () => ((await lab.exec(n, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes('127.0.0.1') ? true : undefined), 10_000, 100);
        const s = lab.spawn(n, [process.execPath, join(repoRoot, 'bin/berth.mjs'), 'speaker', '--node-name', n.name, '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', '0'], { cwd: repoRoot });
        speakers.set(n, s);
        processes.push(s);
      }
      const logs = async (): Promise<string> =>
        [...speakers].map(([n, s]) => `--- ${n.name}\n${s.output().stderr.slice(-3000)}`).join('\n') + `\n--- FRR\n${await lab.vtysh([`show bgp ipv4 unicast ${prefix}`, `show ip route ${prefix}`]).catch((e: unknown) => String(e))}`;
      const within = async <T>(what: string, probe: () => Promise<T | undefined>): Promise<T> =>
        eventually(what, probe, 60_000, 300).catch(async (e: unknown) => {
          throw new Error(`${String(e)}\n${await logs()}`);
        });
      try {
        await t.test('FRR has both nodes\' routes with link bandwidth 1 and 3 Mbit/s (1 and 3 ready local endpoints)', async () => {
          const bw = await within('two paths with link bandwidth', async () => {
            const b = await frrBandwidths(lab, prefix);
            return Object.keys(b).length === 2 && Object.values(b).every((v) => v.startsWith('LB:')) ? b : undefined;
          });
          assert.deepEqual(bw, { [n1.ipv4]: 'LB:64513:125000', [n2.ipv4]: 'LB:64513:375000' });
        });

        await t.test('the router\'s kernel FIB weights the next hops 1:3', async (tt) => {
          const w = await within('weighted multipath route', async () => {
            const f = await fibWeights(lab, prefix);
            return Object.keys(f).length === 2 && (f[n2.ipv4] ?? 0) > (f[n1.ipv4] ?? 0) ? f : undefined;
          });
          tt.diagnostic(`FIB weights ${JSON.stringify(w)}`);
          assert.equal(w[n2.ipv4], 3 * (w[n1.ipv4] ?? 0), `weights ${JSON.stringify(w)}: expected node2 = 3 x node1`);
        });

        await t.test('an EndpointSlice update (3:1, one not ready on node1) re-weights the routes without resetting a session', async () => {
          const before = await connectionsEstablished(lab);
          assert.ok((before[n1.ipv4] ?? 0) > 0 && (before[n2.ipv4] ?? 0) > 0, `both sessions Established: ${JSON.stringify(before)}`);
          // node1: three ready endpoints and a fourth not ready (not counted); node2: one.
          const endpoints = [n1.name, n1.name, n1.name, n2.name, n1.name];
          const doc = sliceDoc('web', endpoints).replace(/("nodeName":"[^"]+","conditions":\{"ready":)true(\}\}\])$/m, '$1false$2');
          assert.ok(doc.includes('"ready":false'), 'the fifth endpoint is marked not ready');
          await k.kubectlOk(['apply', '-f', '-'], { stdin: doc });
          const bw = await within('bandwidths 3:1', async () => {
            const b = await frrBandwidths(lab, prefix);
            return b[n1.ipv4] === 'LB:64513:375000' && b[n2.ipv4] === 'LB:64513:125000' ? b : undefined;
          });
          assert.equal(Object.keys(bw).length, 2);
          const w = await within('FIB weights 3:1', async () => {
            const f = await fibWeights(lab, prefix);
            return f[n1.ipv4] !== undefined && f[n1.ipv4] === 3 * (f[n2.ipv4] ?? -1) ? f : undefined;
          });
          assert.ok((w[n2.ipv4] ?? 0) > 0);
          const after = await connectionsEstablished(lab);
          for (const n of [n1, n2]) assert.equal(after[n.ipv4], before[n.ipv4], `${n.name}'s session was not re-established (connectionsEstablished ${String(before[n.ipv4])} -> ${String(after[n.ipv4])})`);
        });

        await t.test('node2 loses its last endpoint: its route is withdrawn, node1 carries the VIP alone', async () => {
          await k.kubectlOk(['apply', '-f', '-'], { stdin: sliceDoc('web', [n1.name, n1.name]) });
          const bw = await within('only node1 announces', async () => {
            const b = await frrBandwidths(lab, prefix);
            return Object.keys(b).length === 1 ? b : undefined;
          });
          assert.deepEqual(bw, { [n1.ipv4]: 'LB:64513:250000' });
        });
      } finally {
        for (const p of processes.reverse()) await p.kill(5000);
      }
    });
  } finally {
    relay?.close();
    await ctl?.stop();
    await k.stop();
  }
});
