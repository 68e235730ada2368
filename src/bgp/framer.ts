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
  // Received chunks are kept as they came and only joined when a header or a whole message spans
  // several of them, so feeding a large message in small pieces copies each octet a bounded number
  // of times (not once per push).
  let chunks: Buffer[] = [];
  let at = 0; // offset of the first unconsumed octet in chunks[0]
  let total = 0; // unconsumed octets over all chunks

  const coalesce = (): Buffer => {
    const first = chunks[0] as Buffer;
    if (chunks.length === 1) return first.subarray(at);
    const joined = Buffer.concat([first.subarray(at), ...chunks.slice(1)]);
    chunks = [joined];
    at = 0;
    return joined;
  };

  return {
    push(chunk) {
      if (chunk.length === 0) return;
      chunks.push(chunk);
      total += chunk.length;
    },
    next(ctx) {
      if (total < HEADER_LENGTH) return undefined;
      let head = (chunks[0] as Buffer).subarray(at);
      if (head.length < HEADER_LENGTH) head = coalesce();
      // The header is checked as soon as it is complete, before waiting for the body, so a bad
      // length is reported at once instead of waiting for octets that will never come.
      const { length } = checkHeader(head, ctx.maxMessageSize);
      if (total < length) return undefined;
      if (head.length < length) head = coalesce();
      // Copy: the frame must not alias buffers the caller may reuse.
      const frame = Buffer.from(head.subarray(0, length));
      at += length;
      total -= length;
      if (at === (chunks[0] as Buffer).length) {
        chunks.shift();
        at = 0;
      }
      return frame;
    },
    get buffered() {
      return total;
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
