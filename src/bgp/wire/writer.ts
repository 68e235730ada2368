// Growable writer whose length prefixes are filled in when a section closes (protobuf-es style
// fork()/join()): a section is opened with the width of its length field, written, then joined;
// join() writes the measured length. Nothing is patched at hand-computed offsets.
//
// Three kinds of section:
// - `fork(1 | 2)`: a 1- or 2-octet length counting the octets after it (most BGP length fields);
// - `forkMessage(type)`: the BGP header, whose length counts the whole message (RFC 4271 §4.1);
// - `forkAttribute(flags, type)`: a path attribute whose length is 1 octet, or 2 with the Extended
//   Length flag when the value exceeds 255 octets or the flag was asked for (RFC 4271 §4.3).

import { ATTR_FLAG, HEADER_LENGTH, MARKER_LENGTH } from '../constants.ts';

interface Section {
  readonly kind: 'plain' | 'message' | 'attribute';
  /** Where the length field is. */
  readonly lengthAt: number;
  readonly width: 1 | 2;
  /** Where counted octets start. */
  readonly countFrom: number;
  /** For attributes: where the flags octet is. */
  readonly flagsAt: number;
}

const INITIAL_SIZE = 4096;

export class Writer {
  private buf: Buffer;
  private pos = 0;
  private readonly stack: Section[] = [];

  constructor(initialSize = INITIAL_SIZE) {
    this.buf = Buffer.allocUnsafe(initialSize);
  }

  /** Octets written so far. */
  get length(): number {
    return this.pos;
  }

  /** How many sections are open. */
  get depth(): number {
    return this.stack.length;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  u8(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`u8 out of range: ${v}`);
    this.ensure(1);
    this.buf[this.pos++] = v;
    return this;
  }

  u16(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`u16 out of range: ${v}`);
    this.ensure(2);
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
    return this;
  }

  u32(v: number): this {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`u32 out of range: ${v}`);
    this.ensure(4);
    this.buf.writeUInt32BE(v, this.pos);
    this.pos += 4;
    return this;
  }

  u64(v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`u64 out of range: ${v}`);
    this.ensure(8);
    this.buf.writeBigUInt64BE(v, this.pos);
    this.pos += 8;
    return this;
  }

  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  /** One NLRI prefix: its length in bits, then the first `octets` octets of `addr` (RFC 4271 §4.3). */
  prefix(bits: number, addr: Uint8Array, octets: number): this {
    this.ensure(1 + octets);
    const buf = this.buf;
    let at = this.pos;
    buf[at++] = bits;
    for (let i = 0; i < octets; i++) buf[at++] = addr[i] as number;
    this.pos = at;
    return this;
  }

  /** The octets of a one-byte string (an NlriKey: a prefix already in its NLRI encoding). */
  latin1(s: string): this {
    this.ensure(s.length);
    const buf = this.buf;
    let at = this.pos;
    // A loop beats Buffer#write for a 5-17 octet string (no call into C++ per prefix).
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i) & 0xff;
    this.pos = at;
    return this;
  }

  /** Open a section preceded by a `width`-octet length of what follows. */
  fork(width: 1 | 2): this {
    this.ensure(width);
    this.stack.push({ kind: 'plain', lengthAt: this.pos, width, countFrom: this.pos + width, flagsAt: -1 });
    this.pos += width;
    return this;
  }

  /** Open a BGP message: marker, length (counting the whole message) and type (RFC 4271 §4.1). */
  forkMessage(type: number): this {
    const start = this.pos;
    this.ensure(HEADER_LENGTH);
    this.buf.fill(0xff, this.pos, this.pos + MARKER_LENGTH);
    this.pos += MARKER_LENGTH;
    this.stack.push({ kind: 'message', lengthAt: this.pos, width: 2, countFrom: start, flagsAt: -1 });
    this.pos += 2;
    return this.u8(type);
  }

  /** Open a path attribute: flags, type code, then a 1- or 2-octet length chosen at join(). */
  forkAttribute(flags: number, typeCode: number): this {
    const flagsAt = this.pos;
    this.u8(flags & 0xff).u8(typeCode);
    const extended = (flags & ATTR_FLAG.EXTENDED_LENGTH) !== 0;
    const width = extended ? 2 : 1;
    this.ensure(width);
    this.stack.push({ kind: 'attribute', lengthAt: this.pos, width, countFrom: this.pos + width, flagsAt });
    this.pos += width;
    return this;
  }

  /** Close the innermost section and write its length. */
  join(): this {
    const s = this.stack.pop();
    if (s === undefined) throw new Error('Writer.join() without fork()');
    const len = this.pos - s.countFrom;
    if (s.kind === 'attribute' && s.width === 1 && len > 0xff) {
      // RFC 4271 §4.3: a value over 255 octets needs the Extended Length flag and a 2-octet length.
      this.ensure(1);
      this.buf.copyWithin(s.countFrom + 1, s.countFrom, this.pos);
      this.pos += 1;
      this.buf[s.flagsAt] = (this.buf[s.flagsAt] as number) | ATTR_FLAG.EXTENDED_LENGTH;
      this.buf.writeUInt16BE(len, s.lengthAt);
      return this;
    }
    const max = s.width === 1 ? 0xff : 0xffff;
    if (len > max) throw new RangeError(`section of ${len} octets does not fit a ${s.width}-octet length`);
    if (s.width === 1) this.buf[s.lengthAt] = len;
    else this.buf.writeUInt16BE(len, s.lengthAt);
    return this;
  }

  /** A copy of the bytes written; the writer can be reused after `reset()`. */
  finish(): Buffer {
    if (this.stack.length !== 0) throw new Error(`Writer.finish() with ${this.stack.length} open section(s)`);
    return Buffer.from(this.buf.subarray(0, this.pos));
  }

  reset(): this {
    this.pos = 0;
    this.stack.length = 0;
    return this;
  }
}
