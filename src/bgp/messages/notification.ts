// RFC 4271 §4.5: NOTIFICATION.  Error code (1) | Error subcode (1) | Data (variable)
// RFC 8203 §2 / RFC 9003 §2: for Cease / Administrative Shutdown (2) and Administrative Reset (4)
// the Data may be a Shutdown Communication: Length (1) | UTF-8 text (up to 255 octets).

import { CEASE, ERROR_CODE, HEADER_LENGTH, MAX_SHUTDOWN_COMMUNICATION, MESSAGE_TYPE } from '../constants.ts';
import { Reader } from '../wire/reader.ts';
import { Writer } from '../wire/writer.ts';
import type { Notification } from './types.ts';

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return code === ERROR_CODE.CEASE && (subcode === CEASE.ADMINISTRATIVE_SHUTDOWN || subcode === CEASE.ADMINISTRATIVE_RESET);
}

/** The data field for a shutdown communication. Throws RangeError past 255 octets (RFC 9003 §2). */
export function shutdownCommunicationData(text: string): Buffer {
  const utf8 = Buffer.from(text, 'utf8');
  if (utf8.length > MAX_SHUTDOWN_COMMUNICATION) {
    throw new RangeError(`shutdown communication of ${utf8.length} octets exceeds ${MAX_SHUTDOWN_COMMUNICATION}`);
  }
  return Buffer.concat([Buffer.from([utf8.length]), utf8]);
}

/** A NOTIFICATION value; with `shutdownMessage` for Cease 2/4 the data is derived from it. */
export function makeNotification(init: {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
  readonly shutdownMessage?: string;
}): Notification {
  if (init.shutdownMessage !== undefined && carriesShutdownCommunication(init.code, init.subcode)) {
    return {
      type: 'NOTIFICATION',
      code: init.code,
      subcode: init.subcode,
      data: shutdownCommunicationData(init.shutdownMessage),
      shutdownMessage: init.shutdownMessage,
    };
  }
  return { type: 'NOTIFICATION', code: init.code, subcode: init.subcode, data: init.data ?? Buffer.alloc(0) };
}

export function encodeNotification(w: Writer, m: Notification): void {
  w.forkMessage(MESSAGE_TYPE.NOTIFICATION).u8(m.code).u8(m.subcode);
  w.bytes(m.shutdownMessage !== undefined && carriesShutdownCommunication(m.code, m.subcode)
    ? shutdownCommunicationData(m.shutdownMessage)
    : m.data);
  w.join();
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function decodeNotification(r: Reader): Notification {
  const code = r.u8();
  const subcode = r.u8();
  const data = Buffer.from(r.rest());
  const base: Notification = { type: 'NOTIFICATION', code, subcode, data };
  if (!carriesShutdownCommunication(code, subcode) || data.length === 0) return base;
  // RFC 9003 §2: a length that does not match, or invalid UTF-8, is logged, not an error; we then
  // just do not present the text.
  const len = data[0] as number;
  if (len !== data.length - 1) return base;
  try {
    return { ...base, shutdownMessage: UTF8.decode(data.subarray(1)) };
  } catch {
    return base;
  }
}

/** RFC 8538 §3: a Cease/Hard Reset carries the NOTIFICATION that caused it in its data
 * (Error Code, Error Subcode, Data). Returns that inner NOTIFICATION, decoded like any other. */
export function hardResetCause(m: Notification): Notification | undefined {
  if (m.code !== ERROR_CODE.CEASE || m.subcode !== CEASE.HARD_RESET || m.data.length < 2) return undefined;
  const w = new Writer(64);
  encodeNotification(w, { type: 'NOTIFICATION', code: m.data[0] as number, subcode: m.data[1] as number, data: m.data.subarray(2) });
  const whole = w.finish();
  return decodeNotification(new Reader(whole, HEADER_LENGTH));
}
