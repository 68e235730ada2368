// The codec's public face: everything the FSM, the session driver and the speaker need.

import type { CodecContext, Decoded, Message } from './messages/types.ts';

/** Encode one message (header included). Throws RangeError when it would exceed ctx.maxMessageSize
 * or a value is out of range (programming error, not a peer error). */
export function encodeMessage(_msg: Message, _ctx: CodecContext): Buffer {
  throw new Error('not implemented yet');
}

/** Decode one whole message (header included, as returned by the framer).
 * Throws BgpError only; RFC 7606 non-fatal UPDATE problems come back in `problems`/`action`. */
export function decodeMessage(_buf: Buffer, _ctx: CodecContext): Decoded {
  throw new Error('not implemented yet');
}

export type * from './messages/types.ts';
export { BgpError, isBgpError, ERROR_ACTION } from './errors.ts';
export type { AttributeProblem, ErrorAction } from './errors.ts';
export { INITIAL_CONTEXT, makeContext, contextFromCapabilities, hasFamily } from './context.ts';
export { createFramer } from './framer.ts';
export type { Framer } from './framer.ts';
export { packAnnouncements, packWithdrawals, endOfRib } from './pack.ts';
export type { Announcement, NextHops } from './pack.ts';
