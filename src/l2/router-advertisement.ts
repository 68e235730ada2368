// Router Solicitation and Router Advertisement (RFC 4861 §4.1, §4.2) inside their ICMPv6 envelope,
// for unnumbered BGP: the two ends of an interface peering learn each other's link-local address from
// the Router Advertisements each sends (FRR's `neighbor IFACE interface`, and berth's
// src/bgp/unnumbered.ts). berth advertises with Router Lifetime 0: "not a default router" (§4.2), so
// no host routes traffic through a node because of it.
//   RA: Type 134 | Code | Checksum | Cur Hop Limit | M O Reserved | Router Lifetime (2) |
//       Reachable Time (4) | Retrans Timer (4) | Options
//   RS: Type 133 | Code | Checksum | Reserved (4) | Options
import { Icmpv6Type, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { icmpv6Checksum, type PseudoHeader } from './icmpv6.ts';
import { decodeNdpOptions, encodeNdpOptions, type NdpOption } from './ndp-options.ts';

export interface RouterAdvertisement {
  readonly kind: 'routerAdvertisement';
  readonly curHopLimit: number;
  readonly managed: boolean;
  readonly other: boolean;
  /** Seconds; 0: not a default router (RFC 4861 §4.2). */
  readonly routerLifetime: number;
  readonly reachableTimeMs: number;
  readonly retransTimerMs: number;
  readonly options: readonly NdpOption[];
}

export interface RouterSolicitation {
  readonly kind: 'routerSolicitation';
  readonly options: readonly NdpOption[];
}

export type RouterDiscoveryMessage = RouterAdvertisement | RouterSolicitation;

const OBJ = 'router-discovery';
const RA_FIXED = 12;
const RS_FIXED = 4;
const FLAG_MANAGED = 0x80;
const FLAG_OTHER = 0x40;

/** Encodes with code 0 and the checksum filled in. */
export function encodeRouterDiscovery(m: RouterDiscoveryMessage, pseudo: PseudoHeader): Buffer {
  const options = encodeNdpOptions(m.options);
  const fixed = m.kind === 'routerAdvertisement' ? RA_FIXED : RS_FIXED;
  const out = Buffer.alloc(Size.icmpv6Header + fixed + options.length);
  if (m.kind === 'routerAdvertisement') {
    out.writeUInt8(Icmpv6Type.routerAdvertisement, 0);
    out.writeUInt8(m.curHopLimit, 4);
    out.writeUInt8((m.managed ? FLAG_MANAGED : 0) | (m.other ? FLAG_OTHER : 0), 5);
    out.writeUInt16BE(m.routerLifetime, 6);
    out.writeUInt32BE(m.reachableTimeMs, 8);
    out.writeUInt32BE(m.retransTimerMs, 12);
  } else {
    out.writeUInt8(Icmpv6Type.routerSolicitation, 0);
  }
  options.copy(out, Size.icmpv6Header + fixed);
  out.writeUInt16BE(icmpv6Checksum(pseudo, out), 2);
  return out;
}

/** Decodes an RS or RA; throws L2CodecError on a bad checksum, a short message or another type. */
export function decodeRouterDiscovery(buf: Buffer, pseudo: PseudoHeader): RouterDiscoveryMessage {
  needBytes(OBJ, buf, Size.icmpv6Header);
  if (icmpv6Checksum(pseudo, buf) !== 0) {
    throw new L2CodecError(OBJ, L2ErrorCode.badChecksum, `checksum 0x${buf.readUInt16BE(2).toString(16)} does not verify`);
  }
  const type = buf.readUInt8(0);
  if (type === Icmpv6Type.routerAdvertisement) {
    needBytes(OBJ, buf, Size.icmpv6Header + RA_FIXED);
    const flags = buf.readUInt8(5);
    return {
      kind: 'routerAdvertisement',
      curHopLimit: buf.readUInt8(4),
      managed: (flags & FLAG_MANAGED) !== 0,
      other: (flags & FLAG_OTHER) !== 0,
      routerLifetime: buf.readUInt16BE(6),
      reachableTimeMs: buf.readUInt32BE(8),
      retransTimerMs: buf.readUInt32BE(12),
      options: decodeNdpOptions(buf.subarray(Size.icmpv6Header + RA_FIXED)),
    };
  }
  if (type === Icmpv6Type.routerSolicitation) {
    needBytes(OBJ, buf, Size.icmpv6Header + RS_FIXED);
    return { kind: 'routerSolicitation', options: decodeNdpOptions(buf.subarray(Size.icmpv6Header + RS_FIXED)) };
  }
  throw new L2CodecError(OBJ, L2ErrorCode.unsupportedIcmpType, `ICMPv6 type ${type}`);
}
