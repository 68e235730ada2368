// The codec context: derived once from the capabilities both sides advertised, then passed explicitly.

import { AFI, MAX_EXTENDED_MESSAGE_SIZE, MAX_MESSAGE_SIZE, SAFI } from './constants.ts';
import type { AfiSafi, Capability, CodecContext } from './messages/types.ts';

/** Before the OPEN exchange (and for OPEN itself): 2-octet AS, 4096-octet messages, no MP families. */
export const INITIAL_CONTEXT: CodecContext = {
  fourOctetAs: false,
  extendedMessage: false,
  maxMessageSize: MAX_MESSAGE_SIZE,
  families: [],
};

export interface ContextOptions {
  readonly fourOctetAs: boolean;
  readonly extendedMessage: boolean;
  readonly families?: readonly AfiSafi[];
  /** RFC 8950: IPv4 unicast NLRI with IPv6 next hops negotiated. */
  readonly ipv4NextHopIpv6?: boolean;
}

export function makeContext(opts: ContextOptions): CodecContext {
  return {
    fourOctetAs: opts.fourOctetAs,
    extendedMessage: opts.extendedMessage,
    // RFC 8654 §4: the larger limit applies only once both sides advertised the capability.
    maxMessageSize: opts.extendedMessage ? MAX_EXTENDED_MESSAGE_SIZE : MAX_MESSAGE_SIZE,
    families: opts.families ?? [],
    ...(opts.ipv4NextHopIpv6 === true ? { ipv4NextHopIpv6: true } : {}),
  };
}

/** The context for a session whose two OPENs carried `local` and `remote` capabilities. */
export function contextFromCapabilities(
  local: readonly Capability[],
  remote: readonly Capability[],
): CodecContext {
  const both = (kind: Capability['kind']): boolean =>
    local.some((c) => c.kind === kind) && remote.some((c) => c.kind === kind);
  const mp = (caps: readonly Capability[]): AfiSafi[] =>
    caps.flatMap((c) => (c.kind === 'MULTIPROTOCOL' ? [{ afi: c.afi, safi: c.safi }] : []));
  const remoteMp = mp(remote);
  // RFC 4760 §8: a family is usable when both sides advertised it.
  const families = mp(local).filter((f) => remoteMp.some((r) => r.afi === f.afi && r.safi === f.safi));
  return makeContext({
    fourOctetAs: both('FOUR_OCTET_AS'), // RFC 6793 §4
    extendedMessage: both('EXTENDED_MESSAGE'), // RFC 8654 §3
    families,
    // RFC 8950 §4: IPv4 NLRI may carry an IPv6 next hop only when both sides advertised that triple.
    ipv4NextHopIpv6: offersIpv4OverIpv6(local) && offersIpv4OverIpv6(remote),
  });
}

/** The RFC 8950 triple <AFI 1, SAFI 1, Nexthop AFI 2> is among the capabilities. */
function offersIpv4OverIpv6(caps: readonly Capability[]): boolean {
  return caps.some(
    (c) => c.kind === 'EXTENDED_NEXT_HOP' && c.entries.some((e) => e.afi === AFI.IPV4 && e.safi === SAFI.UNICAST && e.nextHopAfi === AFI.IPV6),
  );
}

export function hasFamily(ctx: CodecContext, afi: number, safi: number): boolean {
  return ctx.families.some((f) => f.afi === afi && f.safi === safi);
}
