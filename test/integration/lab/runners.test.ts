// One topology file, two runners: containerlab (Docker) and the namespace runner build the same nodes,
// links, interfaces, addresses and routes from frr-lab/topology.clab.yml. Each node's view is read with
// `ip -j` in both and compared; only the containerlab management interface (eth0) is left out.
// Needs Docker (Debian docker.io) and containerlab (PATH or ../shared/tools/containerlab.sh): missing ones fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deployClab } from '../../../frr-lab/clab.ts';
import { deployNetns } from '../../../frr-lab/netns.ts';
import type { LabHandle } from '../../../frr-lab/topology.ts';
import { TEST_CLAB_VARS } from './clab-vars.ts';

interface IpAddr {
  readonly ifname: string;
  readonly address?: string;
  readonly mtu?: number;
  readonly operstate?: string;
  readonly master?: string;
  readonly addr_info?: readonly { readonly family: string; readonly local: string; readonly prefixlen: number; readonly scope: string }[];
}
interface IpRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly metric?: number;
}

/** Interfaces (name, MAC, MTU, bridge, global addresses) and main-table routes of a host, minus the management interface. */
async function view(lab: LabHandle, host: string): Promise<unknown> {
  const links = JSON.parse((await lab.exec(host, ['ip', '-j', 'addr', 'show'])).stdout) as IpAddr[];
  const ifaces = links
    .filter((l) => l.ifname !== 'eth0' && l.ifname !== 'lo')
    .map((l) => ({
      name: l.ifname,
      // MACs of unconfigured veth ends are random in both runners: compare only the ones the topology sets.
      mac: l.address?.startsWith('02:b1:') === true ? l.address : 'random',
      mtu: l.mtu,
      master: l.master ?? '',
      up: l.operstate === 'UP' || l.ifname === 'br0' ? 'up' : (l.operstate ?? '?'),
      addrs: (l.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${String(a.prefixlen)}`).sort(),
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const routes: string[] = [];
  for (const family of ['-4', '-6']) {
    const rs = JSON.parse((await lab.exec(host, ['ip', '-j', family, 'route', 'show'])).stdout || '[]') as IpRoute[];
    for (const r of rs) {
      if (r.dev === 'eth0' || r.dst.startsWith('fe80:') || r.dst.startsWith('ff00:')) continue;
      routes.push(`${r.dst} via ${r.gateway ?? '-'} dev ${r.dev ?? '-'} proto ${r.protocol ?? '-'} metric ${String(r.metric ?? 0)}`);
    }
  }
  const sysctls: string[] = [];
  for (const k of ['net.ipv4.ip_forward', 'net.ipv6.conf.all.forwarding', 'net.ipv4.fib_multipath_hash_policy', 'net.ipv6.conf.all.accept_dad']) {
    sysctls.push(`${k}=${(await lab.exec(host, ['sysctl', '-n', k])).stdout.trim()}`);
  }
  return { ifaces, routes: routes.sort(), sysctls };
}

test('containerlab and the namespace runner build the same lab from topology.clab.yml', { timeout: 900_000 }, async () => {
  const netns = await deployNetns({ prefix: 'blabt' });
  try {
    const clab = await deployClab({ vars: TEST_CLAB_VARS });
    try {
      assert.deepEqual(clab.topology.nodes.map((n) => n.name), netns.topology.nodes.map((n) => n.name));
      assert.ok(clab.topology.nodes.length >= 7, 'lan, router, 3 nodes, client, ext');
      for (const n of netns.topology.nodes) {
        const [a, b] = [await view(clab, n.name), await view(netns, n.name)];
        assert.deepEqual(a, b, `${n.name}: containerlab vs namespaces`);
      }
      // Not two empty views: the plan is there (node1's LAN address and default route, the switch's ports).
      assert.match(JSON.stringify(await view(netns, 'node1')), /192\.0\.2\.11\/24.*default via 192\.0\.2\.1 dev eth1/);
      assert.match(JSON.stringify(await view(clab, 'lan')), /"name":"n3","mac":"random","mtu":9500,"master":"br0"/);
      // Both routers run FRR with the file's configuration.
      for (const lab of [clab, netns]) assert.match(await lab.vtysh('show running-config'), /bgp listen range 192\.0\.2\.0\/24 peer-group NODES/);
      // And the address plan is what the file says, checked once here on a host through the router.
      for (const lab of [clab, netns]) {
        const r = await lab.exec('ext', ['ping', '-c', '1', '-W', '3', '192.0.2.13'], { check: false });
        assert.equal(r.code, 0, `${lab.runner}: ext -> node3 through the router: ${r.stdout}`);
      }
    } finally {
      await clab.destroy();
      await clab.engine.stop();
    }
  } finally {
    await netns.destroy();
  }
});
