// RFC 2918 §3: ROUTE-REFRESH.  AFI (2) | Reserved (1) | SAFI (1)
// RFC 7313 §3: the reserved octet is the Message Subtype: 0 normal, 1 BoRR, 2 EoRR.

import { ERROR_CODE, MESSAGE_TYPE, MIN_LENGTH, ROUTE_REFRESH_ERROR, ROUTE_REFRESH_SUBTYPE } from '../constants.ts';
import { BgpError } from '../errors.ts';
import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import type { RouteRefresh } from './types.ts';

export function encodeRouteRefresh(w: Writer, m: RouteRefresh): void {
  w.forkMessage(MESSAGE_TYPE.ROUTE_REFRESH).u16(m.afi).u8(m.subtype).u8(m.safi).join();
}

/** `whole` is the complete message, for the NOTIFICATION data of RFC 7313 §5. */
export function decodeRouteRefresh(r: Reader, whole: Buffer): RouteRefresh {
  const afi = r.u16();
  const subtype = r.u8();
  const safi = r.u8();
  // RFC 7313 §5: a BoRR/EoRR whose length is not 23 -> ROUTE-REFRESH Message Error / Invalid
  // Message Length, Data = the complete message. (Subtype 0 may carry ORF entries, RFC 5291,
  // which we do not use: they are ignored.)
  if (subtype !== ROUTE_REFRESH_SUBTYPE.NORMAL && whole.length !== MIN_LENGTH.ROUTE_REFRESH) {
    throw new BgpError({
      code: ERROR_CODE.ROUTE_REFRESH,
      subcode: ROUTE_REFRESH_ERROR.INVALID_MESSAGE_LENGTH,
      data: Buffer.from(whole),
      reason: `ROUTE-REFRESH subtype ${subtype} with length ${whole.length}`,
    });
  }
  // RFC 7313 §5: other subtypes MUST be ignored by the receiver; the value says so (`subtype`).
  return { type: 'ROUTE_REFRESH', afi, safi, subtype };
}
