// Framer: whole messages out of a byte stream; "need more" vs malformed header (RFC 4271 §6.1).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, createFramer, decodeMessage, encodeMessage, INITIAL_CONTEXT, pushAll } from '../../../../src/bgp/codec.ts';
import type { Message } from '../../../../src/bgp/messages/types.ts';
import { bytes, CTX4, CTX4X, fixtures, MARKER } from './helpers.ts';

const STREAM_MESSAGES: readonly Message[] = [
  { type: 'KEEPALIVE' },
  { type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 0 },
  {
    type: 'UPDATE',
    withdrawn: [],
    attributes: [
      { kind: 'ORIGIN', origin: 0 },
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [65001] }] },
      { kind: 'NEXT_HOP', nextHop: '192.0.2.1' },
    ],
    nlri: [{ family: 'ipv4', address: '203.0.113.0', length: 24 }],
  },
  { type: 'NOTIFICATION', code: 6, subcode: 2, data: bytes('02', '6f6b'), shutdownMessage: 'ok' },
];

function frames(framer: ReturnType<typeof createFramer>): Buffer[] {
  const out: Buffer[] = [];
  for (let f = framer.next(CTX4); f !== undefined; f = framer.next(CTX4)) out.push(f);
  return out;
}

test('a stream split at every byte offset gives the same messages', () => {
  const encoded = STREAM_MESSAGES.map((m) => encodeMessage(m, CTX4));
  const stream = Buffer.concat(encoded);
  for (let cut = 0; cut <= stream.length; cut++) {
    const framer = createFramer();
    framer.push(stream.subarray(0, cut));
    const got = frames(framer);
    framer.push(stream.subarray(cut));
    got.push(...frames(framer));
    assert.deepEqual(got, encoded, `cut at ${cut}`);
    assert.equal(framer.buffered, 0);
  }
});

test('a stream fed one byte at a time gives the same messages', () => {
  const encoded = STREAM_MESSAGES.map((m) => encodeMessage(m, CTX4));
  const stream = Buffer.concat(encoded);
  const framer = createFramer();
  const got: Buffer[] = [];
  for (let i = 0; i < stream.length; i++) {
    framer.push(stream.subarray(i, i + 1));
    got.push(...frames(framer));
  }
  assert.deepEqual(got, encoded);
  assert.deepEqual(
    got.map((f) => decodeMessage(f, CTX4).message.type),
    STREAM_MESSAGES.map((m) => m.type),
  );
});

test('the FRR capture, concatenated and split at every offset, frames to the captured messages', () => {
  const msgs = fixtures('frr').slice(0, 30).map((f) => f.bytes);
  const stream = Buffer.concat(msgs);
  for (let cut = 0; cut <= stream.length; cut += 7) {
    const framer = createFramer();
    const a = pushAll(framer, stream.subarray(0, cut), CTX4X);
    const b = pushAll(framer, stream.subarray(cut), CTX4X);
    assert.equal(a.error, undefined);
    assert.equal(b.error, undefined);
    assert.deepEqual([...a.frames, ...b.frames], msgs);
  }
});

test('incomplete header or body is "need more bytes", not an error', () => {
  const framer = createFramer();
  framer.push(bytes(MARKER, '00'));
  assert.equal(framer.next(CTX4), undefined);
  framer.push(bytes('17', '05', '0001')); // ROUTE-REFRESH header complete, body short
  assert.equal(framer.next(CTX4), undefined);
  assert.equal(framer.buffered, 21);
  framer.push(bytes('00', '01'));
  assert.equal(framer.next(CTX4)?.length, 23);
});

interface HeaderRow {
  readonly name: string;
  readonly bytes: Buffer;
  readonly subcode: number;
  readonly data: string;
}

const HEADER_ERRORS: readonly HeaderRow[] = [
  { name: 'marker not all ones', bytes: bytes('ff'.repeat(15), 'fe', '0013', '04'), subcode: 1, data: '' },
  { name: 'length 18', bytes: bytes(MARKER, '0012', '04'), subcode: 2, data: '0012' },
  { name: 'length 4097 without extended message', bytes: bytes(MARKER, '1001', '02'), subcode: 2, data: '1001' },
  { name: 'unknown type 9', bytes: bytes(MARKER, '0013', '09'), subcode: 3, data: '09' },
  { name: 'KEEPALIVE of 20 octets', bytes: bytes(MARKER, '0014', '04', '00'), subcode: 2, data: '0014' },
  { name: 'OPEN shorter than 29', bytes: bytes(MARKER, '001c', '01'), subcode: 2, data: '001c' },
  { name: 'UPDATE shorter than 23', bytes: bytes(MARKER, '0016', '02'), subcode: 2, data: '0016' },
  { name: 'NOTIFICATION shorter than 21', bytes: bytes(MARKER, '0014', '03'), subcode: 2, data: '0014' },
];

for (const row of HEADER_ERRORS) {
  test(`header error: ${row.name} -> 1/${row.subcode}`, () => {
    const framer = createFramer();
    framer.push(row.bytes);
    assert.throws(
      () => framer.next(CTX4),
      (e: unknown) => e instanceof BgpError && e.code === 1 && e.subcode === row.subcode && e.data.toString('hex') === row.data,
    );
    // decodeMessage applies the same checks to a lone message.
    assert.throws(() => decodeMessage(row.bytes, CTX4), (e: unknown) => e instanceof BgpError && e.code === 1 && e.subcode === row.subcode);
  });
}

test('extended message: 4097 octets pass once negotiated, OPEN never does', () => {
  const framer = createFramer();
  framer.push(bytes(MARKER, '1001', '02'));
  assert.equal(framer.next(CTX4X), undefined); // header fine, waiting for the body
  const open = createFramer();
  open.push(bytes(MARKER, '1001', '01'));
  assert.throws(() => open.next(CTX4X), (e: unknown) => e instanceof BgpError && e.subcode === 2);
});

test('pushAll returns the frames before a malformed header together with the error', () => {
  const ka = encodeMessage({ type: 'KEEPALIVE' }, INITIAL_CONTEXT);
  const res = pushAll(createFramer(), Buffer.concat([ka, ka, bytes(MARKER, '0013', '09')]), CTX4);
  assert.equal(res.frames.length, 2);
  assert.ok(res.error instanceof BgpError);
  assert.equal(res.error.subcode, 3);
});

// How fast (linear copying) is measured by bench/bgp/codec.ts, not asserted here.
test('a 65535-octet message fed one octet at a time is framed once, byte for byte', () => {
  const msg = Buffer.alloc(65535);
  msg.fill(0xff, 0, 16);
  msg.writeUInt16BE(65535, 16);
  msg[18] = 2;
  const framer = createFramer();
  const got: Buffer[] = [];
  for (let i = 0; i < msg.length; i++) {
    framer.push(msg.subarray(i, i + 1));
    const f = framer.next(CTX4X);
    if (f !== undefined) got.push(f);
  }
  assert.equal(got.length, 1);
  assert.deepEqual(got[0], msg);
});
