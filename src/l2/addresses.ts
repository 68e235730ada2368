// Text <-> bytes for the three address kinds the layer 2 code handles. Messages hold addresses as
// canonical strings (MAC "aa:bb:cc:dd:ee:ff" lower case, IPv4 dotted quad, IPv6 in RFC 5952 form) so
// they compare with === and log as they are; the codecs convert at the wire. IP text <-> octets is
// src/net/ip.ts (shared with pool and the BGP codec); this file adds MACs and the L2 error type.
import { L2CodecError, L2ErrorCode } from './errors.ts';
import { Size } from './constants.ts';
import { formatIpv4, formatIpv6, ipFamilyOf, parseIpv4Into, parseIpv6Into } from '../net/ip.ts';

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

export function ipv4ToBytes(ip: string): Buffer {
  const out = Buffer.allocUnsafe(Size.ipv4);
  if (!parseIpv4Into(ip, out)) throw invalid('IPv4 address', ip);
  return out;
}

export function ipv4FromBytes(buf: Buffer): string {
  if (buf.length !== Size.ipv4) throw invalid('IPv4 address', buf.toString('hex'));
  return formatIpv4(buf);
}

function isIpv4Text(ip: string): boolean {
  return parseIpv4Into(ip, undefined);
}

export function ipv6ToBytes(ip: string): Buffer {
  const out = Buffer.allocUnsafe(Size.ipv6);
  if (!parseIpv6Into(ip, out)) throw invalid('IPv6 address', ip);
  return out;
}

/** RFC 5952 §4 text: lower case, no leading zeros, the longest run (>1) of zero hextets as "::". */
export function ipv6FromBytes(buf: Buffer): string {
  if (buf.length !== Size.ipv6) throw invalid('IPv6 address', buf.toString('hex'));
  return formatIpv6(buf);
}

/** Canonical text of any IP (IPv4 unchanged, IPv6 in RFC 5952 form); throws invalidValue. */
export function canonicalIp(ip: string): string {
  if (isIpv4Text(ip)) return ip; // a valid dotted quad without leading zeros is already canonical
  return ipv6FromBytes(ipv6ToBytes(ip));
}

export function ipFamily(ip: string): 4 | 6 {
  const family = ipFamilyOf(ip);
  if (family === 0) throw invalid('IP address', ip);
  return family;
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
