// RFC 4271 §4.3: UPDATE.
//   Withdrawn Routes Length (2) | Withdrawn Routes | Total Path Attribute Length (2) |
//   Path Attributes | Network Layer Reachability Information (rest of the message)
// Classic withdrawn routes and NLRI are IPv4; other families travel in MP_REACH_NLRI /
// MP_UNREACH_NLRI attributes (RFC 4760).
//
// Receive path, RFC 7606: length fields that do not fit the message and malformed NLRI reset the
// session (§5.3 / RFC 4271 §6.3); attribute errors are graded per attribute (attributes/index.ts);
// a missing well-known mandatory attribute is treat-as-withdraw (§3(d)).

import { ATTR_TYPE, ERROR_CODE, MESSAGE_TYPE, UPDATE_ERROR } from '../constants.ts';
import { readAttributes, writeAttributes } from '../attributes/index.ts';
import { BgpError, ERROR_ACTION_RANK, WireError, type AttributeProblem, type ErrorAction } from '../errors.ts';
import { familyOfAfi, PrefixError, readPrefixes, writePrefixes } from '../nlri.ts';
import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import type { CodecContext, Family, PathAttribute, Prefix, Update } from './types.ts';

function checkIpv4(ps: readonly Prefix[], field: string): void {
  for (const p of ps) {
    if (p.family !== 'ipv4') throw new RangeError(`${field} carries only IPv4 prefixes (use MP_REACH/MP_UNREACH): ${p.address}`);
  }
}

// The UPDATE layout in four steps, written by encodeUpdate and by the bulk packer (pack.ts) alike, so
// there is one encoder of the message: each step closes the previous section and opens the next, the
// writer filling in every length when it closes.

/** Opens an UPDATE and its Withdrawn Routes (Withdrawn Routes Length follows from what is written). */
export function beginUpdate(w: Writer): void {
  w.forkMessage(MESSAGE_TYPE.UPDATE).fork(2);
}

/** Closes Withdrawn Routes and opens Path Attributes. */
export function beginPathAttributes(w: Writer): void {
  w.join().fork(2);
}

/** Closes Path Attributes: what follows is the classic (IPv4) NLRI. */
export function beginNlri(w: Writer): void {
  w.join();
}

/** Closes the message (its header length). */
export function endUpdate(w: Writer): void {
  w.join();
}

export function encodeUpdate(w: Writer, m: Update, ctx: CodecContext): void {
  checkIpv4(m.withdrawn, 'Withdrawn Routes');
  checkIpv4(m.nlri, 'NLRI');
  beginUpdate(w);
  writePrefixes(w, m.withdrawn);
  beginPathAttributes(w);
  writeAttributes(w, m.attributes, ctx);
  beginNlri(w);
  writePrefixes(w, m.nlri);
  endUpdate(w);
}

export interface DecodedUpdate {
  readonly message: Update;
  readonly problems: readonly AttributeProblem[];
  readonly action: ErrorAction;
}

function updateError(subcode: number, reason: string): BgpError {
  return new BgpError({ code: ERROR_CODE.UPDATE_MESSAGE, subcode, reason });
}

function readNlri(r: Reader, field: string): Prefix[] {
  try {
    return readPrefixes(r, 'ipv4');
  } catch (e) {
    // RFC 4271 §6.3 / RFC 7606 §5.3: a syntactically incorrect NLRI field resets the session.
    if (e instanceof PrefixError || e instanceof WireError) {
      throw updateError(UPDATE_ERROR.INVALID_NETWORK_FIELD, `${field}: ${e.message}`);
    }
    throw e;
  }
}

