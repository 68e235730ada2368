// Text <-> bytes for the three address kinds the layer 2 code handles. Messages hold addresses as
// canonical strings (MAC "aa:bb:cc:dd:ee:ff" lower case, IPv4 dotted quad, IPv6 in RFC 5952 form) so
// they compare with === and log as they are; the codecs convert at the wire.
import { L2CodecError, L2ErrorCode } from './errors.ts';
import { Size } from './constants.ts';

export type MacAddress = string;

export const BROADCAST_MAC: MacAddress = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC: MacAddress = '00:00:00:00:00:00';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
// The responders convert addresses for every frame they see: these helpers avoid temporary arrays.
const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

function invalid(what: string, value: string): L2CodecError {
  return new L2CodecError('address', L2ErrorCode.invalidValue, `not a valid ${what}: ${JSON.stringify(value)}`);
}

/** Canonical MAC text (lower case, colons); throws invalidValue. Accepts '-' separators and upper case. */
export function parseMac(text: string): MacAddress {
  if (MAC_RE.test(text)) return text;
  const mac = text.toLowerCase().replaceAll('-', ':');
  if (!MAC_RE.test(mac)) throw invalid('MAC address', text);
  return mac;
}

export function macToBytes(mac: MacAddress): Buffer {
  const m = parseMac(mac);
  const out = Buffer.allocUnsafe(Size.mac);
  for (let i = 0; i < Size.mac; i++) out[i] = Number.parseInt(m.substring(i * 3, i * 3 + 2), 16);
  return out;
}

export function macFromBytes(buf: Buffer): MacAddress {
  if (buf.length !== Size.mac) throw invalid('MAC address', buf.toString('hex'));
  let out = HEX[buf[0] ?? 0] ?? '00';
  for (let i = 1; i < Size.mac; i++) out += `:${HEX[buf[i] ?? 0] ?? '00'}`;
  return out;
}

export function isMulticastMac(mac: MacAddress): boolean {
  // IEEE 802: the I/G bit is the least significant bit of the first octet.
  return (Number.parseInt(mac.slice(0, 2), 16) & 0x01) === 0x01;
}

