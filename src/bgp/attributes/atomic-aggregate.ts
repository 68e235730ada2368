// RFC 4271 §5.1.6 / §4.3 (f): ATOMIC_AGGREGATE, well-known discretionary, length 0.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { expectLength, type AttributeDescriptor } from './descriptor.ts';

export const atomicAggregate: AttributeDescriptor<'ATOMIC_AGGREGATE'> = {
  kind: 'ATOMIC_AGGREGATE',
  typeCode: ATTR_TYPE.ATOMIC_AGGREGATE,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'attribute-discard', // RFC 7606 §7.6
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [0], 'ATOMIC_AGGREGATE');
    return { kind: 'ATOMIC_AGGREGATE' };
  },
  encode() {},
};
