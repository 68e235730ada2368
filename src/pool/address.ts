// Text <-> number for IP addresses and pool address entries. Pure. User text (pool `addresses`, Eip
// `address`, requested IPs) is read by src/net/ip.ts, the one IP parser of berth (shared with l2 and the
// BGP codec, whose allocation-free form runs per frame and per prefix); this file turns its octets into
// bigint addresses. A differential property test (test/unit/pool/address-differential) checks the parser
// against an independent one (the `ip-address` library) on validity and value.
//
// Accepted IP text: IPv4 dotted decimal (four octets, no leading zeros, as Go's net.ParseIP since 1.17)
// and IPv6 (RFC 4291 §2.2: eight groups, one "::", an embedded dotted IPv4 tail). No zones, no CIDR suffix.
// Output: IPv4 dotted decimal, IPv6 in RFC 5952 canonical form. An IPv4-mapped address (::ffff:a.b.c.d,
// RFC 4291 §2.5.5.2) stays IPv6 here; Go's net.IP (MetalLB) would call it IPv4. Config may reject it.
//
// Pool address entries (MetalLB spec.addresses items, OpenELB Eip spec.address):
//   CIDR   "198.51.100.0/24"  host bits are cleared, as net.ParseCIDR does ("198.51.100.10/24" -> .0/24);
//                             `hostBitsSet` tells config so it can warn
//   range  "a-b"              spaces around "-" trimmed, same family, a <= b
//   single "a"                one address (OpenELB accepts it; MetalLB wants "/32" or "a-a": config decides)
import { formatIpv6, IPV4_BYTES, IPV6_BYTES, parseIpv4Into, parseIpv6Into } from '../net/ip.ts';
import type { AddressRange, Family, IPAddress } from './types.ts';

const V4_BITS = 32;
const V6_BITS = 128;

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

const WORD = 0xffffffffn;
const WORD_BITS = 32n;

function bigintToBytes(v: bigint, out: Uint8Array, length: number): Uint8Array {
  let rest = v;
  for (let i = length - 4; i >= 0; i -= 4) {
    const word = Number(rest & WORD);
    out[i] = word >>> 24;
    out[i + 1] = (word >>> 16) & 0xff;
    out[i + 2] = (word >>> 8) & 0xff;
    out[i + 3] = word & 0xff;
    rest >>= WORD_BITS;
  }
  return out;
}

function bytesToBigint(b: Uint8Array, length: number): bigint {
  let v = 0n;
  for (let i = 0; i < length; i += 4) v = (v << WORD_BITS) | BigInt((((b[i] ?? 0) << 24) | ((b[i + 1] ?? 0) << 16) | ((b[i + 2] ?? 0) << 8) | (b[i + 3] ?? 0)) >>> 0);
  return v;
}

const scratch = new Uint8Array(IPV6_BYTES);

/** The address `s` stands for (src/net/ip.ts, into one reused buffer: `berth check` reads 100,000 Service IPs), or undefined when it is not one. */
function parseAddress(s: string): IPAddress | undefined {
  const b = scratch;
  if (parseIpv4Into(s, b)) return { family: 'ipv4', value: bytesToBigint(b, IPV4_BYTES) };
  if (parseIpv6Into(s, b)) return { family: 'ipv6', value: bytesToBigint(b, IPV6_BYTES) };
  return undefined;
}

/** Parse one IP address (surrounding spaces trimmed). */
export function parseIP(input: string): ParseResult<IPAddress> {
  const s = input.trim();
  if (s === '') return fail('empty', input, 'empty IP address');
  const value = parseAddress(s);
  if (value !== undefined) return { ok: true, value };
  return fail('invalid-ip', input, `invalid IP address "${input}"`);
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

/** Canonical text of an address. */
export function formatIP(ip: IPAddress): string {
  if (ip.family === 'ipv4') {
    const n = Number(ip.value & WORD);
    return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
  }
  return formatIpv6(bigintToBytes(ip.value, new Uint8Array(IPV6_BYTES), IPV6_BYTES));
}

/** `a/n` for a CIDR-born range, `a-b` otherwise, `a` for a single address. */
export function formatRange(r: AddressRange): string {
  const first = formatIP({ family: r.family, value: r.first });
  if (r.prefixLength !== undefined) return `${first}/${r.prefixLength}`;
  if (r.first === r.last) return first;
  return `${first}-${formatIP({ family: r.family, value: r.last })}`;
}
