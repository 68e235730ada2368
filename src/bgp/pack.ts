// UPDATE packing: one attribute set and many prefixes -> the fewest UPDATE messages that fit the
// session's maximum message size (4096, or 65535 with RFC 8654 extended message).
//
// - IPv4 prefixes with an IPv4 next hop: classic NLRI with a NEXT_HOP attribute (RFC 4271 §4.3),
//   attributes in ascending type order (RFC 4271 §5). Classic NLRI even when IPv4 was negotiated via MP.
// - IPv4 prefixes with an IPv6 next hop (unnumbered peers): MP_REACH_NLRI with AFI 1 and the IPv6 next
//   hop(s), only when the session negotiated RFC 8950 Extended Next Hop Encoding (RFC 8950 §4).
// - IPv6 prefixes: MP_REACH_NLRI (RFC 4760 §3), placed first (RFC 7606 §5.1), with the global next
//   hop and, when given, the link-local one (RFC 2545 §3: next hop length 32).
// - Withdrawals: classic Withdrawn Routes for IPv4, MP_UNREACH_NLRI for IPv6 (RFC 4760 §4).
// - End-of-RIB (RFC 4724 §2): an empty UPDATE for IPv4, an UPDATE with an empty MP_UNREACH_NLRI
//   for any other family.
// One encoder: every message is laid out by messages/update.ts (beginUpdate ... endUpdate), its
// attributes by attributes/index.ts and the MP attributes' heads by mp-reach.ts / mp-unreach.ts, the
// writer filling in every length; the packer only decides where a message ends. The attribute bytes
// are encoded once per call and each message is filled prefix by prefix into one writer, so packing is
// linear in the number of prefixes. Prefixes travel as NlriKeys (nlri.ts: the prefix's own NLRI
// octets), copied as they are.

import { AFI, ATTR_FLAG, ATTR_TYPE, SAFI } from './constants.ts';
import { attributeTypeCode, writeAttributes } from './attributes/index.ts';
import { toTwoOctetAttributes } from './attributes/as4.ts';
import { writeMpReachHead } from './attributes/mp-reach.ts';
import { writeMpUnreachHead } from './attributes/mp-unreach.ts';
import { beginNlri, beginPathAttributes, beginUpdate, endUpdate } from './messages/update.ts';
import type { CodecContext, Family, PathAttribute, PathAttributes, Prefix } from './messages/types.ts';
import { afiOfFamily, prefixKeyOf, type NlriKey } from './nlri.ts';
import { Writer } from './wire/writer.ts';

