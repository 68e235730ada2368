// RFC 4271 §5.1.3 / §4.3 (c): NEXT_HOP, well-known (mandatory when classic NLRI is present), IPv4.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { formatIpv4, ipv4ToBytes } from '../wire/ip.ts';
import { expectLength, type AttributeDescriptor } from './descriptor.ts';

export const nextHop: AttributeDescriptor<'NEXT_HOP'> = {
  kind: 'NEXT_HOP',
  typeCode: ATTR_TYPE.NEXT_HOP,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.3
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [4], 'NEXT_HOP');
    return { kind: 'NEXT_HOP', nextHop: formatIpv4(r.bytes(4)) };
  },
  encode(w, a) {
    w.bytes(ipv4ToBytes(a.nextHop));
  },
};
