// Interface facts read inside lab namespaces: names, indexes, MACs, flags, masters, addresses,
// "which interface holds IP X" and "which interface routes to IP X".
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab } from '../../../frr-lab/lab.ts';
import type { InterfaceInfo } from '../../../src/sys/index.ts';
import { startAgent } from './agent-client.ts';

test('listInterfaces, interfaceHolding and routeTo describe a lab node, the switch and the router path', async () => {
  await withLab({ prefix: 'bsysi', nodes: 1, router: true, client: true }, async (lab) => {
    // The client's LAN interface with ARP turned off: noarp must show.
    await lab.exec('client', ['ip', 'link', 'set', 'dev', 'eth1', 'arp', 'off']);
    const [node, sw, client] = await Promise.all([startAgent(lab, 'node1'), startAgent(lab, 'switch'), startAgent(lab, 'client')]);

    const ifs = await node.call<InterfaceInfo[]>('interfaces');
    assert.deepEqual(ifs.map((i) => i.name), ['lo', 'eth1']);
    const lo = ifs[0];
    const eth1 = ifs[1];
    assert.ok(lo !== undefined && eth1 !== undefined);
    assert.equal(lo.kind, 'loopback');
    assert.equal(lo.flags.loopback, true);
    assert.equal(lo.mac, '');
    const ifindex = Number((await lab.exec('node1', ['cat', '/sys/class/net/eth1/ifindex'])).stdout.trim());
    assert.equal(eth1.index, ifindex);
    assert.equal(eth1.mac, '02:b1:00:00:01:0b');
    assert.equal(eth1.mtu, 1500);
    assert.deepEqual(eth1.flags, { up: true, running: true, loopback: false, noarp: false, broadcast: true, multicast: true, promisc: false });
    assert.equal(eth1.master, undefined);
    const addrs = eth1.addresses.map((a) => `${a.address}/${a.prefixLength}${a.linkLocal ? ' ll' : ''}`).sort();
    assert.ok(addrs.includes('192.0.2.11/24'));
    assert.ok(addrs.includes('2001:db8:1::11/64'));
    assert.ok(addrs.some((a) => a.startsWith('fe80::') && a.endsWith('/64 ll')));

    const swIfs = await sw.call<InterfaceInfo[]>('interfaces');
    const br = swIfs.find((i) => i.name === 'br0');
    const port = swIfs.find((i) => i.name === 'n1');
    assert.equal(br?.kind, 'bridge');
    assert.equal(port?.master, 'br0');

    const cl = (await client.call<InterfaceInfo[]>('interfaces')).find((i) => i.name === 'eth1');
    assert.equal(cl?.flags.noarp, true);

    assert.equal(await node.call('holding', { ip: '192.0.2.11' }), 'eth1');
    assert.equal(await node.call('holding', { ip: '2001:DB8:1:0::11' }), 'eth1'); // any spelling
    assert.equal(await node.call('holding', { ip: '192.0.2.12' }), null);
    assert.equal(await node.call('holding', { ip: '127.0.0.1' }), 'lo');

    assert.deepEqual(await node.call('route', { ip: '192.0.2.100' }), { ifname: 'eth1', source: '192.0.2.11', type: 'unicast' });
    assert.deepEqual(await node.call('route', { ip: '198.51.100.7' }), { ifname: 'eth1', gateway: '192.0.2.1', source: '192.0.2.11', type: 'unicast' });
    // The switch namespace has no routes at all: unreachable is an answer (null), not an error.
    assert.equal(await sw.call('route', { ip: '192.0.2.11' }), null);
  });
});
