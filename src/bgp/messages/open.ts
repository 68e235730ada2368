// RFC 4271 §4.2: OPEN.
//   Version (1) | My AS (2) | Hold Time (2) | BGP Identifier (4) | Opt Parm Len (1) | Optional Parameters
//   each parameter: Parm. Type (1) | Parm. Length (1) | Parm. Value
// RFC 9072 §2 extended format: Opt Parm Len (non-zero, 255 when sent) | Non-Ext OP Type = 255 |
//   Extended Opt. Parm. Length (2) | parameters with 2-octet Parm. Length. Used when the parameters
//   exceed 255 octets, or when `extendedParameters` asks for it.
// RFC 5492 §4: capabilities travel in parameter type 2, one or several per parameter.

import {
  AS_TRANS,
  BGP_VERSION,
  ERROR_CODE,
  MESSAGE_TYPE,
  OPEN_ERROR,
  OPTIONAL_PARAMETER,
} from '../constants.ts';
import { CapabilityError, readCapabilities, writeCapability } from '../capabilities/index.ts';
import { BgpError, WireError } from '../errors.ts';
import { formatIpv4, ipv4ToBytes } from '../wire/ip.ts';
import type { Reader } from '../wire/reader.ts';
import { Writer } from '../wire/writer.ts';
import type { Capability, Open, OptionalParameter } from './types.ts';

const MAX_2_OCTET_AS = 0xffff;
const MAX_SHORT_PARAMETERS = 255;

/** Build an OPEN: My AS is AS_TRANS when `asn` needs 4 octets (RFC 6793 §4.1); the caller lists the
 * capabilities (include FOUR_OCTET_AS yourself), all sent in one Capabilities parameter. */
export function makeOpen(init: {
  readonly asn: number;
  readonly holdTime: number;
  readonly bgpId: string;
  readonly capabilities: readonly Capability[];
}): Open {
  return {
    type: 'OPEN',
    version: BGP_VERSION,
    myAsn: init.asn > MAX_2_OCTET_AS ? AS_TRANS : init.asn,
    holdTime: init.holdTime,
    bgpId: init.bgpId,
    parameters: init.capabilities.length === 0 ? [] : [{ kind: 'CAPABILITIES', capabilities: init.capabilities }],
  };
}

/** All capabilities of an OPEN, across its parameters, in order. */
export function openCapabilities(open: Open): Capability[] {
  return open.parameters.flatMap((p) => (p.kind === 'CAPABILITIES' ? p.capabilities : []));
}

/** The sender's AS: the 4-octet AS capability when present (RFC 6793 §4.1), else My AS. */
export function openAsn(open: Open): number {
  const four = openCapabilities(open).find((c) => c.kind === 'FOUR_OCTET_AS');
  return four?.kind === 'FOUR_OCTET_AS' ? four.asn : open.myAsn;
}

function writeParameters(w: Writer, params: readonly OptionalParameter[], width: 1 | 2): void {
  for (const p of params) {
    if (p.kind === 'CAPABILITIES') {
      w.u8(OPTIONAL_PARAMETER.CAPABILITIES).fork(width);
      for (const c of p.capabilities) writeCapability(w, c);
      w.join();
    } else {
      w.u8(p.type).fork(width).bytes(p.data).join();
    }
  }
}

/** The parameters in the classic 1-octet-length form, or undefined when they do not fit it. */
function shortParameters(params: readonly OptionalParameter[]): Buffer | undefined {
  const probe = new Writer(256);
  try {
    writeParameters(probe, params, 1);
  } catch (e) {
    if (e instanceof RangeError) return undefined; // one parameter over 255 octets
    throw e;
  }
  return probe.length <= MAX_SHORT_PARAMETERS ? probe.finish() : undefined;
}

export function encodeOpen(w: Writer, m: Open): void {
  w.forkMessage(MESSAGE_TYPE.OPEN).u8(m.version).u16(m.myAsn).u16(m.holdTime).bytes(ipv4ToBytes(m.bgpId));
  // Measure the short form first: RFC 9072 §3 says to use the extended form only when needed.
  const short = m.extendedParameters === true ? undefined : shortParameters(m.parameters);
  if (short !== undefined) {
    w.fork(1).bytes(short).join();
  } else {
    w.u8(MAX_SHORT_PARAMETERS).u8(OPTIONAL_PARAMETER.EXTENDED_LENGTH).fork(2);
    writeParameters(w, m.parameters, 2);
    w.join();
  }
  w.join();
}

function openError(subcode: number, reason: string, data?: Buffer): BgpError {
  return new BgpError({ code: ERROR_CODE.OPEN_MESSAGE, subcode, reason, ...(data === undefined ? {} : { data }) });
}

/** Unspecific OPEN Message Error (subcode 0) for malformed structure (RFC 4271 §6.2 has no better one). */
const MALFORMED = 0;

export function decodeOpen(r: Reader): Open {
  try {
    return decodeOpenFields(r);
  } catch (e) {
    if (e instanceof WireError || e instanceof CapabilityError) throw openError(MALFORMED, `malformed OPEN: ${e.message}`);
    throw e;
  }
}

function decodeOpenFields(r: Reader): Open {
  const version = r.u8();
  if (version !== BGP_VERSION) {
    // RFC 4271 §6.2: Data = the largest locally supported version number (2 octets).
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    throw openError(OPEN_ERROR.UNSUPPORTED_VERSION, `version ${version}`, data);
  }
  const myAsn = r.u16();
  const holdTime = r.u16();
  // RFC 4271 §6.2: a Hold Time of one or two seconds MUST be rejected.
  if (holdTime === 1 || holdTime === 2) throw openError(OPEN_ERROR.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime}`);
  const idBytes = r.bytes(4);
  // RFC 6286 §2.1: the BGP Identifier is any non-zero 4-octet value.
  if (idBytes.readUInt32BE(0) === 0) throw openError(OPEN_ERROR.BAD_BGP_IDENTIFIER, 'BGP Identifier 0');
  const bgpId = formatIpv4(idBytes);
  let paramsLen = r.u8();
  let width: 1 | 2 = 1;
  let extendedParameters = false;
  // RFC 9072 §2: a non-zero length followed by a first parameter type of 255 is the extended form.
  if (paramsLen !== 0 && r.remaining >= 1 && r.window(r.offset, r.offset + 1)[0] === OPTIONAL_PARAMETER.EXTENDED_LENGTH) {
    r.u8();
    paramsLen = r.u16();
    width = 2;
    extendedParameters = true;
  }
  const pr = r.sub(paramsLen, 'optional parameters');
  if (!r.atEnd) throw openError(MALFORMED, `${r.remaining} octet(s) after the optional parameters`);
  const parameters: OptionalParameter[] = [];
  while (!pr.atEnd) {
    const type = pr.u8();
    const len = width === 1 ? pr.u8() : pr.u16();
    const value = pr.sub(len, 'optional parameter');
    if (type !== OPTIONAL_PARAMETER.CAPABILITIES) {
      // RFC 4271 §6.2: an unrecognized Optional Parameter -> Unsupported Optional Parameter.
      throw openError(OPEN_ERROR.UNSUPPORTED_OPTIONAL_PARAMETER, `optional parameter type ${type}`);
    }
    parameters.push({ kind: 'CAPABILITIES', capabilities: readCapabilities(value) });
  }
  return {
    type: 'OPEN',
    version,
    myAsn,
    holdTime,
    bgpId,
    parameters,
    ...(extendedParameters ? { extendedParameters } : {}),
  };
}
