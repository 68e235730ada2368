// Text <-> number for IP addresses and pool address entries. Pure; no dependency.
//
// Accepted IP text: IPv4 dotted decimal (four octets, no leading zeros, as Go's net.ParseIP since 1.17)
// and IPv6 (RFC 4291 §2.2: eight groups, one "::", an embedded dotted IPv4 tail). No zones.
// Output: IPv4 dotted decimal, IPv6 in RFC 5952 canonical form. An IPv4-mapped address (::ffff:a.b.c.d,
// RFC 4291 §2.5.5.2) stays IPv6 here; Go's net.IP (MetalLB) would call it IPv4. Config may reject it.
//
// Pool address entries (MetalLB spec.addresses items, OpenELB Eip spec.address):
//   CIDR   "198.51.100.0/24"  host bits are cleared, as net.ParseCIDR does ("198.51.100.10/24" -> .0/24);
//                             `hostBitsSet` tells config so it can warn
//   range  "a-b"              spaces around "-" trimmed, same family, a <= b
//   single "a"                one address (OpenELB accepts it; MetalLB wants "/32" or "a-a": config decides)
import type { AddressRange, Family, IPAddress } from './types.ts';

const V4_BITS = 32;
const V6_BITS = 128;
const OCTET_MAX = 255;
const GROUP_MAX = 0xffff;
const V6_GROUPS = 8;

export const AddressErrorKind = {
  InvalidIP: 'invalid-ip',
  InvalidPrefix: 'invalid-prefix',
  MixedFamily: 'mixed-family',
  ReversedRange: 'reversed-range',
  Empty: 'empty',
} as const;
export type AddressErrorKind = (typeof AddressErrorKind)[keyof typeof AddressErrorKind];

export interface AddressError {
  readonly kind: AddressErrorKind;
  readonly input: string;
  readonly message: string;
}

export type ParseResult<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: AddressError };

export const PoolAddressForm = { CIDR: 'cidr', Range: 'range', Single: 'single' } as const;
export type PoolAddressForm = (typeof PoolAddressForm)[keyof typeof PoolAddressForm];

export interface ParsedPoolAddress {
  readonly form: PoolAddressForm;
  readonly range: AddressRange;
  /** CIDR form only: the written address had host bits set (they were cleared). */
  readonly hostBitsSet: boolean;
}

export function familyBits(family: Family): number {
  return family === 'ipv4' ? V4_BITS : V6_BITS;
}

function fail<T>(kind: AddressErrorKind, input: string, message: string): ParseResult<T> {
  return { ok: false, error: { kind, input, message } };
}

function parseV4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > OCTET_MAX) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseGroups(s: string): number[] | undefined {
  if (s === '') return [];
  const out: number[] = [];
  for (const g of s.split(':')) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    out.push(parseInt(g, 16));
  }
  return out;
}

function parseV6(s: string): bigint | undefined {
  let text = s;
  let tail: number[] = [];
  // RFC 4291 §2.2 (3): the last 32 bits may be written as dotted IPv4.
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.slice(lastColon + 1).includes('.')) {
    const v4 = parseV4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tail = [Number(v4 >> 16n), Number(v4 & 0xffffn)];
    text = text.slice(0, lastColon + 1);
    // keep a trailing "::" intact; a single trailing ":" separated the IPv4 part
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  let groups: number[];
  if (halves.length === 2) {
    const head = parseGroups(halves[0] ?? '');
    const rest = parseGroups(halves[1] ?? '');
    if (head === undefined || rest === undefined) return undefined;
    const missing = V6_GROUPS - head.length - rest.length - tail.length;
    if (missing < 1) return undefined; // RFC 4291: "::" stands for one or more groups
    groups = [...head, ...new Array<number>(missing).fill(0), ...rest, ...tail];
  } else {
    const all = parseGroups(text);
    if (all === undefined) return undefined;
    groups = [...all, ...tail];
    if (groups.length !== V6_GROUPS) return undefined;
  }
  let v = 0n;
  for (const g of groups) {
    if (g > GROUP_MAX) return undefined;
    v = (v << 16n) | BigInt(g);
  }
  return v;
}

