// RFC 4271 §4.3 (b) AS_PATH (well-known mandatory) and RFC 6793 §3 AS4_PATH (optional transitive).
// Segments: type (1) | number of ASes (1) | ASes (2 octets each, or 4 when both sides are
// 4-octet capable; AS4_PATH always 4).

import { AS_PATH_SEGMENT, ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR, type AsPathSegmentType } from '../constants.ts';
import type { AsPathSegment } from '../messages/types.ts';
import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import { AttributeError, type AttributeDescriptor } from './descriptor.ts';

const SEGMENT_TYPES: readonly number[] = Object.values(AS_PATH_SEGMENT);
const MAX_SEGMENT_ASNS = 255;

function readSegments(r: Reader, asnOctets: 2 | 4, what: string): AsPathSegment[] {
  const segments: AsPathSegment[] = [];
  while (!r.atEnd) {
    // RFC 7606 §7.2: an unrecognized segment type, a zero segment length, an overrun, or a single
    // octet left over make the AS_PATH malformed.
    if (r.remaining < 2) throw new AttributeError(`${what}: ${r.remaining} octet left over after segments`);
    const type = r.u8();
    const count = r.u8();
    if (!SEGMENT_TYPES.includes(type)) throw new AttributeError(`${what}: unknown segment type ${type}`);
    if (count === 0) throw new AttributeError(`${what}: empty segment`);
    if (r.remaining < count * asnOctets) throw new AttributeError(`${what}: segment overruns the attribute`);
    const asns: number[] = [];
    for (let i = 0; i < count; i++) asns.push(asnOctets === 2 ? r.u16() : r.u32());
    segments.push({ type: type as AsPathSegmentType, asns });
  }
  return segments;
}

function writeSegments(w: Writer, segments: readonly AsPathSegment[], asnOctets: 2 | 4): void {
  for (const s of segments) {
    if (s.asns.length === 0 || s.asns.length > MAX_SEGMENT_ASNS) {
      throw new RangeError(`AS path segment of ${s.asns.length} ASes (1..${MAX_SEGMENT_ASNS})`);
    }
    w.u8(s.type).u8(s.asns.length);
    for (const asn of s.asns) {
      if (asnOctets === 2) w.u16(asn); // values > 65535 must have become AS_TRANS (as4.ts)
      else w.u32(asn);
    }
  }
}

// RFC 7606 §7.2 also makes confederation segments from an external peer treat-as-withdraw; the codec
// does not know the peer type, so the session applies that rule.
export const asPath: AttributeDescriptor<'AS_PATH'> = {
  kind: 'AS_PATH',
  typeCode: ATTR_TYPE.AS_PATH,
  flags: ATTR_FLAG.TRANSITIVE,
  onError: 'treat-as-withdraw', // RFC 7606 §7.2
  errorSubcode: UPDATE_ERROR.MALFORMED_AS_PATH,
  decode(r, ctx) {
    return { kind: 'AS_PATH', segments: readSegments(r, ctx.fourOctetAs ? 4 : 2, 'AS_PATH') };
  },
  encode(w, a, ctx) {
    writeSegments(w, a.segments, ctx.fourOctetAs ? 4 : 2);
  },
};

export const as4Path: AttributeDescriptor<'AS4_PATH'> = {
  kind: 'AS4_PATH',
  typeCode: ATTR_TYPE.AS4_PATH,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'attribute-discard', // RFC 6793 §6 / RFC 7606 §7.2 last paragraph
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  decode(r) {
    // RFC 6793 §6: zero length AS4_PATH is malformed (its segments are never empty of meaning).
    if (r.atEnd) throw new AttributeError('AS4_PATH: empty');
    return { kind: 'AS4_PATH', segments: readSegments(r, 4, 'AS4_PATH') };
  },
  encode(w, a) {
    writeSegments(w, a.segments, 4);
  },
};
