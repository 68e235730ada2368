// RFC 4271 §5.1.3 / §4.3 (c): NEXT_HOP, well-known (mandatory when classic NLRI is present), IPv4.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { formatIpv4, ipv4ToBytes } from '../wire/ip.ts';
import { AttributeError, expectLength, type AttributeDescriptor } from './descriptor.ts';

/** RFC 4271 §6.3 / RFC 7606 §7.3: a NEXT_HOP that can never be a neighbour's address (0.0.0.0,
 * class D multicast, class E / limited broadcast) is semantically incorrect. Whether it is the
 * receiver's own address is the session's call. */
function impossibleNextHop(b: Buffer): boolean {
  const first = b[0] as number;
  return b.readUInt32BE(0) === 0 || first >= 224;
}

export const nextHop: AttributeDescriptor<'NEXT_HOP'> = {
  kind: 'NEXT_HOP',
  typeCode: ATTR_TYPE.NEXT_HOP,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.3
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [4], 'NEXT_HOP');
    const b = r.bytes(4);
    if (impossibleNextHop(b)) throw new AttributeError(`NEXT_HOP ${formatIpv4(b)} is not a unicast address`, UPDATE_ERROR.INVALID_NEXT_HOP_ATTRIBUTE);
    return { kind: 'NEXT_HOP', nextHop: formatIpv4(b) };
  },
  encode(w, a) {
    w.bytes(ipv4ToBytes(a.nextHop));
  },
};
