// RFC 4271 §5.1.5 / §4.3 (e): LOCAL_PREF, well-known (iBGP only), 4 octets.
// RFC 7606 §7.5: from an external peer it is discarded; that is the session's call (it knows the
// peer type), the codec only decodes it.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { expectLength, type AttributeDescriptor } from './descriptor.ts';

export const localPref: AttributeDescriptor<'LOCAL_PREF'> = {
  kind: 'LOCAL_PREF',
  typeCode: ATTR_TYPE.LOCAL_PREF,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.5
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r) {
    expectLength(r, [4], 'LOCAL_PREF');
    return { kind: 'LOCAL_PREF', localPref: r.u32() };
  },
  encode(w, a) {
    w.u32(a.localPref);
  },
};
