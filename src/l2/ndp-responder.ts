// NDP responder core: one received frame in, a Neighbor Advertisement frame or a named reason to drop
// it out. No I/O. Receive path: Ethernet -> EtherType 0x86dd -> IPv6 -> Next Header ICMPv6 -> checksum
// -> Neighbor Solicitation -> validation (RFC 4861 §7.1.1) -> ownership of the target on this
// interface -> advertisement (RFC 4861 §7.2.4).
import { EtherType, Icmpv6Type, IpProtocol, NDP_HOP_LIMIT, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode } from './errors.ts';
import {
  IPV6_ALL_NODES,
  IPV6_UNSPECIFIED,
  ipv6MulticastMac,
  isIpv6Multicast,
  isMulticastMac,
  solicitedNodeMulticast,
  type MacAddress,
} from './addresses.ts';
import { decodeEthernet, encodeEthernet, type EthernetFrame, type VlanTag } from './ethernet.ts';
import { decodeIpv6, encodeIpv6, type Ipv6Packet } from './ipv6.ts';
import { decodeNdp, encodeNdp, type DecodedNdp } from './icmpv6.ts';
import { neighborAdvertisement } from './neighbor-advertisement.ts';

export const NdpDropReason = {
  malformedEthernet: 'malformedEthernet',
  notIpv6: 'notIpv6',
  /** Unicast to another MAC. */
  notForUs: 'notForUs',
  ownFrame: 'ownFrame',
  malformedIpv6: 'malformedIpv6',
  /** Next Header is not ICMPv6 (extension headers are not followed). */
  notIcmpv6: 'notIcmpv6',
  /** RFC 4861 §7.1.1: IP Hop Limit is not 255, so the packet may have been forwarded. */
  badHopLimit: 'badHopLimit',
  badChecksum: 'badChecksum',
  malformedIcmpv6: 'malformedIcmpv6',
  /** Any ICMPv6 message other than a Neighbor Solicitation. */
  notSolicitation: 'notSolicitation',
  /** RFC 4861 §7.1.1: ICMP Code is not 0. */
  badCode: 'badCode',
  /** RFC 4861 §7.1.1: Target Address is a multicast address. */
  multicastTarget: 'multicastTarget',
  /** RFC 4861 §7.1.1: unspecified source but the destination is not a solicited-node address. */
  dadNotSolicitedNode: 'dadNotSolicitedNode',
  /** RFC 4861 §7.1.1: unspecified source with a Source Link-Layer Address option. */
  dadWithSourceLinkLayer: 'dadWithSourceLinkLayer',
  /** The IPv6 destination is neither the target nor the target's solicited-node group. */
  wrongDestination: 'wrongDestination',
  notOwned: 'notOwned',
} as const;
export type NdpDropReason = (typeof NdpDropReason)[keyof typeof NdpDropReason];

export interface NdpResponderContext {
  readonly mac: MacAddress;
  readonly owns: (ip: string) => boolean;
}

export type NdpVerdict =
  | { readonly kind: 'reply'; readonly vip: string; readonly to: string; readonly frame: Buffer }
  | { readonly kind: 'drop'; readonly reason: NdpDropReason; readonly detail?: string };

function drop(reason: NdpDropReason, detail?: string): NdpVerdict {
  return detail === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, detail };
}

