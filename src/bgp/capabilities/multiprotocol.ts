// RFC 4760 §8: Multiprotocol Extensions capability (code 1): AFI (2), Reserved (1), SAFI (1).

import { CAPABILITY } from '../constants.ts';
import type { Capability } from '../messages/types.ts';
import { expectEnd, type CapabilityDescriptor } from './descriptor.ts';

type Mp = Extract<Capability, { kind: 'MULTIPROTOCOL' }>;

export const multiprotocol: CapabilityDescriptor<Mp> = {
  code: CAPABILITY.MULTIPROTOCOL,
  kind: 'MULTIPROTOCOL',
  decode(r) {
    const afi = r.u16();
    r.u8(); // Reserved: "SHOULD be set to 0 by the sender and ignored by the receiver"
    const safi = r.u8();
    expectEnd(r, 'multiprotocol capability');
    return { kind: 'MULTIPROTOCOL', afi, safi };
  },
  encode(w, c) {
    w.u16(c.afi).u8(0).u8(c.safi);
  },
};
