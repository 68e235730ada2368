// Neighbor Advertisement body (RFC 4861 §4.4): flags R, S, O in the first octet, 29 reserved bits, the
// 16-octet Target Address, options. The ICMPv6 type/code/checksum around it belong to icmpv6.ts.
import { Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { canonicalIp, ipFamily, ipv6FromBytes, ipv6ToBytes } from './addresses.ts';
import { decodeNdpOptions, encodeNdpOptions, ndpOption, type NdpOption } from './ndp-options.ts';

export interface NeighborAdvertisement {
  readonly kind: 'neighborAdvertisement';
  /** R: the sender is a router. */
  readonly router: boolean;
  /** S: sent in response to a Neighbor Solicitation. */
  readonly solicited: boolean;
  /** O: override an existing cache entry and update the cached link-layer address. */
  readonly override: boolean;
  readonly target: string;
  readonly options: readonly NdpOption[];
}

const OBJ = 'icmpv6';
const FLAG_ROUTER = 0x80;
const FLAG_SOLICITED = 0x40;
const FLAG_OVERRIDE = 0x20;

export function neighborAdvertisement(m: Omit<NeighborAdvertisement, 'kind'>): NeighborAdvertisement {
  if (ipFamily(m.target) !== 6) throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `target not IPv6: ${m.target}`);
  return {
    kind: 'neighborAdvertisement',
    router: m.router,
    solicited: m.solicited,
    override: m.override,
    target: canonicalIp(m.target),
    options: m.options.map(ndpOption),
  };
}

export function decodeNeighborAdvertisementBody(body: Buffer): NeighborAdvertisement {
  needBytes(OBJ, body, Size.ndpNeighborBody);
  const flags = body.readUInt8(0);
  return {
    kind: 'neighborAdvertisement',
    router: (flags & FLAG_ROUTER) !== 0,
    solicited: (flags & FLAG_SOLICITED) !== 0,
    override: (flags & FLAG_OVERRIDE) !== 0,
    target: ipv6FromBytes(body.subarray(4, 20)),
    options: decodeNdpOptions(body.subarray(Size.ndpNeighborBody)),
  };
}

export function encodeNeighborAdvertisementBody(m: NeighborAdvertisement): Buffer {
  const v = neighborAdvertisement(m);
  const head = Buffer.alloc(Size.ndpNeighborBody);
  head.writeUInt8((v.router ? FLAG_ROUTER : 0) | (v.solicited ? FLAG_SOLICITED : 0) | (v.override ? FLAG_OVERRIDE : 0), 0);
  ipv6ToBytes(v.target).copy(head, 4);
  return Buffer.concat([head, encodeNdpOptions(v.options)]);
}
