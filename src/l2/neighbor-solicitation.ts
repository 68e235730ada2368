// Neighbor Solicitation body (RFC 4861 §4.3): 4 reserved octets, the 16-octet Target Address, options.
// The ICMPv6 type/code/checksum around it belong to icmpv6.ts.
import { Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { canonicalIp, ipFamily, ipv6FromBytes, ipv6ToBytes } from './addresses.ts';
import { decodeNdpOptions, encodeNdpOptions, ndpOption, type NdpOption } from './ndp-options.ts';

export interface NeighborSolicitation {
  readonly kind: 'neighborSolicitation';
  readonly target: string;
  readonly options: readonly NdpOption[];
}

const OBJ = 'icmpv6';

export function neighborSolicitation(m: Omit<NeighborSolicitation, 'kind'>): NeighborSolicitation {
  if (ipFamily(m.target) !== 6) throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `target not IPv6: ${m.target}`);
  return { kind: 'neighborSolicitation', target: canonicalIp(m.target), options: m.options.map(ndpOption) };
}

export function decodeNeighborSolicitationBody(body: Buffer): NeighborSolicitation {
  needBytes(OBJ, body, Size.ndpNeighborBody);
  // RFC 4861 §4.3: Reserved "MUST be ignored by the receiver".
  return {
    kind: 'neighborSolicitation',
    target: ipv6FromBytes(body.subarray(4, 20)),
    options: decodeNdpOptions(body.subarray(Size.ndpNeighborBody)),
  };
}

export function encodeNeighborSolicitationBody(m: NeighborSolicitation): Buffer {
  const v = neighborSolicitation(m);
  const head = Buffer.alloc(Size.ndpNeighborBody);
  ipv6ToBytes(v.target).copy(head, 4);
  return Buffer.concat([head, encodeNdpOptions(v.options)]);
}
