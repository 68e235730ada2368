// NDP responder core: one received frame in, a Neighbor Advertisement frame or a named reason to drop
// it out. No I/O. Receive path: Ethernet -> EtherType 0x86dd -> IPv6 -> Next Header ICMPv6 -> checksum
// -> Neighbor Solicitation -> validation (RFC 4861 §7.1.1) -> ownership of the target on this
// interface -> advertisement (RFC 4861 §7.2.4).
//
// As in arp-responder.ts there are two implementations of the same rules: respondNdp reads the frame's
// bytes in place and writes the advertisement into a reused buffer; whatever it does not fully
// understand (truncated or malformed headers and options, a checksum that does not verify, a
// non-canonical MAC in the context) goes to respondNdpDecoded, the codec-based reference. A property
// test checks both give the same verdict on any frame.
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
import { formatIpv6 } from '../net/ip.ts';
import { NdpOptionType } from './constants.ts';
import { bytesEqualAt, canonicalMacBytes, copyBytes, icmpv6ChecksumAt, isZeroAt, rangesEqual, scratchView, type ReplyScratch } from './frame-bytes.ts';

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

const ETH = Size.ethernetHeader;
const TAG = Size.vlanTag;
const IP6 = Size.ipv6Header;
const NS_LEN = Size.icmpv6Header + Size.ndpNeighborBody; // 24: type..target
const NA_LEN = NS_LEN + Size.ndpOptionUnit; // 32: with the Target Link-Layer Address option
// ff02::1:ff00:0/104 (RFC 4291 §2.7.1): the first 13 octets of every solicited-node group.
const SOLICITED_PREFIX = Buffer.from('ff0200000000000000000001ff', 'hex');
const ALL_NODES = Buffer.from('ff020000000000000000000000000001', 'hex');
const ALL_NODES_MAC = Buffer.from('333300000001', 'hex');

/** ip[a..a+16) is the solicited-node group of the address at t (both inside `buf`). */
function isSolicitedNodeOf(buf: Uint8Array, a: number, t: number): boolean {
  return bytesEqualAt(buf, a, SOLICITED_PREFIX) && rangesEqual(buf, a + 13, t + 13, 3);
}

/**
 * The verdict for one received frame. `scratch` (optional): the advertisement is written into it
 * instead of a new Buffer.
 */
