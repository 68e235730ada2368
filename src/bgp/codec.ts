// The codec's public face: everything the FSM, the session driver and the speaker need.
//
// Supported: RFC 4271 (BGP-4 messages), RFC 4760 (MP-BGP, IPv4/IPv6 unicast), RFC 2545 (IPv6 next
// hops), RFC 6793 (4-octet AS, AS4_PATH/AS4_AGGREGATOR), RFC 5492 (capabilities), RFC 2918 + RFC 7313
// (route refresh, enhanced), RFC 4724 (graceful restart capability, End-of-RIB), RFC 8654 (extended
// message), RFC 9072 (extended optional parameters), RFC 8203/9003 (shutdown communication),
// RFC 1997 / RFC 4360 / RFC 8092 (communities), RFC 7606 (revised UPDATE error handling),
// draft-walton-bgp-hostname-capability (FQDN).
//
// Files: wire/ (reader, writer, IP text), messages/ (one file per message + header checks),
// capabilities/ and attributes/ (descriptor tables, one file per wire object), nlri.ts (prefixes),
// context.ts (negotiated CodecContext), framer.ts (stream -> messages), pack.ts (prefixes -> UPDATEs),
// attributes/as4.ts (2-octet peers); ../describe.ts renders messages for logs and is not imported here.

import { HEADER_LENGTH, MAX_MESSAGE_SIZE } from './constants.ts';
import { BgpError, WireError } from './errors.ts';
import { checkHeader } from './messages/header.ts';
import { decodeKeepalive, encodeKeepalive } from './messages/keepalive.ts';
import { decodeNotification, encodeNotification } from './messages/notification.ts';
import { decodeOpen, encodeOpen } from './messages/open.ts';
import { decodeRouteRefresh, encodeRouteRefresh } from './messages/route-refresh.ts';
import type { CodecContext, Decoded, Message } from './messages/types.ts';
import { decodeUpdate, encodeUpdate } from './messages/update.ts';
import { ERROR_CODE, HEADER_ERROR, UPDATE_ERROR } from './constants.ts';
import { Reader } from './wire/reader.ts';
import { Writer } from './wire/writer.ts';

/** Encode one message into `w` (appending). Used by the packer to share one writer. */
export function writeMessage(w: Writer, msg: Message, ctx: CodecContext): void {
  switch (msg.type) {
    case 'OPEN':
      return encodeOpen(w, msg);
    case 'UPDATE':
      return encodeUpdate(w, msg, ctx);
    case 'NOTIFICATION':
      return encodeNotification(w, msg);
    case 'KEEPALIVE':
      return encodeKeepalive(w);
    case 'ROUTE_REFRESH':
      return encodeRouteRefresh(w, msg);
    default: {
      const never: never = msg;
      throw new Error(`unknown message ${JSON.stringify(never)}`);
    }
  }
}

/** Encode one message (header included). Throws RangeError when it would exceed ctx.maxMessageSize
 * (4096 for OPEN, RFC 8654 §4) or a value is out of range: a programming error, not a peer error. */
export function encodeMessage(msg: Message, ctx: CodecContext): Buffer {
  const w = new Writer(msg.type === 'UPDATE' ? MAX_MESSAGE_SIZE : 64);
  writeMessage(w, msg, ctx);
  const max = msg.type === 'OPEN' ? MAX_MESSAGE_SIZE : ctx.maxMessageSize;
  if (w.length > max) throw new RangeError(`${msg.type} of ${w.length} octets exceeds the maximum ${max}`);
  return w.finish();
}

const NO_PROBLEMS: Decoded['problems'] = [];

/** Decode one whole message (header included, as returned by the framer).
 * Throws BgpError only; RFC 7606 non-fatal UPDATE problems come back in `problems`/`action`. */
export function decodeMessage(buf: Buffer, ctx: CodecContext): Decoded {
  if (buf.length < HEADER_LENGTH) {
    throw new BgpError({
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_ERROR.BAD_MESSAGE_LENGTH,
      reason: `${buf.length} octets, shorter than a header`,
    });
  }
  const { length, type } = checkHeader(buf, ctx.maxMessageSize);
  if (length !== buf.length) {
    throw new BgpError({
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_ERROR.BAD_MESSAGE_LENGTH,
      data: Buffer.from(buf.subarray(16, 18)),
      reason: `length field ${length} but ${buf.length} octets given`,
    });
  }
  const r = new Reader(buf, HEADER_LENGTH, length);
  try {
    switch (type) {
      case 'OPEN':
        return { message: decodeOpen(r), problems: NO_PROBLEMS, action: 'none' };
      case 'UPDATE':
        return decodeUpdate(r, ctx);
      case 'NOTIFICATION':
        return { message: decodeNotification(r), problems: NO_PROBLEMS, action: 'none' };
      case 'KEEPALIVE':
        return { message: decodeKeepalive(), problems: NO_PROBLEMS, action: 'none' };
      case 'ROUTE_REFRESH':
        return { message: decodeRouteRefresh(r, buf), problems: NO_PROBLEMS, action: 'none' };
      default: {
        const never: never = type;
        throw new Error(`unhandled type ${String(never)}`);
      }
    }
  } catch (e) {
    // Every message decoder maps truncation itself; this is the backstop for UPDATE framing.
    if (e instanceof WireError) {
      throw new BgpError({ code: ERROR_CODE.UPDATE_MESSAGE, subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, reason: e.message });
    }
    throw e;
  }
}

export type * from './messages/types.ts';
export { BgpError, isBgpError, ERROR_ACTION } from './errors.ts';
export type { AttributeProblem, ErrorAction } from './errors.ts';
export { INITIAL_CONTEXT, makeContext, contextFromCapabilities, hasFamily } from './context.ts';
export { createFramer, pushAll } from './framer.ts';
export type { Framer } from './framer.ts';
export { packAnnouncements, packWithdrawals, packKeyAnnouncements, packKeyWithdrawals, endOfRib } from './pack.ts';
export type { Announcement, NextHops } from './pack.ts';
export { makeOpen, openCapabilities, openAsn } from './messages/open.ts';
export { makeNotification, hardResetCause } from './messages/notification.ts';
export { KEEPALIVE } from './messages/keepalive.ts';
export { getAttribute } from './attributes/index.ts';
export { toTwoOctetAttributes, reconstructAs4 } from './attributes/as4.ts';
export type { As4View } from './attributes/as4.ts';
export { updateRoutes } from './messages/update.ts';
export type { UpdateRoutes } from './messages/update.ts';
export { parsePrefix, formatPrefix } from './nlri.ts';
