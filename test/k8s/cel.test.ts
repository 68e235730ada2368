// Every validation rule of deploy/crds, checked by the real API server: one rejected object per rule
// (kubectl must fail and print the rule's message), plus the valid variants each rule must let through.
// Objects are sent with `kubectl create --dry-run=server`, so cases are independent; the transition rules
// (immutable fields) create the object for real and then change it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { apiServerForFile, installCrds } from './helpers.ts';

const ns = 'cel';
const api = apiServerForFile({
  setup: async (k) => {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', ns]);
  },
});


type Obj = Record<string, unknown>;

function object(apiVersion: string, kind: string, spec: Obj, opts: { readonly cluster?: boolean } = {}): Obj {
  const metadata = opts.cluster === true ? { name: 'x' } : { name: 'x', namespace: ns };
  return { apiVersion, kind, metadata, spec };
}

/** `base` with its spec fields replaced (a value of undefined removes the field). */
function withSpec(base: Obj, patch: Obj): Obj {
  return { ...base, spec: { ...(base['spec'] as Obj), ...patch } };
}

const pool = object('metallb.io/v1beta1', 'IPAddressPool', { addresses: ['192.0.2.0/24'] });
const l2 = object('metallb.io/v1beta1', 'L2Advertisement', {});
const bgpAdv = object('metallb.io/v1beta1', 'BGPAdvertisement', {});
const peer = object('metallb.io/v1beta2', 'BGPPeer', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' });
const peerV1 = object('metallb.io/v1beta1', 'BGPPeer', { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' });
const community = object('metallb.io/v1beta1', 'Community', { communities: [{ name: 'a', value: '64512:1' }] });
const bfd = object('metallb.io/v1beta1', 'BFDProfile', {});
const confState = object('metallb.io/v1beta1', 'ConfigurationState', {});
const eip = object('network.kubesphere.io/v1alpha2', 'Eip', { address: '192.0.2.0/24' }, { cluster: true });
const eipV1 = object('network.kubesphere.io/v1alpha1', 'Eip', { address: '192.0.2.0/24' }, { cluster: true });
const bgpConf = object('network.kubesphere.io/v1alpha2', 'BgpConf', { as: 64512 }, { cluster: true });
const ksPeer = object(
  'network.kubesphere.io/v1alpha2',
  'BgpPeer',
  { conf: { neighborAddress: '192.0.2.1', peerAs: 64513 } },
  { cluster: true },
);

const selector = (expr: Obj): Obj => ({ matchExpressions: [expr] });
const timers = (config: Obj): Obj => ({ timers: { config } });

async function dryRun(obj: Obj): Promise<{ code: number; stderr: string }> {
  return api().kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: JSON.stringify(obj) });
}

const accepted: readonly (readonly [string, Obj])[] = [
  ['IPAddressPool base', pool],
  ['IPAddressPool: CIDR with host bits, ranges with and without spaces, IPv6, a single address', withSpec(pool, {
    addresses: ['198.51.100.10/24', '203.0.113.1 - 203.0.113.9', '192.0.2.5-192.0.2.5', '2001:db8::/64',
      '2001:db8:1::10-2001:db8:1::20', '203.0.113.200/32', 'fc00:f853:0ccd:e799::/124'],
  })],
  ['IPAddressPool: selectors with every operator', withSpec(pool, { serviceAllocation: { serviceSelectors: [
    { matchExpressions: [{ key: 'a', operator: 'In', values: ['x'] }, { key: 'b', operator: 'NotIn', values: ['y'] },
      { key: 'c', operator: 'Exists' }, { key: 'd', operator: 'DoesNotExist', values: [] }] }] } })],
  ['L2Advertisement: distinct pool selectors', withSpec(l2, { ipAddressPoolSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'c' } }] })],
  ['L2Advertisement: interface names with dots, dashes and VLANs', withSpec(l2, { interfaces: ['eth0', 'bond0.100', 'enp1s0f1-x'] })],
  ['BGPAdvertisement: communities, large communities and aliases', withSpec(bgpAdv, {
    communities: ['0:0', '65535:65535', 'large:4294967295:4294967295:4294967295', 'my-alias', 'no-advertise'],
    serviceSelectors: [{ matchLabels: { a: 'b' } }], aggregationLength: 32, aggregationLengthV6: 128,
  })],
  ['BGPPeer v1beta2 base', peer],
  ['BGPPeer v1beta2: hold 0 and keepalive 0', withSpec(peer, { holdTime: '0', keepaliveTime: '0s' })],
  ['BGPPeer v1beta2: hold 3s, keepalive 1s, connect 65535s', withSpec(peer, { holdTime: '3s', keepaliveTime: '1s', connectTime: '65535s' })],
  ['BGPPeer v1beta2: hold 1m30s, keepalive 30s', withSpec(peer, { holdTime: '1m30s', keepaliveTime: '30s' })],
  ['BGPPeer v1beta2: unnumbered with dynamicASN', withSpec(peer, { peerASN: undefined, peerAddress: undefined, dynamicASN: 'internal', interface: 'eth1' })],
  ['BGPPeer v1beta2: eBGP multihop', withSpec(peer, { ebgpMultiHop: true, routerID: '192.0.2.10', sourceAddress: '2001:db8::5' })],
  ['BGPPeer v1beta2: passwordSecret alone', withSpec(peer, { passwordSecret: { name: 's', namespace: ns } })],
  ['BGPPeer v1beta2: password with an empty passwordSecret (MetalLB converter output)', withSpec(peer, { password: 'x', passwordSecret: {} })],
  ['BGPPeer v1beta1 base', peerV1],
  ['BGPPeer v1beta1: port 0 and timers', withSpec(peerV1, { peerPort: 0, holdTime: '90s', keepaliveTime: '30s' })],
  ['Community base', community],
  ['Community: large value', withSpec(community, { communities: [{ name: 'a', value: 'large:1:2:3' }, { name: 'b', value: '0:0' }] })],
  ['BFDProfile: bounds', withSpec(bfd, { receiveInterval: 10, transmitInterval: 60000, detectMultiplier: 255, minimumTtl: 254 })],
  ['Eip base', eip],
  ['Eip: a single IPv4 address', withSpec(eip, { address: '203.0.113.9' })],
  ['Eip: IPv6 CIDR', withSpec(eip, { address: '2001:db8::/120' })],
  ['Eip: IPv6 range', withSpec(eip, { address: '2001:db8::1-2001:db8::9' })],
  ['Eip: layer2 with can_reach', withSpec(eip, { protocol: 'layer2', interface: 'can_reach:192.0.2.254' })],
  ['Eip: layer2 without interface (the NIC is found per node)', withSpec(eip, { protocol: 'layer2' })],
  ['Eip: vip with a NIC', withSpec(eip, { protocol: 'vip', interface: 'eth0' })],
  ['Eip v1alpha1 base', eipV1],
  ['BgpConf base', bgpConf],
  ['BgpConf: router id, listen -1, addresses', withSpec(bgpConf, { routerId: '192.0.2.1', listenPort: -1, listenAddresses: ['0.0.0.0', '::'] })],
  ['BgpPeer base', ksPeer],
  ['BgpPeer: timers as strings, hold 0', withSpec(ksPeer, timers({ holdTime: '0', keepaliveInterval: '0', connectRetry: '5' }))],
  ['BgpPeer: unnumbered', withSpec(ksPeer, { conf: { neighborInterface: 'eth1', peerAs: 64513 } })],
];

