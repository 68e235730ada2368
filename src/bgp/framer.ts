// Framer: turns a TCP byte stream into whole BGP messages. No I/O: the session driver pushes
// chunks and pulls frames. "Need more bytes" is `undefined`; a malformed header is a thrown BgpError
// carrying the Message Header Error NOTIFICATION (RFC 4271 §6.1).
//
// Pull-style (`next(ctx)`) so the driver can switch to the negotiated context (e.g. RFC 8654 extended
// message size) between two messages that arrived in the same chunk.

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
  throw new Error('not implemented yet');
}
