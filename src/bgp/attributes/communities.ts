// RFC 1997: COMMUNITIES, optional transitive, a list of 4-octet values (AS:value as u32).

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { expectMultiple, type AttributeDescriptor } from './descriptor.ts';

export const communities: AttributeDescriptor<'COMMUNITIES'> = {
  kind: 'COMMUNITIES',
  typeCode: ATTR_TYPE.COMMUNITIES,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.8
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  decode(r) {
    expectMultiple(r, 4, 'COMMUNITIES');
    const out: number[] = [];
    while (!r.atEnd) out.push(r.u32());
    return { kind: 'COMMUNITIES', communities: out };
  },
  encode(w, a) {
    for (const c of a.communities) w.u32(c);
  },
};

/** "65000:100" <-> 0xfde80064 (RFC 1997 §"Community Attribute": high 16 bits AS, low 16 bits value). */
export function communityFromParts(asn: number, value: number): number {
  return ((asn & 0xffff) * 0x10000 + (value & 0xffff)) >>> 0;
}