export interface NextHops {
  /** IPv4 next hop for IPv4 prefixes (NEXT_HOP attribute, RFC 4271 §5.1.3). */
  readonly ipv4?: string;
  /** IPv6 global next hop for IPv6 prefixes (MP_REACH_NLRI, RFC 2545 §3), and for IPv4 prefixes when
   * there is no `ipv4` and the session negotiated RFC 8950. An unnumbered peer with no global address
   * gets the link-local address here (sent alone, 16 octets). */
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
/** RFC 4760 §3 / §4: MP attributes are written with Extended Length, so a message's NLRI never has to
 * move when the attribute outgrows 255 octets. */
const MP_ATTR_FLAGS = ATTR_FLAG.OPTIONAL | ATTR_FLAG.EXTENDED_LENGTH;

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

/**
 * Copies keys[i..] into the message begun at `start` while the message, with `tail` octets still to
 * come after them, stays within `max`. Returns the index of the first key left out; throws RangeError
 * when not even one fits (the attributes alone fill the message).
 */
function fill(w: Writer, start: number, keys: readonly NlriKey[], from: number, tail: number, max: number): number {
  let i = from;
  for (; i < keys.length; i++) {
    const k = keys[i] as NlriKey;
    if (w.length - start + k.length + tail > max) break;
    w.latin1(k);
  }
  if (i === from) throw new RangeError(`attributes of ${w.length - start + tail} octets leave no room for NLRI in a ${max}-octet message`);
  return i;
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

/** How a family's prefixes reach the peer: classic NLRI with NEXT_HOP, or MP_REACH_NLRI with these next hops. */
type Reach = { readonly kind: 'classic'; readonly nextHop: string } | { readonly kind: 'mp'; readonly afi: number; readonly nextHops: readonly string[] };

/** Which encoding a family's announcements take on this session, from its next hops. */
export function reachOf(family: Family, nextHops: NextHops, ctx: CodecContext): Reach {
  const v6 = nextHops.ipv6 === undefined ? undefined : nextHops.ipv6LinkLocal === undefined ? [nextHops.ipv6] : [nextHops.ipv6, nextHops.ipv6LinkLocal];
  if (family === 'ipv6') {
    if (v6 === undefined) throw new RangeError('IPv6 prefixes need nextHops.ipv6');
    return { kind: 'mp', afi: AFI.IPV6, nextHops: v6 };
  }
  if (nextHops.ipv4 !== undefined) return { kind: 'classic', nextHop: nextHops.ipv4 };
  // RFC 8950 §4: IPv4 NLRI with an IPv6 next hop go in MP_REACH_NLRI (AFI 1), and only to a peer that
  // advertised the Extended Next Hop Encoding capability for them.
  if (v6 !== undefined && ctx.ipv4NextHopIpv6 === true) return { kind: 'mp', afi: AFI.IPV4, nextHops: v6 };
  throw new RangeError('IPv4 prefixes need nextHops.ipv4, or nextHops.ipv6 on a session that negotiated RFC 8950 extended next hop');
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
  if (keys.length === 0) return [];
  const attrs = sessionAttributes(attributes, ctx);
  const reach = reachOf(family, nextHops, ctx);
  const batch = new Batch();
  const w = batch.w;
  const max = ctx.maxMessageSize;
  if (reach.kind === 'classic') {
    // RFC 4271 §5: attributes in ascending type order, so NEXT_HOP goes in its place.
    const withNh = [...attrs];
    const at = withNh.findIndex((x) => attributeTypeCode(x) > ATTR_TYPE.NEXT_HOP);
    withNh.splice(at === -1 ? withNh.length : at, 0, { kind: 'NEXT_HOP', nextHop: reach.nextHop });
    const attrBytes = encodeAttributes(withNh, ctx);
    for (let i = 0; i < keys.length; ) {
      const start = batch.begin();
      beginUpdate(w);
      beginPathAttributes(w);
      w.bytes(attrBytes);
      beginNlri(w);
      i = fill(w, start, keys, i, 0, max);
      endUpdate(w);
      batch.end(start);
    }
    return batch.buffers();
  }
  const attrBytes = encodeAttributes(attrs, ctx);
  // The MP_REACH_NLRI head (AFI, SAFI, next hops) is the same in every message: written once.
  const head = new Writer(64);
  writeMpReachHead(head, reach.afi, SAFI.UNICAST, reach.nextHops);
  const headBytes = head.finish();
  for (let i = 0; i < keys.length; ) {
    const start = batch.begin();
    beginUpdate(w);
    beginPathAttributes(w);
    // RFC 7606 §5.1: MP_REACH_NLRI first; the other attributes after it.
    w.forkAttribute(MP_ATTR_FLAGS, ATTR_TYPE.MP_REACH_NLRI).bytes(headBytes);
    i = fill(w, start, keys, i, attrBytes.length, max);
    w.join().bytes(attrBytes);
    beginNlri(w);
    endUpdate(w);
    batch.end(start);
  }
  return batch.buffers();
}

/** Withdrawals of one family's prefixes in their NLRI encoding (classic for IPv4, MP_UNREACH_NLRI for IPv6). */
export function packKeyWithdrawals(family: Family, keys: readonly NlriKey[], ctx: CodecContext): Buffer[] {
  const batch = new Batch();
  const w = batch.w;
  const max = ctx.maxMessageSize;
  for (let i = 0; i < keys.length; ) {
    const start = batch.begin();
    beginUpdate(w);
    if (family === 'ipv4') {
      i = fill(w, start, keys, i, 2, max); // 2: the Total Path Attribute Length still to come
      beginPathAttributes(w);
    } else {
      beginPathAttributes(w);
      w.forkAttribute(MP_ATTR_FLAGS, ATTR_TYPE.MP_UNREACH_NLRI);
      writeMpUnreachHead(w, afiOfFamily(family), SAFI.UNICAST);
      i = fill(w, start, keys, i, 0, max);
      w.join();
    }
    beginNlri(w);
    endUpdate(w);
    batch.end(start);
  }
  return batch.buffers();
}

/** RFC 4724 §2: the End-of-RIB marker of a family: an UPDATE with no withdrawn routes, attributes or
 * NLRI for IPv4 unicast; an UPDATE whose only attribute is an empty MP_UNREACH_NLRI otherwise. */
export function endOfRib(family: Family, _ctx: CodecContext): Buffer {
  const w = new Writer(32);
  beginUpdate(w);
  beginPathAttributes(w);
  if (family === 'ipv6') {
    w.forkAttribute(ATTR_FLAG.OPTIONAL, ATTR_TYPE.MP_UNREACH_NLRI);
    writeMpUnreachHead(w, AFI.IPV6, SAFI.UNICAST);
    w.join();
  }
  beginNlri(w);
  endUpdate(w);
  return w.finish();
}
