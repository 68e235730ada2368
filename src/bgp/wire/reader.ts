// Bounds-checking reader over a window of a Buffer. Every read past the window's end throws a
// WireError; decoders turn that into the NOTIFICATION the RFC asks for at their level.

import { WireError } from '../errors.ts';

export class Reader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  constructor(buf: Buffer, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get atEnd(): boolean {
    return this.pos >= this.end;
  }

  private need(n: number, what?: string): void {
    if (n > this.end - this.pos) {
      throw new WireError({
        offset: this.pos,
        wanted: n,
        available: this.end - this.pos,
        ...(what === undefined ? {} : { what }),
      });
    }
  }

  u8(what?: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what?: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(what?: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  u64(what?: string): bigint {
    this.need(8, what);
    const v = this.buf.readBigUInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  /** The next `n` octets, shared with the underlying buffer (subarray, no copy). */
  bytes(n: number, what?: string): Buffer {
    this.need(n, what);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** A reader over the next `n` octets; this reader moves past them. */
  sub(n: number, what?: string): Reader {
    this.need(n, what);
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }

  /** Octets [from, to) of the underlying buffer, e.g. a whole TLV for a NOTIFICATION data field. */
  window(from: number, to: number): Buffer {
    return this.buf.subarray(from, to);
  }

  /** Everything left in the window. */
  rest(): Buffer {
    return this.bytes(this.remaining);
  }
}
