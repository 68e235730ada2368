// ARP responder core: one received frame in, a reply frame or a named reason to drop it out. No I/O.
// Receive path: Ethernet -> EtherType 0x0806 -> link destination check -> ARP decode -> operation ->
// ownership of the target protocol address on this interface -> unicast reply (RFC 826 "Packet
// Reception": swap sender and target, fill in our hardware address, opcode ares_op$REPLY).
//
// Two implementations of the same rules: respondArp reads the fields straight from the frame and
// writes the reply into a reused buffer (the per-frame path allocates only the target's text); any
// frame it does not fully understand (truncated, not Ethernet/IPv4 ARP, a non-canonical MAC in the
// context) goes to respondArpDecoded, which decodes into objects with the codecs. A property test
// checks both give the same verdict on any frame.
import { ArpHardwareType, ArpOperation, EtherType, Size } from './constants.ts';
import { L2CodecError } from './errors.ts';
import { BROADCAST_MAC, type MacAddress } from './addresses.ts';
import { decodeEthernet, encodeEthernet, type EthernetFrame } from './ethernet.ts';
import { decodeArp, encodeArp, type ArpPacket } from './arp.ts';
import { formatIpv4 } from '../net/ip.ts';
import { copyBytes, canonicalMacBytes, bytesEqualAt, isBroadcastAt, rangesEqual, scratchView, type ReplyScratch } from './frame-bytes.ts';

export const ArpDropReason = {
  malformedEthernet: 'malformedEthernet',
  notArp: 'notArp',
  /** Ethernet destination is neither broadcast nor this interface's MAC. */
  notForUs: 'notForUs',
  /** Our own frame seen again (the socket also sees what it sends). */
  ownFrame: 'ownFrame',
  malformedArp: 'malformedArp',
  /** An ARP reply: we only answer requests. */
  notRequest: 'notRequest',
  /** Another host announcing (sender IP == target IP, RFC 5227 §2.3): nothing to answer. */
  announcement: 'announcement',
  /** The target IP is not a VIP this node owns on this interface. */
  notOwned: 'notOwned',
} as const;
export type ArpDropReason = (typeof ArpDropReason)[keyof typeof ArpDropReason];

export interface ArpResponderContext {
  /** MAC of the interface the frame arrived on; the reply carries it. */
  readonly mac: MacAddress;
  /** True if this node answers for `ip` on this interface right now. */
  readonly owns: (ip: string) => boolean;
}

export type ArpVerdict =
  | {
      readonly kind: 'reply';
      readonly vip: string;
      /** The reply; when a scratch was passed, a view of it valid until its next use. */
      readonly frame: Buffer;
    }
  | { readonly kind: 'drop'; readonly reason: ArpDropReason; readonly detail?: string };

function drop(reason: ArpDropReason, detail?: string): ArpVerdict {
  return detail === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, detail };
}

const ETH = Size.ethernetHeader;
const TAG = Size.vlanTag;
const ARP_LEN = Size.arpEthernetIpv4;
const REPLY_LEN = Size.ethernetMinFrame; // 14 (+4) + 28 octets, padded to 60 either way

/**
 * The verdict for one received frame. `scratch` (optional): the reply is written into it instead of a
 * new Buffer.
 */
