import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_EXCLUDED_INTERFACES,
  interfaceReaching,
  nodeAnnotationIp,
  parseEipInterface,
  selectInterfaces,
  type InterfaceFacts,
  type InterfaceRequest,
  type NodeAddressing,
  type SelectOptions,
} from '../../../src/l2/interfaces.ts';

const nic = (name: string, index: number, over: Partial<InterfaceFacts> = {}): InterfaceFacts => ({
  name,
  index,
  mac: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`,
  up: true,
  loopback: false,
  noarp: false,
  addresses: [],
  ...over,
});

/** A node with two LANs, a bridge over a physical port, a bond, and the usual virtual clutter. */
const FACTS: readonly InterfaceFacts[] = [
  nic('lo', 1, { loopback: true, mac: '00:00:00:00:00:00', addresses: [{ ip: '127.0.0.1', prefixLength: 8 }] }),
  nic('eth0', 2, { addresses: [{ ip: '192.0.2.11', prefixLength: 24 }, { ip: '2001:db8:1::11', prefixLength: 64 }] }),
  nic('eth1', 3, { addresses: [{ ip: '198.51.100.11', prefixLength: 24 }] }),
  nic('br0', 4, { addresses: [{ ip: '203.0.113.11', prefixLength: 25 }] }),
  nic('eth2', 5, { master: 'br0' }),
  nic('bond0', 6, { addresses: [{ ip: '203.0.113.140', prefixLength: 25 }] }),
  nic('eth3', 7, { master: 'bond0' }),
  nic('eth4', 8, { master: 'bond0' }),
  nic('eth5', 9, { up: false, addresses: [{ ip: '192.0.2.200', prefixLength: 32 }] }),
  nic('wg0', 10, { noarp: true, addresses: [{ ip: '10.0.0.1', prefixLength: 24 }] }),
  { name: 'tun0', index: 11, up: true, loopback: false, noarp: false, addresses: [] }, // no MAC at all
  nic('veth1234', 12),
  nic('docker0', 13),
  nic('cali99', 14),
  nic('kube-ipvs0', 15, { noarp: true }),
  nic('eth6', 16, { master: 'gone0' }),
];

const NODE: NodeAddressing = { internalIPs: ['192.0.2.11'] };

interface Row {
  readonly name: string;
  readonly request: InterfaceRequest;
  readonly node?: NodeAddressing;
  readonly opts?: SelectOptions;
  readonly interfaces: readonly string[];
  readonly skipped?: readonly [string, string][];
  readonly problem?: string;
}

const ROWS: readonly Row[] = [
  {
    name: 'MetalLB: no interfaces -> every eligible interface (ports replaced by masters, clutter excluded)',
    request: { kind: 'all' },
    interfaces: ['bond0', 'br0', 'eth0', 'eth1'],
    skipped: [
      ['lo', 'loopback'],
      ['eth5', 'down'],
      ['wg0', 'noarp'],
      ['tun0', 'noMac'],
      ['veth1234', 'excluded'],
      ['docker0', 'excluded'],
      ['cali99', 'excluded'],
      ['kube-ipvs0', 'excluded'],
    ],
  },
  { name: 'MetalLB: named interfaces', request: { kind: 'names', names: ['eth1', 'eth0'] }, interfaces: ['eth0', 'eth1'] },
  {
    name: 'MetalLB: a bridge port or bond member answers on its master (metallb#316)',
    request: { kind: 'names', names: ['eth2', 'eth3', 'eth4'] },
    interfaces: ['bond0', 'br0'],
  },
  {
    name: 'MetalLB: missing names are skipped; none left -> no announcement here',
    request: { kind: 'names', names: ['eth9'] },
    interfaces: [],
    skipped: [['eth9', 'notFound']],
    problem: 'noInterface',
  },
  {
    name: 'an explicitly named excluded interface still never answers',
    request: { kind: 'names', names: ['veth1234', 'lo', 'eth5', 'eth0'] },
    interfaces: ['eth0'],
    skipped: [
      ['veth1234', 'excluded'],
      ['lo', 'loopback'],
      ['eth5', 'down'],
    ],
  },
  {
    name: 'enslaved to a master that does not exist',
    request: { kind: 'names', names: ['eth6'] },
    interfaces: [],
    skipped: [['eth6', 'masterMissing']],
    problem: 'noInterface',
  },
  {
    name: 'a custom exclusion list replaces the default',
    request: { kind: 'names', names: ['veth1234', 'eth0'] },
    opts: { exclude: [/^eth0$/] },
    interfaces: ['veth1234'],
    skipped: [['eth0', 'excluded']],
  },
  { name: 'OpenELB Eip interface by name', request: { kind: 'eip', spec: 'eth1' }, interfaces: ['eth1'] },
  { name: 'OpenELB can_reach: connected subnet', request: { kind: 'eip', spec: 'can_reach:198.51.100.1' }, interfaces: ['eth1'] },
  {
    name: 'OpenELB can_reach: longest prefix wins over a default route',
    request: { kind: 'eip', spec: 'can_reach:203.0.113.200' },
    opts: { routes: [{ destination: '0.0.0.0', prefixLength: 0, dev: 'eth0' }] },
    interfaces: ['bond0'],
  },
  {
    name: 'OpenELB can_reach: through a static route',
    request: { kind: 'eip', spec: 'can_reach:10.20.30.40' },
    opts: { routes: [{ destination: '0.0.0.0', prefixLength: 0, dev: 'eth0' }, { destination: '10.20.0.0', prefixLength: 16, dev: 'eth1' }] },
    interfaces: ['eth1'],
  },
  {
    name: 'OpenELB can_reach: IPv6',
    request: { kind: 'eip', spec: 'can_reach:2001:db8:1::1' },
    interfaces: ['eth0'],
  },
  { name: 'OpenELB can_reach: no route', request: { kind: 'eip', spec: 'can_reach:10.9.9.9' }, interfaces: [], problem: 'unresolved' },
  { name: 'OpenELB can_reach: resolves to lo is rejected', request: { kind: 'eip', spec: 'can_reach:127.0.0.2' }, interfaces: [], problem: 'unresolved' },
  { name: 'OpenELB: other x:y forms rejected', request: { kind: 'eip', spec: 'via:eth0' }, interfaces: [], problem: 'badEipInterface' },
  {
    name: 'Porter node annotation picks the NIC holding that IP, over the Eip name',
    request: { kind: 'eip', spec: 'eth0' },
    node: { internalIPs: ['192.0.2.11'], annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '198.51.100.11' } },
    interfaces: ['eth1'],
  },
  {
    name: 'OpenELB spelling of the node annotation',
    request: { kind: 'nodeDefault' },
    node: { internalIPs: ['192.0.2.11'], annotations: { 'layer2.openelb.kubesphere.io/v1alpha1': '203.0.113.11' } },
    interfaces: ['br0'],
  },
  {
    name: 'annotation naming an IP no interface holds',
    request: { kind: 'nodeDefault' },
    node: { internalIPs: ['192.0.2.11'], annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '192.0.2.99' } },
    interfaces: [],
    problem: 'unresolved',
  },
  {
    name: 'the annotation does not apply to MetalLB advertisements',
    request: { kind: 'names', names: ['eth0'] },
    node: { internalIPs: ['192.0.2.11'], annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '198.51.100.11' } },
    interfaces: ['eth0'],
  },
  { name: 'default: the NIC holding the node InternalIP', request: { kind: 'nodeDefault' }, interfaces: ['eth0'] },
  // Porter 0.3 (an Eip without interface): the NIC with an address in the Eip's subnet first.
  { name: "Eip without interface: the NIC whose subnet holds the Eip's address", request: { kind: 'nodeDefault', inSubnet: '198.51.100.200' }, interfaces: ['eth1'] },
  { name: 'Eip without interface, subnet on no NIC: the NIC of the node InternalIP', request: { kind: 'nodeDefault', inSubnet: '10.99.0.1' }, interfaces: ['eth0'] },
  {
    name: 'Eip without interface, subnet on no NIC: the default route\'s NIC before the InternalIP\'s (issue 11 item 3)',
    request: { kind: 'nodeDefault', inSubnet: '10.99.0.1' },
    opts: { defaultRoute: 'eth1' },
    interfaces: ['eth1'],
  },
  { name: 'Eip without interface, subnet on a NIC: that NIC wins over the default route', request: { kind: 'nodeDefault', inSubnet: '198.51.100.200' }, opts: { defaultRoute: 'eth0' }, interfaces: ['eth1'] },
  { name: 'a default route over a NIC the node lacks is ignored', request: { kind: 'nodeDefault', inSubnet: '10.99.0.1' }, opts: { defaultRoute: 'gone0' }, interfaces: ['eth0'] },
  {
    name: 'default, InternalIP in any spelling (IPv6)',
    request: { kind: 'nodeDefault' },
    node: { internalIPs: ['2001:DB8:1:0::11'] },
    interfaces: ['eth0'],
  },
  {
    name: 'default, InternalIP on a down interface',
    request: { kind: 'nodeDefault' },
    node: { internalIPs: ['192.0.2.200'] },
    interfaces: [],
    skipped: [['eth5', 'down']],
    problem: 'noInterface',
  },
  { name: 'default, no InternalIP on this node', request: { kind: 'nodeDefault' }, node: { internalIPs: [] }, interfaces: [], problem: 'unresolved' },
];

test('interface selection table', () => {
  for (const row of ROWS) {
    const sel = selectInterfaces(row.request, FACTS, row.node ?? NODE, row.opts);
    assert.deepEqual(sel.interfaces, row.interfaces, row.name);
    assert.deepEqual(
      sel.skipped.map((s) => [s.iface, s.reason]),
      row.skipped ?? [],
      row.name,
    );
    assert.equal(sel.problem?.reason, row.problem, row.name);
  }
});

test('parseEipInterface and nodeAnnotationIp', () => {
  assert.deepEqual(parseEipInterface('eth0'), { kind: 'name', name: 'eth0' });
  assert.deepEqual(parseEipInterface(' can_reach:192.0.2.1 '), { kind: 'canReach', ip: '192.0.2.1' });
  assert.deepEqual(parseEipInterface('can_reach:2001:DB8::1'), { kind: 'canReach', ip: '2001:db8::1' });
  assert.equal(parseEipInterface('can_reach:nope').kind, 'invalid');
  assert.equal(parseEipInterface('').kind, 'invalid');
  assert.equal(nodeAnnotationIp(undefined), undefined);
  assert.equal(nodeAnnotationIp({ 'layer2.openelb.kubesphere.io/v1alpha1': ' 192.0.2.5 ' }), '192.0.2.5');
  assert.equal(
    nodeAnnotationIp({ 'layer2.openelb.kubesphere.io/v1alpha1': '192.0.2.5', 'layer2.porter.kubesphere.io/v1alpha1': '192.0.2.6' }),
    '192.0.2.6',
  );
});

test('interfaceReaching: longest prefix, then lower metric', () => {
  const routes = [
    { destination: '10.0.0.0', prefixLength: 8, dev: 'eth0', metric: 100 },
    { destination: '10.0.0.0', prefixLength: 8, dev: 'eth1', metric: 10 },
  ];
  assert.equal(interfaceReaching([], routes, '10.1.2.3'), 'eth1');
  assert.equal(interfaceReaching([], routes, '11.1.2.3'), undefined);
});

test('the default exclusion list covers MetalLB excludel2 defaults', () => {
  for (const name of ['docker0', 'cbr0', 'dummy0', 'virbr0', 'lxcbr0', 'veth9', 'lo', 'cali1', 'tunl0', 'flannel.1', 'kube-ipvs0', 'cni0', 'nodelocaldns', 'lxc12']) {
    assert.ok(DEFAULT_EXCLUDED_INTERFACES.some((re) => re.test(name)), name);
  }
  for (const name of ['eth0', 'ens3', 'bond0', 'br0', 'lo0x']) {
    assert.ok(!DEFAULT_EXCLUDED_INTERFACES.some((re) => re.test(name)), name);
  }
});
