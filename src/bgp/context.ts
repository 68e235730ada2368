// The codec context: derived once from the capabilities both sides advertised, then passed explicitly.

import { MAX_EXTENDED_MESSAGE_SIZE, MAX_MESSAGE_SIZE } from './constants.ts';
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
}

export function makeContext(opts: ContextOptions): CodecContext {
  return {
    fourOctetAs: opts.fourOctetAs,
    extendedMessage: opts.extendedMessage,
    // RFC 8654 §4: the larger limit applies only once both sides advertised the capability.
    maxMessageSize: opts.extendedMessage ? MAX_EXTENDED_MESSAGE_SIZE : MAX_MESSAGE_SIZE,
    families: opts.families ?? [],
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
  });
}

export function hasFamily(ctx: CodecContext, afi: number, safi: number): boolean {
  return ctx.families.some((f) => f.afi === afi && f.safi === safi);
}