// [case, object, message printed by the API server]
const rejected: readonly (readonly [string, Obj, string])[] = [
  // IPAddressPool
  ['IPAddressPool: a bare address is neither CIDR nor range', withSpec(pool, { addresses: ['192.0.2.1'] }),
    'each address must be a CIDR (198.51.100.0/24) or a range start-end of one IP family'],
  ['IPAddressPool: a range across families', withSpec(pool, { addresses: ['192.0.2.1-2001:db8::1'] }),
    'each address must be a CIDR (198.51.100.0/24) or a range start-end of one IP family'],
  ['IPAddressPool: garbage', withSpec(pool, { addresses: ['pool-a'] }), 'each address must be a CIDR'],
  ['IPAddressPool: prefix length out of range', withSpec(pool, { addresses: ['192.0.2.0/33'] }), 'each address must be a CIDR'],
  ['IPAddressPool: range start after end', withSpec(pool, { addresses: ['192.0.2.20-192.0.2.10'] }),
    'the start of an address range must not be greater than its end'],
  ['IPAddressPool: range order across octets', withSpec(pool, { addresses: ['192.0.3.0 - 192.0.2.255'] }),
    'the start of an address range must not be greater than its end'],
  ['IPAddressPool: no addresses', withSpec(pool, { addresses: [] }), 'should have at least 1 items'],
  ['IPAddressPool: duplicate addresses', withSpec(pool, { addresses: ['192.0.2.0/24', '192.0.2.0/24'] }), 'Duplicate value'],
  ['IPAddressPool: In without values', withSpec(pool, { serviceAllocation: { serviceSelectors: [selector({ key: 'a', operator: 'In' })] } }),
    'values must be non-empty for In and NotIn and empty for Exists and DoesNotExist'],
  ['IPAddressPool: Exists with values', withSpec(pool, { serviceAllocation: { namespaceSelectors: [selector({ key: 'a', operator: 'Exists', values: ['x'] })] } }),
    'values must be non-empty for In and NotIn and empty for Exists and DoesNotExist'],
  ['IPAddressPool: unknown selector operator', withSpec(pool, { serviceAllocation: { serviceSelectors: [selector({ key: 'a', operator: 'Equals', values: ['x'] })] } }),
    'Unsupported value: "Equals"'],
  ['IPAddressPool: duplicate namespace selectors', withSpec(pool, { serviceAllocation: { namespaceSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] } }),
    'namespaceSelectors must not contain duplicates'],
  ['IPAddressPool: duplicate service selectors', withSpec(pool, { serviceAllocation: { serviceSelectors: [selector({ key: 'a', operator: 'Exists' }), selector({ key: 'a', operator: 'Exists' })] } }),
    'serviceSelectors must not contain duplicates'],
  ['IPAddressPool: duplicate namespaces', withSpec(pool, { serviceAllocation: { namespaces: ['a', 'a'] } }), 'Duplicate value'],
  ['IPAddressPool: negative priority', withSpec(pool, { serviceAllocation: { priority: -1 } }), 'should be greater than or equal to 0'],
  // L2Advertisement
  ['L2Advertisement: interface name with a slash', withSpec(l2, { interfaces: ['eth/0'] }),
    "an interface name is 1 to 15 characters without '/', ':' or white space"],
  ['L2Advertisement: interface name with a colon', withSpec(l2, { interfaces: ['eth0:1'] }),
    "an interface name is 1 to 15 characters without '/', ':' or white space"],
  ['L2Advertisement: interface name "."', withSpec(l2, { interfaces: ['.'] }), "(and not '.' or '..')"],
  ['L2Advertisement: interface name over 15 bytes', withSpec(l2, { interfaces: ['averyverylongname0'] }), 'Too long'],
  ['L2Advertisement: preference weight 0', withSpec(l2, { preferredNodeSelectors: [{ weight: 0, preference: {} }] }),
    'should be greater than or equal to 1'],
  ['L2Advertisement: preference weight 101', withSpec(l2, { preferredNodeSelectors: [{ weight: 101, preference: {} }] }),
    'should be less than or equal to 100'],
  ['L2Advertisement: preference without weight', withSpec(l2, { preferredNodeSelectors: [{ preference: {} }] }), 'Required value'],
  ['L2Advertisement: duplicate pool selectors', withSpec(l2, { ipAddressPoolSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }),
    'ipAddressPoolSelectors must not contain duplicates'],
  ['L2Advertisement: duplicate pools', withSpec(l2, { ipAddressPools: ['a', 'a'] }), 'Duplicate value'],
  // BGPAdvertisement
  ['BGPAdvertisement: serviceSelectors with aggregation', withSpec(bgpAdv, { serviceSelectors: [{ matchLabels: { a: 'b' } }], aggregationLength: 24 }),
    'serviceSelectors can only be used with the default aggregation lengths'],
  ['BGPAdvertisement: serviceSelectors with IPv6 aggregation', withSpec(bgpAdv, { serviceSelectors: [{ matchLabels: { a: 'b' } }], aggregationLengthV6: 64 }),
    'serviceSelectors can only be used with the default aggregation lengths'],
  ['BGPAdvertisement: aggregationLength 33', withSpec(bgpAdv, { aggregationLength: 33 }), 'should be less than or equal to 32'],
  ['BGPAdvertisement: aggregationLength 0', withSpec(bgpAdv, { aggregationLength: 0 }), 'should be greater than or equal to 1'],
  ['BGPAdvertisement: aggregationLengthV6 129', withSpec(bgpAdv, { aggregationLengthV6: 129 }), 'should be less than or equal to 128'],
  ['BGPAdvertisement: localPref beyond 32 bits', withSpec(bgpAdv, { localPref: 4294967296 }), 'should be less than or equal to 4294967295'],
  ['BGPAdvertisement: community part above 65535', withSpec(bgpAdv, { communities: ['65536:1'] }),
    'a community AA:NN must hold two numbers from 0 to 65535 (RFC 1997)'],
  ['BGPAdvertisement: community part with six digits', withSpec(bgpAdv, { communities: ['1:123456'] }),
    'a community AA:NN must hold two numbers from 0 to 65535 (RFC 1997)'],
  ['BGPAdvertisement: large community above 32 bits', withSpec(bgpAdv, { communities: ['large:4294967296:1:1'] }),
    'a large community is large:G:L1:L2 with three numbers from 0 to 4294967295 (RFC 8092)'],
  ['BGPAdvertisement: large community with two parts', withSpec(bgpAdv, { communities: ['large:1:2'] }),
    'a large community is large:G:L1:L2 with three numbers from 0 to 4294967295 (RFC 8092)'],
  ['BGPAdvertisement: duplicate communities', withSpec(bgpAdv, { communities: ['1:1', '1:1'] }), 'Duplicate value'],
  ['BGPAdvertisement: duplicate pool selectors', withSpec(bgpAdv, { ipAddressPoolSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }),
    'ipAddressPoolSelectors must not contain duplicates'],
  ['BGPAdvertisement: duplicate peers', withSpec(bgpAdv, { peers: ['a', 'a'] }), 'Duplicate value'],
  // BGPPeer v1beta2
  ['BGPPeer: myASN 0', withSpec(peer, { myASN: 0 }), 'myASN must be set to a non-zero AS number (missing local ASN)'],
  ['BGPPeer: myASN missing', withSpec(peer, { myASN: undefined }), 'Required value'],
  ['BGPPeer: myASN beyond 32 bits', withSpec(peer, { myASN: 4294967296 }), 'should be less than or equal to 4294967295'],
  ['BGPPeer: neither peerASN nor dynamicASN', withSpec(peer, { peerASN: undefined }), 'exactly one of peerASN and dynamicASN must be set'],
  ['BGPPeer: both peerASN and dynamicASN', withSpec(peer, { dynamicASN: 'external' }), 'exactly one of peerASN and dynamicASN must be set'],
  ['BGPPeer: unknown dynamicASN', withSpec(peer, { peerASN: undefined, dynamicASN: 'ibgp' }), 'Unsupported value: "ibgp"'],
  ['BGPPeer: localASN 0', withSpec(peer, { localASN: 0 }), 'should be greater than or equal to 1'],
  ['BGPPeer: neither peerAddress nor interface', withSpec(peer, { peerAddress: undefined }), 'exactly one of peerAddress and interface must be set'],
  ['BGPPeer: both peerAddress and interface', withSpec(peer, { interface: 'eth1' }), 'exactly one of peerAddress and interface must be set'],
  ['BGPPeer: peerAddress is a name', withSpec(peer, { peerAddress: 'router1' }), 'peerAddress must be an IPv4 or IPv6 address'],
  ['BGPPeer: sourceAddress out of range', withSpec(peer, { sourceAddress: '192.0.2.300' }), 'sourceAddress must be an IPv4 or IPv6 address'],
  ['BGPPeer: password and passwordSecret', withSpec(peer, { password: 'x', passwordSecret: { name: 's' } }),
    'password and passwordSecret are mutually exclusive'],
  ['BGPPeer: password over 80 bytes', withSpec(peer, { password: 'p'.repeat(81) }), 'Too long'],
  ['BGPPeer: eBGP multihop on an iBGP peer', withSpec(peer, { peerASN: 64512, ebgpMultiHop: true }),
    'invalid ebgp-multihop parameter set for an ibgp peer'],
  ['BGPPeer: eBGP multihop with dynamicASN internal', withSpec(peer, { peerASN: undefined, dynamicASN: 'internal', ebgpMultiHop: true }),
    'invalid ebgp-multihop parameter set for an ibgp peer'],
  ['BGPPeer: holdTime not a duration', withSpec(peer, { holdTime: 'ninety' }), 'holdTime must be a duration such as 90s or 3m'],
  ['BGPPeer: holdTime without unit', withSpec(peer, { holdTime: '90' }), 'holdTime must be a duration such as 90s or 3m'],
  ['BGPPeer: holdTime 2s', withSpec(peer, { holdTime: '2s' }), 'holdTime must be 0 or at least 3s (RFC 4271 section 4.2)'],
  ['BGPPeer: holdTime 1s', withSpec(peer, { holdTime: '1s' }), 'holdTime must be 0 or at least 3s (RFC 4271 section 4.2)'],
  ['BGPPeer: keepaliveTime not a duration', withSpec(peer, { keepaliveTime: '30' }), 'keepaliveTime must be a duration such as 30s'],
  ['BGPPeer: keepalive longer than hold', withSpec(peer, { holdTime: '90s', keepaliveTime: '2m' }), 'keepaliveTime must not be greater than holdTime'],
  ['BGPPeer: keepalive with hold 0', withSpec(peer, { holdTime: '0s', keepaliveTime: '30s' }), 'keepaliveTime must not be greater than holdTime'],
  ['BGPPeer: connectTime 0s', withSpec(peer, { connectTime: '0s' }), 'connectTime must be whole seconds between 1s and 65535s'],
  ['BGPPeer: connectTime not whole seconds', withSpec(peer, { connectTime: '1500ms' }), 'connectTime must be whole seconds between 1s and 65535s'],
  ['BGPPeer: connectTime 65536s', withSpec(peer, { connectTime: '65536s' }), 'connectTime must be whole seconds between 1s and 65535s'],
  ['BGPPeer: routerID IPv6', withSpec(peer, { routerID: '2001:db8::1' }), 'routerID must be a non-zero IPv4 address (RFC 6286)'],
  ['BGPPeer: routerID 0.0.0.0', withSpec(peer, { routerID: '0.0.0.0' }), 'routerID must be a non-zero IPv4 address (RFC 6286)'],
  ['BGPPeer: peerPort 16385', withSpec(peer, { peerPort: 16385 }), 'should be less than or equal to 16384'],
  ['BGPPeer: peerPort 0', withSpec(peer, { peerPort: 0 }), 'should be greater than or equal to 1'],
  ['BGPPeer: nodeSelector In without values', withSpec(peer, { nodeSelectors: [selector({ key: 'a', operator: 'NotIn' })] }),
    'values must be non-empty for In and NotIn and empty for Exists and DoesNotExist'],
  ['BGPPeer: duplicate node selectors', withSpec(peer, { nodeSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] }),
    'nodeSelectors must not contain duplicates'],
  // BGPPeer v1beta1
  ['BGPPeer v1beta1: peerAddress missing', withSpec(peerV1, { peerAddress: undefined }), 'Required value'],
  ['BGPPeer v1beta1: myASN 0', withSpec(peerV1, { myASN: 0 }), 'myASN must be set to a non-zero AS number (missing local ASN)'],
  ['BGPPeer v1beta1: peerASN 0', withSpec(peerV1, { peerASN: 0 }), 'peerASN must be set to a non-zero AS number'],
  ['BGPPeer v1beta1: eBGP multihop on an iBGP peer', withSpec(peerV1, { peerASN: 64512, ebgpMultiHop: true }),
    'invalid ebgp-multihop parameter set for an ibgp peer'],
  ['BGPPeer v1beta1: keepalive longer than hold', withSpec(peerV1, { holdTime: '9s', keepaliveTime: '10s' }),
    'keepaliveTime must not be greater than holdTime'],
  ['BGPPeer v1beta1: holdTime 2s', withSpec(peerV1, { holdTime: '2s' }), 'holdTime must be 0 or at least 3s'],
  ['BGPPeer v1beta1: peerAddress is a name', withSpec(peerV1, { peerAddress: 'router1' }), 'peerAddress must be an IPv4 or IPv6 address'],
  ['BGPPeer v1beta1: routerID IPv6', withSpec(peerV1, { routerID: '2001:db8::1' }), 'routerID must be a non-zero IPv4 address'],
  ['BGPPeer v1beta1: legacy selector expression without values', withSpec(peerV1, { nodeSelectors: [selector({ key: 'a', operator: 'In' })] }),
    'Required value'],
  ['BGPPeer v1beta1: peerPort 16385', withSpec(peerV1, { peerPort: 16385 }), 'should be less than or equal to 16384'],
  // Community
  ['Community: duplicate alias names', withSpec(community, { communities: [{ name: 'a', value: '1:1' }, { name: 'a', value: '1:2' }] }),
    'community alias names must be unique'],
  ['Community: value above 65535', withSpec(community, { communities: [{ name: 'a', value: '65536:1' }] }),
    'value must be AA:NN with numbers from 0 to 65535 (RFC 1997) or large:G:L1:L2'],
  ['Community: value is a word', withSpec(community, { communities: [{ name: 'a', value: 'no-export' }] }),
    'value must be AA:NN with numbers from 0 to 65535 (RFC 1997) or large:G:L1:L2'],
  ['Community: large value above 32 bits', withSpec(community, { communities: [{ name: 'a', value: 'large:1:2:4294967296' }] }),
    'value must be AA:NN with numbers from 0 to 65535 (RFC 1997) or large:G:L1:L2'],
  // BFDProfile
  ['BFDProfile: receiveInterval 9', withSpec(bfd, { receiveInterval: 9 }), 'should be greater than or equal to 10'],
  ['BFDProfile: transmitInterval 60001', withSpec(bfd, { transmitInterval: 60001 }), 'should be less than or equal to 60000'],
  ['BFDProfile: echoInterval 5', withSpec(bfd, { echoInterval: 5 }), 'should be greater than or equal to 10'],
  ['BFDProfile: detectMultiplier 1', withSpec(bfd, { detectMultiplier: 1 }), 'should be greater than or equal to 2'],
  ['BFDProfile: detectMultiplier 256', withSpec(bfd, { detectMultiplier: 256 }), 'should be less than or equal to 255'],
  ['BFDProfile: minimumTtl 255', withSpec(bfd, { minimumTtl: 255 }), 'should be less than or equal to 254'],
  // Eip v1alpha2
  ['Eip: address is a word', withSpec(eip, { address: 'eip-pool' }), 'address must be an IP (192.0.2.100), a CIDR (192.0.2.0/24) or a range first-last'],
  ['Eip: address range across families', withSpec(eip, { address: '192.0.2.1-2001:db8::1' }), 'address must be an IP (192.0.2.100), a CIDR'],
  ['Eip: range first after last', withSpec(eip, { address: '192.168.0.100-192.168.0.91' }), 'the first address of a range must not be greater than the last'],
  ['Eip: address missing', withSpec(eip, { address: undefined }), 'Required value'],
  ['Eip: vip with an empty interface', withSpec(eip, { protocol: 'vip', interface: '' }), 'interface is required when protocol is vip'],
  ['Eip: unknown protocol', withSpec(eip, { protocol: 'ospf' }), 'Unsupported value: "ospf"'],
  ['Eip: interface with another prefix', withSpec(eip, { protocol: 'layer2', interface: 'via:192.0.2.1' }),
    'interface must be a NIC name or can_reach:<IP address>'],
  ['Eip: can_reach without an address', withSpec(eip, { protocol: 'layer2', interface: 'can_reach:gateway' }),
    'interface must be a NIC name or can_reach:<IP address>'],
  ['Eip: NIC name over 15 characters', withSpec(eip, { protocol: 'layer2', interface: 'averyverylongname0' }),
    'an interface name is at most 15 characters'],
  // Eip v1alpha1
  ['Eip v1alpha1: IPv6 address', withSpec(eipV1, { address: '2001:db8::/64' }), 'address must be an IPv4 address, CIDR or range first-last'],
  ['Eip v1alpha1: vip protocol', withSpec(eipV1, { protocol: 'vip' }), 'Unsupported value: "vip"'],
  // BgpConf
  ['BgpConf: routerId IPv6', withSpec(bgpConf, { routerId: '2001:db8::1' }), 'routerId must be a non-zero IPv4 address (RFC 6286)'],
  ['BgpConf: as 0', withSpec(bgpConf, { as: 0 }), 'should be greater than or equal to 1'],
  ['BgpConf: asPerRack 0', withSpec(bgpConf, { asPerRack: { r1: 0 } }), 'should be greater than or equal to 1'],
  ['BgpConf: listenPort 65536', withSpec(bgpConf, { listenPort: 65536 }), 'should be less than or equal to 65535'],
  ['BgpConf: listenAddresses not IPs', withSpec(bgpConf, { listenAddresses: ['any'] }), 'listenAddresses must be IP addresses'],
  ['BgpConf: graceful restart time beyond 12 bits', withSpec(bgpConf, { gracefulRestart: { enabled: true, restartTime: 4096 } }),
    'should be less than or equal to 4095'],
  // BgpPeer (kubesphere)
  ['BgpPeer: no conf', withSpec(ksPeer, { conf: undefined }), 'exactly one of conf.neighborAddress and conf.neighborInterface must be set'],
  ['BgpPeer: address and interface', withSpec(ksPeer, { conf: { neighborAddress: '192.0.2.1', neighborInterface: 'eth1' } }),
    'exactly one of conf.neighborAddress and conf.neighborInterface must be set'],
  ['BgpPeer: neighborAddress is a name', withSpec(ksPeer, { conf: { neighborAddress: 'router1' } }),
    'conf.neighborAddress must be an IPv4 or IPv6 address'],
  ['BgpPeer: holdTime "2"', withSpec(ksPeer, timers({ holdTime: '2' })), 'timers.config.holdTime must be 0 or at least 3 seconds'],
  ['BgpPeer: holdTime "70000"', withSpec(ksPeer, timers({ holdTime: '70000' })), 'timers.config.holdTime is a 16-bit field in OPEN: at most 65535'],
  ['BgpPeer: keepalive above hold', withSpec(ksPeer, timers({ holdTime: '90', keepaliveInterval: '100' })),
    'timers.config.keepaliveInterval must not be greater than timers.config.holdTime'],
  ['BgpPeer: connectRetry with a unit', withSpec(ksPeer, timers({ connectRetry: '5s' })),
    'timers are whole seconds written as a decimal string'],
  ['BgpPeer: holdTime as a number', withSpec(ksPeer, timers({ holdTime: 90 })), 'must be of type string'],
  ['BgpPeer: multihop TTL 0', withSpec(ksPeer, { ebgpMultihop: { enabled: true, multihopTtl: 0 } }), 'should be greater than or equal to 1'],
  ['BgpPeer: remoteAddress not an IP', withSpec(ksPeer, { transport: { remoteAddress: 'router' } }), 'transport.remoteAddress must be an IP address'],
  ['BgpPeer: remotePort 65536', withSpec(ksPeer, { transport: { remotePort: 65536 } }), 'should be less than or equal to 65535'],
  ['BgpPeer: authPassword over 80 bytes', withSpec(ksPeer, { conf: { neighborAddress: '192.0.2.1', authPassword: 'p'.repeat(81) } }), 'Too long'],
  ['BgpPeer: nodeSelector DoesNotExist with values', withSpec(ksPeer, { nodeSelector: selector({ key: 'a', operator: 'DoesNotExist', values: ['b'] }) }),
    'values must be non-empty for In and NotIn and empty for Exists and DoesNotExist'],
];

