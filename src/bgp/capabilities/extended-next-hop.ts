// RFC 8950 §3: Extended Next Hop Encoding capability (code 5). The value is a list of triples
//   NLRI AFI (2) | NLRI SAFI (2) | Nexthop AFI (2)
// each saying "I accept NLRI of this AFI/SAFI with a next hop of that AFI" (berth: IPv4 unicast with an
// IPv6 next hop, for unnumbered peers). RFC 8950 §3: the length is a non-zero multiple of 6.

import { CAPABILITY } from '../constants.ts';
import type { Capability } from '../messages/types.ts';
import { CapabilityError, type CapabilityDescriptor } from './descriptor.ts';

type Enh = Extract<Capability, { kind: 'EXTENDED_NEXT_HOP' }>;
const TRIPLE_OCTETS = 6;

export const extendedNextHop: CapabilityDescriptor<Enh> = {
  code: CAPABILITY.EXTENDED_NEXT_HOP,
  kind: 'EXTENDED_NEXT_HOP',
  decode(r) {
    if (r.remaining === 0 || r.remaining % TRIPLE_OCTETS !== 0) {
      throw new CapabilityError(`extended next hop capability: length ${r.remaining} is not a non-zero multiple of ${TRIPLE_OCTETS} (RFC 8950 §3)`);
    }
    const entries: { afi: number; safi: number; nextHopAfi: number }[] = [];
    while (!r.atEnd) entries.push({ afi: r.u16(), safi: r.u16(), nextHopAfi: r.u16() });
    return { kind: 'EXTENDED_NEXT_HOP', entries };
  },
  encode(w, c) {
    for (const e of c.entries) w.u16(e.afi).u16(e.safi).u16(e.nextHopAfi);
  },
};
