// RFC 4760 §4: MP_UNREACH_NLRI, optional non-transitive.  AFI (2) | SAFI (1) | Withdrawn Routes.
// With no withdrawn routes it is the family's End-of-RIB marker (RFC 4724 §2).

import { ATTR_FLAG, ATTR_TYPE, SAFI, UPDATE_ERROR } from '../constants.ts';
import { familyOfAfi, PrefixError, readPrefixes, writePrefixes } from '../nlri.ts';
import type { Writer } from '../wire/writer.ts';
import { AttributeError, type AttributeDescriptor } from './descriptor.ts';
import { isDecodedFamily } from './mp-reach.ts';

export const mpUnreach: AttributeDescriptor<'MP_UNREACH_NLRI'> = {
  kind: 'MP_UNREACH_NLRI',
  typeCode: ATTR_TYPE.MP_UNREACH_NLRI,
  flags: ATTR_FLAG.OPTIONAL,
  onError: 'session-reset', // RFC 7606 §7.11
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  keepsRaw: (value) => value.length >= 3 && !isDecodedFamily(value),
  decode(r) {
    const afi = r.u16();
    const safi = r.u8();
    const family = familyOfAfi(afi);
    if (family === undefined || safi !== SAFI.UNICAST) throw new AttributeError(`MP_UNREACH_NLRI: AFI/SAFI ${afi}/${safi}`);
    try {
      return { kind: 'MP_UNREACH_NLRI', afi, safi, prefixes: readPrefixes(r, family) };
    } catch (e) {
      if (e instanceof PrefixError) throw new AttributeError(`MP_UNREACH_NLRI: ${e.message}`);
      throw e;
    }
  },
  encode(w, a) {
    writeMpUnreachHead(w, a.afi, a.safi);
    writePrefixes(w, a.prefixes);
  },
};

/** The value of an MP_UNREACH_NLRI before its withdrawn routes: AFI, SAFI (RFC 4760 §4). Shared with
 * the packer (pack.ts), which copies the routes after it. */
export function writeMpUnreachHead(w: Writer, afi: number, safi: number): void {
  if (familyOfAfi(afi) === undefined) throw new RangeError(`MP_UNREACH_NLRI: AFI ${afi} not supported`);
  w.u16(afi).u8(safi);
}
