// Byte-level helpers for the responders' per-frame path. The responders look at every ARP request
// and Neighbor Solicitation the interface receives; reading the fields straight from the frame
// instead of decoding it into objects and strings keeps that path (nearly) free of allocation, which
// is what drives the young-generation GC pauses seen in bench/l2 (docs/layer2.md).
import { parseMac, type MacAddress } from './addresses.ts';
import { Size } from './constants.ts';

const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;

// One remembered MAC: an engine answers for one interface MAC per socket, so the conversion from
// text runs once per interface, not once per frame.
let lastMacText: string | undefined;
let lastMacBytes: Buffer | undefined;

/**
 * The 6 octets of a canonical MAC text (lower case, colons), or undefined when the text is not in
 * that form (the caller then takes the decoding path, which compares canonical text).
 */
export function canonicalMacBytes(mac: MacAddress): Buffer | undefined {
  if (mac === lastMacText && lastMacBytes !== undefined) return lastMacBytes;
  if (!MAC_RE.test(mac)) return undefined;
  const out = Buffer.alloc(Size.mac);
  const m = parseMac(mac);
  for (let i = 0; i < Size.mac; i++) out[i] = Number.parseInt(m.substring(i * 3, i * 3 + 2), 16);
  lastMacText = mac;
  lastMacBytes = out;
  return out;
}

/**
 * dst[dstAt..dstAt+n) = src[srcAt..srcAt+n). A loop, because Buffer#copy makes a Uint8Array view of
 * the source on every call (node 20), i.e. an allocation per field copied.
 */
export function copyBytes(dst: Uint8Array, dstAt: number, src: Uint8Array, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i] ?? 0;
}

/** buf[at..at+b.length) equals b. */
export function bytesEqualAt(buf: Uint8Array, at: number, b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (buf[at + i] !== b[i]) return false;
  return true;
}

/** buf[a..a+n) equals buf[b..b+n). */
export function rangesEqual(buf: Uint8Array, a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[a + i] !== buf[b + i]) return false;
  return true;
}

export function isBroadcastAt(buf: Uint8Array, at: number): boolean {
  for (let i = 0; i < Size.mac; i++) if (buf[at + i] !== 0xff) return false;
  return true;
}

export function isZeroAt(buf: Uint8Array, at: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (buf[at + i] !== 0) return false;
  return true;
}

/** 16-bit one's complement sum of buf[at..at+n) added to `sum` (not folded). */
export function onesComplementAdd(sum: number, buf: Uint8Array, at: number, n: number): number {
  let s = sum;
  const end = at + n - 1;
  let i = at;
  for (; i < end; i += 2) s += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0);
  if (i === end) s += (buf[i] ?? 0) << 8;
  return s;
}

/**
 * RFC 4443 §2.3 ICMPv6 checksum over the pseudo-header (source at `src`, destination at `dst`,
 * upper-layer length, next header 58) and the message buf[icmp..icmp+len), all inside `buf`.
 * Returns the folded complement: 0 when a received message verifies.
 */
export function icmpv6ChecksumAt(buf: Uint8Array, src: number, dst: number, icmp: number, len: number): number {
  let sum = onesComplementAdd(0, buf, src, Size.ipv6);
  sum = onesComplementAdd(sum, buf, dst, Size.ipv6);
  sum += (len >>> 16) + (len & 0xffff) + 58;
  sum = onesComplementAdd(sum, buf, icmp, len);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * A reusable reply buffer: the responders write a reply into it instead of allocating one per frame.
 * The frame they return is valid until the next call with the same scratch (send copies it into the
 * kernel at once).
 */
export interface ReplyScratch {
  readonly buffer: Buffer;
  /** Views of `buffer` by length, made once each. */
  readonly views: Map<number, Buffer>;
}

export const REPLY_SCRATCH_BYTES = 128;

export function createReplyScratch(): ReplyScratch {
  return { buffer: Buffer.alloc(REPLY_SCRATCH_BYTES), views: new Map() };
}

/** buffer[0..length) as a Buffer, the same object for the same length. */
export function scratchView(s: ReplyScratch, length: number): Buffer {
  let v = s.views.get(length);
  if (v === undefined) {
    v = s.buffer.subarray(0, length);
    s.views.set(length, v);
  }
  return v;
}
