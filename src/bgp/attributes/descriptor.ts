// The shape of one path attribute's codec (BIRD-style descriptor table): its type code, the
// Optional/Transitive flags it must carry, the RFC 7606 action when it is malformed, and the
// value decoder/encoder. The attribute header (flags, type, length) is handled by index.ts.

import type { AttributeOf, CodecContext, PathAttributeKind } from '../messages/types.ts';
import type { ErrorAction } from '../errors.ts';
import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';

type Bare<K extends PathAttributeKind> = Omit<AttributeOf<K>, 'flags'>;

export interface AttributeDescriptor<K extends PathAttributeKind = PathAttributeKind> {
  readonly kind: K;
  readonly typeCode: number;
  /** Optional + Transitive bits the attribute must carry (RFC 4271 §5 / its own RFC). */
  readonly flags: number;
  /** RFC 7606 §7: what to do when the attribute is malformed (bad flags, length or value). */
  readonly onError: Exclude<ErrorAction, 'none'>;
  /** The RFC 4271 §6.3 subcode for that error (logged, or sent when onError is session-reset). */
  readonly errorSubcode: number;
  /** When true for a raw value, the attribute is kept as `UNKNOWN` (e.g. MP_REACH of a family the
   * codec does not decode) instead of being decoded. */
  readonly keepsRaw?: (value: Buffer) => boolean;
  /** Decode from a reader spanning exactly the attribute value. Throws AttributeError / WireError. */
  decode(r: Reader, ctx: CodecContext): Bare<K>;
  /** Write the value only. Throws RangeError when the value cannot be encoded. */
  encode(w: Writer, a: Bare<K>, ctx: CodecContext): void;
}

/** A malformed attribute value; the UPDATE decoder applies the descriptor's `onError`. */
export class AttributeError extends Error {
  /** Overrides the descriptor's subcode when set. */
  readonly subcode: number | undefined;
  constructor(message: string, subcode?: number) {
    super(message);
    this.name = 'AttributeError';
    this.subcode = subcode;
  }
}

export function expectLength(r: Reader, lengths: readonly number[], what: string): void {
  if (!lengths.includes(r.remaining)) {
    throw new AttributeError(`${what}: length ${r.remaining}, expected ${lengths.join(' or ')}`);
  }
}

export function expectMultiple(r: Reader, unit: number, what: string): void {
  // RFC 7606 §4: a zero length is an error for every attribute but AS_PATH and ATOMIC_AGGREGATE.
  if (r.remaining === 0 || r.remaining % unit !== 0) {
    throw new AttributeError(`${what}: length ${r.remaining} is not a non-zero multiple of ${unit}`);
  }
}
