// The NOTIFICATIONs the FSM itself originates (RFC 4271 §4.5, §6; RFC 6608; RFC 4486; RFC 9003).
// Decode errors arrive with their NOTIFICATION already built by the codec; these are the ones that
// come from state, timers and OPEN negotiation.
import type { NotificationView } from './types.ts';

/** RFC 4271 §4.5 error codes used by the FSM. */
export const FsmErrorCode = {
  MessageHeader: 1,
  OpenMessage: 2,
  UpdateMessage: 3,
  HoldTimerExpired: 4,
  FiniteStateMachine: 5,
  Cease: 6,
} as const;

/** RFC 4271 §6.2 (+ RFC 5492 §5) OPEN Message Error subcodes. */
export const OpenErrorSubcode = {
  UnsupportedVersionNumber: 1,
  BadPeerAs: 2,
  BadBgpIdentifier: 3,
  UnsupportedOptionalParameter: 4,
  UnacceptableHoldTime: 6,
  UnsupportedCapability: 7,
} as const;

/** RFC 6608 §3 FSM Error subcodes. */
export const FsmErrorSubcode = {
  Unspecified: 0,
  UnexpectedInOpenSent: 1,
  UnexpectedInOpenConfirm: 2,
  UnexpectedInEstablished: 3,
} as const;

/** RFC 4486 §4 Cease subcodes. */
export const CeaseSubcode = {
  AdministrativeShutdown: 2,
  PeerDeConfigured: 3,
  AdministrativeReset: 4,
  ConnectionRejected: 5,
  ConnectionCollisionResolution: 7,
} as const;

/** The BGP version we speak (RFC 4271 §4.2). */
export const BGP_VERSION = 4;

/** RFC 9003 §2: the Shutdown Communication is at most 255 octets of UTF-8, preceded by its length. */
const SHUTDOWN_COMMUNICATION_MAX = 255;

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
