// UPDATE packing: one attribute set and many prefixes -> the fewest UPDATE messages that fit the
// session's maximum message size (4096, or 65535 with RFC 8654 extended message).
//
// - IPv4 prefixes: classic NLRI with a NEXT_HOP attribute (RFC 4271 §4.3), attributes in ascending
//   type order (RFC 4271 §5). We keep classic NLRI for IPv4 even when IPv4 was negotiated via MP.
// - IPv6 prefixes: MP_REACH_NLRI (RFC 4760 §3), placed first (RFC 7606 §5.1), with the global next
//   hop and, when given, the link-local one (RFC 2545 §3: next hop length 32).
// - Withdrawals: classic Withdrawn Routes for IPv4, MP_UNREACH_NLRI for IPv6 (RFC 4760 §4).
// - End-of-RIB (RFC 4724 §2): an empty UPDATE for IPv4, an UPDATE with an empty MP_UNREACH_NLRI
//   for any other family.
// The attribute bytes are encoded once; each message is then filled prefix by prefix into one
// writer, so packing is linear in the number of prefixes. Prefixes travel as NlriKeys (nlri.ts: the
// prefix's own NLRI octets), copied as they are.

import { AFI, ATTR_FLAG, ATTR_TYPE, MESSAGE_TYPE, SAFI } from './constants.ts';
import { attributeTypeCode, writeAttributes } from './attributes/index.ts';
import { toTwoOctetAttributes } from './attributes/as4.ts';
import type { CodecContext, Family, PathAttribute, PathAttributes, Prefix } from './messages/types.ts';
import { prefixKeyOf, type NlriKey } from './nlri.ts';
import { Writer } from './wire/writer.ts';

export interface NextHops {
  /** IPv4 next hop for IPv4 prefixes (NEXT_HOP attribute, RFC 4271 §5.1.3). */
  readonly ipv4?: string;
  /** IPv6 global next hop for IPv6 prefixes (MP_REACH_NLRI, RFC 2545 §3). */
  readonly ipv6?: string;
  /** IPv6 link-local next hop, sent after the global one when present (RFC 2545 §3). */
  readonly ipv6LinkLocal?: string;
}

export interface Announcement {
  /** Attributes other than NEXT_HOP / MP_REACH_NLRI / MP_UNREACH_NLRI (ORIGIN, AS_PATH, ...). */
  readonly attributes: PathAttributes;
  readonly nextHops: NextHops;
  readonly prefixes: readonly Prefix[];
}

const EXCLUDED = new Set<string>(['NEXT_HOP', 'MP_REACH_NLRI', 'MP_UNREACH_NLRI']);
/** Octets of an UPDATE before its attributes: header, Withdrawn Routes Length, Total Path Attribute Length. */
const UPDATE_FIXED = 19 + 2 + 2;
/** The longest prefix on the wire: length octet + address. */
const MAX_PREFIX_OCTETS: Readonly<Record<Family, number>> = { ipv4: 1 + 4, ipv6: 1 + 16 };
/** An MP attribute header with Extended Length: flags, type, 2-octet length. */
const MP_ATTR_HEADER = 4;

function sessionAttributes(attrs: PathAttributes, ctx: CodecContext): PathAttribute[] {
  const base = attrs.filter((a) => !EXCLUDED.has(a.kind));
  // RFC 6793 §4.2.2: to a 2-octet speaker, big ASes become AS_TRANS plus AS4_PATH / AS4_AGGREGATOR.
  return ctx.fourOctetAs ? base : toTwoOctetAttributes(base);
}

function encodeAttributes(attrs: readonly PathAttribute[], ctx: CodecContext): Buffer {
  const w = new Writer(256);
  writeAttributes(w, attrs, ctx);
  return w.finish();
}

/** Writes messages into one writer and hands back each message's bytes. */
class Batch {
  readonly w = new Writer(1 << 16);
  private readonly bounds: number[] = [];
  begin(): number {
    return this.w.length;
  }
  end(start: number): void {
    this.bounds.push(start, this.w.length);
  }
  buffers(): Buffer[] {
    const all = this.w.finish();
    const out: Buffer[] = [];
    for (let i = 0; i < this.bounds.length; i += 2) out.push(all.subarray(this.bounds[i], this.bounds[i + 1]));
    return out;
  }
}

/** Encoded UPDATE messages announcing `a.prefixes` with `a.attributes`. Throws RangeError when a
 * family's next hop is missing or the attributes alone do not fit a message. */
export function packAnnouncements(a: Announcement, ctx: CodecContext): Buffer[] {
  const { ipv4, ipv6 } = splitKeys(a.prefixes);
  return [
    ...(ipv4.length > 0 ? packKeyAnnouncements('ipv4', ipv4, a.attributes, a.nextHops, ctx) : []),
    ...(ipv6.length > 0 ? packKeyAnnouncements('ipv6', ipv6, a.attributes, a.nextHops, ctx) : []),
  ];
}

/** Encoded UPDATE messages withdrawing `prefixes` (classic for IPv4, MP_UNREACH_NLRI for IPv6). */
export function packWithdrawals(prefixes: readonly Prefix[], ctx: CodecContext): Buffer[] {
  const { ipv4, ipv6 } = splitKeys(prefixes);
  return [...packKeyWithdrawals('ipv4', ipv4, ctx), ...packKeyWithdrawals('ipv6', ipv6, ctx)];
}

function splitKeys(prefixes: readonly Prefix[]): Record<Family, NlriKey[]> {
  const out: Record<Family, NlriKey[]> = { ipv4: [], ipv6: [] };
  for (const p of prefixes) out[p.family].push(prefixKeyOf(p));
  return out;
}

