// The BFD Control packet (RFC 5880 §4.1): constants, the plain data type, encode and decode.
//
//   0                   1                   2                   3
//   |Vers |  Diag   |Sta|P|F|C|A|D|M|  Detect Mult  |    Length     |
//   |                       My Discriminator                        |
//   |                      Your Discriminator                       |
//   |                    Desired Min TX Interval                    |
//   |                   Required Min RX Interval                    |
//   |                 Required Min Echo RX Interval                 |
//   |   Auth Type   |   Auth Len    |    Authentication Data...     |  (optional, A bit)
//
// decode applies the reception checks of RFC 5880 §6.8.6 that need only the packet itself (version,
// length, multiplier, M bit, discriminators) and throws a BfdDecodeError naming the rule; the checks
// that need a session (which session, its state) are the state machine's (fsm.ts). Authentication
// (§4.2-§4.4) is not implemented: an authentication section is parsed far enough to be named in the
// error, and the packet is rejected (§6.8.6: A bit set and no authentication in use -> discard).
// Intervals are in microseconds, as on the wire.

export const BFD_VERSION = 1;
/** §4.1: the Length of a packet without authentication. */
export const CONTROL_PACKET_LENGTH = 24;
/** §4.1: with the A bit, the authentication section adds at least Auth Type and Auth Len. */
const AUTH_HEADER_LENGTH = 2;

/** §4.1 Sta. */
export const BFD_STATE = { AdminDown: 0, Down: 1, Init: 2, Up: 3 } as const;
export type BfdState = keyof typeof BFD_STATE;
const STATE_NAMES: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];

