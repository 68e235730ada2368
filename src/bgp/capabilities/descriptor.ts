// The shape of one capability's codec (BIRD-style descriptor): decode its value, encode its value.

import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import type { Capability } from '../messages/types.ts';

export interface CapabilityDescriptor<C extends { readonly kind: string } = Capability> {
  readonly code: number;
  readonly kind: C['kind'];
  /** Decode from a reader spanning exactly the Capability Value. Throws CapabilityError / WireError. */
  decode(r: Reader): C;
  /** Write the Capability Value only (code and length are written by the caller). */
  encode(w: Writer, cap: C): void;
}

/** A capability value that is malformed (the OPEN is then rejected, RFC 5492 §3 / RFC 4271 §6.2). */
export class CapabilityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CapabilityError';
  }
}

/** Fail unless the reader consumed its whole window. */
export function expectEnd(r: Reader, what: string): void {
  if (!r.atEnd) throw new CapabilityError(`${what}: ${r.remaining} trailing octet(s)`);
}
