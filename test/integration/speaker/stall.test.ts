// Timers are never starved (issue "Scale"): `berth speaker --manifests` plans on its planner thread, so
// a plan that takes longer than the hold time cannot stop the keepalives. In one node namespace of
// frr-lab (prefix bspst), iBGP to the FRR router with a 3 s hold time (keepalives every 1 s); the
// speaker is told to stall 5 s before every plan after the first (BERTH_PLAN_STALL_MS). A speaker that
// planned on the thread that sends keepalives would be silent for 5 s and FRR would reset the session
// (RFC 4271 §6.5: hold timer expired).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ASN = 64512;
const STALL_MS = 5000;

interface Neighbor {
  readonly bgpState?: string;
  readonly connectionsEstablished?: number;
  readonly connectionsDropped?: number;
  readonly bgpTimerHoldTimeMsecs?: number;
  readonly messageStats?: { readonly keepalivesRecv?: number };
}

async function neighbor(lab: Lab, node: string): Promise<Neighbor | undefined> {
  const all = await lab.vtyshJson<Record<string, Neighbor>>(`show bgp neighbor ${node} json`);
  return all[node];
}

async function hasRoute(lab: Lab, prefix: string): Promise<boolean> {
  const r = await lab.vtyshJson<{ paths?: readonly { valid?: boolean }[] }>(`show bgp ipv4 unicast ${prefix} json`);
  return (r.paths ?? []).some((p) => p.valid === true);
}

test('a plan that takes longer than the hold time: the session stays up, keepalives keep coming', { timeout: 120_000 }, async () => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bspst', nodes: 1, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      const node = lab.nodes[0];
      assert.ok(node !== undefined);
      const config = [
        'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/26"]}',
        `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 3s}`,
        'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool]}',
        nodeDoc(node),
      ];
      dir.write('config.yaml', [...config, serviceDoc('svc-a', { statusIPs: ['203.0.113.10'] })]);
      const s = new SpeakerProcess(lab, node, dir.path, [], { BERTH_PLAN_STALL_MS: String(STALL_MS) });
      try {
        await waitFor('the first VIP at the router', 30_000, async () => ((await hasRoute(lab, '203.0.113.10/32')) ? true : undefined), async () => s.tail());
        const before = await neighbor(lab, node.ipv4);
        assert.equal(before?.bgpState, 'Established');
        assert.equal(before?.bgpTimerHoldTimeMsecs, 3000, 'the negotiated hold time is 3 s');
        const established = before?.connectionsEstablished ?? 0;
        const keepalives = before?.messageStats?.keepalivesRecv ?? 0;

        // A second Service: its plan stalls 5 s on the planner thread before it is applied.
        dir.write('config.yaml', [...config, serviceDoc('svc-a', { statusIPs: ['203.0.113.10'] }), serviceDoc('svc-b', { statusIPs: ['203.0.113.11'] })]);
        const stalled = (): boolean => s.lines.some((l) => l['msg'] === 'planner: stall over');
        await waitFor('the planner stalled and came back', 30_000, async () => (stalled() ? true : undefined), async () => s.tail());
        await waitFor('the second VIP at the router', 30_000, async () => ((await hasRoute(lab, '203.0.113.11/32')) ? true : undefined), async () => s.tail());
        assert.ok(s.lines.some((l) => l['msg'] === 'planner: stalling on purpose before this plan'));

        const after = await neighbor(lab, node.ipv4);
        assert.equal(after?.bgpState, 'Established');
        assert.equal(after?.connectionsEstablished, established, 'the session was never re-established');
        assert.equal(after?.connectionsDropped ?? 0, before?.connectionsDropped ?? 0, 'FRR never dropped the session');
        // At least the 5 s of the stall's keepalives (one a second) arrived.
        assert.ok((after?.messageStats?.keepalivesRecv ?? 0) - keepalives >= 4, `keepalives during the stall: ${(after?.messageStats?.keepalivesRecv ?? 0) - keepalives}`);
        assert.equal(await hasRoute(lab, '203.0.113.10/32'), true, 'the first VIP stayed');
      } finally {
        await s.stop().catch(() => undefined);
      }
    });
  } finally {
    dir.remove();
  }
});