export function respondArp(raw: Buffer, ctx: ArpResponderContext, scratch?: ReplyScratch): ArpVerdict {
  const mac = canonicalMacBytes(ctx.mac);
  if (mac === undefined || raw.length < ETH) return respondArpDecoded(raw, ctx);
  let type = (raw[12] ?? 0) * 256 + (raw[13] ?? 0);
  let at = ETH; // start of the ARP packet
  if (type === EtherType.vlan) {
    if (raw.length < ETH + TAG) return respondArpDecoded(raw, ctx);
    type = (raw[16] ?? 0) * 256 + (raw[17] ?? 0);
    at = ETH + TAG;
  }
  if (type !== EtherType.arp) return drop(ArpDropReason.notArp, `0x${type.toString(16)}`);
  if (bytesEqualAt(raw, 6, mac)) return drop(ArpDropReason.ownFrame);
  if (!isBroadcastAt(raw, 0) && !bytesEqualAt(raw, 0, mac)) return respondArpDecoded(raw, ctx); // notForUs, with its text
  // Ethernet (1) / IPv4 (0x0800) / hlen 6 / plen 4, operation 1 or 2, whole packet present.
  if (
    raw.length < at + ARP_LEN ||
    raw[at] !== 0 ||
    raw[at + 1] !== ArpHardwareType.ethernet ||
    raw[at + 2] !== 0x08 ||
    raw[at + 3] !== 0x00 ||
    raw[at + 4] !== Size.mac ||
    raw[at + 5] !== Size.ipv4 ||
    raw[at + 6] !== 0 ||
    (raw[at + 7] !== ArpOperation.request && raw[at + 7] !== ArpOperation.reply)
  ) {
    return respondArpDecoded(raw, ctx);
  }
  if (raw[at + 7] !== ArpOperation.request) return drop(ArpDropReason.notRequest);
  const target = formatIpv4(raw, at + 24);
  if (rangesEqual(raw, at + 14, at + 24, Size.ipv4)) return drop(ArpDropReason.announcement, target);
  if (!ctx.owns(target)) return drop(ArpDropReason.notOwned, target);
  const out = scratch === undefined ? Buffer.alloc(REPLY_LEN) : scratchView(scratch, REPLY_LEN);
  copyBytes(out, 0, raw, at + 8, Size.mac); // Ethernet destination: the requester's hardware address
  copyBytes(out, 6, mac, 0, mac.length);
  let o = ETH;
  if (at === ETH + TAG) {
    out[12] = 0x81;
    out[13] = 0x00;
    copyBytes(out, 14, raw, 14, 2); // the request's 802.1Q TCI
    o = ETH + TAG;
  }
  out[o - 2] = 0x08;
  out[o - 1] = 0x06;
  copyBytes(out, o, raw, at, 6); // htype, ptype, hlen, plen: checked above to be Ethernet/IPv4/6/4
  out[o + 6] = 0;
  out[o + 7] = ArpOperation.reply;
  copyBytes(out, o + 8, mac, 0, mac.length); // sender hardware: ours
  copyBytes(out, o + 14, raw, at + 24, Size.ipv4); // sender protocol: the VIP asked for
  copyBytes(out, o + 18, raw, at + 8, Size.mac + Size.ipv4); // target: the requester's hardware and protocol address
  out.fill(0, o + ARP_LEN);
  return { kind: 'reply', vip: target, frame: out };
}

/** The same rules over decoded objects (the reference; also the path for unusual frames). */
export function respondArpDecoded(raw: Buffer, ctx: ArpResponderContext): ArpVerdict {
  let eth: EthernetFrame;
  try {
    eth = decodeEthernet(raw);
  } catch (e) {
    if (e instanceof L2CodecError) return drop(ArpDropReason.malformedEthernet, e.code);
    throw e;
  }
  if (eth.etherType !== EtherType.arp) return drop(ArpDropReason.notArp, `0x${eth.etherType.toString(16)}`);
  if (eth.source === ctx.mac) return drop(ArpDropReason.ownFrame);
  // Requests are broadcast; unicast requests (cache refresh, RFC 1122 §2.3.2.1) come to our MAC.
  if (eth.destination !== BROADCAST_MAC && eth.destination !== ctx.mac) {
    return drop(ArpDropReason.notForUs, eth.destination);
  }
  let req: ArpPacket;
  try {
    req = decodeArp(eth.payload);
  } catch (e) {
    if (e instanceof L2CodecError) return drop(ArpDropReason.malformedArp, e.code);
    throw e;
  }
  if (req.operation !== ArpOperation.request) return drop(ArpDropReason.notRequest);
  if (req.senderProtocol === req.targetProtocol) return drop(ArpDropReason.announcement, req.targetProtocol);
  if (!ctx.owns(req.targetProtocol)) return drop(ArpDropReason.notOwned, req.targetProtocol);
  // RFC 826: the reply goes to the requester only. An RFC 5227 §2.1.1 probe (sender IP 0.0.0.0) gets
  // the same reply, which tells the prober that the address is in use.
  const reply = encodeArp({
    operation: ArpOperation.reply,
    senderHardware: ctx.mac,
    senderProtocol: req.targetProtocol,
    targetHardware: req.senderHardware,
    targetProtocol: req.senderProtocol,
  });
  const frame = encodeEthernet({
    destination: req.senderHardware,
    source: ctx.mac,
    ...(eth.vlan === undefined ? {} : { vlan: eth.vlan }),
    etherType: EtherType.arp,
    payload: reply,
  });
  return { kind: 'reply', vip: req.targetProtocol, frame };
}