/** §4.1 Diag (IANA "BFD Diagnostic Codes"). */
export const BFD_DIAG = {
  NONE: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_SESSION_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;
export type BfdDiag = (typeof BFD_DIAG)[keyof typeof BFD_DIAG];
const DIAG_MAX = 31; // 5 bits; codes 9-31 are reserved but must still decode

/** §4.1 Auth Type (IANA "BFD Authentication Types"). */
export const BFD_AUTH_TYPE = {
  SIMPLE_PASSWORD: 1,
  KEYED_MD5: 2,
  METICULOUS_KEYED_MD5: 3,
  KEYED_SHA1: 4,
  METICULOUS_KEYED_SHA1: 5,
} as const;

const FLAG = { P: 0x20, F: 0x10, C: 0x08, A: 0x04, D: 0x02, M: 0x01 } as const;

export interface ControlPacket {
  readonly diag: number;
  readonly state: BfdState;
  readonly poll: boolean;
  readonly final: boolean;
  /** C: the implementation does not share fate with the control plane. */
  readonly controlPlaneIndependent: boolean;
  readonly demand: boolean;
  readonly detectMult: number;
  readonly myDiscriminator: number;
  readonly yourDiscriminator: number;
  readonly desiredMinTxUs: number;
  readonly requiredMinRxUs: number;
  readonly requiredMinEchoRxUs: number;
}

/** Why a received packet was discarded; each names the RFC 5880 rule. */
export const BFD_DECODE_ERROR = {
  TRUNCATED: 'truncated',
  BAD_VERSION: 'bad-version',
  BAD_LENGTH: 'bad-length',
  ZERO_DETECT_MULT: 'zero-detect-mult',
  MULTIPOINT: 'multipoint',
  ZERO_MY_DISCRIMINATOR: 'zero-my-discriminator',
  ZERO_YOUR_DISCRIMINATOR: 'zero-your-discriminator',
  AUTH_MALFORMED: 'auth-malformed',
  AUTH_UNSUPPORTED: 'auth-unsupported',
} as const;
export type BfdDecodeErrorCode = (typeof BFD_DECODE_ERROR)[keyof typeof BFD_DECODE_ERROR];

export class BfdDecodeError extends Error {
  readonly code: BfdDecodeErrorCode;
  readonly reason: string;
  constructor(code: BfdDecodeErrorCode, reason: string) {
    super(`BFD packet discarded (${code}): ${reason}`);
    this.name = 'BfdDecodeError';
    this.code = code;
    this.reason = reason;
  }
}

export function isBfdDecodeError(e: unknown): e is BfdDecodeError {
  return e instanceof BfdDecodeError;
}

/** Encodes a packet without authentication (A bit clear). Throws RangeError on out-of-range fields. */
export function encodeControl(p: ControlPacket): Buffer {
  // §6.8.7: a packet must not carry both Poll and Final.
  if (p.poll && p.final) throw new RangeError('BFD Control packet with both Poll and Final set (RFC 5880 §6.8.7)');
  if (!Number.isInteger(p.diag) || p.diag < 0 || p.diag > DIAG_MAX) throw new RangeError(`BFD diag ${p.diag} out of range 0..${DIAG_MAX}`);
  if (!Number.isInteger(p.detectMult) || p.detectMult < 1 || p.detectMult > 0xff) throw new RangeError(`BFD detectMult ${p.detectMult} out of range 1..255`);
  const b = Buffer.alloc(CONTROL_PACKET_LENGTH);
  b[0] = (BFD_VERSION << 5) | p.diag;
  b[1] =
    (BFD_STATE[p.state] << 6) |
    (p.poll ? FLAG.P : 0) |
    (p.final ? FLAG.F : 0) |
    (p.controlPlaneIndependent ? FLAG.C : 0) |
    (p.demand ? FLAG.D : 0);
  b[2] = p.detectMult;
  b[3] = CONTROL_PACKET_LENGTH;
  b.writeUInt32BE(p.myDiscriminator >>> 0, 4);
  b.writeUInt32BE(p.yourDiscriminator >>> 0, 8);
  b.writeUInt32BE(p.desiredMinTxUs >>> 0, 12);
  b.writeUInt32BE(p.requiredMinRxUs >>> 0, 16);
  b.writeUInt32BE(p.requiredMinEchoRxUs >>> 0, 20);
  return b;
}

/** Decodes one UDP payload. Throws BfdDecodeError for a packet RFC 5880 §6.8.6 discards. */
export function decodeControl(b: Buffer): ControlPacket {
  const fail = (code: BfdDecodeErrorCode, reason: string): never => {
    throw new BfdDecodeError(code, reason);
  };
  if (b.length < CONTROL_PACKET_LENGTH) fail(BFD_DECODE_ERROR.TRUNCATED, `${b.length} bytes, a Control packet has at least ${CONTROL_PACKET_LENGTH}`);
  const b0 = b[0] as number;
  const b1 = b[1] as number;
  const version = b0 >> 5;
  // §6.8.6: "If the version number is not correct (1), the packet MUST be discarded."
  if (version !== BFD_VERSION) fail(BFD_DECODE_ERROR.BAD_VERSION, `version ${version}, expected ${BFD_VERSION}`);
  const auth = (b1 & FLAG.A) !== 0;
  const length = b[3] as number;
  // §6.8.6: Length below the minimum (24, or 26 with the A bit) or beyond the payload -> discard.
  const minimum = CONTROL_PACKET_LENGTH + (auth ? AUTH_HEADER_LENGTH : 0);
  if (length < minimum) fail(BFD_DECODE_ERROR.BAD_LENGTH, `Length field ${length} below the minimum ${minimum}`);
  if (length > b.length) fail(BFD_DECODE_ERROR.TRUNCATED, `Length field ${length} but only ${b.length} bytes received`);
  const detectMult = b[2] as number;
  // §6.8.6: "If the Detect Mult field is zero, the packet MUST be discarded."
  if (detectMult === 0) fail(BFD_DECODE_ERROR.ZERO_DETECT_MULT, 'Detect Mult is zero');
  // §6.8.6: "If the Multipoint (M) bit is nonzero, the packet MUST be discarded."
  if ((b1 & FLAG.M) !== 0) fail(BFD_DECODE_ERROR.MULTIPOINT, 'Multipoint (M) bit set');
  const myDiscriminator = b.readUInt32BE(4);
  const yourDiscriminator = b.readUInt32BE(8);
  // §6.8.6: "If the My Discriminator field is zero, the packet MUST be discarded."
  if (myDiscriminator === 0) fail(BFD_DECODE_ERROR.ZERO_MY_DISCRIMINATOR, 'My Discriminator is zero');
  const state = STATE_NAMES[b1 >> 6] as BfdState;
  // §6.8.6: Your Discriminator zero and State not Down or AdminDown -> discard.
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
    fail(BFD_DECODE_ERROR.ZERO_YOUR_DISCRIMINATOR, `Your Discriminator is zero in state ${state}`);
  }
  if (auth) {
    // §4.2: Auth Type, Auth Len (the length of the whole section), then type-specific data.
    const authType = b[CONTROL_PACKET_LENGTH] as number;
    const authLen = b[CONTROL_PACKET_LENGTH + 1] as number;
    if (authLen < AUTH_HEADER_LENGTH || CONTROL_PACKET_LENGTH + authLen !== length) {
      fail(BFD_DECODE_ERROR.AUTH_MALFORMED, `Auth Len ${authLen} does not fill the packet Length ${length}`);
    }
    // §6.8.6: "If the A bit is set and no authentication is in use (bfd.AuthType is zero), the packet
    // MUST be discarded." berth implements no authentication type.
    fail(BFD_DECODE_ERROR.AUTH_UNSUPPORTED, `authentication type ${authType} present: berth's BFD does not implement authentication`);
  }
  return {
    diag: b0 & DIAG_MAX,
    state,
    poll: (b1 & FLAG.P) !== 0,
    final: (b1 & FLAG.F) !== 0,
    controlPlaneIndependent: (b1 & FLAG.C) !== 0,
    demand: (b1 & FLAG.D) !== 0,
    detectMult,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxUs: b.readUInt32BE(12),
    requiredMinRxUs: b.readUInt32BE(16),
    requiredMinEchoRxUs: b.readUInt32BE(20),
  };
}
