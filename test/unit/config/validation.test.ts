// Every validation rule of both dialects, as a scenario table: manifests in, exact problems out.
// A row with no expected problems is a valid configuration that must stay valid.
import { test } from 'node:test';
import { assertProblems, compileYaml, PEER, POOL, type ExpectedProblem } from './helpers.ts';

interface Row {
  readonly name: string;
  readonly yaml: string;
  readonly problems: readonly ExpectedProblem[];
}

const rows: readonly Row[] = [
  // ---- IPAddressPool (MetalLB api/v1beta1/ipaddresspool_types.go)
  { name: 'pool: CIDR, range and IPv6 CIDR are valid', yaml: POOL('p', '192.0.2.0/24, 198.51.100.1-198.51.100.5, "2001:db8::/124"'), problems: [] },
  { name: 'pool: host bits set is accepted (normalised)', yaml: POOL('p', '192.0.2.10/24'), problems: [] },
  { name: 'pool: empty addresses', yaml: POOL('p', ''), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses', includes: 'no addresses' }] },
  { name: 'pool: bad CIDR', yaml: POOL('p', '192.0.2.0/33'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', includes: 'prefix length' }] },
  { name: 'pool: reversed range', yaml: POOL('p', '192.0.2.9-192.0.2.1'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', includes: 'start is after end' }] },
  { name: 'pool: mixed-family range', yaml: POOL('p', '"192.0.2.1-2001:db8::1"'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', includes: 'same IP family' }] },
  { name: 'pool: bare IP is rejected with the fix', yaml: POOL('p', '192.0.2.7'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[0]', includes: '192.0.2.7/32' }] },
  { name: 'pool: overlap inside one pool', yaml: POOL('p', '192.0.2.0/24, 192.0.2.10-192.0.2.20'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.addresses[1]', includes: 'of the same pool' }] },
  {
    name: 'pool: overlap across pools rejects the later one',
    yaml: POOL('a', '192.0.2.0/24') + POOL('b', '192.0.2.128/25'),
    problems: [{ kind: 'IPAddressPool', name: 'b', field: 'spec.addresses[0]', includes: 'of IPAddressPool metallb-system/a' }],
  },
  { name: 'pool: adjacent pools do not overlap', yaml: POOL('a', '192.0.2.0/25') + POOL('b', '192.0.2.128/25'), problems: [] },
  { name: 'pool: autoAssign must be a boolean', yaml: POOL('p', '192.0.2.0/24', '  autoAssign: "no"'), problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.autoAssign', includes: 'true or false' }] },
  {
    name: 'pool: duplicate serviceAllocation namespaces',
    yaml: POOL('p', '192.0.2.0/24', '  serviceAllocation: {namespaces: [a, a]}'),
    problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaces[1]', includes: 'duplicate' }],
  },
  {
    name: 'pool: duplicate serviceSelectors',
    yaml: POOL('p', '192.0.2.0/24', '  serviceAllocation: {serviceSelectors: [{matchLabels: {a: b}}, {matchLabels: {a: b}}]}'),
    problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.serviceSelectors[1]', includes: 'duplicate selector' }],
  },
  {
    name: 'pool: selector operator In needs values',
    yaml: POOL('p', '192.0.2.0/24', '  serviceAllocation: {namespaceSelectors: [{matchExpressions: [{key: a, operator: In}]}]}'),
    problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].values', includes: 'at least one value' }],
  },
  {
    name: 'pool: unknown selector operator',
    yaml: POOL('p', '192.0.2.0/24', '  serviceAllocation: {namespaceSelectors: [{matchExpressions: [{key: a, operator: Equals, values: [x]}]}]}'),
    problems: [{ kind: 'IPAddressPool', name: 'p', field: 'spec.serviceAllocation.namespaceSelectors[0].matchExpressions[0].operator', includes: 'must be one of' }],
  },
  {
    name: 'pool: name shared with an Eip',
    yaml: POOL('same', '192.0.2.0/24') + `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: same}
spec: {address: 198.51.100.0/24}`,
    problems: [{ kind: 'Eip', name: 'same', field: 'metadata.name', includes: 'must be unique' }],
  },

  // ---- L2Advertisement (§1.2)
  {
    name: 'l2: unknown pool reference',
    yaml: POOL('p', '192.0.2.0/24') + `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [p, nope]}`,
    problems: [{ kind: 'L2Advertisement', name: 'l2', field: 'spec.ipAddressPools[1]', includes: '"nope"' }],
  },
  {
    name: 'l2: duplicate pool names and interfaces',
    yaml: POOL('p', '192.0.2.0/24') + `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [p, p], interfaces: [eth0, eth0]}`,
    problems: [
      { kind: 'L2Advertisement', name: 'l2', field: 'spec.ipAddressPools[1]', includes: 'duplicate' },
      { kind: 'L2Advertisement', name: 'l2', field: 'spec.interfaces[1]', includes: 'duplicate' },
    ],
  },
  {
    name: 'l2: preferredNodeSelectors weight 1..100 and required',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec:
  preferredNodeSelectors:
  - {weight: 0, preference: {matchLabels: {a: b}}}
  - {preference: {matchLabels: {a: c}}}
  - {weight: 100}`,
    problems: [
      { kind: 'L2Advertisement', name: 'l2', field: 'spec.preferredNodeSelectors[0].weight', includes: 'minimum 1' },
      { kind: 'L2Advertisement', name: 'l2', field: 'spec.preferredNodeSelectors[1].weight', includes: 'required' },
    ],
  },

  // ---- BGPAdvertisement (§1.3, §5.3)
  {
    name: 'bgpadv: aggregationLength shorter than a /32 pool',
    yaml: POOL('p', '198.51.100.10/32') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', includes: 'use at least 32' }],
  },
  {
    name: 'bgpadv: aggregationLength equal to the pool mask is fine',
    yaml: POOL('p', '198.51.100.0/24') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24}`,
    problems: [],
  },
  {
    name: 'bgpadv: a range uses its largest summarised CIDR (.0-.255 is a /24)',
    yaml: POOL('p', '198.51.100.0-198.51.100.255') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24}`,
    problems: [],
  },
  {
    name: 'bgpadv: a range .10-.20 summarises to at most a /29: 24 is too short',
    yaml: POOL('p', '198.51.100.10-198.51.100.20') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 24}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', includes: '/30' }],
  },
  {
    name: 'bgpadv: aggregationLengthV6 against an IPv6 pool',
    yaml: POOL('p', '"2001:db8::/124"') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLengthV6: 64}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLengthV6', includes: 'use at least 124' }],
  },
  {
    name: 'bgpadv: aggregationLength range 1..32',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {aggregationLength: 0, aggregationLengthV6: 129}`,
    problems: [
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLength', includes: 'minimum 1' },
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.aggregationLengthV6', includes: 'maximum 128' },
    ],
  },
  {
    name: 'bgpadv: serviceSelectors only with 32/128 (CEL rule)',
    yaml: POOL('p', '198.51.100.0/24') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], aggregationLength: 28, serviceSelectors: [{matchLabels: {app: web}}]}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'a', field: 'spec.serviceSelectors', includes: 'aggregationLength 32' }],
  },
  {
    name: 'bgpadv: bad community strings',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {communities: ["65536:1", "1:2:3", "large:1:2:4294967296", "nope"]}`,
    problems: [
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[0]', includes: 'each part 0..65535' },
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[1]', includes: 'AA:NN' },
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[2]', includes: 'large:GLOBAL' },
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[3]', includes: 'alias' },
    ],
  },
  {
    name: 'bgpadv: aliases, well-known names and literals resolve',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c, namespace: metallb-system}
spec: {communities: [{name: internal, value: "65535:65282"}, {name: big, value: "large:64500:1:2"}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {communities: [internal, big, no-export, "64500:7"]}`,
    problems: [],
  },
  {
    name: 'bgpadv: duplicate communities',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {communities: ["64500:1", "64500:1"], peers: [x, x]}`,
    problems: [
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.communities[1]', includes: 'duplicate' },
      { kind: 'BGPAdvertisement', name: 'a', field: 'spec.peers[1]', includes: 'duplicate' },
    ],
  },
  {
    name: 'bgpadv: identical advertisements',
    yaml: POOL('p', '198.51.100.0/24') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: b, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'b', field: 'spec', includes: 'identical to BGPAdvertisement metallb-system/a' }],
  },
  {
    name: 'bgpadv: different localPref for the same pool, peers and nodes',
    yaml: POOL('p', '198.51.100.0/24') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: b, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 200, communities: ["64500:1"]}`,
    problems: [{ kind: 'BGPAdvertisement', name: 'b', field: 'spec.localPref', includes: 'differs from 100' }],
  },
  {
    name: 'bgpadv: different localPref is fine with disjoint peers, nodes or aggregation',
    yaml: POOL('p', '198.51.100.0/24') + `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 100, peers: [r1]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: b, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 200, peers: [r2]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: c, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 300, aggregationLength: 24}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: d, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 400, nodeSelectors: [{matchLabels: {rack: a}}], peers: [r3]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: e, namespace: metallb-system}
spec: {ipAddressPools: [p], localPref: 500, nodeSelectors: [{matchLabels: {rack: b}}], peers: [r3]}`,
    problems: [],
  },

  // ---- Community (§1.7)
  {
    name: 'community: duplicate alias across objects, bad value',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c1, namespace: metallb-system}
spec: {communities: [{name: x, value: "1:1"}]}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c2, namespace: metallb-system}
spec: {communities: [{name: x, value: "1:2"}]}
---
apiVersion: metallb.io/v1beta1
kind: Community
metadata: {name: c3, namespace: metallb-system}
spec: {communities: [{name: y, value: "large:1"}]}`,
    problems: [
      { kind: 'Community', name: 'c2', field: 'spec.communities[0].name', includes: 'already defined by Community metallb-system/c1' },
      { kind: 'Community', name: 'c3', field: 'spec.communities[0].value', includes: 'invalid large community' },
    ],
  },

  // ---- BFDProfile (§1.6)
  {
    name: 'bfd: ranges',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: b, namespace: metallb-system}
spec: {receiveInterval: 5, transmitInterval: 60001, detectMultiplier: 1, minimumTtl: 255}`,
    problems: [
      { kind: 'BFDProfile', name: 'b', field: 'spec.receiveInterval', includes: 'minimum 10' },
      { kind: 'BFDProfile', name: 'b', field: 'spec.transmitInterval', includes: 'maximum 60000' },
      { kind: 'BFDProfile', name: 'b', field: 'spec.detectMultiplier', includes: 'minimum 2' },
      { kind: 'BFDProfile', name: 'b', field: 'spec.minimumTtl', includes: 'maximum 254' },
    ],
  },

  // ---- BGPPeer v1beta2 (§1.4) and v1beta1 (§1.5)
  { name: 'peer: minimal valid', yaml: PEER('r', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1}'), problems: [] },
  { name: 'peer: missing myASN', yaml: PEER('r', '  {peerASN: 64501, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.myASN', includes: 'missing local ASN' }] },
  { name: 'peer: myASN 0', yaml: PEER('r', '  {myASN: 0, peerASN: 64501, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.myASN', includes: 'missing local ASN' }] },
  { name: 'peer: ASN above 32 bits', yaml: PEER('r', '  {myASN: 4294967296, peerASN: 1, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.myASN', includes: 'maximum 4294967295' }] },
  { name: 'peer: neither peerASN nor dynamicASN', yaml: PEER('r', '  {myASN: 64500, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.peerASN', includes: 'missing peer ASN' }] },
  { name: 'peer: both peerASN and dynamicASN', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, dynamicASN: external, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.dynamicASN', includes: 'not both' }] },
  { name: 'peer: dynamicASN enum', yaml: PEER('r', '  {myASN: 64500, dynamicASN: outside, peerAddress: 192.0.2.1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.dynamicASN', includes: 'internal or external' }] },
  { name: 'peer: dynamicASN alone is valid', yaml: PEER('r', '  {myASN: 64500, dynamicASN: internal, peerAddress: 192.0.2.1}'), problems: [] },
  { name: 'peer: neither address nor interface', yaml: PEER('r', '  {myASN: 64500, peerASN: 1}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress', includes: 'missing peer address' }] },
  { name: 'peer: both address and interface', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, interface: eth0}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.interface', includes: 'not both' }] },
  { name: 'peer: interface alone (unnumbered) is valid', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, interface: eth0}'), problems: [] },
  { name: 'peer: bad peerAddress', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.300}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.peerAddress', includes: 'invalid IP' }] },
  { name: 'peer: bad sourceAddress', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, sourceAddress: nope}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.sourceAddress', includes: 'invalid IP' }] },
  { name: 'peer: sourceAddress of the other family', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, sourceAddress: "2001:db8::1"}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.sourceAddress', includes: 'different IP families' }] },
  { name: 'peer: routerID must be IPv4', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, routerID: "2001:db8::1"}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.routerID', includes: '4 octets' }] },
  { name: 'peer: port 0 in v1beta2', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, peerPort: 0}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.peerPort', includes: 'minimum 1' }] },
  { name: 'peer: port above 16384', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, peerPort: 16385}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.peerPort', includes: 'maximum 16384' }] },
  { name: 'peer: hold time 0 is valid', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 0s}'), problems: [] },
  { name: 'peer: hold time 3s is valid', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 3s}'), problems: [] },
  { name: 'peer: hold time 2s', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 2s}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', includes: 'at least 3s' }] },
  { name: 'peer: hold 2.4s rounds to 2s', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 2400ms}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', includes: 'at least 3s' }] },
  { name: 'peer: keepalive above hold', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 30s, keepaliveTime: 31s}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.keepaliveTime', includes: 'at most the hold time' }] },
  { name: 'peer: keepalive with hold 0', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: 0s, keepaliveTime: 10s}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.keepaliveTime', includes: 'at most the hold time' }] },
  { name: 'peer: bad duration text', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, holdTime: "90 seconds"}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.holdTime', includes: 'not a duration' }] },
  { name: 'peer: connectTime whole seconds', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, connectTime: 1500ms}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.connectTime', includes: 'whole seconds' }] },
  { name: 'peer: connectTime above 65535s', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, connectTime: 20h}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.connectTime', includes: '65535s' }] },
  { name: 'peer: ebgpMultiHop on iBGP', yaml: PEER('r', '  {myASN: 64500, peerASN: 64500, peerAddress: 192.0.2.1, ebgpMultiHop: true}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.ebgpMultiHop', includes: 'ibgp peer' }] },
  { name: 'peer: ebgpMultiHop on eBGP is valid', yaml: PEER('r', '  {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, ebgpMultiHop: true}'), problems: [] },
  {
    name: 'peer: password and passwordSecret together',
    yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, password: x, passwordSecret: {name: s}}'),
    problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret', includes: 'not both' }],
  },
  {
    name: 'peer: passwordSecret missing',
    yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, passwordSecret: {name: s}}'),
    problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret', includes: 'Secret metallb-system/s not found' }],
  },
  {
    name: 'peer: passwordSecret of the wrong type',
    yaml:
      PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, passwordSecret: {name: s}}') +
      `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: metallb-system}
type: Opaque
stringData: {password: x}`,
    problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret', includes: 'must be kubernetes.io/basic-auth' }],
  },
  {
    name: 'peer: passwordSecret without a password key',
    yaml:
      PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, passwordSecret: {name: s}}') +
      `
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: metallb-system}
type: kubernetes.io/basic-auth
data: {username: eA==}`,
    problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.passwordSecret', includes: 'no "password" key' }],
  },
  { name: 'peer: unknown bfdProfile', yaml: PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, bfdProfile: fast}'), problems: [{ kind: 'BGPPeer', name: 'r', field: 'spec.bfdProfile', includes: '"fast"' }] },
  {
    name: 'BFDProfile: echo mode is a problem on spec.echoMode',
    yaml:
      POOL('v6', '"2001:db8::/120"') +
      `
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: a, namespace: metallb-system}
spec: {ipAddressPools: [v6]}
---
apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: {name: echo, namespace: metallb-system}
spec: {echoMode: true}
---` +
      PEER('r', '  {myASN: 64500, peerASN: 1, peerAddress: "2001:db8:1::1", bfdProfile: echo}'),
    // berth has no Echo function: the profile itself is rejected on spec.echoMode, and the peer naming it.
    problems: [
      { kind: 'BFDProfile', name: 'echo', field: 'spec.echoMode', includes: 'echo mode is not implemented' },
      { kind: 'BGPPeer', name: 'r', field: 'spec.bfdProfile', includes: 'no valid BFDProfile named "echo"' },
    ],
  },
  {
    name: 'peer: two peers to the same address from the same nodes',
    yaml: PEER('a', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1}') + PEER('b', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1}'),
    problems: [{ kind: 'BGPPeer', name: 'b', field: 'spec.nodeSelectors', includes: 'already opens a session to 192.0.2.1' }],
  },
  {
    name: 'peer: same address from disjoint nodes is valid',
    yaml:
      PEER('a', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, nodeSelectors: [{matchLabels: {rack: a}}]}') +
      PEER('b', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, nodeSelectors: [{matchLabels: {rack: b}}]}'),
    problems: [],
  },
  {
    name: 'peer v1beta1: v1beta2-only field',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: old, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1, vrf: red}`,
    problems: [{ kind: 'BGPPeer', name: 'old', field: 'spec.vrf', includes: 'metallb.io/v1beta2' }],
  },
  {
    name: 'peer v1beta1: port 0 means 179, legacy selector operators',
    yaml: `
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: old, namespace: metallb-system}
spec:
  myASN: 64500
  peerASN: 1
  peerAddress: 192.0.2.1
  peerPort: 0
  nodeSelectors: [{matchExpressions: [{key: rack, operator: in, values: [a]}]}]`,
    problems: [],
  },

  // ---- OpenELB Eip (OpenELB api/v1alpha2/eip_types.go)
  { name: 'eip: single IP, CIDR, range', yaml: eip('a', '{address: 192.0.2.1}') + eip('b', '{address: 198.51.100.0/24}') + eip('c', '{address: 203.0.113.1-203.0.113.9}'), problems: [] },
  { name: 'eip: address required', yaml: eip('a', '{protocol: bgp}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.address', includes: 'required' }] },
  { name: 'eip: bad address', yaml: eip('a', '{address: 192.0.2.1-192.0.2}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.address', includes: 'invalid' }] },
  {
    name: 'eip: overlap between Eips',
    yaml: eip('a', '{address: 192.0.2.0/24}') + eip('b', '{address: 192.0.2.10-192.0.2.20}'),
    problems: [{ kind: 'Eip', name: 'b', field: 'spec.address', includes: 'of Eip a' }],
  },
  { name: 'eip: protocol enum', yaml: eip('a', '{address: 192.0.2.1, protocol: ospf}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.protocol', includes: 'bgp or layer2' }] },
  { name: 'eip: vip is not supported', yaml: eip('a', '{address: 192.0.2.1, protocol: vip, interface: eth0}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.protocol', includes: 'not supported' }] },
  { name: 'eip: layer2 without an interface is valid (the NIC is found per node)', yaml: eip('a', '{address: 192.0.2.1, protocol: layer2}'), problems: [] },
  { name: 'eip: can_reach form', yaml: eip('a', '{address: 192.0.2.1, protocol: layer2, interface: "can_reach:192.0.2.254"}'), problems: [] },
  { name: 'eip: can_reach with a bad IP', yaml: eip('a', '{address: 192.0.2.1, protocol: layer2, interface: "can_reach:gateway"}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.interface', includes: 'can_reach' }] },
  { name: 'eip: other x:y interface forms', yaml: eip('a', '{address: 192.0.2.1, protocol: layer2, interface: "mac:aa"}'), problems: [{ kind: 'Eip', name: 'a', field: 'spec.interface', includes: 'only the can_reach' }] },
  {
    name: 'eip: two default Eips',
    yaml: eip('a', '{address: 192.0.2.1}', true) + eip('b', '{address: 192.0.2.2}', true),
    problems: [{ kind: 'Eip', name: 'b', includes: 'already the default Eip' }],
  },
  {
    name: 'eip: overlaps a MetalLB pool',
    yaml: POOL('p', '192.0.2.0/24') + eip('a', '{address: 192.0.2.9}'),
    problems: [{ kind: 'Eip', name: 'a', field: 'spec.address', includes: 'of IPAddressPool metallb-system/p' }],
  },

  // ---- OpenELB BgpConf / BgpPeer (§1.2, §1.3)
  { name: 'bgpconf: must be named default', yaml: bgpConf('main', '{as: 64500}'), problems: [{ kind: 'BgpConf', name: 'main', field: 'metadata.name', includes: 'named "default"' }] },
  { name: 'bgpconf: as required', yaml: bgpConf('default', '{routerId: 192.0.2.1}'), problems: [{ kind: 'BgpConf', name: 'default', field: 'spec.as', includes: 'required' }] },
  { name: 'bgpconf: routerId IPv4', yaml: bgpConf('default', '{as: 64500, routerId: "2001:db8::1"}'), problems: [{ kind: 'BgpConf', name: 'default', field: 'spec.routerId', includes: '4 octets' }] },
  { name: 'bgpconf: listenPort -1 is valid', yaml: bgpConf('default', '{as: 64500, listenPort: -1}'), problems: [] },
  { name: 'bgpconf: policy ConfigMaps unsupported', yaml: bgpConf('default', '{as: 64500, policy: my-policy}'), problems: [{ kind: 'BgpConf', name: 'default', field: 'spec.policy', includes: 'not supported' }] },
  {
    name: 'openelb peer: needs BgpConf default',
    yaml: oPeer('leaf', '{conf: {peerAs: 65001, neighborAddress: 192.0.2.1}}'),
    problems: [{ kind: 'BgpPeer', name: 'leaf', includes: 'no valid BgpConf named "default"' }],
  },
  {
    name: 'openelb peer: peerAs and address required, timers, port, ttl',
    yaml:
      bgpConf('default', '{as: 64500}') +
      oPeer('leaf', '{conf: {}, timers: {config: {holdTime: "2", keepaliveInterval: x}}, transport: {remotePort: 70000}, ebgpMultihop: {enabled: true, multihopTtl: 300}}'),
    problems: [
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.conf.peerAs', includes: 'required' },
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.conf.neighborAddress', includes: 'required' },
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.timers.config.keepaliveInterval', includes: 'whole number' },
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.timers.config.holdTime', includes: 'at least 3s' },
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.transport.remotePort', includes: 'maximum 65535' },
      { kind: 'BgpPeer', name: 'leaf', field: 'spec.ebgpMultihop.multihopTtl', includes: 'maximum 255' },
    ],
  },
  {
    name: 'openelb peer: GoBGP vrf is rejected',
    yaml: bgpConf('default', '{as: 64500}') + oPeer('leaf', '{conf: {peerAs: 65001, neighborAddress: 192.0.2.1, vrf: blue}}'),
    problems: [{ kind: 'BgpPeer', name: 'leaf', field: 'spec.conf.vrf', includes: 'not supported' }],
  },
  {
    name: 'openelb peer: name clash with a MetalLB BGPPeer',
    yaml: bgpConf('default', '{as: 64500}') + PEER('leaf', '  {myASN: 64500, peerASN: 1, peerAddress: 192.0.2.1}') + oPeer('leaf', '{conf: {peerAs: 65001, neighborAddress: 192.0.2.2}}'),
    problems: [{ kind: 'BgpPeer', name: 'leaf', field: 'metadata.name', includes: 'already used by BGPPeer metallb-system/leaf' }],
  },
];

function eip(name: string, spec: string, isDefault = false): string {
  return `
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata:
  name: ${name}
${isDefault ? '  annotations: {eip.openelb.kubesphere.io/is-default-eip: "true"}' : ''}
spec: ${spec}
---`;
}

function bgpConf(name: string, spec: string): string {
  return `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpConf
metadata: {name: ${name}}
spec: ${spec}
---`;
}

function oPeer(name: string, spec: string): string {
  return `
apiVersion: network.kubesphere.io/v1alpha2
kind: BgpPeer
metadata: {name: ${name}}
spec: ${spec}
---`;
}

for (const row of rows) {
  test(`validation: ${row.name}`, () => {
    const { problems } = compileYaml(row.yaml);
    assertProblems(problems, row.problems);
  });
}
