// The NOTIFICATIONs the FSM itself originates (RFC 4271 §4.5, §6; RFC 6608; RFC 4486; RFC 9003).
// Decode errors arrive with their NOTIFICATION already built by the codec; these are the ones that
// come from state, timers and OPEN negotiation.
import type { NotificationView } from './types.ts';

import { CEASE, ERROR_CODE, FSM_ERROR, MAX_SHUTDOWN_COMMUNICATION, OPEN_ERROR } from '../constants.ts';

// Names from the codec's one catalog (../constants.ts), grouped as the FSM uses them.
/** RFC 4271 §4.5 error codes used by the FSM. */
export const FsmErrorCode = {
  MessageHeader: ERROR_CODE.MESSAGE_HEADER,
  OpenMessage: ERROR_CODE.OPEN_MESSAGE,
  UpdateMessage: ERROR_CODE.UPDATE_MESSAGE,
  HoldTimerExpired: ERROR_CODE.HOLD_TIMER_EXPIRED,
  FiniteStateMachine: ERROR_CODE.FSM,
  Cease: ERROR_CODE.CEASE,
} as const;

/** RFC 4271 §6.2 (+ RFC 5492 §5) OPEN Message Error subcodes. */
export const OpenErrorSubcode = {
  UnsupportedVersionNumber: OPEN_ERROR.UNSUPPORTED_VERSION,
  BadPeerAs: OPEN_ERROR.BAD_PEER_AS,
  BadBgpIdentifier: OPEN_ERROR.BAD_BGP_IDENTIFIER,
  UnsupportedOptionalParameter: OPEN_ERROR.UNSUPPORTED_OPTIONAL_PARAMETER,
  UnacceptableHoldTime: OPEN_ERROR.UNACCEPTABLE_HOLD_TIME,
  UnsupportedCapability: OPEN_ERROR.UNSUPPORTED_CAPABILITY,
} as const;

/** RFC 6608 §3 FSM Error subcodes. */
export const FsmErrorSubcode = {
  Unspecified: FSM_ERROR.UNSPECIFIED,
  UnexpectedInOpenSent: FSM_ERROR.UNEXPECTED_IN_OPENSENT,
  UnexpectedInOpenConfirm: FSM_ERROR.UNEXPECTED_IN_OPENCONFIRM,
  UnexpectedInEstablished: FSM_ERROR.UNEXPECTED_IN_ESTABLISHED,
} as const;

/** RFC 4486 §4 Cease subcodes. */
export const CeaseSubcode = {
  AdministrativeShutdown: CEASE.ADMINISTRATIVE_SHUTDOWN,
  PeerDeConfigured: CEASE.PEER_DECONFIGURED,
  AdministrativeReset: CEASE.ADMINISTRATIVE_RESET,
  ConnectionRejected: CEASE.CONNECTION_REJECTED,
  ConnectionCollisionResolution: CEASE.CONNECTION_COLLISION_RESOLUTION,
} as const;

/** The BGP version we speak (RFC 4271 §4.2). */
export { BGP_VERSION } from '../constants.ts';

/** RFC 9003 §2: the Shutdown Communication is at most 255 octets of UTF-8, preceded by its length. */
const SHUTDOWN_COMMUNICATION_MAX = MAX_SHUTDOWN_COMMUNICATION;

export function notification(code: number, subcode: number, data?: Buffer): NotificationView {
  return data === undefined ? { code, subcode } : { code, subcode, data };
}

/**
 * RFC 4486 Cease / Administrative Shutdown, with the RFC 9003 Shutdown Communication when given.
 * The message is cut at a UTF-8 character boundary so that it fits in 255 octets.
 */
export function adminShutdown(communication?: string): NotificationView {
  if (communication === undefined || communication === '') {
    return notification(FsmErrorCode.Cease, CeaseSubcode.AdministrativeShutdown);
  }
  let text = Buffer.from(communication, 'utf8');
  if (text.length > SHUTDOWN_COMMUNICATION_MAX) {
    // Back off to the start of a UTF-8 sequence (continuation bytes are 0b10xxxxxx).
    let end = SHUTDOWN_COMMUNICATION_MAX;
    while (end > 0 && ((text[end] ?? 0) & 0xc0) === 0x80) end -= 1;
    text = text.subarray(0, end);
  }
  const data = Buffer.alloc(1 + text.length);
  data[0] = text.length;
  text.copy(data, 1);
  return notification(FsmErrorCode.Cease, CeaseSubcode.AdministrativeShutdown, data);
}
