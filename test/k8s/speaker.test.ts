// `berth speaker --node-name node1` (Kubernetes mode) against the real API server, in a node namespace
// of frr-lab (prefix bk8s), announcing through BGP to FRR and answering ARP for the LAN client, with the
// IPs allocated by `berth controller` (root namespace), and a BFD session (BFDProfile) FRR sees Up.
//
// How the speaker in the node namespace reaches the API server (which listens on 127.0.0.1 of the root
// namespace): a two-hop byte relay through a Unix socket, because Unix sockets in the file system are
// not network-namespaced. In the root namespace the test relays <dir>/api.sock -> 127.0.0.1:PORT; in
// node1's namespace a small relay process listens on 127.0.0.1:PORT (that namespace's loopback) and
// relays to the socket. The kubeconfig therefore works unchanged (https://127.0.0.1:PORT, the serving
// certificate's 127.0.0.1 SAN, TLS end to end), and the speaker's engines are bound in the node
// namespace as in production (hostNetwork). Killing the in-namespace relay makes the API server
// unreachable for the speaker only: it must keep announcing and withdraw nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { join } from 'node:path';
import { withLab, type Lab, type LabHost } from '../../frr-lab/lab.ts';
import { procNetCounter } from '../integration/common.ts';
import { arpingReplies, nodeDoc, serviceDoc, sliceDoc } from '../integration/speaker/harness.ts';
import { startApiServer, type ApiServer } from './harness/index.ts';
import { field, getJson, installCrds, isObject, repoRoot, type Json, type JsonObject } from './helpers.ts';
import { eventually, startController, type BerthProcess } from './berth-process.ts';
import { spawnNsRelay, unixToApi } from './api-relay.ts';

