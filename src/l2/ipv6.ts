// The fixed IPv6 header (RFC 8200 §3). Extension headers are not parsed: Neighbor Discovery messages we
// answer carry none, and a packet whose Next Header is not ICMPv6 is left to the caller to drop.
import { Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { canonicalIp, ipFamily, ipv6FromBytes, ipv6ToBytes } from './addresses.ts';

export interface Ipv6Header {
  readonly trafficClass: number;
  readonly flowLabel: number;
  readonly nextHeader: number;
  readonly hopLimit: number;
  readonly source: string;
  readonly destination: string;
}

export interface Ipv6Packet {
  readonly header: Ipv6Header;
  /** Exactly Payload Length octets; any link-layer padding after it is cut off. */
  readonly payload: Buffer;
}

const OBJ = 'ipv6';
const VERSION = 6;

export function ipv6Header(h: Ipv6Header): Ipv6Header {
  const byteField = (name: string, v: number, max: number): void => {
    if (!Number.isInteger(v) || v < 0 || v > max) {
      throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `${name} ${v} out of range`);
    }
  };
  byteField('trafficClass', h.trafficClass, 0xff);
  byteField('flowLabel', h.flowLabel, 0xfffff);
  byteField('nextHeader', h.nextHeader, 0xff);
  byteField('hopLimit', h.hopLimit, 0xff);
  for (const ip of [h.source, h.destination]) {
    if (ipFamily(ip) !== 6) throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `not IPv6: ${ip}`);
  }
  return { ...h, source: canonicalIp(h.source), destination: canonicalIp(h.destination) };
}

export function decodeIpv6(buf: Buffer): Ipv6Packet {
  needBytes(OBJ, buf, Size.ipv6Header);
  const word = buf.readUInt32BE(0);
  const version = word >>> 28;
  if (version !== VERSION) throw new L2CodecError(OBJ, L2ErrorCode.badVersion, `version ${version}`);
  const payloadLength = buf.readUInt16BE(4);
  needBytes(OBJ, buf, Size.ipv6Header + payloadLength);
  return {
    header: {
      trafficClass: (word >>> 20) & 0xff,
      flowLabel: word & 0xfffff,
      nextHeader: buf.readUInt8(6),
      hopLimit: buf.readUInt8(7),
      source: ipv6FromBytes(buf.subarray(8, 24)),
      destination: ipv6FromBytes(buf.subarray(24, 40)),
    },
    payload: buf.subarray(Size.ipv6Header, Size.ipv6Header + payloadLength),
  };
}

export function encodeIpv6(packet: Ipv6Packet): Buffer {
  const h = ipv6Header(packet.header);
  if (packet.payload.length > 0xffff) {
    throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, 'payload longer than 65535 (jumbograms not supported)');
  }
  const out = Buffer.alloc(Size.ipv6Header + packet.payload.length);
  out.writeUInt32BE(((VERSION << 28) | (h.trafficClass << 20) | h.flowLabel) >>> 0, 0);
  out.writeUInt16BE(packet.payload.length, 4);
  out.writeUInt8(h.nextHeader, 6);
  out.writeUInt8(h.hopLimit, 7);
  ipv6ToBytes(h.source).copy(out, 8);
  ipv6ToBytes(h.destination).copy(out, 24);
  packet.payload.copy(out, Size.ipv6Header);
  return out;
}
