// The liveness heartbeat: one small UDP datagram a speaker sends to each speaker it watches or is
// watched by (docs/liveness.md). Pure: encode/decode over Buffer, HMAC-SHA256 with the shared key.
//
// Layout (network byte order; the HMAC covers every octet before it):
//   0   4  magic "BLV" + version 1
//   4   1  flags: bit 0 = leaving (the sender is stopping: take over now, docs/liveness.md "Leaving")
//   5   1  node name length n (1..253, a Kubernetes node name is a DNS subdomain)
//   6   n  node name, UTF-8
//   .   8  boot id: random per process start (a restart is a new incarnation, not a replay)
//   .   4  sequence number, +1 per datagram of this boot
//   .   8  sender's wall clock, ms since the epoch (bounds how old a replayed datagram may be)
//   .   1  MAC count m (0..16)
//   .  6m  the MACs the sender answers ARP/NDP from (who a foreign ARP reply came from, claims.ts)
//   .  32  HMAC-SHA256(key, everything above) (RFC 2104; compared in constant time)
import { createHmac, timingSafeEqual } from 'node:crypto';

export const LIVENESS_MAGIC = 0x424c5601; // "BLV" version 1
export const HMAC_BYTES = 32;
export const MAX_NAME_BYTES = 253;
export const MAX_MACS = 16;
/** Shortest shared key accepted: 16 octets (RFC 2104 §3: keys shorter than the hash output weaken it). */
export const MIN_KEY_BYTES = 16;

export const HeartbeatFlag = { leaving: 0x01 } as const;

export interface Heartbeat {
  readonly node: string;
  readonly leaving: boolean;
  /** 16 hex digits. */
  readonly boot: string;
  readonly seq: number;
  /** Sender's wall clock, ms. */
  readonly sentAt: number;
  /** "aa:bb:cc:dd:ee:ff", lower case. */
  readonly macs: readonly string[];
}

export const DecodeProblem = {
  short: 'short',
  badMagic: 'badMagic',
  badLength: 'badLength',
  badAuth: 'badAuth',
} as const;
export type DecodeProblem = (typeof DecodeProblem)[keyof typeof DecodeProblem];

export type DecodeResult = { readonly ok: true; readonly heartbeat: Heartbeat } | { readonly ok: false; readonly problem: DecodeProblem };

export class HeartbeatError extends Error {}

function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new HeartbeatError(`not a MAC address: "${mac}"`);
  return Buffer.from(parts.join(''), 'hex');
}

function macText(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

export function encodeHeartbeat(h: Heartbeat, key: Buffer): Buffer {
  const name = Buffer.from(h.node, 'utf8');
  if (name.length === 0 || name.length > MAX_NAME_BYTES) throw new HeartbeatError(`node name must be 1..${MAX_NAME_BYTES} octets, got ${name.length}`);
  if (!/^[0-9a-f]{16}$/.test(h.boot)) throw new HeartbeatError(`boot id must be 16 hex digits, got "${h.boot}"`);
  if (!Number.isInteger(h.seq) || h.seq < 0 || h.seq > 0xffffffff) throw new HeartbeatError(`sequence number out of range: ${h.seq}`);
  if (h.macs.length > MAX_MACS) throw new HeartbeatError(`at most ${MAX_MACS} MACs, got ${h.macs.length}`);
  const body = Buffer.alloc(4 + 1 + 1 + name.length + 8 + 4 + 8 + 1 + 6 * h.macs.length);
  let o = body.writeUInt32BE(LIVENESS_MAGIC, 0);
  o = body.writeUInt8(h.leaving ? HeartbeatFlag.leaving : 0, o);
  o = body.writeUInt8(name.length, o);
  o += name.copy(body, o);
  o += Buffer.from(h.boot, 'hex').copy(body, o);
  o = body.writeUInt32BE(h.seq, o);
  o = body.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(h.sentAt))), o);
  o = body.writeUInt8(h.macs.length, o);
  for (const m of h.macs) o += macBytes(m).copy(body, o);
  return Buffer.concat([body, hmac(key, body)]);
}

function hmac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

/** Authenticates first (nothing of an unauthenticated datagram is read), then decodes. */
export function decodeHeartbeat(buf: Buffer, key: Buffer): DecodeResult {
  const fixed = 4 + 1 + 1 + 8 + 4 + 8 + 1;
  if (buf.length < fixed + 1 + HMAC_BYTES) return { ok: false, problem: DecodeProblem.short };
  if (buf.readUInt32BE(0) !== LIVENESS_MAGIC) return { ok: false, problem: DecodeProblem.badMagic };
  const body = buf.subarray(0, buf.length - HMAC_BYTES);
  const mac = buf.subarray(buf.length - HMAC_BYTES);
  if (!timingSafeEqual(hmac(key, body), mac)) return { ok: false, problem: DecodeProblem.badAuth };
  const flags = body.readUInt8(4);
  const n = body.readUInt8(5);
  if (n === 0 || 6 + n + 8 + 4 + 8 + 1 > body.length) return { ok: false, problem: DecodeProblem.badLength };
  let o = 6;
  const node = body.subarray(o, o + n).toString('utf8');
  o += n;
  const boot = body.subarray(o, o + 8).toString('hex');
  o += 8;
  const seq = body.readUInt32BE(o);
  o += 4;
  const sentAt = Number(body.readBigUInt64BE(o));
  o += 8;
  const count = body.readUInt8(o);
  o += 1;
  if (count > MAX_MACS || o + 6 * count !== body.length) return { ok: false, problem: DecodeProblem.badLength };
  const macs: string[] = [];
  for (let i = 0; i < count; i++, o += 6) macs.push(macText(body.subarray(o, o + 6)));
  return { ok: true, heartbeat: { node, leaving: (flags & HeartbeatFlag.leaving) !== 0, boot, seq, sentAt, macs } };
}

/** The shared key from a Secret value or a file's content: surrounding whitespace (a trailing newline) is not part of it. */
export function parseKey(content: Buffer | string): Buffer {
  const key = Buffer.from(typeof content === 'string' ? content.trim() : content.toString('utf8').trim(), 'utf8');
  if (key.length < MIN_KEY_BYTES) throw new HeartbeatError(`the liveness secret must be at least ${MIN_KEY_BYTES} octets, got ${key.length}`);
  return key;
}