export function respondNdp(raw: Buffer, ctx: NdpResponderContext, scratch?: ReplyScratch): NdpVerdict {
  const mac = canonicalMacBytes(ctx.mac);
  if (mac === undefined || raw.length < ETH) return respondNdpDecoded(raw, ctx);
  let type = (raw[12] ?? 0) * 256 + (raw[13] ?? 0);
  let ip = ETH; // start of the IPv6 header
  if (type === EtherType.vlan) {
    if (raw.length < ETH + TAG) return respondNdpDecoded(raw, ctx);
    type = (raw[16] ?? 0) * 256 + (raw[17] ?? 0);
    ip = ETH + TAG;
  }
  if (type !== EtherType.ipv6) return drop(NdpDropReason.notIpv6, `0x${type.toString(16)}`);
  if (bytesEqualAt(raw, 6, mac)) return drop(NdpDropReason.ownFrame);
  // Unicast to another MAC: the decoding path names it.
  if (((raw[0] ?? 0) & 0x01) === 0 && !bytesEqualAt(raw, 0, mac)) return respondNdpDecoded(raw, ctx);
  if (raw.length < ip + IP6 || (raw[ip] ?? 0) >> 4 !== 6) return respondNdpDecoded(raw, ctx);
  const nextHeader = raw[ip + 6] ?? 0;
  if (nextHeader !== IpProtocol.icmpv6) return drop(NdpDropReason.notIcmpv6, String(nextHeader));
  const plen = (raw[ip + 4] ?? 0) * 256 + (raw[ip + 5] ?? 0);
  const icmp = ip + IP6;
  if (plen < NS_LEN || raw.length < icmp + plen) return respondNdpDecoded(raw, ctx);
  if (raw[icmp] !== Icmpv6Type.neighborSolicitation) return respondNdpDecoded(raw, ctx);
  const src = ip + 8;
  const dst = ip + 24;
  if (icmpv6ChecksumAt(raw, src, dst, icmp, plen) !== 0) return respondNdpDecoded(raw, ctx);
  // Options (RFC 4861 §4.6): every length > 0 and inside the message; link-layer ones exactly one
  // unit on Ethernet (RFC 2464 §8). The first Source Link-Layer Address option is the one used.
  let slla = -1;
  for (let o = icmp + NS_LEN; o < icmp + plen; ) {
    if (o + 2 > icmp + plen) return respondNdpDecoded(raw, ctx);
    const units = raw[o + 1] ?? 0;
    const len = units * Size.ndpOptionUnit;
    if (units === 0 || o + len > icmp + plen) return respondNdpDecoded(raw, ctx);
    const optType = raw[o];
    if (optType === NdpOptionType.sourceLinkLayerAddress || optType === NdpOptionType.targetLinkLayerAddress) {
      if (units !== 1) return respondNdpDecoded(raw, ctx);
      if (optType === NdpOptionType.sourceLinkLayerAddress && slla < 0) slla = o + 2;
    }
    o += len;
  }
  // RFC 4861 §7.1.1 validity checks, in the order respondNdpDecoded makes them.
  const hopLimit = raw[ip + 7] ?? 0;
  if (hopLimit !== NDP_HOP_LIMIT) return drop(NdpDropReason.badHopLimit, String(hopLimit));
  const code = raw[icmp + 1] ?? 0;
  if (code !== 0) return drop(NdpDropReason.badCode, String(code));
  const tgt = icmp + 8;
  if (raw[tgt] === 0xff) return drop(NdpDropReason.multicastTarget, formatIpv6(raw, tgt));
  const dad = isZeroAt(raw, src, Size.ipv6);
  const toSolicitedNode = isSolicitedNodeOf(raw, dst, tgt);
  if (dad && !toSolicitedNode) return drop(NdpDropReason.dadNotSolicitedNode, formatIpv6(raw, dst));
  if (dad && slla >= 0) return drop(NdpDropReason.dadWithSourceLinkLayer);
  if (!toSolicitedNode && !rangesEqual(raw, dst, tgt, Size.ipv6)) return drop(NdpDropReason.wrongDestination, formatIpv6(raw, dst));
  const target = formatIpv6(raw, tgt);
  if (!ctx.owns(target)) return drop(NdpDropReason.notOwned, target);

  // The advertisement, byte for byte what buildAdvertisement makes (see there for the choices).
  const tagged = ip === ETH + TAG;
  const o = tagged ? ETH + TAG : ETH;
  const total = o + IP6 + NA_LEN;
  const out = scratch === undefined ? Buffer.alloc(total) : scratchView(scratch, total);
  if (dad) copyBytes(out, 0, ALL_NODES_MAC, 0, ALL_NODES_MAC.length);
  else copyBytes(out, 0, raw, slla >= 0 ? slla : 6, Size.mac); // the solicitor's SLLA, else the frame's source
  copyBytes(out, 6, mac, 0, mac.length);
  if (tagged) {
    out[12] = 0x81;
    out[13] = 0x00;
    copyBytes(out, 14, raw, 14, 2); // the solicitation's 802.1Q TCI
  }
  out[o - 2] = 0x86;
  out[o - 1] = 0xdd;
  const oip = o;
  out[oip] = 0x60; // version 6, traffic class 0, flow label 0
  out[oip + 1] = 0;
  out[oip + 2] = 0;
  out[oip + 3] = 0;
  out.writeUInt16BE(NA_LEN, oip + 4);
  out[oip + 6] = IpProtocol.icmpv6;
  out[oip + 7] = NDP_HOP_LIMIT;
  copyBytes(out, oip + 8, raw, tgt, Size.ipv6); // source: the target (the VIP)
  if (dad) copyBytes(out, oip + 24, ALL_NODES, 0, ALL_NODES.length);
  else copyBytes(out, oip + 24, raw, src, Size.ipv6);
  const na = oip + IP6;
  out[na] = Icmpv6Type.neighborAdvertisement;
  out[na + 1] = 0;
  out[na + 2] = 0;
  out[na + 3] = 0;
  out[na + 4] = (dad ? 0 : 0x40) | 0x20; // RFC 4861 §4.4 flags: R clear, S unless DAD, O set
  out[na + 5] = 0;
  out[na + 6] = 0;
  out[na + 7] = 0;
  copyBytes(out, na + 8, raw, tgt, Size.ipv6);
  out[na + 24] = NdpOptionType.targetLinkLayerAddress;
  out[na + 25] = 1;
  copyBytes(out, na + 26, mac, 0, mac.length);
  out.writeUInt16BE(icmpv6ChecksumAt(out, oip + 8, oip + 24, na, NA_LEN), na + 2);
  return { kind: 'reply', vip: target, to: dad ? IPV6_ALL_NODES : formatIpv6(raw, src), frame: out };
}

/** The same rules over decoded objects (the reference; also the path for unusual frames). */
export function respondNdpDecoded(raw: Buffer, ctx: NdpResponderContext): NdpVerdict {
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