/** Parse one IP address (surrounding spaces trimmed). */
export function parseIP(input: string): ParseResult<IPAddress> {
  const s = input.trim();
  if (s === '') return fail('empty', input, 'empty IP address');
  if (s.includes(':')) {
    const v = parseV6(s);
    return v === undefined ? fail('invalid-ip', input, `invalid IP address "${input}"`) : { ok: true, value: { family: 'ipv6', value: v } };
  }
  const v = parseV4(s);
  return v === undefined ? fail('invalid-ip', input, `invalid IP address "${input}"`) : { ok: true, value: { family: 'ipv4', value: v } };
}

/** The mask of the host part of a prefix of `prefixLength` bits. */
export function hostMask(family: Family, prefixLength: number): bigint {
  return (1n << BigInt(familyBits(family) - prefixLength)) - 1n;
}

/** Parse a pool address entry: CIDR, `a-b` range or single IP. */
export function parsePoolAddress(input: string): ParseResult<ParsedPoolAddress> {
  const s = input.trim();
  if (s === '') return fail('empty', input, 'empty address');
  const slash = s.indexOf('/');
  if (slash >= 0) {
    const ip = parseIP(s.slice(0, slash));
    if (!ip.ok) return fail('invalid-ip', input, `invalid CIDR "${input}": ${ip.error.message}`);
    const plen = s.slice(slash + 1);
    const bits = familyBits(ip.value.family);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(plen) || Number(plen) > bits) {
      return fail('invalid-prefix', input, `invalid CIDR "${input}": prefix length must be 0..${bits}`);
    }
    const prefixLength = Number(plen);
    const mask = hostMask(ip.value.family, prefixLength);
    const first = ip.value.value & ~mask;
    return {
      ok: true,
      value: {
        form: 'cidr',
        range: { family: ip.value.family, first, last: first | mask, prefixLength },
        hostBitsSet: (ip.value.value & mask) !== 0n,
      },
    };
  }
  const dash = s.indexOf('-');
  if (dash >= 0) {
    const a = parseIP(s.slice(0, dash));
    const b = parseIP(s.slice(dash + 1));
    if (!a.ok) return fail('invalid-ip', input, `invalid range "${input}": ${a.error.message}`);
    if (!b.ok) return fail('invalid-ip', input, `invalid range "${input}": ${b.error.message}`);
    if (a.value.family !== b.value.family) {
      return fail('mixed-family', input, `invalid range "${input}": both ends must be the same IP family`);
    }
    if (a.value.value > b.value.value) {
      return fail('reversed-range', input, `invalid range "${input}": start is after end`);
    }
    return {
      ok: true,
      value: { form: 'range', range: { family: a.value.family, first: a.value.value, last: b.value.value }, hostBitsSet: false },
    };
  }
  const ip = parseIP(s);
  if (!ip.ok) return ip;
  return {
    ok: true,
    value: { form: 'single', range: { family: ip.value.family, first: ip.value.value, last: ip.value.value }, hostBitsSet: false },
  };
}

function formatV4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((sh) => String((v >> sh) & 0xffn)).join('.');
}

function formatV6(v: bigint): string {
  const groups: number[] = [];
  for (let i = V6_GROUPS - 1; i >= 0; i--) groups.push(Number((v >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first one on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < V6_GROUPS; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < V6_GROUPS && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  // RFC 5952 §4.3: lowercase, no leading zeros.
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical text of an address. */
export function formatIP(ip: IPAddress): string {
  return ip.family === 'ipv4' ? formatV4(ip.value) : formatV6(ip.value);
}

/** `a/n` for a CIDR-born range, `a-b` otherwise, `a` for a single address. */
export function formatRange(r: AddressRange): string {
  const first = formatIP({ family: r.family, value: r.first });
  if (r.prefixLength !== undefined) return `${first}/${r.prefixLength}`;
  if (r.first === r.last) return first;
  return `${first}-${formatIP({ family: r.family, value: r.last })}`;
}
