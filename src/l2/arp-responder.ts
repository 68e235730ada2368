// ARP responder core: one received frame in, a reply frame or a named reason to drop it out. No I/O.
// Receive path: Ethernet -> EtherType 0x0806 -> link destination check -> ARP decode -> operation ->
// ownership of the target protocol address on this interface -> unicast reply (RFC 826 "Packet
// Reception": swap sender and target, fill in our hardware address, opcode ares_op$REPLY).
import { ArpOperation, EtherType } from './constants.ts';
import { L2CodecError } from './errors.ts';
import { BROADCAST_MAC, type MacAddress } from './addresses.ts';
import { decodeEthernet, encodeEthernet, type EthernetFrame } from './ethernet.ts';
import { decodeArp, encodeArp, type ArpPacket } from './arp.ts';

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
      readonly request: ArpPacket;
      readonly frame: Buffer;
    }
  | { readonly kind: 'drop'; readonly reason: ArpDropReason; readonly detail?: string };

function drop(reason: ArpDropReason, detail?: string): ArpVerdict {
  return detail === undefined ? { kind: 'drop', reason } : { kind: 'drop', reason, detail };
}

export function respondArp(raw: Buffer, ctx: ArpResponderContext): ArpVerdict {
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
  return { kind: 'reply', vip: req.targetProtocol, request: req, frame };
}
