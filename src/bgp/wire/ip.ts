// IP address text <-> octets, without allocation-heavy libraries (the packer runs this per prefix).
// Output text is canonical: dotted quad for IPv4, RFC 5952 §4 for IPv6 (lowercase, no leading zeros,
// the longest run of two or more zero groups compressed to "::", the first on a tie).

/** Parse a dotted quad into `out[at..at+4]`. Returns false when `text` is not an IPv4 address. */
export function parseIpv4Into(text: string, out: Uint8Array, at: number): boolean {
  let part = 0;
  let digits = 0;
  let idx = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || idx > 2) return false;
      out[at + idx++] = part;
      part = 0;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && part === 0) return false; // no leading zeros ("01")
      part = part * 10 + (c - 0x30);
      if (part > 255 || ++digits > 3) return false;
    } else return false;
  }
  if (digits === 0 || idx !== 3) return false;
  out[at + 3] = part;
  return true;
}

export function ipv4ToBytes(text: string): Buffer {
  const b = Buffer.alloc(4);
  if (!parseIpv4Into(text, b, 0)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return b;
}

export function formatIpv4(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** Parse IPv6 text (with "::" and an optional trailing dotted quad) into `out[at..at+16]`.
 * A single pass over the characters: the packer calls this once per prefix. */
export function parseIpv6Into(text: string, out: Uint8Array, at: number): boolean {
  const groups = IPV6_GROUPS;
  let n = 0; // groups parsed
  let gap = -1; // index in `groups` where "::" was
  let i = 0;
  const len = text.length;
  if (len < 2) return false;
  if (text.charCodeAt(0) === 0x3a) {
    if (text.charCodeAt(1) !== 0x3a) return false;
    gap = 0;
    i = 2;
    if (i === len) return fill(out, at, groups, 0, 0);
  }
  while (i < len) {
    if (n === 8) return false;
    let v = 0;
    let digits = 0;
    const groupStart = i;
    for (; i < len; i++) {
      const c = text.charCodeAt(i);
      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
      if (d < 0) break;
      v = (v << 4) | d;
      if (++digits > 4) return false;
    }
    if (i < len && text.charCodeAt(i) === 0x2e) {
      // Trailing dotted quad (RFC 4291 §2.2 form 3): two more groups.
      if (n > 6 || !parseIpv4Into(text.slice(groupStart), IPV4_SCRATCH, 0)) return false;
      groups[n++] = ((IPV4_SCRATCH[0] as number) << 8) | (IPV4_SCRATCH[1] as number);
      groups[n++] = ((IPV4_SCRATCH[2] as number) << 8) | (IPV4_SCRATCH[3] as number);
      break; // the dotted quad ends the address
    }
    if (digits === 0) return false;
    groups[n++] = v;
    if (i === len) break;
    if (text.charCodeAt(i) !== 0x3a) return false;
    i++;
    if (i < len && text.charCodeAt(i) === 0x3a) {
      if (gap !== -1) return false;
      gap = n;
      i++;
      if (i === len) break;
    } else if (i === len) return false; // trailing single ':'
  }
  if (gap === -1 ? n !== 8 : n > 7) return false;
  return fill(out, at, groups, n, gap);
}

const IPV6_GROUPS = new Uint16Array(8);
const IPV4_SCRATCH = new Uint8Array(4);

function fill(out: Uint8Array, at: number, groups: Uint16Array, n: number, gap: number): boolean {
  const zeros = gap === -1 ? 0 : 8 - n;
  let g = 0;
  for (let k = 0; k < 8; k++) {
    let v: number;
    if (gap !== -1 && k >= gap && k < gap + zeros) v = 0;
    else v = groups[g++] as number;
    out[at + 2 * k] = v >> 8;
    out[at + 2 * k + 1] = v & 0xff;
  }
  return true;
}

export function ipv6ToBytes(text: string): Buffer {
  const b = Buffer.alloc(16);
  if (!parseIpv6Into(text, b, 0)) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return b;
}

export function formatIpv6(b: Uint8Array, at = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push(((b[at + 2 * i] as number) << 8) | (b[at + 2 * i + 1] as number));
  // RFC 5952 §4.2.2/§4.2.3: compress the longest run of >= 2 zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart === -1) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** IPv6 link-local unicast fe80::/10 (RFC 4291 §2.5.6). */
export function isIpv6LinkLocal(b: Uint8Array, at = 0): boolean {
  return b[at] === 0xfe && ((b[at + 1] as number) & 0xc0) === 0x80;
}
