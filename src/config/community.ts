// BGP community text -> value. Forms accepted (MetalLB api/v1beta1/bgpadvertisement_types.go; api/v1beta1/community_types.go):
//   "AA:NN"          RFC 1997 community, two 16-bit numbers
//   "large:G:L1:L2"  RFC 8092 large community, three 32-bit numbers
//   a well-known name (RFC 1997 §4, RFC 3765, RFC 7611, RFC 7999, RFC 8326, RFC 9494), as FRR spells them
// Aliases (MetalLB Community objects) are resolved by the caller before falling back to these.

import type { BgpCommunity } from './model.ts';

const U16_MAX = 0xffff;
const U32_MAX = 0xffff_ffff;
const LARGE_PREFIX = 'large:';

/** IANA "BGP Well-known Communities" registry, names as FRR's `set community` accepts them. */
export const WellKnownCommunities = {
  'graceful-shutdown': 0xffff_0000, // RFC 8326 §3: 65535:0
  'accept-own': 0xffff_0001, // RFC 7611 §2: 65535:1
  'llgr-stale': 0xffff_0006, // RFC 9494 §4.1: 65535:6
  'no-llgr': 0xffff_0007, // RFC 9494 §4.1: 65535:7
  blackhole: 0xffff_029a, // RFC 7999 §5: 65535:666
  'no-export': 0xffff_ff01, // RFC 1997 §4: 65535:65281
  'no-advertise': 0xffff_ff02, // RFC 1997 §4: 65535:65282
  'no-export-subconfed': 0xffff_ff03, // RFC 1997 §4: 65535:65283 (FRR: local-AS)
  'local-AS': 0xffff_ff03,
  'no-peer': 0xffff_ff04, // RFC 3765 §4: 65535:65284
} as const satisfies Readonly<Record<string, number>>;

export type CommunityResult = { readonly ok: true; readonly value: BgpCommunity } | { readonly ok: false; readonly message: string };

function parseUint(text: string, max: number): number | undefined {
  if (!/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

/** What an error message says after the literal forms: the other spellings the field takes, or why not. */
export interface CommunityAdvice {
  /** Appended to both messages. Default: on the AA:NN message only, ", or the name of a Community alias"
   * (BGPAdvertisement and Community fields resolve aliases before falling back to the literals). */
  readonly advice?: string;
}

const ALIAS_ADVICE = ', or the name of a Community alias';

/** Parses the literal forms (AA:NN, large:G:L1:L2). */
export function parseCommunity(text: string, opts: CommunityAdvice = {}): CommunityResult {
  const s = text.trim();
  if (s.startsWith(LARGE_PREFIX)) {
    const parts = s.slice(LARGE_PREFIX.length).split(':');
    const nums = parts.map((p) => parseUint(p, U32_MAX));
    const [g, l1, l2] = nums;
    if (parts.length !== 3 || g === undefined || l1 === undefined || l2 === undefined) {
      return { ok: false, message: `invalid large community "${text}": write large:GLOBAL:LOCAL1:LOCAL2, each 0..${U32_MAX}${opts.advice ?? ''}` };
    }
    return { ok: true, value: { kind: 'large', globalAdmin: g, localData1: l1, localData2: l2 } };
  }
  const parts = s.split(':');
  const nums = parts.map((p) => parseUint(p, U16_MAX));
  const [hi, lo] = nums;
  if (parts.length !== 2 || hi === undefined || lo === undefined) {
    return { ok: false, message: `invalid community "${text}": write AA:NN with each part 0..${U16_MAX}, large:G:L1:L2${opts.advice ?? ALIAS_ADVICE}` };
  }
  return { ok: true, value: { kind: 'standard', value: hi * 0x1_0000 + lo } };
}

export function wellKnownCommunity(name: string): BgpCommunity | undefined {
  const v = (WellKnownCommunities as Readonly<Record<string, number>>)[name];
  return v === undefined ? undefined : { kind: 'standard', value: v };
}

export function formatCommunity(c: BgpCommunity): string {
  return c.kind === 'standard'
    ? `${Math.floor(c.value / 0x1_0000)}:${c.value % 0x1_0000}`
    : `large:${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}

export function compareCommunities(a: BgpCommunity, b: BgpCommunity): number {
  if (a.kind !== b.kind) return a.kind === 'standard' ? -1 : 1;
  if (a.kind === 'standard' && b.kind === 'standard') return a.value - b.value;
  if (a.kind === 'large' && b.kind === 'large') {
    return a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2;
  }
  return 0;
}

/**
 * The 32-bit value of an RFC 1997 community written AA:NN (65535:65282 -> 0xffffff02); throws on
 * anything else. For literals in code and tests: user text goes through parseCommunity.
 */
export function communityValue(text: string): number {
  const c = parseCommunity(text);
  if (!c.ok || c.value.kind !== 'standard') throw new Error(c.ok ? `not an AA:NN community: ${JSON.stringify(text)}` : c.message);
  return c.value.value;
}