export function respondNdp(raw: Buffer, ctx: NdpResponderContext): NdpVerdict {
  let eth: EthernetFrame;
  try {
    eth = decodeEthernet(raw);
  } catch (e) {
    if (e instanceof L2CodecError) return drop(NdpDropReason.malformedEthernet, e.code);
    throw e;
  }
  if (eth.etherType !== EtherType.ipv6) return drop(NdpDropReason.notIpv6, `0x${eth.etherType.toString(16)}`);
  if (eth.source === ctx.mac) return drop(NdpDropReason.ownFrame);
  if (eth.destination !== ctx.mac && !isMulticastMac(eth.destination)) {
    return drop(NdpDropReason.notForUs, eth.destination);
  }
  // Cheap checks on raw octets first: the socket sees every IPv6 frame the node receives, and most are
  // not ICMPv6 (RFC 8200 §3: version in the first nibble, Next Header at offset 6).
  const p = eth.payload;
  if (p.length >= Size.ipv6Header && p[0] !== undefined && p[0] >> 4 === 6 && p[6] !== IpProtocol.icmpv6) {
    return drop(NdpDropReason.notIcmpv6, String(p[6]));
  }
  let ip: Ipv6Packet;
  try {
    ip = decodeIpv6(eth.payload);
  } catch (e) {
    if (e instanceof L2CodecError) return drop(NdpDropReason.malformedIpv6, e.code);
    throw e;
  }
  const { header } = ip;
  if (header.nextHeader !== IpProtocol.icmpv6) return drop(NdpDropReason.notIcmpv6, String(header.nextHeader));
  // Other ICMPv6 messages (MLD, RA, echo...) are dropped before the checksum is computed.
  if (ip.payload[0] !== Icmpv6Type.neighborSolicitation) return drop(NdpDropReason.notSolicitation, `type ${String(ip.payload[0])}`);
  let decoded: DecodedNdp;
  try {
    decoded = decodeNdp(ip.payload, header);
  } catch (e) {
    if (!(e instanceof L2CodecError)) throw e;
    if (e.code === L2ErrorCode.badChecksum) return drop(NdpDropReason.badChecksum);
    if (e.code === L2ErrorCode.unsupportedIcmpType) return drop(NdpDropReason.notSolicitation, e.message);
    return drop(NdpDropReason.malformedIcmpv6, e.code);
  }
  const ns = decoded.message;
  if (ns.kind !== 'neighborSolicitation') return drop(NdpDropReason.notSolicitation, ns.kind);
  // RFC 4861 §7.1.1 validity checks, in the order the RFC lists them (checksum done by decodeNdp,
  // "ICMP length is 24 or more" by the body decoder, "options have length > 0" by the option decoder).
  if (header.hopLimit !== NDP_HOP_LIMIT) return drop(NdpDropReason.badHopLimit, String(header.hopLimit));
  if (decoded.code !== 0) return drop(NdpDropReason.badCode, String(decoded.code));
  if (isIpv6Multicast(ns.target)) return drop(NdpDropReason.multicastTarget, ns.target);
  const sourceLla = ns.options.find((o) => o.kind === 'sourceLinkLayerAddress');
  const dad = header.source === IPV6_UNSPECIFIED;
  if (dad && header.destination !== solicitedNodeMulticast(ns.target)) {
    return drop(NdpDropReason.dadNotSolicitedNode, header.destination);
  }
  if (dad && sourceLla !== undefined) return drop(NdpDropReason.dadWithSourceLinkLayer);
  if (header.destination !== ns.target && header.destination !== solicitedNodeMulticast(ns.target)) {
    return drop(NdpDropReason.wrongDestination, header.destination);
  }
  if (!ctx.owns(ns.target)) return drop(NdpDropReason.notOwned, ns.target);

  // RFC 4861 §7.2.4: unspecified source -> multicast to all-nodes with Solicited clear; otherwise unicast
  // to the solicitor with Solicited set. Override is set so a stale entry on the client (pointing to the
  // previous owner) is replaced (§7.2.5). The Ethernet destination is the solicitor's SLLA, or the frame
  // source when a unicast solicitation omitted it (§7.2.4 "MAY be omitted").
  // The IPv6 source is the target itself. RFC 4861 §7.2.4 asks for "an address assigned to the
  // interface"; the VIP is the address this node answers for, and it is what Linux sends for its own
  // addresses (byte-identical to the kernel's NA, see the unit test). Tools such as ndisc6 only accept
  // an NA whose source is the target: one sourced from the link-local address is ignored by them.
  const to = dad ? IPV6_ALL_NODES : header.source;
  const linkDestination = dad ? ipv6MulticastMac(IPV6_ALL_NODES) : (sourceLla?.address ?? eth.source);
  const frame = buildAdvertisement({
    mac: ctx.mac,
    source: ns.target,
    destination: to,
    linkDestination,
    target: ns.target,
    solicited: !dad,
    vlan: eth.vlan,
  });
  return { kind: 'reply', vip: ns.target, to, frame };
}

export interface AdvertisementSpec {
  readonly mac: MacAddress;
  readonly source: string;
  readonly destination: string;
  readonly linkDestination: MacAddress;
  readonly target: string;
  readonly solicited: boolean;
  readonly vlan: VlanTag | undefined;
}

/** A complete Ethernet frame holding a Neighbor Advertisement with Override set and our Target LLA. */
export function buildAdvertisement(s: AdvertisementSpec): Buffer {
  const pseudo = { source: s.source, destination: s.destination };
  const icmp = encodeNdp(
    neighborAdvertisement({
      router: false,
      solicited: s.solicited,
      override: true,
      target: s.target,
      options: [{ kind: 'targetLinkLayerAddress', address: s.mac }],
    }),
    pseudo,
  );
  const packet = encodeIpv6({
    header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: NDP_HOP_LIMIT, ...pseudo },
    payload: icmp,
  });
  return encodeEthernet({
    destination: s.linkDestination,
    source: s.mac,
    ...(s.vlan === undefined ? {} : { vlan: s.vlan }),
    etherType: EtherType.ipv6,
    payload: packet,
  });
}
