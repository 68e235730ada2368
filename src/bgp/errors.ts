// The one catalog of codec errors.
//
// - `WireError`: the reader ran past the end of its window. Never leaves the codec: every decoder that
//   can hit it turns it into a `BgpError` carrying the NOTIFICATION that RFC 4271 §6 / RFC 7606 asks for.
// - `BgpError`: a protocol error that ends the session. Carries the NOTIFICATION code, subcode and data,
//   so the session driver sends exactly what the codec decided (RFC 4271 §6: "the error is indicated by
//   sending the NOTIFICATION message with the Error Code ... and the Data field ...").
// - `AttributeProblem`: an RFC 7606 attribute error that does NOT end the session
//   (treat-as-withdraw or attribute-discard); returned as data next to the decoded UPDATE, never thrown.

import type { ErrorCode } from './constants.ts';

/** RFC 7606 §2: the error-handling approaches, weakest first. `session-reset` is thrown as BgpError. */
export const ERROR_ACTION = {
  NONE: 'none',
  ATTRIBUTE_DISCARD: 'attribute-discard',
  TREAT_AS_WITHDRAW: 'treat-as-withdraw',
  SESSION_RESET: 'session-reset',
} as const;
export type ErrorAction = (typeof ERROR_ACTION)[keyof typeof ERROR_ACTION];

/** Ordering of actions so the strongest found in an UPDATE wins (RFC 7606 §3 last paragraph). */
export const ERROR_ACTION_RANK: Readonly<Record<ErrorAction, number>> = {
  none: 0,
  'attribute-discard': 1,
  'treat-as-withdraw': 2,
  'session-reset': 3,
};

export interface BgpErrorInit {
  readonly code: ErrorCode;
  readonly subcode: number;
  /** NOTIFICATION data field (RFC 4271 §6 says what goes there for each error). */
  readonly data?: Buffer;
  /** Human-readable reason for logs; never sent on the wire. */
  readonly reason: string;
}

/** A decode error that resets the session: send NOTIFICATION(code, subcode, data) and close. */
export class BgpError extends Error {
  readonly code: ErrorCode;
  readonly subcode: number;
  readonly data: Buffer;
  readonly reason: string;
  /** Always session-reset: RFC 7606 problems that do not reset the session are not thrown. */
  readonly action = ERROR_ACTION.SESSION_RESET;

  constructor(init: BgpErrorInit) {
    super(`BGP error ${init.code}/${init.subcode}: ${init.reason}`);
    this.name = 'BgpError';
    this.code = init.code;
    this.subcode = init.subcode;
    this.data = init.data ?? Buffer.alloc(0);
    this.reason = init.reason;
  }
}

export function isBgpError(e: unknown): e is BgpError {
  return e instanceof BgpError;
}

/** The reader tried to read past the end of its window (or a declared length overran its parent). */
export class WireError extends Error {
  readonly offset: number;
  readonly wanted: number;
  readonly available: number;

  constructor(init: { readonly offset: number; readonly wanted: number; readonly available: number; readonly what?: string }) {
    super(
      `truncated${init.what === undefined ? '' : ` ${init.what}`}: wanted ${init.wanted} octets at ${init.offset}, ${init.available} available`,
    );
    this.name = 'WireError';
    this.offset = init.offset;
    this.wanted = init.wanted;
    this.available = init.available;
  }
}

/** One RFC 7606 problem found in an UPDATE that did not reset the session. */
export interface AttributeProblem {
  /** Attribute type code the problem is about (0 when it is about the attribute list itself). */
  readonly typeCode: number;
  readonly action: Exclude<ErrorAction, 'none' | 'session-reset'>;
  /** The NOTIFICATION subcode RFC 4271 §6.3 would have used; logged, never sent. */
  readonly subcode: number;
  readonly reason: string;
}