describe('valid objects are accepted', { concurrency: 4 }, () => {
  for (const [name, obj] of accepted) {
    test(name, async () => {
      const res = await dryRun(obj);
      assert.equal(res.code, 0, `rejected: ${res.stderr}`);
    });
  }
});

describe('invalid objects are refused by the API server with the rule message', { concurrency: 4 }, () => {
  for (const [name, obj, message] of rejected) {
    test(name, async () => {
      const res = await dryRun(obj);
      assert.notEqual(res.code, 0, `accepted, but should fail with: ${message}`);
      assert.ok(res.stderr.includes('is invalid') || res.stderr.includes('Invalid value'), res.stderr);
      assert.ok(res.stderr.includes(message), `expected "${message}" in: ${res.stderr}`);
    });
  }
});

describe('status writes and immutable fields (transition rules)', () => {
  async function createThen(obj: Obj, changed: Obj, message: string): Promise<void> {
    await api().kubectlOk(['create', '-f', '-'], { stdin: JSON.stringify(obj) });
    const res = await api().kubectl(['replace', '-f', '-'], { stdin: JSON.stringify(changed) });
    assert.notEqual(res.code, 0, 'the change was accepted');
    assert.ok(res.stderr.includes(message), `expected "${message}" in: ${res.stderr}`);
  }

  test('BGPPeer enableGracefulRestart cannot change', async () => {
    const a = withSpec({ ...peer, metadata: { name: 'gr', namespace: ns } }, { enableGracefulRestart: true });
    await createThen(a, withSpec(a, { enableGracefulRestart: false }), 'enableGracefulRestart cannot be changed after creation');
    // Other fields of the same object may still change.
    await api().kubectlOk(['replace', '-f', '-'], { stdin: JSON.stringify(withSpec(a, { holdTime: '30s' })) });
  });

  test('Eip address cannot change (v1alpha2)', async () => {
    const a = { ...eip, metadata: { name: 'immutable-v2' } };
    await createThen(a, withSpec(a, { address: '192.0.2.0/25' }), 'the address field is not allowed to be modified');
    await api().kubectlOk(['replace', '-f', '-'], { stdin: JSON.stringify(withSpec(a, { disable: true })) });
  });

  test('Eip address cannot change (v1alpha1)', async () => {
    const a = { ...eipV1, metadata: { name: 'immutable-v1' } };
    await createThen(a, withSpec(a, { address: '192.0.2.0/25' }), 'the address field is not allowed to be modified');
  });

  test('ConfigurationState status.result must be Valid, Invalid or Unknown', async () => {
    await api().kubectlOk(['create', '-f', '-'], { stdin: JSON.stringify({ ...confState, metadata: { name: 'controller', namespace: ns } }) });
    const write = (result: string): Promise<{ code: number; stderr: string }> =>
      api().kubectl(['patch', 'configurationstates', 'controller', '-n', ns, '--subresource=status', '--type=merge',
        '-p', JSON.stringify({ status: { result, errorSummary: '' } })]);
    const ok = await write('Valid');
    assert.equal(ok.code, 0, ok.stderr);
    const res = await write('Broken');
    assert.notEqual(res.code, 0, 'result Broken was accepted');
    assert.ok(res.stderr.includes('Unsupported value: "Broken"'), res.stderr);
  });

  for (const kind of ['servicel2statuses', 'servicebgpstatuses'] as const) {
    for (const key of ['node', 'serviceName', 'serviceNamespace'] as const) {
      test(`${kind} status.${key} cannot change once set`, async () => {
        const name = `${kind.slice(0, 10)}-${key.toLowerCase()}`;
        const kindName = kind === 'servicel2statuses' ? 'ServiceL2Status' : 'ServiceBGPStatus';
        await api().kubectlOk(['create', '-f', '-'], {
          stdin: JSON.stringify({ apiVersion: 'metallb.io/v1beta1', kind: kindName, metadata: { name, namespace: ns } }),
        });
        const status = { node: 'node-1', serviceName: 'web', serviceNamespace: 'default' };
        const patch = (s: Obj): Promise<{ code: number; stderr: string }> =>
          api().kubectl(['patch', kind, name, '-n', ns, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: s })]);
        const first = await patch(status);
        assert.equal(first.code, 0, first.stderr);
        const res = await patch({ ...status, [key]: 'other' });
        assert.notEqual(res.code, 0, `${key} changed`);
        assert.ok(res.stderr.includes(`${key} is immutable`), res.stderr);
      });
    }
  }
});