/**
 * The same as packAnnouncements for prefixes of one family already in their NLRI encoding (the
 * speaker's compact table): each prefix is copied as is, no address text is parsed.
 */
export function packKeyAnnouncements(
  family: Family,
  keys: readonly NlriKey[],
  attributes: PathAttributes,
  nextHops: NextHops,
  ctx: CodecContext,
): Buffer[] {
  const attrs = sessionAttributes(attributes, ctx);
  const batch = new Batch();
  const max = ctx.maxMessageSize;
  if (keys.length === 0) return [];
  if (family === 'ipv4') {
    if (nextHops.ipv4 === undefined) throw new RangeError('IPv4 prefixes need nextHops.ipv4');
    const withNh = [...attrs];
    const nh: PathAttribute = { kind: 'NEXT_HOP', nextHop: nextHops.ipv4 };
    const at = withNh.findIndex((x) => attributeTypeCode(x) > ATTR_TYPE.NEXT_HOP);
    withNh.splice(at === -1 ? withNh.length : at, 0, nh);
    const attrBytes = encodeAttributes(withNh, ctx);
    if (UPDATE_FIXED + attrBytes.length + MAX_PREFIX_OCTETS.ipv4 > max) {
      throw new RangeError(`attributes of ${attrBytes.length} octets leave no room for NLRI`);
    }
    let i = 0;
    while (i < keys.length) {
      const start = batch.begin();
      const w = batch.w;
      w.forkMessage(MESSAGE_TYPE.UPDATE).u16(0).fork(2).bytes(attrBytes).join();
      for (; i < keys.length; i++) {
        const k = keys[i] as NlriKey;
        if (w.length - start + k.length > max) break;
        w.latin1(k);
      }
      w.join();
      batch.end(start);
    }
    return batch.buffers();
  }
  if (nextHops.ipv6 === undefined) throw new RangeError('IPv6 prefixes need nextHops.ipv6');
  const hops = nextHops.ipv6LinkLocal === undefined ? [nextHops.ipv6] : [nextHops.ipv6, nextHops.ipv6LinkLocal];
  const attrBytes = encodeAttributes(attrs, ctx);
  const nhBytes = encodeAttributes([{ kind: 'MP_REACH_NLRI', afi: AFI.IPV6, safi: SAFI.UNICAST, nextHops: hops, prefixes: [] }], ctx).subarray(
    3,
  ); // value only: AFI, SAFI, next hop length, next hops, reserved
  const fixed = UPDATE_FIXED + MP_ATTR_HEADER + nhBytes.length + attrBytes.length;
  if (fixed + MAX_PREFIX_OCTETS.ipv6 > max) {
    throw new RangeError(`attributes of ${attrBytes.length} octets leave no room for NLRI`);
  }
  let i = 0;
  while (i < keys.length) {
    const start = batch.begin();
    const w = batch.w;
    w.forkMessage(MESSAGE_TYPE.UPDATE).u16(0).fork(2);
    w.forkAttribute(ATTR_FLAG.OPTIONAL | ATTR_FLAG.EXTENDED_LENGTH, ATTR_TYPE.MP_REACH_NLRI).bytes(nhBytes);
    for (; i < keys.length; i++) {
      const k = keys[i] as NlriKey;
      if (w.length - start + attrBytes.length + k.length > max) break;
      w.latin1(k);
    }
    w.join().bytes(attrBytes).join().join();
    batch.end(start);
  }
  return batch.buffers();
}

/** Withdrawals of one family's prefixes in their NLRI encoding (classic for IPv4, MP_UNREACH_NLRI for IPv6). */
export function packKeyWithdrawals(family: Family, keys: readonly NlriKey[], ctx: CodecContext): Buffer[] {
  const batch = new Batch();
  const max = ctx.maxMessageSize;
  let i = 0;
  if (family === 'ipv4') {
    while (i < keys.length) {
      const start = batch.begin();
      const w = batch.w;
      w.forkMessage(MESSAGE_TYPE.UPDATE).fork(2);
      // + 2: the Total Path Attribute Length still to come.
      for (; i < keys.length; i++) {
        const k = keys[i] as NlriKey;
        if (w.length - start + k.length + 2 > max) break;
        w.latin1(k);
      }
      w.join().u16(0).join();
      batch.end(start);
    }
    return batch.buffers();
  }
  while (i < keys.length) {
    const start = batch.begin();
    const w = batch.w;
    w.forkMessage(MESSAGE_TYPE.UPDATE).u16(0).fork(2);
    w.forkAttribute(ATTR_FLAG.OPTIONAL | ATTR_FLAG.EXTENDED_LENGTH, ATTR_TYPE.MP_UNREACH_NLRI).u16(AFI.IPV6).u8(SAFI.UNICAST);
    for (; i < keys.length; i++) {
      const k = keys[i] as NlriKey;
      if (w.length - start + k.length > max) break;
      w.latin1(k);
    }
    w.join().join().join();
    batch.end(start);
  }
  return batch.buffers();
}

/** RFC 4724 §2: the End-of-RIB marker of a family: an UPDATE with no withdrawn routes, attributes or
 * NLRI for IPv4 unicast; an UPDATE whose only attribute is an empty MP_UNREACH_NLRI otherwise. */
export function endOfRib(family: Family, _ctx: CodecContext): Buffer {
  const w = new Writer(32);
  w.forkMessage(MESSAGE_TYPE.UPDATE).u16(0).fork(2);
  if (family === 'ipv6') w.forkAttribute(ATTR_FLAG.OPTIONAL, ATTR_TYPE.MP_UNREACH_NLRI).u16(AFI.IPV6).u8(SAFI.UNICAST).join();
  w.join().join();
  return w.finish();
}
