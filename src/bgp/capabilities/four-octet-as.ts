// RFC 6793 §3: Support for 4-octet AS number capability (code 65): the speaker's 4-octet AS.

import { CAPABILITY } from '../constants.ts';
import type { Capability } from '../messages/types.ts';
import { expectEnd, type CapabilityDescriptor } from './descriptor.ts';

export const fourOctetAs: CapabilityDescriptor<Extract<Capability, { kind: 'FOUR_OCTET_AS' }>> = {
  code: CAPABILITY.FOUR_OCTET_AS,
  kind: 'FOUR_OCTET_AS',
  decode(r) {
    const asn = r.u32();
    expectEnd(r, '4-octet AS capability');
    return { kind: 'FOUR_OCTET_AS', asn };
  },
  encode(w, c) {
    w.u32(c.asn);
  },
};
