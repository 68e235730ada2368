// UPDATE packing: one attribute set and many prefixes -> the fewest UPDATE messages that fit.

import type { CodecContext, PathAttributes, Prefix } from './messages/types.ts';

export interface NextHops {
  /** IPv4 next hop for IPv4 prefixes (NEXT_HOP attribute, RFC 4271 §5.1.3). */
  readonly ipv4?: string;
  /** IPv6 global next hop for IPv6 prefixes (MP_REACH_NLRI, RFC 2545 §3). */
  readonly ipv6?: string;
  /** IPv6 link-local next hop, sent after the global one when present (RFC 2545 §3). */
  readonly ipv6LinkLocal?: string;
}

export interface Announcement {
  /** Attributes other than NEXT_HOP / MP_REACH_NLRI / MP_UNREACH_NLRI (ORIGIN, AS_PATH, ...). */
  readonly attributes: PathAttributes;
  readonly nextHops: NextHops;
  readonly prefixes: readonly Prefix[];
}

/** Encoded UPDATE messages announcing `a.prefixes` with `a.attributes`. */
export function packAnnouncements(_a: Announcement, _ctx: CodecContext): Buffer[] {
  throw new Error('not implemented yet');
}

/** Encoded UPDATE messages withdrawing `prefixes` (classic for IPv4, MP_UNREACH_NLRI for IPv6). */
export function packWithdrawals(_prefixes: readonly Prefix[], _ctx: CodecContext): Buffer[] {
  throw new Error('not implemented yet');
}

/** RFC 4724 §2: End-of-RIB marker for the family. */
export function endOfRib(_family: 'ipv4' | 'ipv6', _ctx: CodecContext): Buffer {
  throw new Error('not implemented yet');
}