/** Parses dotted-quad IPv4 (no leading zeros, as node:net isIPv4) into out[0..4) if given; false if invalid. */
function parseIpv4Into(ip: string, out: Buffer | undefined): boolean {
  let part = 0;
  let digits = 0;
  let value = 0;
  for (let i = 0; i <= ip.length; i++) {
    const c = i === ip.length ? 0x2e : ip.charCodeAt(i);
    if (c === 0x2e) {
      // '.' (or the end): close one octet
      if (digits === 0 || part > 3) return false;
      if (out !== undefined) out[part] = value;
      part++;
      digits = 0;
      value = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 0x30);
      digits++;
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

export function ipv4ToBytes(ip: string): Buffer {
  const out = Buffer.allocUnsafe(Size.ipv4);
  if (!parseIpv4Into(ip, out)) throw invalid('IPv4 address', ip);
  return out;
}

export function ipv4FromBytes(buf: Buffer): string {
  if (buf.length !== Size.ipv4) throw invalid('IPv4 address', buf.toString('hex'));
  return `${buf[0] ?? 0}.${buf[1] ?? 0}.${buf[2] ?? 0}.${buf[3] ?? 0}`;
}

function isIpv4Text(ip: string): boolean {
  return parseIpv4Into(ip, undefined);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

const COLON = 0x3a;
const DOT = 0x2e;

/**
 * Parses IPv6 text (RFC 4291 §2.2: 1-4 digit hex groups, at most one "::", an optional trailing dotted
 * quad; no zone index) into 16 octets in one pass, or returns undefined. Accepts exactly what node:net
 * isIPv6 accepts for zone-less text (property-tested), at a fraction of its cost.
 */
function parseIpv6(ip: string): Buffer | undefined {
  const n = ip.length;
  if (n < 2 || n > 45) return undefined;
  const out = Buffer.alloc(Size.ipv6);
  let g = 0; // groups written
  let gap = -1; // group index where "::" stands
  let i = 0;
  if (ip.charCodeAt(0) === COLON) {
    if (ip.charCodeAt(1) !== COLON) return undefined;
    gap = 0;
    i = 2;
    if (n === 2) return out;
  }
  while (i < n) {
    const start = i;
    let v = 0;
    let digits = 0;
    for (let d = hexDigit(ip.charCodeAt(i)); i < n && d >= 0; d = hexDigit(ip.charCodeAt(i))) {
      v = v * 16 + d;
      digits++;
      i++;
    }
    if (i < n && ip.charCodeAt(i) === DOT) {
      // A trailing dotted quad fills the last two groups (RFC 4291 §2.2 form 3).
      const v4 = Buffer.allocUnsafe(Size.ipv4);
      if (g > 6 || !parseIpv4Into(ip.slice(start), v4)) return undefined;
      v4.copy(out, g * 2);
      g += 2;
      break;
    }
    if (digits === 0 || digits > 4 || g >= 8) return undefined;
    out.writeUInt16BE(v, g * 2);
    g++;
    if (i === n) break;
    if (ip.charCodeAt(i) !== COLON) return undefined;
    i++;
    if (i === n) return undefined; // a single trailing ':'
    if (ip.charCodeAt(i) === COLON) {
      if (gap >= 0) return undefined; // a second "::"
      gap = g;
      i++;
    }
  }
  if (gap < 0) return g === 8 ? out : undefined;
  if (g > 7) return undefined; // "::" stands for at least one group
  const tail = g - gap;
  out.copyWithin(Size.ipv6 - tail * 2, gap * 2, g * 2);
  out.fill(0, gap * 2, Size.ipv6 - tail * 2);
  return out;
}

export function ipv6ToBytes(ip: string): Buffer {
  const out = parseIpv6(ip);
  if (out === undefined) throw invalid('IPv6 address', ip);
  return out;
}

/** RFC 5952 §4 text: lower case, no leading zeros, the longest run (>1) of zero hextets as "::". */
export function ipv6FromBytes(buf: Buffer): string {
  if (buf.length !== Size.ipv6) throw invalid('IPv6 address', buf.toString('hex'));
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (buf.readUInt16BE(i * 2) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && buf.readUInt16BE(j * 2) === 0) j++;
    // RFC 5952 §4.2.3: the longest run; on a tie, the first.
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (bestLen < 2) bestStart = -1; // RFC 5952 §4.2.2: a single zero hextet is not shortened
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += buf.readUInt16BE(i * 2).toString(16);
  }
  return out;
}

/** Canonical text of any IP (IPv4 unchanged, IPv6 in RFC 5952 form); throws invalidValue. */
export function canonicalIp(ip: string): string {
  if (isIpv4Text(ip)) return ip; // a valid dotted quad without leading zeros is already canonical
  return ipv6FromBytes(ipv6ToBytes(ip));
}

export function ipFamily(ip: string): 4 | 6 {
  if (isIpv4Text(ip)) return 4;
  if (parseIpv6(ip) !== undefined) return 6;
  throw invalid('IP address', ip);
}

export const IPV6_UNSPECIFIED = '::';
export const IPV6_ALL_NODES = 'ff02::1'; // RFC 4291 §2.7.1

export function isIpv6Multicast(ip: string): boolean {
  return ipv6ToBytes(ip)[0] === 0xff; // RFC 4291 §2.7
}

/** RFC 4291 §2.7.1: solicited-node multicast address ff02::1:ffXX:XXXX from the low 24 bits. */
export function solicitedNodeMulticast(ip: string): string {
  const b = ipv6ToBytes(ip);
  const out = ipv6ToBytes('ff02::1:ff00:0');
  b.copy(out, 13, 13, 16);
  return ipv6FromBytes(out);
}

/** RFC 2464 §7: IPv6 multicast to Ethernet 33:33 followed by the low 32 bits of the group. */
export function ipv6MulticastMac(group: string): MacAddress {
  const b = ipv6ToBytes(group);
  return macFromBytes(Buffer.concat([Buffer.from([0x33, 0x33]), b.subarray(12, 16)]));
}

/** True if `ip` (v4 or v6) lies in `prefix/len`. Families must match. */
export function prefixContains(prefix: string, length: number, ip: string): boolean {
  const fam = ipFamily(prefix);
  if (ipFamily(ip) !== fam) return false;
  const a = fam === 4 ? ipv4ToBytes(prefix) : ipv6ToBytes(prefix);
  const b = fam === 4 ? ipv4ToBytes(ip) : ipv6ToBytes(ip);
  let bits = length;
  for (let i = 0; i < a.length && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if (((a[i] ?? 0) & mask) !== ((b[i] ?? 0) & mask)) return false;
  }
  return true;
}
