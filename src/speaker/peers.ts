// The BGP sessions one node opens: configured peers (both dialects, already compiled) whose
// nodeSelectors select the node, mapped onto src/bgp's PeerSpec. Pure.
//
//   local AS      localASN (MetalLB localASN / OpenELB conf.localAs) > asPerRack[node's rack label]
//                 (OpenELB BgpConf) > myASN
//   BGP Identifier  the node's own IPv4 InternalIP by default. A configured routerID is honoured only
//                 when it cannot be shared: it is one of this node's addresses, or the peer selects no
//                 other node. Otherwise every selected node would present the same identifier (the
//                 OpenELB 0.6 DaemonSet defect: BgpConf routerId, api/v1alpha2/bgpconf_types.go, is copied to every node's speaker), which an iBGP router
//                 must reject (RFC 4271 §6.2 "Bad BGP Identifier" only covers its own id, but RFC 6286
//                 §2.1 requires uniqueness within the AS), so the node's own address is used and a
//                 note says why. A rack ASN also forces the node address (OpenELB asPerRack).
//   password      inline or resolved Secret (RFC 2385 TCP MD5)
//   passive       OpenELB transport.passiveMode (RFC 4271 §8.1.1 PassiveTcpEstablishment)
//   families      the peer address's family; both with dualStackAddressFamily
//   bfd           the BGPPeer's bfdProfile (MetalLB BFDProfile), run by src/bgp/bfd
//   vrf           MetalLB FRR mode's `vrf`: the session's socket is bound to the VRF device
//                 (SO_BINDTODEVICE on the VRF master), so the kernel routes it by the VRF's table and picks
//                 the source address from the VRF's interfaces; the next hop announced is that address
//                 (src/bgp/speaker.ts takes next hops from the session's local address and its interface).
// Skipped, with a note: adminDown peers. Interface (unnumbered) peers: `interface` set, peerAddress
// filled in by src/bgp/unnumbered.ts from the neighbour's Router Advertisements.
import type { BfdProfileConfig, BgpPeerConfig } from '../config/model.ts';
import { describeRef } from '../config/problems.ts';
import { matchesAny } from '../labels/selector.ts';
import type { PeerBfd, PeerSpec } from '../bgp/peer.ts';
import { firstIPv4, RACK_LABEL, type NodeFacts } from './nodes.ts';

export interface PlannedPeer {
  readonly spec: PeerSpec;
  /** The BGPPeer / BgpPeer the session comes from, for logs and status. */
  readonly source: string;
}

export interface PeerNote {
  readonly peer: string;
  readonly message: string;
}

export interface PeerPlan {
  readonly peers: readonly PlannedPeer[];
  readonly notes: readonly PeerNote[];
}

export function selectsNode(peer: BgpPeerConfig, node: NodeFacts): boolean {
  return matchesAny(peer.nodeSelectors, node.labels);
}

export function planPeers(peers: readonly BgpPeerConfig[], node: NodeFacts, allNodes: readonly NodeFacts[], bfdProfiles: readonly BfdProfileConfig[] = []): PeerPlan {
  const out: PlannedPeer[] = [];
  const notes: PeerNote[] = [];
  for (const p of [...peers].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!selectsNode(p, node)) continue;
    const note = (message: string): void => {
      notes.push({ peer: p.name, message });
    };
    if (p.adminDown) {
      note('adminDown: no session');
      continue;
    }
    if (p.peerAddress === undefined && p.interface === undefined) {
      note('neither peerAddress nor interface: no session');
      continue;
    }
    const bfd = p.bfdProfile === undefined ? undefined : bfdOf(p.bfdProfile, bfdProfiles);
    // Compile guarantees the profile exists; a snapshot without it must not silently drop BFD.
    if (p.bfdProfile !== undefined && bfd === undefined) note(`bfdProfile "${p.bfdProfile}" not found: the session runs without BFD`);

    const rack = node.labels[RACK_LABEL];
    const rackAsn = rack === undefined ? undefined : p.myASNPerRack[rack];
    const myAsn = p.localASN ?? rackAsn ?? p.myASN;
    const routerId = chooseRouterId(p, node, { allNodes, rack: rackAsn !== undefined, note });
    const password = p.password.kind === 'none' ? undefined : p.password.password;
    const spec: PeerSpec = {
      name: p.name,
      myAsn,
      ...(p.peerASN.kind === 'asn' ? { peerAsn: p.peerASN.asn } : { dynamicAsn: p.peerASN.type }),
      // An interface peer's address is its link-local neighbour, learned from its Router Advertisements
      // by src/bgp/unnumbered.ts before the spec reaches the speaker.
      peerAddress: p.peerAddress ?? '',
      ...(p.interface !== undefined ? { interface: p.interface } : {}),
      ...(p.peerPort !== 179 ? { peerPort: p.peerPort } : {}),
      ...(p.sourceAddress !== undefined ? { sourceAddress: p.sourceAddress } : {}),
      ...(p.holdTime !== undefined ? { holdTimeSec: p.holdTime } : {}),
      ...(p.keepaliveTime !== undefined ? { keepaliveTimeSec: p.keepaliveTime } : {}),
      ...(p.connectTime !== undefined ? { connectTimeSec: p.connectTime } : {}),
      ...(routerId !== undefined ? { routerId } : {}),
      ...(password !== undefined && password !== '' ? { password } : {}),
      ...(p.ebgpMultiHop ? { ebgpMultiHop: true } : {}),
      ...(p.enableGracefulRestart ? { enableGracefulRestart: true } : {}),
      ...(p.dualStackAddressFamily ? { dualStackAddressFamily: true } : {}),
      ...(p.passive ? { passive: true } : {}),
      ...(p.vrf !== undefined ? { bindDevice: p.vrf } : {}),
      ...(bfd !== undefined ? { bfd } : {}),
    };
    out.push({ spec, source: describeRef(p.source) });
  }
  return { peers: out, notes };
}

function bfdOf(name: string, profiles: readonly BfdProfileConfig[]): PeerBfd | undefined {
  const b = profiles.find((x) => x.name === name);
  if (b === undefined) return undefined;
  return {
    profile: b.name,
    receiveIntervalMs: b.receiveInterval,
    transmitIntervalMs: b.transmitInterval,
    detectMultiplier: b.detectMultiplier,
    passive: b.passiveMode,
    minimumTtl: b.minimumTtl,
  };
}

interface RouterIdContext {
  readonly allNodes: readonly NodeFacts[];
  /** The local AS came from asPerRack: OpenELB then forces the node's own identifier. */
  readonly rack: boolean;
  readonly note: (message: string) => void;
}

function chooseRouterId(p: BgpPeerConfig, node: NodeFacts, ctx: RouterIdContext): string | undefined {
  const { allNodes, rack, note } = ctx;
  const own = firstIPv4(node);
  const configured = p.routerID;
  if (configured === undefined) return own;
  if (rack) {
    if (configured !== own) note(`routerID ${configured} replaced by the node address ${own ?? '(none)'}: asPerRack forces the node's own identifier`);
    return own;
  }
  if (node.internalIPs.includes(configured)) return configured;
  const sharing = allNodes.filter((n) => n.name !== node.name && selectsNode(p, n)).map((n) => n.name);
  if (sharing.length === 0) return configured;
  note(
    `routerID ${configured} would be shared with ${sharing.length} other node${sharing.length === 1 ? '' : 's'} (${sharing.slice(0, 3).join(', ')}${sharing.length > 3 ? ', ...' : ''}): using this node's own ${own ?? 'session address'} instead; narrow the peer's nodeSelectors to one node to pin an identifier`,
  );
  return own;
}
