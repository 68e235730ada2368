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

/** Parse IPv6 text (with "::" and an optional trailing dotted quad) into `out[at..at+16]`. */
export function parseIpv6Into(text: string, out: Uint8Array, at: number): boolean {
  const dbl = text.indexOf('::');
  if (dbl !== -1 && text.indexOf('::', dbl + 1) !== -1) return false;
  const head = dbl === -1 ? text : text.slice(0, dbl);
  const tail = dbl === -1 ? '' : text.slice(dbl + 2);
  const groups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const res: number[] = [];
    const parts = s.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4Into(p, v4, 0)) return undefined;
        res.push(((v4[0] as number) << 8) | (v4[1] as number), ((v4[2] as number) << 8) | (v4[3] as number));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      res.push(parseInt(p, 16));
    }
    return res;
  };
  const h = groups(head);
  const t = groups(tail);
  if (h === undefined || t === undefined) return false;
  if (dbl === -1 ? h.length !== 8 : h.length + t.length > 7) return false;
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  for (let i = 0; i < 8; i++) {
    const g = all[i] as number;
    out[at + 2 * i] = g >> 8;
    out[at + 2 * i + 1] = g & 0xff;
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
