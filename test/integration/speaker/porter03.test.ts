// Porter 0.3 in layer 2 (issue 11, item 3): a network.kubesphere.io/v1alpha1 Eip has no `interface`
// field, and Porter 0.3 found the NIC itself. `berth speaker --manifests` in one frr-lab node namespace
// (prefix bp03, no router) with a LAN client: the node's InternalIP is deliberately held by no interface,
// so only the Eip-subnet rule can pick eth1; the client's arping gets the node's MAC, and the speaker's
// log names the NIC it chose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { arpingReplies, ManifestDir, SpeakerProcess, waitFor } from './harness.ts';

/** The Eip's first address: not .0/.255, so usingKnownIPs false (v1alpha1's default) keeps it. */
const VIP = '192.0.2.200';
/** A documentation address on no interface of the lab: the InternalIP fallback cannot resolve it. */
const NOWHERE = '198.51.100.77';

async function arping(lab: Lab, ip: string, count: number): Promise<string[]> {
  const r = await lab.exec('client', ['arping', '-c', String(count), '-w', String(count + 1), '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

test('Porter 0.3 v1alpha1 layer2 Eip without interface: the speaker answers on the NIC holding the Eip subnet', { timeout: 120_000 }, async () => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bp03', nodes: 1, client: true }, async (lab) => {
      const node = lab.nodes[0];
      assert.ok(node !== undefined);
      dir.write('all.yaml', [
        `apiVersion: v1\nkind: Node\nmetadata: {name: ${node.name}, labels: {kubernetes.io/hostname: ${node.name}}}\nstatus:\n  addresses: [{type: InternalIP, address: "${NOWHERE}"}]\n  conditions: [{type: Ready, status: "True"}]`,
        'apiVersion: network.kubesphere.io/v1alpha1\nkind: Eip\nmetadata: {name: porter03}\nspec: {address: 192.0.2.200-192.0.2.210, protocol: layer2}',
        'apiVersion: v1\nkind: Service\nmetadata:\n  name: mylbapp\n  namespace: default\n  annotations: {lb.kubesphere.io/v1alpha1: porter, protocol.porter.kubesphere.io/v1alpha1: layer2}\nspec: {type: LoadBalancer, ports: [{port: 8088}]}',
      ]);
      const speaker = new SpeakerProcess(lab, node, dir.path);
      try {
        const macs = await waitFor(`ARP replies for ${VIP}`, 30_000, async () => {
          const m = await arping(lab, VIP, 2);
          return m.length === 2 ? m : undefined;
        }, async () => speaker.tail(30));
        assert.deepEqual(macs, [node.mac.toLowerCase(), node.mac.toLowerCase()]);
        const chose = speaker.lines.find((l) => l['msg'] === 'L2: answering ARP/NDP for VIP' && l['vip'] === VIP);
        assert.equal(chose?.['iface'], node.iface, 'the log names the NIC picked by the Eip subnet');
        assert.equal(await speaker.stop(), 0);
      } finally {
        if (speaker.running) await speaker.stop().catch(() => undefined);
      }
    });
  } finally {
    dir.remove();
  }
});