export function decodeUpdate(r: Reader, ctx: CodecContext): DecodedUpdate {
  // RFC 4271 §6.3: Withdrawn Routes Length or Total Attribute Length too large for the message ->
  // Malformed Attribute List (RFC 7606 §4 keeps this a session reset).
  if (r.remaining < 2) throw updateError(UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, 'no Withdrawn Routes Length');
  const withdrawnLength = r.u16();
  if (withdrawnLength + 2 > r.remaining) {
    throw updateError(UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, `Withdrawn Routes Length ${withdrawnLength} overruns the message`);
  }
  const withdrawn = readNlri(r.sub(withdrawnLength), 'Withdrawn Routes');
  const attrLength = r.u16();
  if (attrLength > r.remaining) {
    throw updateError(UPDATE_ERROR.MALFORMED_ATTRIBUTE_LIST, `Total Path Attribute Length ${attrLength} overruns the message`);
  }
  const { attributes, problems, seen } = readAttributes(r.sub(attrLength), ctx);
  const nlri = readNlri(r, 'NLRI');

  // RFC 7606 §3(d): a missing well-known mandatory attribute -> treat-as-withdraw. They are needed
  // only when the UPDATE carries reachability; NEXT_HOP only for classic NLRI (RFC 4760 §3).
  if (nlri.length > 0 || seen.has(ATTR_TYPE.MP_REACH_NLRI)) {
    const mandatory: number[] = [ATTR_TYPE.ORIGIN, ATTR_TYPE.AS_PATH];
    if (nlri.length > 0) mandatory.push(ATTR_TYPE.NEXT_HOP);
    for (const typeCode of mandatory) {
      if (seen.has(typeCode)) continue;
      problems.push({
        typeCode,
        action: 'treat-as-withdraw',
        subcode: UPDATE_ERROR.MISSING_WELL_KNOWN_ATTRIBUTE,
        reason: `missing well-known attribute ${typeCode}`,
      });
    }
  }
  let action: ErrorAction = 'none';
  for (const p of problems) if (ERROR_ACTION_RANK[p.action] > ERROR_ACTION_RANK[action]) action = p.action;
  return { message: { type: 'UPDATE', withdrawn, attributes, nlri }, problems, action };
}

/** What an UPDATE asks the receiver to do, with RFC 7606 applied. */
export interface UpdateRoutes {
  /** Classic NLRI and MP_REACH_NLRI prefixes; empty under treat-as-withdraw. */
  readonly announce: readonly Prefix[];
  /** Withdrawn Routes and MP_UNREACH_NLRI prefixes, plus everything announced under treat-as-withdraw
   * (RFC 7606 §2: "the routes ... MUST be handled as though they were withdrawn"). */
  readonly withdraw: readonly Prefix[];
  /** Attributes of the announced routes (MP attributes left out). */
  readonly attributes: readonly PathAttribute[];
  /** RFC 4724 §2: set when the UPDATE is the End-of-RIB marker of that family. */
  readonly endOfRib?: Family;
}

/** `action` is the one decodeMessage returned with the UPDATE (default: no problems). */
export function updateRoutes(m: Update, action: ErrorAction = 'none'): UpdateRoutes {
  const announce: Prefix[] = [...m.nlri];
  const withdraw: Prefix[] = [...m.withdrawn];
  const attributes: PathAttribute[] = [];
  let endOfRib: Family | undefined;
  for (const a of m.attributes) {
    if (a.kind === 'MP_REACH_NLRI') announce.push(...a.prefixes);
    else if (a.kind === 'MP_UNREACH_NLRI') {
      withdraw.push(...a.prefixes);
      const family = familyOfAfi(a.afi);
      if (a.prefixes.length === 0 && m.attributes.length === 1 && family !== undefined) endOfRib = family;
    } else attributes.push(a);
  }
  if (m.withdrawn.length === 0 && m.nlri.length === 0 && m.attributes.length === 0) endOfRib = 'ipv4';
  if (action === 'treat-as-withdraw') {
    return { announce: [], withdraw: [...withdraw, ...announce], attributes: [] };
  }
  return { announce, withdraw, attributes, ...(endOfRib === undefined ? {} : { endOfRib }) };
}
