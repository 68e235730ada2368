// ICMPv6 envelope for the two Neighbor Discovery messages we speak: type, code, checksum (RFC 4443 §2.1)
// around a Neighbor Solicitation (RFC 4861 §4.3) or Advertisement (§4.4). The checksum covers the
// IPv6 pseudo-header (RFC 4443 §2.3, RFC 8200 §8.1), so encode and decode need the two addresses.
import { Icmpv6Type, IpProtocol, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { ipv6ToBytes } from './addresses.ts';
import {
  decodeNeighborSolicitationBody,
  encodeNeighborSolicitationBody,
  type NeighborSolicitation,
} from './neighbor-solicitation.ts';
import {
  decodeNeighborAdvertisementBody,
  encodeNeighborAdvertisementBody,
  type NeighborAdvertisement,
} from './neighbor-advertisement.ts';

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

/** The IPv6 addresses the checksum pseudo-header is built from. */
export interface PseudoHeader {
  readonly source: string;
  readonly destination: string;
}

export interface DecodedNdp {
  /** ICMPv6 Code; RFC 4861 §7.1.1 wants 0, which the responder checks. */
  readonly code: number;
  readonly message: NdpMessage;
}

const OBJ = 'icmpv6';

/** RFC 4443 §2.3: one's complement of the one's complement sum over pseudo-header + ICMPv6 message. */
export function icmpv6Checksum(pseudo: PseudoHeader, icmp: Buffer): number {
  const ph = Buffer.alloc(40);
  ipv6ToBytes(pseudo.source).copy(ph, 0);
  ipv6ToBytes(pseudo.destination).copy(ph, 16);
  ph.writeUInt32BE(icmp.length, 32); // Upper-Layer Packet Length
  ph.writeUInt8(IpProtocol.icmpv6, 39); // Next Header
  let sum = 0;
  const add = (b: Buffer): void => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
    if (b.length % 2 === 1) sum += (b[b.length - 1] ?? 0) << 8;
  };
  add(ph);
  add(icmp);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function decodeNdp(buf: Buffer, pseudo: PseudoHeader): DecodedNdp {
  needBytes(OBJ, buf, Size.icmpv6Header);
  // A correct checksum sums (with the checksum field in place) to 0xffff, i.e. complements to 0.
  if (icmpv6Checksum(pseudo, buf) !== 0) {
    throw new L2CodecError(OBJ, L2ErrorCode.badChecksum, `checksum 0x${buf.readUInt16BE(2).toString(16)} does not verify`);
  }
  const type = buf.readUInt8(0);
  const code = buf.readUInt8(1);
  const body = buf.subarray(Size.icmpv6Header);
  switch (type) {
    case Icmpv6Type.neighborSolicitation:
      return { code, message: decodeNeighborSolicitationBody(body) };
    case Icmpv6Type.neighborAdvertisement:
      return { code, message: decodeNeighborAdvertisementBody(body) };
    default:
      throw new L2CodecError(OBJ, L2ErrorCode.unsupportedIcmpType, `ICMPv6 type ${type}`);
  }
}

/** Encodes with code 0 and the checksum filled in. */
export function encodeNdp(message: NdpMessage, pseudo: PseudoHeader): Buffer {
  let type: number;
  let body: Buffer;
  switch (message.kind) {
    case 'neighborSolicitation':
      type = Icmpv6Type.neighborSolicitation;
      body = encodeNeighborSolicitationBody(message);
      break;
    case 'neighborAdvertisement':
      type = Icmpv6Type.neighborAdvertisement;
      body = encodeNeighborAdvertisementBody(message);
      break;
    default: {
      const never: never = message;
      return never;
    }
  }
  const out = Buffer.alloc(Size.icmpv6Header + body.length);
  out.writeUInt8(type, 0);
  body.copy(out, Size.icmpv6Header);
  out.writeUInt16BE(icmpv6Checksum(pseudo, out), 2);
  return out;
}
