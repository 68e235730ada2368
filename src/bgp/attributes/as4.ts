// RFC 6793: talking to a 2-octet ("OLD") speaker.
//
// Send path (§4.2.2): AS numbers that do not fit 2 octets become AS_TRANS in AS_PATH and AGGREGATOR,
// and the real values travel in AS4_PATH / AS4_AGGREGATOR (optional transitive, always 4 octets).
// Receive path (§4.2.3): the 4-octet path is rebuilt from AS_PATH and AS4_PATH, and the aggregator
// from AGGREGATOR and AS4_AGGREGATOR. Between two 4-octet speakers AS4_* are ignored (§4.1).

import { AS_PATH_SEGMENT, AS_TRANS } from '../constants.ts';
import type { AsPathSegment, AttributeOf, CodecContext, PathAttribute, PathAttributes } from '../messages/types.ts';
import { attributeTypeCode, getAttribute } from './index.ts';

const MAX_2_OCTET_AS = 0xffff;

const mappable = (asn: number): number => (asn > MAX_2_OCTET_AS ? AS_TRANS : asn);
const isConfed = (s: AsPathSegment): boolean =>
  s.type === AS_PATH_SEGMENT.AS_CONFED_SEQUENCE || s.type === AS_PATH_SEGMENT.AS_CONFED_SET;

/** Insert `a` before the first attribute with a higher type code (keeps ascending order, RFC 4271 §5). */
function insertByTypeCode(list: PathAttribute[], a: PathAttribute): void {
  const code = attributeTypeCode(a);
  const at = list.findIndex((x) => attributeTypeCode(x) > code);
  if (at === -1) list.push(a);
  else list.splice(at, 0, a);
}

/** RFC 6793 §4.2.2: the attributes as sent to a speaker without the 4-octet AS capability. */
export function toTwoOctetAttributes(attrs: PathAttributes): PathAttribute[] {
  const out: PathAttribute[] = [];
  let as4Path: AttributeOf<'AS4_PATH'> | undefined;
  let as4Aggregator: AttributeOf<'AS4_AGGREGATOR'> | undefined;
  for (const a of attrs) {
    if (a.kind === 'AS4_PATH' || a.kind === 'AS4_AGGREGATOR') continue; // rebuilt below
    if (a.kind === 'AS_PATH') {
      const needsAs4 = a.segments.some((s) => s.asns.some((asn) => asn > MAX_2_OCTET_AS));
      out.push({ ...a, segments: a.segments.map((s) => ({ type: s.type, asns: s.asns.map(mappable) })) });
      // §4.2.2: AS4_PATH carries the path without confederation segments.
      if (needsAs4) as4Path = { kind: 'AS4_PATH', segments: a.segments.filter((s) => !isConfed(s)) };
      continue;
    }
    if (a.kind === 'AGGREGATOR' && a.asn > MAX_2_OCTET_AS) {
      out.push({ ...a, asn: AS_TRANS });
      as4Aggregator = { kind: 'AS4_AGGREGATOR', asn: a.asn, address: a.address };
      continue;
    }
    out.push(a);
  }
  if (as4Path !== undefined) insertByTypeCode(out, as4Path);
  if (as4Aggregator !== undefined) insertByTypeCode(out, as4Aggregator);
  return out;
}

/** RFC 4271 §9.1.2.2 (a) path length as RFC 6793 §4.2.3 counts it: AS_SET 1, confederation 0. */
function pathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === AS_PATH_SEGMENT.AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AS_PATH_SEGMENT.AS_SET) n += 1;
  }
  return n;
}

/** The leading `count` ASes of a path (by pathLength), whole segments where possible. */
function leading(segments: readonly AsPathSegment[], count: number): AsPathSegment[] {
  const out: AsPathSegment[] = [];
  let budget = count;
  for (const s of segments) {
    if (isConfed(s)) {
      out.push(s);
      continue;
    }
    if (budget <= 0) break;
    if (s.type === AS_PATH_SEGMENT.AS_SET) {
      out.push(s);
      budget -= 1;
    } else {
      const take = Math.min(budget, s.asns.length);
      out.push({ type: s.type, asns: s.asns.slice(0, take) });
      budget -= take;
    }
  }
  return out;
}

export interface As4View {
  readonly asPath: readonly AsPathSegment[];
  readonly aggregator?: { readonly asn: number; readonly address: string };
}

/** RFC 6793 §4.2.3: the 4-octet AS path and aggregator of a received UPDATE. */
export function reconstructAs4(attrs: PathAttributes, ctx: CodecContext): As4View {
  const asPath = getAttribute(attrs, 'AS_PATH')?.segments ?? [];
  const agg = getAttribute(attrs, 'AGGREGATOR');
  const aggregator = agg === undefined ? undefined : { asn: agg.asn, address: agg.address };
  const withAgg = (v: As4View['aggregator']): Pick<As4View, 'aggregator'> => (v === undefined ? {} : { aggregator: v });
  // §4.1: between NEW speakers AS4_PATH / AS4_AGGREGATOR are not used.
  if (ctx.fourOctetAs) return { asPath, ...withAgg(aggregator) };
  const as4Agg = getAttribute(attrs, 'AS4_AGGREGATOR');
  // §4.2.3: an AGGREGATOR with a real (non-AS_TRANS) AS means AS4_AGGREGATOR and AS4_PATH are ignored.
  if (agg !== undefined && agg.asn !== AS_TRANS) return { asPath, ...withAgg(aggregator) };
  const mergedAgg = as4Agg === undefined ? aggregator : { asn: as4Agg.asn, address: as4Agg.address };
  const as4 = (getAttribute(attrs, 'AS4_PATH')?.segments ?? []).filter((s) => !isConfed(s));
  if (as4.length === 0) return { asPath, ...withAgg(mergedAgg) };
  const n = pathLength(asPath);
  const m = pathLength(as4);
  // §4.2.3: if AS_PATH is shorter than AS4_PATH, AS4_PATH is ignored.
  if (n < m) return { asPath, ...withAgg(mergedAgg) };
  return { asPath: [...leading(asPath, n - m), ...as4], ...withAgg(mergedAgg) };
}

