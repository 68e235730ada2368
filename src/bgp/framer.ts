// Framer: turns a TCP byte stream into whole BGP messages. No I/O: the session driver pushes
// chunks and pulls frames. "Need more bytes" is `undefined`; a malformed header is a thrown BgpError
// carrying the Message Header Error NOTIFICATION (RFC 4271 §6.1).
//
// Pull-style (`next(ctx)`) so the driver can switch to the negotiated context (e.g. RFC 8654 extended
// message size) between two messages that arrived in the same chunk.

import { HEADER_LENGTH } from './constants.ts';
import { BgpError } from './errors.ts';
import { checkHeader } from './messages/header.ts';
import type { CodecContext } from './messages/types.ts';

export interface Framer {
  /** Append bytes received from the peer. */
  push(chunk: Buffer): void;
  /** The next whole message (header included), or undefined when more bytes are needed.
   * Throws BgpError (Message Header Error) on a bad marker, length or type. */
  next(ctx: Pick<CodecContext, 'maxMessageSize'>): Buffer | undefined;
  /** Octets held that do not yet form a whole message. */
  readonly buffered: number;
}

export function createFramer(): Framer {
  let pending: Buffer = Buffer.alloc(0);
  let at = 0; // start of the first unconsumed octet in `pending`
  return {
    push(chunk) {
      if (chunk.length === 0) return;
      pending = at === pending.length ? chunk : Buffer.concat([pending.subarray(at), chunk]);
      at = 0;
    },
    next(ctx) {
      const available = pending.length - at;
      if (available < HEADER_LENGTH) return undefined;
      // The header is checked as soon as it is complete, before waiting for the body, so a bad
      // length is reported at once instead of waiting for octets that will never come.
      const { length } = checkHeader(pending.subarray(at, at + HEADER_LENGTH), ctx.maxMessageSize);
      if (available < length) return undefined;
      // Copy: the caller may keep the frame after later chunks are pushed.
      const frame = Buffer.from(pending.subarray(at, at + length));
      at += length;
      return frame;
    },
    get buffered() {
      return pending.length - at;
    },
  };
}

/** Every whole message `chunk` completes, with the context fixed for the batch. A malformed header
 * stops the batch: the frames before it are returned with the error so they can still be handled. */
export function pushAll(
  framer: Framer,
  chunk: Buffer,
  ctx: Pick<CodecContext, 'maxMessageSize'>,
): { readonly frames: Buffer[]; readonly error?: BgpError } {
  framer.push(chunk);
  const frames: Buffer[] = [];
  try {
    for (let f = framer.next(ctx); f !== undefined; f = framer.next(ctx)) frames.push(f);
  } catch (e) {
    if (e instanceof BgpError) return { frames, error: e };
    throw e;
  }
  return { frames };
}
