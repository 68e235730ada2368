// Path attribute descriptor table and the attribute list codec (RFC 4271 §4.3):
//   Attr. Flags (1) | Attr. Type Code (1) | Attr. Length (1, or 2 with Extended Length) | Value
//
// Receive path: each attribute is framed, checked for duplicates (RFC 7606 §3(g)), flags
// (RFC 4271 §6.3, RFC 7606 §3(c)) and value (the descriptor's decoder); a failure applies the
// descriptor's RFC 7606 action: session-reset throws a BgpError, the others become AttributeProblems
// and the attribute is left out of the result. Unknown optional attributes are kept raw.
// Send path: attributes are written in the order given, each with its own flags when it carries
// them (so captured messages re-encode byte for byte), otherwise the descriptor's flags; the
// Extended Length flag is set by the writer when a value exceeds 255 octets.

import { ATTR_FLAG, ATTR_TYPE, ERROR_CODE, UPDATE_ERROR } from '../constants.ts';
import { BgpError, WireError, type AttributeProblem } from '../errors.ts';
import type { AttributeOf, CodecContext, PathAttribute, PathAttributeKind, PathAttributes } from '../messages/types.ts';
import { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import { aggregator, as4Aggregator } from './aggregator.ts';
import { as4Path, asPath } from './as-path.ts';
import { atomicAggregate } from './atomic-aggregate.ts';
import { communities } from './communities.ts';
import { AttributeError, type AttributeDescriptor } from './descriptor.ts';
import { extendedCommunities } from './extended-communities.ts';
import { largeCommunities } from './large-communities.ts';
import { localPref } from './local-pref.ts';
import { med } from './med.ts';
import { mpReach } from './mp-reach.ts';
import { mpUnreach } from './mp-unreach.ts';
import { nextHop } from './next-hop.ts';
import { origin } from './origin.ts';

type AnyDescriptor = AttributeDescriptor<PathAttributeKind>;

/** Every attribute the codec decodes, by type code. */
export const ATTRIBUTE_DESCRIPTORS: readonly AnyDescriptor[] = [
  origin,
  asPath,
  nextHop,
  med,
  localPref,
  atomicAggregate,
  aggregator,
  communities,
  mpReach,
  mpUnreach,
  extendedCommunities,
  as4Path,
  as4Aggregator,
  largeCommunities,
] as unknown as readonly AnyDescriptor[];

const BY_CODE = new Map<number, AnyDescriptor>(ATTRIBUTE_DESCRIPTORS.map((d) => [d.typeCode, d]));
const BY_KIND = new Map<string, AnyDescriptor>(ATTRIBUTE_DESCRIPTORS.map((d) => [d.kind, d]));

export function descriptorOf(typeCode: number): AnyDescriptor | undefined {
  return BY_CODE.get(typeCode);
}

/** The type code of an attribute value. */
export function attributeTypeCode(a: PathAttribute): number {
  return a.kind === 'UNKNOWN' ? a.typeCode : ATTR_TYPE[a.kind];
}

/** The first attribute of a kind, if present. */
export function getAttribute<K extends PathAttributeKind>(attrs: PathAttributes, kind: K): AttributeOf<K> | undefined {
  return attrs.find((a): a is AttributeOf<K> => a.kind === kind);
}

/** Flags written for an attribute that does not carry its own. */
export function defaultFlags(a: PathAttribute): number {
  if (a.kind === 'UNKNOWN') return ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE;
  return (BY_KIND.get(a.kind) as AnyDescriptor).flags;
}

export function writeAttribute(w: Writer, a: PathAttribute, ctx: CodecContext): void {
  const flags = a.flags ?? defaultFlags(a);
  w.forkAttribute(flags, attributeTypeCode(a));
  if (a.kind === 'UNKNOWN') w.bytes(a.data);
  else (BY_KIND.get(a.kind) as AnyDescriptor).encode(w, a, ctx);
  w.join();
}

export function writeAttributes(w: Writer, attrs: PathAttributes, ctx: CodecContext): void {
  for (const a of attrs) writeAttribute(w, a, ctx);
}

export interface ReadAttributesResult {
  readonly attributes: PathAttribute[];
  readonly problems: AttributeProblem[];
  /** Type codes seen (including malformed and duplicate ones). */
  readonly seen: ReadonlySet<number>;
}

const MIN_ATTRIBUTE_HEADER = 3;

/** Read the Path Attributes field (the reader spans exactly Total Path Attribute Length). */
export function readAttributes(r: Reader, ctx: CodecContext): ReadAttributesResult {
  const attributes: PathAttribute[] = [];
  const problems: AttributeProblem[] = [];
  const seen = new Set<number>();
  while (!r.atEnd) {
    const start = r.offset;
    // RFC 7606 §4: fewer octets left than an attribute header, or an attribute length that overruns
    // the Total Path Attribute Length -> treat-as-withdraw; the NLRI are still located by that total.
    const flags = r.remaining >= MIN_ATTRIBUTE_HEADER ? r.u8() : -1;
    const extended = flags >= 0 && (flags & ATTR_FLAG.EXTENDED_LENGTH) !== 0;
    if (flags < 0 || (extended && r.remaining < MIN_ATTRIBUTE_HEADER)) {
      problems.push(listProblem(`${r.remaining} octet(s) left, too few for an attribute header`));
      break;
    }
    const typeCode = r.u8();
    const length = extended ? r.u16() : r.u8();
    if (length > r.remaining) {
      problems.push(listProblem(`attribute ${typeCode} length ${length} overruns the attribute list by ${length - r.remaining}`));
      break;
    }
    const value = r.bytes(length);
    const whole = r.window(start, r.offset);
    if (seen.has(typeCode)) {
      // RFC 7606 §3(g): a repeated MP_REACH_NLRI/MP_UNREACH_NLRI resets the session; any other
      // repeated attribute is discarded after its first occurrence.
      if (typeCode === ATTR_TYPE.MP_REACH_NLRI || typeCode === ATTR_TYPE.MP_UNREACH_NLRI) {
        throw new BgpError({
          code: ERROR_CODE.UPDATE_MESSAGE,
          subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
          reason: `attribute ${typeCode} repeated`,
        });
      }
      problems.push({
        typeCode,
        action: 'attribute-discard',
        subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST,
        reason: `attribute ${typeCode} repeated; later occurrence discarded`,
      });
      continue;
    }
    seen.add(typeCode);
    const d = BY_CODE.get(typeCode);
    if (d === undefined || d.keepsRaw?.(value) === true) {
      if (d === undefined && (flags & ATTR_FLAG.OPTIONAL) === 0) {
        // RFC 4271 §6.3: an unrecognized well-known attribute; Data is the attribute.
        throw new BgpError({
          code: ERROR_CODE.UPDATE_MESSAGE,
          subcode: UPDATE_ERROR.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          data: Buffer.from(whole),
          reason: `unrecognized well-known attribute ${typeCode}`,
        });
      }
      attributes.push({ kind: 'UNKNOWN', flags, typeCode, data: Buffer.from(value) });
      continue;
    }
    const fail = (subcode: number, reason: string): void => {
      if (d.onError === 'session-reset') {
        // RFC 4271 §6.3: the Data field carries the erroneous attribute (type, length and value).
        throw new BgpError({ code: ERROR_CODE.UPDATE_MESSAGE, subcode, data: Buffer.from(whole), reason });
      }
      problems.push({ typeCode, action: d.onError, subcode, reason });
    };
    // RFC 4271 §6.3 / RFC 7606 §3(c): Optional and Transitive bits must match the attribute's.
    const ot = ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE;
    if ((flags & ot) !== d.flags) {
      fail(UPDATE_ERROR.ATTRIBUTE_FLAGS_ERROR, `${d.kind}: flags 0x${flags.toString(16)} conflict with 0x${d.flags.toString(16)}`);
      continue;
    }
    try {
      attributes.push({ ...d.decode(new Reader(value), ctx), flags } as PathAttribute);
    } catch (e) {
      if (e instanceof AttributeError) fail(e.subcode ?? d.errorSubcode, e.message);
      else if (e instanceof WireError) fail(d.errorSubcode, `${d.kind}: ${e.message}`);
      else throw e;
    }
  }
  return { attributes, problems, seen };
}

function listProblem(reason: string): AttributeProblem {
  return { typeCode: 0, action: 'treat-as-withdraw', subcode: UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, reason };
}
