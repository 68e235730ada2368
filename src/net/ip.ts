// IP address text <-> octets: the one parser and formatter behind src/pool (bigint addresses),
// src/l2 (ARP/NDP, per frame) and src/bgp/wire (NLRI, next hops, per prefix). Pure, no dependency.
//
// Hot paths call these per packet or per prefix, so they allocate nothing but the returned string:
// one pass over the characters, writes straight into the caller's buffer at an offset, no regex,
// no split, no temporary arrays.
//
// Accepted text (what node:net isIPv4 / isIPv6 accept for zone-less text; property-tested):
//   IPv4  dotted decimal, four octets 0..255, no leading zeros ("01" is refused, as Go's net.ParseIP
//         since 1.17 and node:net);
//   IPv6  RFC 4291 §2.2: 1-4 hex digit groups, at most one "::" standing for one or more zero groups,
//         an optional trailing dotted IPv4 (form 3); no zone index.
// Output text is canonical: dotted decimal for IPv4; for IPv6, RFC 5952 §4 (lower case, no leading
// zeros, the longest run of two or more zero groups as "::", the first on a tie; an embedded IPv4 tail
// is written in hex, as Go and node:net do rather than RFC 5952 §5's recommendation).

export const IPV4_BYTES = 4;
export const IPV6_BYTES = 16;
const IPV6_GROUPS = 8;
const OCTET_MAX = 255;
const MAX_V6_TEXT = 45; // "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255"

const DOT = 0x2e;
const COLON = 0x3a;

/** 4, 6, or 0 when `text` is not an IP address (the convention of node:net isIP). */
export type IpFamilyNumber = 0 | 4 | 6;

/** Parses dotted-decimal IPv4 in text[start..end) into out[at..at+4) when `out` is given. */
function parseIpv4Range(text: string, start: number, end: number, out: Uint8Array | undefined, at: number): boolean {
  let part = 0; // octets closed
  let digits = 0;
  let value = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === DOT) {
      if (digits === 0 || part === IPV4_BYTES - 1) return false;
      if (out !== undefined) out[at + part] = value;
      part++;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 0x30);
      digits++;
      if (value > OCTET_MAX) return false;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== IPV4_BYTES - 1) return false;
  if (out !== undefined) out[at + part] = value;
  return true;
}

/**
 * Parses a dotted quad into out[at..at+4); with `out` undefined it only validates. False when `text` is
 * not an IPv4 address (out may then hold part of it).
 */
export function parseIpv4Into(text: string, out: Uint8Array | undefined, at = 0): boolean {
  return parseIpv4Range(text, 0, text.length, out, at);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Parses IPv6 text into out[at..at+16) in one pass. False when `text` is not an IPv6 address (out may
 * then hold part of it).
 */
export function parseIpv6Into(text: string, out: Uint8Array, at = 0): boolean {
  const n = text.length;
  if (n < 2 || n > MAX_V6_TEXT) return false;
  let g = 0; // groups written
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return false;
    gap = 0;
    i = 2;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    let digits = 0;
    // Check i < n before each read: charCodeAt past the end (NaN) costs V8 a slow path.
    for (; i < n; i++) {
      const d = hexDigit(text.charCodeAt(i));
      if (d < 0) break;
      v = (v << 4) | d;
      if (++digits > 4) return false;
    }
    if (i < n && text.charCodeAt(i) === DOT) {
      // RFC 4291 §2.2 form 3: a trailing dotted quad fills the last two groups.
      if (g > IPV6_GROUPS - 2 || !parseIpv4Range(text, start, n, out, at + g * 2)) return false;
      g += 2;
      break;
    }
    if (digits === 0 || g >= IPV6_GROUPS) return false;
    out[at + g * 2] = v >> 8;
    out[at + g * 2 + 1] = v & 0xff;
    g++;
    if (i === n) break;
    if (text.charCodeAt(i) !== COLON) return false;
    i++;
    if (i === n) return false; // a single trailing ':'
    if (text.charCodeAt(i) === COLON) {
      if (gap >= 0) return false; // a second "::"
      gap = g;
      i++;
    }
  }
  if (gap < 0) return g === IPV6_GROUPS;
  if (g > IPV6_GROUPS - 1) return false; // "::" stands for at least one group
  // Move the groups after "::" to the end (backwards: the ranges may overlap) and zero the gap. Plain
  // loops: for at most 16 octets they beat copyWithin/fill, which are calls into the runtime.
  const from = at + gap * 2;
  const to = at + IPV6_BYTES - (g - gap) * 2;
  for (let k = at + g * 2 - 1; k >= from; k--) out[k + to - from] = out[k] ?? 0;
  for (let k = from; k < to; k++) out[k] = 0;
  return true;
}

/** 4 or 6 for IP text, 0 otherwise. Allocates nothing for IPv4; IPv6 is validated into a scratch 16 octets. */
export function ipFamilyOf(text: string): IpFamilyNumber {
  if (parseIpv4Into(text, undefined)) return 4;
  return parseIpv6Into(text, new Uint8Array(IPV6_BYTES)) ? 6 : 0;
}

export function formatIpv4(b: Uint8Array, at = 0): string {
  return `${b[at] ?? 0}.${b[at + 1] ?? 0}.${b[at + 2] ?? 0}.${b[at + 3] ?? 0}`;
}

function group(b: Uint8Array, at: number, i: number): number {
  return ((b[at + i * 2] ?? 0) << 8) | (b[at + i * 2 + 1] ?? 0);
}

/** RFC 5952 §4 text of b[at..at+16). */
export function formatIpv6(b: Uint8Array, at = 0): string {
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not shortened
  for (let i = 0; i < IPV6_GROUPS; ) {
    if (group(b, at, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < IPV6_GROUPS && group(b, at, j) === 0) j++;
    // RFC 5952 §4.2.1/§4.2.3: the longest run; on a tie, the first.
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < IPV6_GROUPS; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (i > 0 && i !== bestStart + bestLen) out += ':';
    out += group(b, at, i).toString(16); // RFC 5952 §4.1, §4.3: no leading zeros, lower case
  }
  return out;
}

/** IPv6 link-local unicast fe80::/10 (RFC 4291 §2.5.6). */
export function isIpv6LinkLocal(b: Uint8Array, at = 0): boolean {
  return b[at] === 0xfe && ((b[at + 1] ?? 0) & 0xc0) === 0x80;
}
