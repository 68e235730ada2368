// NLRI prefixes (RFC 4271 §4.3 "Withdrawn Routes" / "Network Layer Reachability Information",
// RFC 4760 §5 for MP_REACH/MP_UNREACH): a length in bits, then the fewest octets holding it.

import { AFI } from './constants.ts';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from './wire/ip.ts';
import type { Reader } from './wire/reader.ts';
import type { Writer } from './wire/writer.ts';
import type { Family, Prefix } from './messages/types.ts';

export const MAX_PREFIX_LENGTH: Readonly<Record<Family, number>> = { ipv4: 32, ipv6: 128 };
const ADDRESS_OCTETS: Readonly<Record<Family, number>> = { ipv4: 4, ipv6: 16 };

export function familyOfAfi(afi: number): Family | undefined {
  return afi === AFI.IPV4 ? 'ipv4' : afi === AFI.IPV6 ? 'ipv6' : undefined;
}

export function afiOfFamily(family: Family): number {
  return family === 'ipv4' ? AFI.IPV4 : AFI.IPV6;
}

/** Thrown by decodePrefixes; callers map it to the NOTIFICATION for their field. */
export class PrefixError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PrefixError';
  }
}

/**
 * A prefix as its own NLRI encoding (RFC 4271 §4.3): the length octet, then the fewest octets holding
 * it, host bits zero, as a one-byte (latin1) string. It is the speaker's compact form of a route: a Map
 * key of 5 characters for an IPv4 /32 (17 for an IPv6 /128) instead of a Prefix object and its text,
 * and the very octets the packer writes, so a prefix's text is parsed once, when it is set.
 */
export type NlriKey = string;

/** Parses CIDR text straight into its family and NlriKey (host bits cleared). Throws RangeError. */
export function parsePrefixKey(text: string): { readonly family: Family; readonly key: NlriKey } {
  const { family, bytes, length } = parsePrefixBytes(text);
  return { family, key: keyOfBytes(bytes, length) };
}

/** The NlriKey of a Prefix (its address text parsed once). Throws RangeError. */
export function prefixKeyOf(p: Prefix): NlriKey {
  const b = new Uint8Array(ADDRESS_OCTETS[p.family]);
  const max = MAX_PREFIX_LENGTH[p.family];
  if (!Number.isInteger(p.length) || p.length < 0 || p.length > max) throw new RangeError(`bad prefix length ${p.length} for ${p.family}`);
  const ok = p.family === 'ipv4' ? parseIpv4Into(p.address, b, 0) : parseIpv6Into(p.address, b, 0);
  if (!ok) throw new RangeError(`bad ${p.family} address ${JSON.stringify(p.address)}`);
  maskHostBits(b, p.length);
  return keyOfBytes(b, p.length);
}

/** The Prefix an NlriKey stands for (status, logs, tests). */
export function prefixOfKey(family: Family, key: NlriKey): Prefix {
  const b = new Uint8Array(ADDRESS_OCTETS[family]);
  for (let i = 1; i < key.length; i++) b[i - 1] = key.charCodeAt(i);
  return { family, address: family === 'ipv4' ? formatIpv4(b) : formatIpv6(b), length: key.charCodeAt(0) };
}

/** CIDR text of an NlriKey. */
export function keyText(family: Family, key: NlriKey): string {
  return formatPrefix(prefixOfKey(family, key));
}

function keyOfBytes(b: Uint8Array, length: number): NlriKey {
  const n = (length + 7) >> 3;
  // One call: String.fromCharCode with every code makes a flat one-byte string (no rope, no Buffer).
  if (n === 4) return String.fromCharCode(length, b[0] as number, b[1] as number, b[2] as number, b[3] as number);
  const codes = new Array<number>(n + 1);
  codes[0] = length;
  for (let i = 0; i < n; i++) codes[i + 1] = b[i] as number;
  return String.fromCharCode(...codes);
}

function parsePrefixBytes(text: string): { family: Family; bytes: Uint8Array; length: number } {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const family: Family = addr.includes(':') ? 'ipv6' : 'ipv4';
  const max = MAX_PREFIX_LENGTH[family];
  const length = slash === -1 ? max : Number(text.slice(slash + 1));
  if (!Number.isInteger(length) || length < 0 || length > max || (slash !== -1 && !/^\d+$/.test(text.slice(slash + 1)))) {
    throw new RangeError(`bad prefix length in ${JSON.stringify(text)}`);
  }
  const b = new Uint8Array(ADDRESS_OCTETS[family]);
  const ok = family === 'ipv4' ? parseIpv4Into(addr, b, 0) : parseIpv6Into(addr, b, 0);
  if (!ok) throw new RangeError(`bad prefix address in ${JSON.stringify(text)}`);
  maskHostBits(b, length);
  return { family, bytes: b, length };
}

/** Parse "192.0.2.0/24" or "2001:db8::/32" (a bare address is a host route). Host bits are cleared. */
export function parsePrefix(text: string): Prefix {
  const { family, bytes, length } = parsePrefixBytes(text);
  return { family, address: family === 'ipv4' ? formatIpv4(bytes) : formatIpv6(bytes), length };
}

export function formatPrefix(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

function maskHostBits(b: Uint8Array, length: number): void {
  for (let i = 0; i < b.length; i++) {
    const bits = length - i * 8;
    if (bits >= 8) continue;
    b[i] = bits <= 0 ? 0 : (b[i] as number) & (0xff << (8 - bits)) & 0xff;
  }
}

/** Octets one prefix takes on the wire. */
export function prefixWireLength(p: Prefix): number {
  return 1 + ((p.length + 7) >> 3);
}

/** Write one prefix; `scratch` is a 16-octet work area (so the packer allocates nothing per prefix). */
export function writePrefix(w: Writer, p: Prefix, scratch: Uint8Array = new Uint8Array(16)): void {
  const max = MAX_PREFIX_LENGTH[p.family];
  if (!Number.isInteger(p.length) || p.length < 0 || p.length > max) {
    throw new RangeError(`bad prefix length ${p.length} for ${p.family}`);
  }
  const ok = p.family === 'ipv4' ? parseIpv4Into(p.address, scratch, 0) : parseIpv6Into(p.address, scratch, 0);
  if (!ok) throw new RangeError(`bad ${p.family} address ${JSON.stringify(p.address)}`);
  const n = (p.length + 7) >> 3;
  // RFC 4271 §4.3: trailing bits after the prefix are irrelevant; we send them as zero.
  if ((p.length & 7) !== 0) scratch[n - 1] = (scratch[n - 1] as number) & (0xff << (8 - (p.length & 7))) & 0xff;
  w.prefix(p.length, scratch, n);
}

export function writePrefixes(w: Writer, ps: readonly Prefix[]): void {
  const scratch = new Uint8Array(16);
  for (const p of ps) writePrefix(w, p, scratch);
}

/** Read prefixes until the reader's window ends. Throws PrefixError (bad length) or WireError (truncated). */
export function readPrefixes(r: Reader, family: Family): Prefix[] {
  const out: Prefix[] = [];
  const max = MAX_PREFIX_LENGTH[family];
  const addr = new Uint8Array(ADDRESS_OCTETS[family]);
  while (!r.atEnd) {
    const length = r.u8('prefix length');
    if (length > max) throw new PrefixError(`prefix length ${length} > ${max} for ${family}`);
    const n = (length + 7) >> 3;
    addr.fill(0);
    addr.set(r.bytes(n, 'prefix'));
    maskHostBits(addr, length);
    out.push({ family, address: family === 'ipv4' ? formatIpv4(addr) : formatIpv6(addr), length });
  }
  return out;
}
