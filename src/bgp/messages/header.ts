// RFC 4271 §4.1 message header and its checks (§6.1 Message Header Error handling), shared by the
// framer (on the stream) and decodeMessage (on one message).
//   Marker (16, all ones) | Length (2, whole message) | Type (1)

import {
  ERROR_CODE,
  HEADER_ERROR,
  HEADER_LENGTH,
  MARKER_LENGTH,
  MAX_MESSAGE_SIZE,
  MESSAGE_TYPE,
  MIN_LENGTH,
} from '../constants.ts';
import { BgpError } from '../errors.ts';
import type { MessageType } from './types.ts';

const TYPE_NAMES = new Map<number, MessageType>(
  (Object.entries(MESSAGE_TYPE) as [MessageType, number][]).map(([name, code]) => [code, name]),
);

export function messageTypeName(code: number): MessageType | undefined {
  return TYPE_NAMES.get(code);
}

export interface Header {
  readonly length: number;
  readonly type: MessageType;
}

/** Check the header at `buf[0..19)`. Throws BgpError(Message Header Error) with RFC 4271 §6.1 data. */
export function checkHeader(buf: Buffer, maxMessageSize: number): Header {
  for (let i = 0; i < MARKER_LENGTH; i++) {
    if (buf[i] !== 0xff) {
      // RFC 4271 §6.1: "If the Marker field of the message header is not as expected, then a
      // synchronization error has occurred" -> Connection Not Synchronized.
      throw new BgpError({
        code: ERROR_CODE.MESSAGE_HEADER,
        subcode: HEADER_ERROR.CONNECTION_NOT_SYNCHRONIZED,
        reason: 'marker is not all ones',
      });
    }
  }
  const length = buf.readUInt16BE(MARKER_LENGTH);
  const typeCode = buf[MARKER_LENGTH + 2] as number;
  // RFC 4271 §6.1: bad length -> Bad Message Length, Data = the erroneous Length field.
  const badLength = (why: string): BgpError =>
    new BgpError({
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_ERROR.BAD_MESSAGE_LENGTH,
      data: Buffer.from(buf.subarray(MARKER_LENGTH, MARKER_LENGTH + 2)),
      reason: `message length ${length}: ${why}`,
    });
  if (length < HEADER_LENGTH) throw badLength(`shorter than the ${HEADER_LENGTH}-octet header`);
  if (length > maxMessageSize) throw badLength(`longer than the maximum ${maxMessageSize}`);
  const type = TYPE_NAMES.get(typeCode);
  if (type === undefined) {
    // RFC 4271 §6.1: unrecognized Type -> Bad Message Type, Data = the erroneous Type field.
    throw new BgpError({
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_ERROR.BAD_MESSAGE_TYPE,
      data: Buffer.from([typeCode]),
      reason: `unknown message type ${typeCode}`,
    });
  }
  // RFC 4271 §6.1: "if the Length field ... is too small for the message type, or if the Length of
  // a KEEPALIVE message is not equal to 19" -> Bad Message Length.
  if (length < MIN_LENGTH[type]) throw badLength(`too short for ${type} (minimum ${MIN_LENGTH[type]})`);
  if (type === 'KEEPALIVE' && length !== MIN_LENGTH.KEEPALIVE) throw badLength('KEEPALIVE must be 19 octets');
  // RFC 8654 §4: the extended size never applies to OPEN (nor KEEPALIVE, fixed above).
  if (type === 'OPEN' && length > MAX_MESSAGE_SIZE) throw badLength(`OPEN longer than ${MAX_MESSAGE_SIZE}`);
  return { length, type };
}
