// The manifests of the end-to-end test (see speaker.test.ts for the picture).
import { serviceDoc } from './harness.ts';

export const ASN = 64512;
export const BGP_A = '203.0.113.10'; // in status
export const BGP_V6 = '2001:db8:f00::10'; // in status
export const L2_A = '203.0.113.140'; // in status
export const L2_V6 = '2001:db8:f00::1:10'; // in status
export const PORTER = '203.0.113.200'; // first address of the Eip
export const SEED = '203.0.113.161'; // first usable address of demo-pool's 203.0.113.160/28
export const BGP_LOCAL = '203.0.113.30'; // in status, externalTrafficPolicy Local
export const COMMUNITIES = ['64512:100', '64512:200'];

export function config(): string[] {
  return [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/26", "2001:db8:f00::/120"]}',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.128/27", "2001:db8:f00::1:0/120"]}',
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 9s}`,
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router6, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: "2001:db8:1::1", holdTime: 9s}`,
    `apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool], localPref: 150, communities: ${JSON.stringify(COMMUNITIES)}}`,
    'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2-adv, namespace: metallb-system}\nspec: {ipAddressPools: [l2-pool], interfaces: [eth1]}',
    // Porter seed ("Use Porter in Layer 2 Mode"), the NIC renamed to the lab's.
    'apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: porter-layer2-eip}\nspec: {address: 203.0.113.200-203.0.113.210, interface: eth1, protocol: layer2}',
    // MetalLB seed ("L2&BGP 模式说明", Layer 2), addresses and node renamed to the lab's.
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: demo-pool, namespace: metallb-system, labels: {ipaddresspool: demo}}\nspec: {addresses: ["203.0.113.160/28"], autoAssign: false, avoidBuggyIPs: false}',
    'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: demo, namespace: metallb-system}\nspec: {ipAddressPools: [demo-pool], ipAddressPoolSelectors: [{matchLabels: {ipaddresspool: demo}}], nodeSelectors: [{matchLabels: {kubernetes.io/hostname: node2}}]}',
  ];
}

export function services(opts: { withB: boolean }): string[] {
  return [
    serviceDoc('svc-a', { statusIPs: [BGP_A] }),
    ...(opts.withB ? [serviceDoc('svc-b', { annotations: { 'metallb.io/address-pool': 'bgp-pool' } })] : []),
    serviceDoc('svc-local', { statusIPs: [BGP_LOCAL], local: true }),
    serviceDoc('svc-v6', { statusIPs: [BGP_V6], families: ['IPv6'] }),
    serviceDoc('svc-l2', { statusIPs: [L2_A] }),
    serviceDoc('svc-l2v6', { statusIPs: [L2_V6], families: ['IPv6'] }),
    serviceDoc('porter-layer2-svc', { annotations: { 'lb.kubesphere.io/v1alpha1': 'porter', 'protocol.porter.kubesphere.io/v1alpha1': 'layer2' } }),
    serviceDoc('metallb1-cluster', { annotations: { 'metallb.io/address-pool': 'demo-pool' } }),
  ];
}

