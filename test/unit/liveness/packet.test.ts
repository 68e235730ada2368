// The liveness heartbeat codec: bytes built from commented chunks checked both ways, authentication
// (a wrong key, any flipped bit), typed problems for short or foreign datagrams, and the key rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { decodeHeartbeat, encodeHeartbeat, HeartbeatError, MIN_KEY_BYTES, parseKey, type Heartbeat } from '../../../src/liveness/packet.ts';

const KEY = Buffer.from('0123456789abcdef0123456789abcdef');
const HB: Heartbeat = { node: 'node1', leaving: false, boot: '00112233445566ff', seq: 7, sentAt: 1_700_000_000_123, macs: ['02:b1:00:00:01:0b'] };

const body = Buffer.concat([
  Buffer.from([0x42, 0x4c, 0x56, 0x01]), // magic "BLV" version 1
  Buffer.from([0x00]), // flags: not leaving
  Buffer.from([5]), // name length
  Buffer.from('node1'), // name
  Buffer.from('00112233445566ff', 'hex'), // boot id
  Buffer.from([0, 0, 0, 7]), // sequence
  Buffer.from('0000018bcfe5687b', 'hex'), // sentAt 1700000000123 ms
  Buffer.from([1]), // one MAC
  Buffer.from('02b10000010b', 'hex'),
]);
const WIRE = Buffer.concat([body, createHmac('sha256', KEY).update(body).digest()]);

test('a heartbeat encodes to the documented bytes and decodes back', () => {
  assert.deepEqual(encodeHeartbeat(HB, KEY), WIRE);
  assert.deepEqual(decodeHeartbeat(WIRE, KEY), { ok: true, heartbeat: HB });
});

test('the leaving flag travels', () => {
  const r = decodeHeartbeat(encodeHeartbeat({ ...HB, leaving: true }, KEY), KEY);
  assert.ok(r.ok && r.heartbeat.leaving);
});

test('a wrong key, and any single flipped bit, fail authentication', () => {
  assert.deepEqual(decodeHeartbeat(WIRE, Buffer.from('another-key-of-32-octets-exactly')), { ok: false, problem: 'badAuth' });
  for (let i = 4; i < WIRE.length; i++) {
    for (let bit = 0; bit < 8; bit++) {
      const b = Buffer.from(WIRE);
      b[i] = (b[i] ?? 0) ^ (1 << bit);
      assert.deepEqual(decodeHeartbeat(b, KEY), { ok: false, problem: 'badAuth' }, `octet ${i} bit ${bit}`);
    }
  }
});

test('short and foreign datagrams get a typed problem', () => {
  assert.deepEqual(decodeHeartbeat(Buffer.alloc(10), KEY), { ok: false, problem: 'short' });
  const foreign = Buffer.from(WIRE);
  foreign[0] = 0x00;
  assert.deepEqual(decodeHeartbeat(foreign, KEY), { ok: false, problem: 'badMagic' });
});

test('an authenticated datagram with inconsistent lengths is refused, not misread', () => {
  const bad = Buffer.from(body);
  bad[5] = 200; // name length beyond the datagram
  const wire = Buffer.concat([bad, createHmac('sha256', KEY).update(bad).digest()]);
  assert.deepEqual(decodeHeartbeat(wire, KEY), { ok: false, problem: 'badLength' });
});

test('bad values are refused on encode', () => {
  assert.throws(() => encodeHeartbeat({ ...HB, node: '' }, KEY), HeartbeatError);
  assert.throws(() => encodeHeartbeat({ ...HB, boot: 'xyz' }, KEY), HeartbeatError);
  assert.throws(() => encodeHeartbeat({ ...HB, seq: -1 }, KEY), HeartbeatError);
  assert.throws(() => encodeHeartbeat({ ...HB, macs: ['02:b1'] }, KEY), HeartbeatError);
});

test('the key: surrounding whitespace is not part of it; too short is a clear error', () => {
  assert.deepEqual(parseKey('  0123456789abcdef\n'), Buffer.from('0123456789abcdef'));
  assert.throws(() => parseKey('short\n'), new RegExp(`at least ${MIN_KEY_BYTES} octets, got 5`));
});

test('property: decode returns a heartbeat or a typed problem, and round-trips what encode made', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => {
      const r = decodeHeartbeat(Buffer.from(bytes), KEY);
      assert.ok(r.ok || ['short', 'badMagic', 'badLength', 'badAuth'].includes(r.problem));
    }),
  );
  const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((a) => a.map((x) => x.toString(16).padStart(2, '0')).join(':'));
  fc.assert(
    fc.property(
      fc.record({
        node: fc.stringMatching(/^[a-z0-9.-]{1,60}$/),
        leaving: fc.boolean(),
        boot: fc.stringMatching(/^[0-9a-f]{16}$/),
        seq: fc.integer({ min: 0, max: 0xffffffff }),
        sentAt: fc.integer({ min: 0, max: 2 ** 50 }),
        macs: fc.array(mac, { maxLength: 16 }),
      }),
      (h) => assert.deepEqual(decodeHeartbeat(encodeHeartbeat(h, KEY), KEY), { ok: true, heartbeat: { ...h } }),
    ),
  );
});
