// Hand-off before stop in Kubernetes mode (docs/handoff.md), frr-lab prefix `bk8sh`: two `berth speaker
// --node-name` processes in node namespaces against a real kube-apiserver (reached through a relay, as in
// test/k8s/liveness.test.ts), with liveness on, an FRR router peering with both (eBGP, ECMP) and a LAN
// client sending an ARP request for the layer 2 VIP every 10 ms. For each signal that takes a node out —
// `kubectl cordon`, `kubectl drain` (which cordons; the speaker DaemonSet's pods are not evicted), the
// node.kubernetes.io/out-of-service taint, the node.kubernetes.io/exclude-from-external-load-balancers
// label — applied to the layer 2 owner:
//   - the owner's plan names the reason (nodeCordoned, outOfService, nodeExcluded) for both modes;
//   - the other node announces the VIP, and the owner stops answering at that announcement (its log
//     names the other node's MAC): no probe lost, then exactly one MAC;
//   - the router has one next hop left for the BGP VIP, the owner's BGP session stays Established;
// and undoing it brings the VIP back the same way round.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { nodeDoc, serviceDoc, sliceDoc } from '../integration/speaker/harness.ts';
import { Recorder } from '../integration/liveness/recorder.ts';
import { electionHash } from '../../src/l2/election.ts';
import { startApiServer } from './harness/index.ts';
import { installCrds, repoRoot } from './helpers.ts';
import { eventually } from './berth-process.ts';
import { spawnNsRelay, unixToApi } from './api-relay.ts';
import { frrNextHops, frrSessionState, speakerMetric, stoppedAt } from '../integration/liveness/lab-views.ts';

const VIP = '203.0.113.140';
const BGP_VIP = '203.0.113.10';
const ROUTER_ASN = 64512;
const NODE_ASN = 64513;
const PORT = 17949;
const HEALTH = 17484;

