// RFC 8092 §3: LARGE_COMMUNITIES, optional transitive, a list of 12-octet
// (Global Administrator, Local Data Part 1, Local Data Part 2) triples.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import type { LargeCommunity } from '../messages/types.ts';
import { expectMultiple, type AttributeDescriptor } from './descriptor.ts';

export const largeCommunities: AttributeDescriptor<'LARGE_COMMUNITIES'> = {
  kind: 'LARGE_COMMUNITIES',
  typeCode: ATTR_TYPE.LARGE_COMMUNITIES,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 8092 §6
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  decode(r) {
    expectMultiple(r, 12, 'LARGE_COMMUNITIES');
    const out: LargeCommunity[] = [];
    while (!r.atEnd) out.push({ globalAdmin: r.u32(), localData1: r.u32(), localData2: r.u32() });
    return { kind: 'LARGE_COMMUNITIES', communities: out };
  },
  encode(w, a) {
    for (const c of a.communities) w.u32(c.globalAdmin).u32(c.localData1).u32(c.localData2);
  },
};
