// RFC 4271 §4.4: KEEPALIVE is the header alone.

import { MESSAGE_TYPE } from '../constants.ts';
import type { Writer } from '../wire/writer.ts';
import type { Keepalive } from './types.ts';

export const KEEPALIVE: Keepalive = { type: 'KEEPALIVE' };

export function encodeKeepalive(w: Writer): void {
  w.forkMessage(MESSAGE_TYPE.KEEPALIVE).join();
}

export function decodeKeepalive(): Keepalive {
  return KEEPALIVE; // length 19 is checked with the header (RFC 4271 §6.1)
}
