// Timers are never starved (issue "Scale"), Kubernetes mode: `berth speaker --node-name` watches, plans
// and writes status on its planner thread, so a plan that takes longer than the hold time cannot stop
// the keepalives. The real API server (test/k8s/harness), the speaker in a node namespace of frr-lab
// (prefix bkst; the API relay of api-relay.ts), iBGP to the FRR router with a 3 s hold time (keepalives
// every second); the speaker is told to stall 5 s before every plan after the first
// (BERTH_PLAN_STALL_MS, the same stand-in for a slow plan as test/integration/speaker/stall.test.ts).
// A speaker that planned on the thread that sends keepalives would be silent for 5 s and FRR would
// reset the session (RFC 4271 §6.5: hold timer expired). No controller: the test writes the Service
// status IPs itself, as the controller would.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { withLab, type Lab } from '../../frr-lab/lab.ts';
import { nodeDoc, serviceDoc, sliceDoc } from '../integration/speaker/harness.ts';
import { startApiServer } from './harness/index.ts';
import { installCrds, repoRoot } from './helpers.ts';
import { eventually } from './berth-process.ts';
import { spawnNsRelay, unixToApi } from './api-relay.ts';

const ASN = 64512;
const STALL_MS = 5000;

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.0/26"]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: ${String(ASN)}, peerASN: ${String(ASN)}, peerAddress: 192.0.2.1, holdTime: 3s}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-adv, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool]}
`;

interface Neighbor {
  readonly bgpState?: string;
  readonly connectionsEstablished?: number;
  readonly connectionsDropped?: number;
  readonly bgpTimerHoldTimeMsecs?: number;
  readonly messageStats?: { readonly keepalivesRecv?: number };
}

async function neighbor(lab: Lab, peer: string): Promise<Neighbor | undefined> {
  return (await lab.vtyshJson<Record<string, Neighbor>>(`show bgp neighbor ${peer} json`))[peer];
}

async function hasRoute(lab: Lab, prefix: string): Promise<boolean> {
  const r = await lab.vtyshJson<{ paths?: readonly { valid?: boolean }[] }>(`show bgp ipv4 unicast ${prefix} json`);
  return (r.paths ?? []).some((p) => p.valid === true);
}

test('Kubernetes mode: a plan that takes longer than the hold time: the session stays up, keepalives keep coming', { timeout: 300_000 }, async () => {
  const k = await startApiServer();
  let relay: Server | undefined;
  try {
    await installCrds(k);
    for (const ns of ['berth-system', 'metallb-system']) await k.kubectlOk(['create', 'namespace', ns]);
    await withLab({ prefix: 'bkst', nodes: 1, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      const node = lab.nodes[0];
      assert.ok(node !== undefined);
      await k.kubectlOk(['apply', '-f', '-'], { stdin: nodeDoc(node) });
      await k.kubectlOk(['patch', 'node', node.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: node.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } })]);
      await k.kubectlOk(['apply', '-f', '-'], { stdin: CONFIG });
      // A Service with its status IP written as the controller would, and an endpoint on node1.
      const addService = async (name: string, ip: string): Promise<void> => {
        await k.kubectlOk(['apply', '-f', '-'], { stdin: [serviceDoc(name), sliceDoc(name, [node.name])].join('\n---\n') });
        await k.kubectlOk(['patch', 'service', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } })]);
      };
      await addService('svc-a', '203.0.113.10');

      const sock = join(k.dir, 'api.sock');
      relay = await unixToApi(sock, k.port);
      const nsRelay = spawnNsRelay(lab, node, k.port, sock);
      await eventually('the in-namespace relay listens', async () => ((await lab.exec(node, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes(`127.0.0.1:${String(k.port)}`) ? true : undefined), 10_000, 100);
      const speaker = lab.spawn(node, ['/usr/bin/env', `BERTH_PLAN_STALL_MS=${String(STALL_MS)}`, `BERTH_RESTART_STATE=${join(lab.workDir, 'node1-restart.json')}`, process.execPath, join(repoRoot, 'bin/berth.mjs'), 'speaker', '--node-name', node.name, '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', '0', '--log-level', 'info'], { cwd: repoRoot });
      const log = (): string => speaker.output().stderr.slice(-4000);
      const count = (msg: string): number => speaker.output().stderr.split(`"msg":"${msg}"`).length - 1;
      try {
        await eventually('the first VIP at the router', async () => ((await hasRoute(lab, '203.0.113.10/32')) ? true : undefined), 60_000, 250).catch((e: unknown) => {
          throw new Error(`${String(e)}\nspeaker log:\n${log()}`);
        });
        const before = await neighbor(lab, node.ipv4);
        assert.equal(before?.bgpState, 'Established');
        assert.equal(before?.bgpTimerHoldTimeMsecs, 3000, 'the negotiated hold time is 3 s');
        // The informers' initial events may already have caused a stalled plan after the first one.
        const stallsBefore = count('planner: stall over');
        const established = before?.connectionsEstablished ?? 0;
        const keepalives = before?.messageStats?.keepalivesRecv ?? 0;

        // A second Service: each plan it causes stalls 5 s on the planner thread before it is applied.
        await addService('svc-b', '203.0.113.11');
        await eventually('the planner stalled again and came back', async () => (count('planner: stall over') > stallsBefore ? true : undefined), 60_000, 250).catch((e: unknown) => {
          throw new Error(`${String(e)}\nspeaker log:\n${log()}`);
        });
        await eventually('the second VIP at the router', async () => ((await hasRoute(lab, '203.0.113.11/32')) ? true : undefined), 60_000, 250);

        const after = await neighbor(lab, node.ipv4);
        assert.equal(after?.bgpState, 'Established');
        assert.equal(after?.connectionsEstablished, established, 'the session was never re-established');
        assert.equal(after?.connectionsDropped ?? 0, before?.connectionsDropped ?? 0, 'FRR never dropped the session');
        // At least the 5 s of one stall's keepalives (one a second) arrived.
        const during = (after?.messageStats?.keepalivesRecv ?? 0) - keepalives;
        assert.ok(during >= 4, `keepalives during the stall: ${String(during)}`);
        assert.ok(count('planner: stalling on purpose before this plan') >= 1);
        assert.equal(await hasRoute(lab, '203.0.113.10/32'), true, 'the first VIP stayed');
      } finally {
        speaker.child.kill('SIGTERM');
        await speaker.kill(5000);
        await nsRelay.kill(1000);
      }
    });
  } finally {
    relay?.close();
    await k.stop();
  }
});
