// The lab router's default configuration does what the BGP tests rely on: any node on the LAN can
// open a session (dynamic neighbours, IPv4 and IPv6), and a VIP announced by two nodes is installed
// in the router's kernel FIB with both as ECMP next hops. The nodes' speakers here are FRR instances
// of their own (lab.startFrr in the node namespaces), standing in for berth's speaker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type KernelRoute } from '../../../frr-lab/lab.ts';
import type { FrrInstance } from '../../../frr-lab/frr.ts';
import { waitFor } from '../common.ts';
import { existsSync } from 'node:fs';

function nodeConfig(ipv4: string): string {
  return [
    'frr defaults datacenter',
    'router bgp 64513',
    ` bgp router-id ${ipv4}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' neighbor 192.0.2.1 remote-as 64512',
    ' neighbor 2001:db8:1::1 remote-as 64512',
    ' address-family ipv4 unicast',
    '  network 203.0.113.10/32',
    '  no neighbor 2001:db8:1::1 activate',
    ' exit-address-family',
    ' address-family ipv6 unicast',
    '  network 2001:db8:f00::10/128',
    '  neighbor 2001:db8:1::1 activate',
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
}

const gateways = (r: KernelRoute | undefined): string[] => (r?.nexthops ?? []).map((n) => n.gateway ?? '').sort();

test('default router config: dynamic eBGP from the nodes, a VIP announced twice becomes an ECMP route (v4 and v6)', async () => {
  await withLab({ prefix: 'blabb', nodes: 2, router: true }, async (lab) => {
    const speakers: FrrInstance[] = [];
    for (const n of lab.nodes) speakers.push(await lab.startFrr(n, { config: nodeConfig(n.ipv4) }));
    assert.deepEqual(speakers.map((s) => s.name), ['blabb-node1', 'blabb-node2']);
    const v4 = await waitFor('the IPv4 ECMP route on the router', 30_000, async () => {
      const r = (await lab.routes('router')).find((x) => x.dst === '203.0.113.10');
      return gateways(r).length === 2 ? r : undefined;
    });
    assert.deepEqual(gateways(v4), ['192.0.2.11', '192.0.2.12']);
    assert.equal(v4.protocol, 'bgp');
    const v6 = await waitFor('the IPv6 ECMP route on the router', 30_000, async () => {
      const r = (await lab.routes('router', { family: 6 })).find((x) => x.dst === '2001:db8:f00::10');
      return (r?.nexthops ?? []).length === 2 ? r : undefined;
    });
    assert.equal(v6.nexthops?.length, 2);
    const peers = await lab.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { state?: string; remoteAs?: number }> } }>('show bgp summary json');
    const p = peers.ipv4Unicast?.peers ?? {};
    assert.deepEqual(Object.keys(p).sort(), ['192.0.2.11', '192.0.2.12']);
    assert.ok(Object.values(p).every((x) => x.state === 'Established' && x.remoteAs === 64513));
    // One node withdraws: the route falls back to a single next hop.
    await speakers[0]?.stop();
    await waitFor('the route to shrink to one next hop', 30_000, async () => {
      const r = (await lab.routes('router')).find((x) => x.dst === '203.0.113.10');
      return r !== undefined && r.gateway === '192.0.2.12' ? r : undefined;
    });
  });
  // destroy() stopped the node instances too.
  assert.equal(existsSync('/etc/frr/blabb-node2'), false);
  assert.equal(existsSync('/var/run/frr/blabb-node2'), false);
});
