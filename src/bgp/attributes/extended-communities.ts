// RFC 4360 §2: EXTENDED_COMMUNITIES, optional transitive, a list of 8-octet values kept as bigint
// (type high octet, sub-type or value, then value; the codec does not interpret them).

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { expectMultiple, type AttributeDescriptor } from './descriptor.ts';

export const extendedCommunities: AttributeDescriptor<'EXTENDED_COMMUNITIES'> = {
  kind: 'EXTENDED_COMMUNITIES',
  typeCode: ATTR_TYPE.EXTENDED_COMMUNITIES,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.14
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  decode(r) {
    expectMultiple(r, 8, 'EXTENDED_COMMUNITIES');
    const out: bigint[] = [];
    while (!r.atEnd) out.push(r.u64());
    return { kind: 'EXTENDED_COMMUNITIES', communities: out };
  },
  encode(w, a) {
    for (const c of a.communities) w.u64(c);
  },
};
