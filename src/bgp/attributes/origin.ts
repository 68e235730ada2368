// RFC 4271 §5.1.1 / §4.3 (a): ORIGIN, well-known mandatory, one octet.

import { ATTR_FLAG, ATTR_TYPE, ORIGIN, UPDATE_ERROR, type Origin } from '../constants.ts';
import { AttributeError, expectLength, type AttributeDescriptor } from './descriptor.ts';

const VALUES: readonly number[] = Object.values(ORIGIN);

export const origin: AttributeDescriptor<'ORIGIN'> = {
  kind: 'ORIGIN',
  typeCode: ATTR_TYPE.ORIGIN,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.1
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [1], 'ORIGIN');
    const v = r.u8();
    // RFC 4271 §6.3: undefined value -> Invalid ORIGIN Attribute; RFC 7606 §7.1: treat-as-withdraw.
    if (!VALUES.includes(v)) throw new AttributeError(`ORIGIN value ${v} undefined`, UPDATE_ERROR.INVALID_ORIGIN_ATTRIBUTE);
    return { kind: 'ORIGIN', origin: v as Origin };
  },
  encode(w, a) {
    w.u8(a.origin);
  },
};