const metric = (lab: Lab, node: LabHost, name: string): Promise<number> => speakerMetric(lab, node, HEALTH, name);
const nextHops = (lab: Lab): Promise<string[]> => frrNextHops(lab, `${BGP_VIP}/32`);
const sessionState = (lab: Lab, n: LabHost): Promise<string> => frrSessionState(lab, n.ipv4);

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: l2-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.128/26"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.0/27"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-adv, namespace: metallb-system}
spec: {ipAddressPools: [l2-pool], interfaces: [eth1]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-adv, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: ${NODE_ASN}, peerASN: ${ROUTER_ASN}, peerAddress: 192.0.2.1, holdTime: 90s}
`;

/** The speaker's JSON log lines (stderr). */
function lines(p: SpawnedProcess | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const l of (p?.output().stderr ?? '').split('\n')) {
    try {
      out.push(JSON.parse(l) as Record<string, unknown>);
    } catch {
      // not a log line
    }
  }
  return out;
}

interface Signal {
  readonly name: string;
  /** kubectl arguments that take the node out, and those that bring it back. */
  readonly apply: (node: string) => readonly string[];
  readonly undo: (node: string) => readonly string[];
  /** The reason the node's plan gives, for L2 and BGP. */
  readonly reason: string;
}

const SIGNALS: readonly Signal[] = [
  { name: 'kubectl cordon', apply: (n) => ['cordon', n], undo: (n) => ['uncordon', n], reason: 'nodeCordoned' },
  { name: 'kubectl drain', apply: (n) => ['drain', n, '--ignore-daemonsets', '--delete-emptydir-data', '--force', '--timeout=60s'], undo: (n) => ['uncordon', n], reason: 'nodeCordoned' },
  {
    name: 'the node.kubernetes.io/out-of-service taint',
    apply: (n) => ['taint', 'node', n, 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute'],
    undo: (n) => ['taint', 'node', n, 'node.kubernetes.io/out-of-service=nodeshutdown:NoExecute-'],
    reason: 'outOfService',
  },
  {
    name: 'the node.kubernetes.io/exclude-from-external-load-balancers label',
    apply: (n) => ['label', 'node', n, 'node.kubernetes.io/exclude-from-external-load-balancers=true'],
    undo: (n) => ['label', 'node', n, 'node.kubernetes.io/exclude-from-external-load-balancers-'],
    reason: 'nodeExcluded',
  },
];

test('hand-off (Kubernetes mode): cordon, drain, the out-of-service taint and the exclude label move the VIP with no probe lost and withdraw the node\'s BGP route', { timeout: 600_000 }, async (t) => {
  const k = await startApiServer();
  let relay: Server | undefined;
  try {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    await withLab({ prefix: 'bk8sh', nodes: 2, client: true, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN } }, async (lab) => {
      const client = lab.client;
      assert.ok(client);
      await lab.exec('client', ['ip', 'route', 'add', '203.0.113.128/26', 'dev', client.iface]);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      for (const n of lab.nodes) {
        await k.kubectlOk(['apply', '-f', '-'], { stdin: nodeDoc(n) });
        await k.kubectlOk(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: n.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
      }
      await k.kubectlOk(['apply', '-f', '-'], { stdin: CONFIG });
      const names = lab.nodes.map((n) => n.name);
      await k.kubectlOk(['apply', '-f', '-'], { stdin: [serviceDoc('web'), sliceDoc('web', names), serviceDoc('api'), sliceDoc('api', names)].join('\n---\n') });
      // The IPs as the controller would write them.
      await k.kubectlOk(['patch', 'service', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: VIP }] } } })]);
      await k.kubectlOk(['patch', 'service', 'api', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: BGP_VIP }] } } })]);
      const keyFile = join(lab.workDir, 'liveness-key');
      writeFileSync(keyFile, 'bk8sh-liveness-key-0123456789abcdef');

      const sock = join(k.dir, 'api.sock');
      relay = await unixToApi(sock, k.port);
      const relays = new Map<string, SpawnedProcess>(lab.nodes.map((n) => [n.name, spawnNsRelay(lab, n, k.port, sock)]));
      const speakers = new Map<string, SpawnedProcess>();
      const [ownerName = '', nextName = ''] = [...names].sort((a, b) => Buffer.compare(electionHash(a, VIP), electionHash(b, VIP)));
      const owner = lab.nodes.find((n) => n.name === ownerName)!;
      const next = lab.nodes.find((n) => n.name === nextName)!;
      const mac = (n: LabHost): string => n.mac.toLowerCase();
      const figures: Record<string, string> = {};
      try {
        for (const n of lab.nodes) {
          await eventually(`the relay in ${n.name}`, async () => ((await lab.exec(n, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes('127.0.0.1') ? true : undefined), 10_000, 100);
          speakers.set(
            n.name,
            lab.spawn(n, ['/usr/bin/env', `BERTH_RESTART_STATE=${join(lab.workDir, `${n.name}-restart.json`)}`, process.execPath, join(repoRoot, 'bin/berth.mjs'), 'speaker', '--node-name', n.name, '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', String(HEALTH), '--l2-threads', '0', '--liveness-secret-file', keyFile, '--liveness-port', String(PORT)], { cwd: repoRoot }),
          );
        }
        const tail = (n: LabHost): Promise<string> => Promise.resolve(`${n.name}:\n${(speakers.get(n.name)?.output().stderr ?? '').slice(-4000)}`);
        const rec = new Recorder(lab, client, VIP, undefined, 10);
        await eventually(`${ownerName} answering`, async () => (rec.seen.some((s) => s.mac === mac(owner)) ? true : undefined), 60_000, 100).catch(async (e: unknown) => {
          throw new Error(`${String(e)}\n${await tail(owner)}`);
        });
        for (const n of lab.nodes) await eventually(`${n.name} hearing the other speaker`, async () => ((await metric(lab, n, 'berth_liveness_member_up')) === 1 ? true : undefined), 20_000, 200);
        await eventually('2 next hops for the BGP VIP', async () => ((await nextHops(lab)).length === 2 ? true : undefined), 60_000, 250);
        assert.deepEqual(await rec.onlyOne(mac(owner), rec.mark), [mac(owner)]);

        /** `from` moves the VIP to `to`: `to` announces, `from` stops at that announcement, no probe lost. */
        const moved = async (what: string, from: LabHost, to: LabHost, kubectl: readonly string[]): Promise<void> => {
          const m = rec.mark;
          const logFrom = lines(speakers.get(from.name)).length;
          const t0 = Date.now();
          await k.kubectlOk(kubectl);
          const first = await rec.from(mac(to), m, `${to.name} announcing (${what})`);
          await eventually(`${from.name} stopping at ${to.name}'s announcement (${what})`, async () => lines(speakers.get(from.name)).slice(logFrom).find((l) => stoppedAt(l, mac(to))), 20_000, 100).catch(async (e: unknown) => {
            throw new Error(`${String(e)}\n${await tail(from)}`);
          });
          assert.deepEqual(await rec.onlyOne(mac(to), rec.mark), [mac(to)], what);
          const lost = rec.lost(m);
          assert.deepEqual(lost.lost, [], `${what}: requests ${lost.first}..${lost.last} all answered`);
          figures[what] = `first frame from ${to.name} ${first.wall - t0} ms after kubectl, ${lost.last - lost.first + 1} probes, ${lost.lost.length} lost`;
        };

        for (const s of SIGNALS) {
          await t.test(s.name, async () => {
            const logFrom = lines(speakers.get(ownerName)).length;
            await moved(s.name, owner, next, s.apply(ownerName));
            // The plan says why, for both modes.
            const state = await eventually(`${ownerName} naming the reason`, async () => lines(speakers.get(ownerName)).slice(logFrom).find((l) => l['msg'] === 'service announcement state' && l['vip'] === BGP_VIP && l['bgp'] === s.reason), 20_000, 100);
            assert.equal(state['bgp'], s.reason);
            assert.ok(lines(speakers.get(ownerName)).slice(logFrom).some((l) => l['msg'] === 'service announcement state' && l['vip'] === VIP && l['l2'] === s.reason), `L2 reason ${s.reason}`);
            // BGP: the node's route withdrawn, its session kept.
            const hops = await eventually(`${ownerName}'s BGP route withdrawn`, async () => {
              const h = await nextHops(lab);
              return h.length === 1 ? h : undefined;
            }, 20_000, 250);
            assert.deepEqual(hops, [next.ipv4]);
            assert.equal(await sessionState(lab, owner), 'Established');
            await moved(`undo ${s.name}`, next, owner, s.undo(ownerName));
            await eventually('2 next hops again', async () => ((await nextHops(lab)).length === 2 ? true : undefined), 20_000, 250);
          });
        }
        t.diagnostic(`figures: ${JSON.stringify(figures)}`);
        process.stderr.write(`bk8sh figures: ${JSON.stringify(figures, null, 1)}\n`);
      } finally {
        for (const s of speakers.values()) await s.kill(3000);
        for (const r of relays.values()) await r.kill(1000);
      }
    });
  } finally {
    relay?.close();
    await k.stop();
  }
});