const ASN = 64512;

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: bgp-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.0/26"]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: l2-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.128/27"]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: router, namespace: metallb-system}
spec: {myASN: ${String(ASN)}, peerASN: ${String(ASN)}, peerAddress: 192.0.2.1, holdTime: 9s, bfdProfile: fast}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: fast, namespace: metallb-system}
spec: {receiveInterval: 200, transmitInterval: 200}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp-adv, namespace: metallb-system}
spec: {ipAddressPools: [bgp-pool]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-adv, namespace: metallb-system}
spec: {ipAddressPools: [l2-pool], interfaces: [eth1]}
`;

async function waitRelay(lab: Lab, node: LabHost, port: number): Promise<void> {
  await eventually('the in-namespace relay listens', async () => {
    const r = await lab.exec(node, ['ss', '-ltnH', `sport = :${String(port)}`], { check: false });
    return r.stdout.includes(`127.0.0.1:${String(port)}`) ? true : undefined;
  }, 10_000, 100);
}

async function bgpNextHops(lab: Lab, prefix: string): Promise<string[]> {
  const r = await lab.vtyshJson<{ paths?: readonly { nexthops?: readonly { ip?: string }[] }[] }>(`show bgp ipv4 unicast ${prefix} json`);
  return (r.paths ?? []).map((p) => p.nexthops?.[0]?.ip ?? '?').sort();
}

/** Tcp AttemptFails of a node's network namespace (/proc/net/snmp is per namespace): refused connects. */
async function attemptFails(lab: Lab, node: LabHost): Promise<number> {
  return procNetCounter((await lab.exec(node, ['cat', '/proc/net/snmp'])).stdout, 'Tcp', 'AttemptFails');
}

async function arping(lab: Lab, ip: string): Promise<string[]> {
  const r = await lab.exec('client', ['arping', '-c', '2', '-w', '3', '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

function ingressIP(s: JsonObject): string | undefined {
  const list = field(s, 'status', 'loadBalancer', 'ingress');
  return Array.isArray(list) && list.length > 0 ? String(field(list[0] as Json, 'ip')) : undefined;
}

async function items(k: ApiServer, args: readonly string[]): Promise<JsonObject[]> {
  const list = await getJson(k, args);
  return ((list['items'] ?? []) as readonly Json[]).filter(isObject);
}

test('berth speaker (Kubernetes mode) in a node namespace: BGP to FRR, ARP, status objects, Events; keeps announcing while the API server is unreachable', { timeout: 300_000 }, async () => {
  const k = await startApiServer();
  let ctl: BerthProcess | undefined;
  let relay: Server | undefined;
  try {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    await withLab({ prefix: 'bk8s', nodes: 1, router: { asn: ASN, nodeAsn: ASN, bfd: true }, client: true }, async (lab) => {
      const node1 = lab.nodes[0];
      assert.ok(node1 !== undefined);
      await lab.exec('client', ['ip', 'route', 'add', '203.0.113.128/25', 'dev', 'eth1']);
      // Node: created, then its status (addresses, Ready) through the status subresource, as a kubelet would.
      await k.kubectlOk(['apply', '-f', '-'], { stdin: nodeDoc(node1) });
      await k.kubectlOk(['patch', 'node', 'node1', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: node1.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } })]);
      await k.kubectlOk(['apply', '-f', '-'], { stdin: CONFIG });
      await k.kubectlOk(['apply', '-f', '-'], {
        stdin: [
          serviceDoc('svc-bgp', { annotations: { 'metallb.io/address-pool': 'bgp-pool' } }),
          serviceDoc('svc-l2', { annotations: { 'metallb.io/address-pool': 'l2-pool' } }),
          sliceDoc('svc-bgp', ['node1']),
          sliceDoc('svc-l2', ['node1']),
        ].join('\n---\n'),
      });
      ctl = startController(k, ['--identity', 'ctl-speaker-test']);
      const bgpIP = await eventually('svc-bgp has an IP', async () => ingressIP(await getJson(k, ['service', 'svc-bgp'])));
      const l2IP = await eventually('svc-l2 has an IP', async () => ingressIP(await getJson(k, ['service', 'svc-l2'])));
      assert.match(bgpIP, /^203\.0\.113\.([0-9]|[1-5][0-9]|6[0-3])$/);
      assert.match(l2IP, /^203\.0\.113\.(12[89]|1[3-5][0-9])$/);

      const sock = join(k.dir, 'api.sock');
      relay = await unixToApi(sock, k.port);
      let nsRelay = spawnNsRelay(lab, node1, k.port, sock);
      await waitRelay(lab, node1, k.port);
      const speaker = lab.spawn(node1, ['/usr/bin/env', `BERTH_RESTART_STATE=${join(lab.workDir, 'node1-restart.json')}`, process.execPath, join(repoRoot, 'bin/berth.mjs'), 'speaker', '--node-name', 'node1', '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', '0', '--log-level', 'debug'], { cwd: repoRoot });
      const log = (): string => speaker.output().stderr.slice(-4000);
      try {
        // BGP: FRR learns the VIP with node1 as next hop.
        await eventually('FRR has svc-bgp from node1', async () => ((await bgpNextHops(lab, `${bgpIP}/32`)).join() === node1.ipv4 ? true : undefined), 60_000, 500).catch((e: unknown) => {
          throw new Error(`${String(e)}\nspeaker log:\n${log()}`);
        });
        // BFD (docs/bfd.md): the BGPPeer's bfdProfile runs a BFD session FRR's bfdd sees Up.
        await eventually('FRR: BFD peer node1 up with the BFDProfile intervals', async () => {
          const peers = await lab.vtyshJson<readonly { peer?: string; status?: string; 'remote-receive-interval'?: number }[]>('show bfd peers json');
          const p = peers.find((x) => x.peer === node1.ipv4);
          return p?.status === 'up' && p['remote-receive-interval'] === 200 ? true : undefined;
        }, 30_000, 500);
        // L2: node1 answers ARP for svc-l2's VIP.
        const macs = await eventually('ARP answer for svc-l2', async () => {
          const m = await arping(lab, l2IP);
          return m.length > 0 ? m : undefined;
        }, 30_000, 500);
        assert.ok(macs.every((m) => m === node1.mac.toLowerCase()), `replies from node1 only: ${macs.join()}`);

        // Status objects.
        const l2s = await eventually('ServiceL2Status for svc-l2', async () => {
          const all = await items(k, ['servicel2statuses', '-n', 'berth-system']);
          return all.length === 1 ? all : undefined;
        });
        assert.deepEqual(field(l2s[0], 'status'), { node: 'node1', serviceName: 'svc-l2', serviceNamespace: 'default', interfaces: [{ name: 'eth1' }] });
        assert.equal(field(l2s[0], 'metadata', 'labels', 'metallb.io/node'), 'node1');
        assert.match(String(field(l2s[0], 'metadata', 'name')), /^l2-/);
        const bgps = await eventually('ServiceBGPStatus for svc-bgp', async () => {
          const all = await items(k, ['servicebgpstatuses', '-n', 'berth-system']);
          return all.length === 1 ? all : undefined;
        });
        assert.deepEqual(field(bgps[0], 'status'), { node: 'node1', serviceName: 'svc-bgp', serviceNamespace: 'default', peers: ['router'] });
        // nodeAssigned Events (MetalLB controller/service.go Service events).
        for (const [svc, proto] of [['svc-bgp', 'bgp'], ['svc-l2', 'layer2']] as const) {
          await eventually(`nodeAssigned on ${svc}`, async () => {
            const evs = await items(k, ['events', '--field-selector', `involvedObject.name=${svc},reason=nodeAssigned`]);
            return evs.some((e) => e['message'] === `announcing from node "node1" with protocol "${proto}"` && field(e, 'source', 'component') === 'berth-speaker') ? true : undefined;
          });
        }
        const cs = await eventually('ConfigurationState speaker-node1', async () => {
          const c = await getJson(k, ['configurationstate', 'speaker-node1', '-n', 'berth-system']);
          return field(c, 'status', 'result') === 'Valid' ? c : undefined;
        });
        assert.equal(field(cs, 'metadata', 'labels', 'metallb.io/component-type'), 'speaker');

        // The API server becomes unreachable for the speaker: it keeps announcing, withdraws nothing.
        await nsRelay.kill(1000);
        await k.kubectlOk(['delete', 'service', 'svc-bgp']); // a change the speaker cannot see
        // Positive signal instead of a pause: the speaker noticed, then kept trying to reconnect and was
        // refused several times (each refused connect in node1's namespace counts in Tcp AttemptFails,
        // /proc/net/snmp), so whatever it does about an unreachable API server has been done by now.
        await eventually('the speaker noticed', async () => (/list\/watch failed|cannot|ECONNREFUSED/.test(log()) ? true : undefined), 30_000, 500);
        const refused = await attemptFails(lab, node1);
        await eventually('the speaker retried and was refused three more times', async () => ((await attemptFails(lab, node1)) >= refused + 3 ? true : undefined), 60_000, 200);
        assert.deepEqual(await bgpNextHops(lab, `${bgpIP}/32`), [node1.ipv4], 'route still announced while the API server is unreachable');
        assert.ok((await arping(lab, l2IP)).length > 0, 'ARP still answered while the API server is unreachable');
        assert.equal(speaker.child.exitCode, null, 'the speaker keeps running');

        // Reachable again: it catches up, and the deleted Service's route is withdrawn.
        nsRelay = spawnNsRelay(lab, node1, k.port, sock);
        await waitRelay(lab, node1, k.port);
        await eventually('svc-bgp withdrawn after reconnecting', async () => ((await bgpNextHops(lab, `${bgpIP}/32`)).length === 0 ? true : undefined), 60_000, 500).catch((e: unknown) => {
          throw new Error(`${String(e)}\nspeaker log:\n${log()}`);
        });
        await eventually('its ServiceBGPStatus deleted', async () => ((await items(k, ['servicebgpstatuses', '-n', 'berth-system'])).length === 0 ? true : undefined));
        assert.ok((await arping(lab, l2IP)).length > 0, 'svc-l2 still answered');
      } finally {
        speaker.child.kill('SIGTERM');
        await speaker.kill(5000);
        await nsRelay.kill(1000);
      }
    });
  } finally {
    relay?.close();
    await ctl?.stop();
    await k.stop();
  }
});
