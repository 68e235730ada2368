// RFC 4271 §5.1.4 / §4.3 (d): MULTI_EXIT_DISC, optional non-transitive, 4 octets.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { expectLength, type AttributeDescriptor } from './descriptor.ts';

export const med: AttributeDescriptor<'MULTI_EXIT_DISC'> = {
  kind: 'MULTI_EXIT_DISC',
  typeCode: ATTR_TYPE.MULTI_EXIT_DISC,
  flags: ATTR_FLAG.OPTIONAL,
  onError: 'treat-as-withdraw', // RFC 7606 §7.4
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [4], 'MULTI_EXIT_DISC');
    return { kind: 'MULTI_EXIT_DISC', med: r.u32() };
  },
  encode(w, a) {
    w.u32(a.med);
  },
};
