// RFC 5880 §4.1 Control packet: vectors both ways, every §6.8.6 packet check as a typed error, split /
// truncated input, and a property: decode returns a packet or throws BfdDecodeError, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BFD_DECODE_ERROR, BfdDecodeError, decodeControl, encodeControl, type BfdDecodeErrorCode, type ControlPacket } from '../../../../src/bgp/bfd/packet.ts';

const hex = (...chunks: string[]): Buffer => Buffer.from(chunks.join('').replace(/\s+/g, ''), 'hex');

const base: ControlPacket = {
  diag: 0,
  state: 'Down',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  detectMult: 3,
  myDiscriminator: 0x01020304,
  yourDiscriminator: 0,
  desiredMinTxUs: 1_000_000,
  requiredMinRxUs: 300_000,
  requiredMinEchoRxUs: 0,
};

interface Vector {
  readonly name: string;
  readonly value: ControlPacket;
  readonly bytes: Buffer;
}

const VECTORS: readonly Vector[] = [
  {
    name: 'Down, slow start rate (§6.8.3), Your Discriminator 0',
    value: base,
    bytes: hex(
      '20', // Vers 1, Diag 0
      '40', // Sta Down (1), no flags
      '03', // Detect Mult
      '18', // Length 24
      '01020304', // My Discriminator
      '00000000', // Your Discriminator
      '000f4240', // Desired Min TX 1,000,000 us
      '000493e0', // Required Min RX 300,000 us
      '00000000', // Required Min Echo RX
    ),
  },
  {
    name: 'Up with Poll, diag 1',
    value: { ...base, state: 'Up', poll: true, diag: 1, yourDiscriminator: 0xfffffffe, desiredMinTxUs: 300_000 },
    bytes: hex('21', 'e0', '03', '18', '01020304', 'fffffffe', '000493e0', '000493e0', '00000000'),
  },
  {
    name: 'Init with Final, C and D bits, echo interval',
    value: { ...base, state: 'Init', final: true, controlPlaneIndependent: true, demand: true, yourDiscriminator: 7, requiredMinEchoRxUs: 50_000 },
    bytes: hex('20', '9a', '03', '18', '01020304', '00000007', '000f4240', '000493e0', '0000c350'),
  },
  {
    name: 'AdminDown, diag 7 (Administratively Down)',
    value: { ...base, state: 'AdminDown', diag: 7, detectMult: 255 },
    bytes: hex('27', '00', 'ff', '18', '01020304', '00000000', '000f4240', '000493e0', '00000000'),
  },
];

for (const v of VECTORS) {
  test(`encode: ${v.name}`, () => assert.deepEqual(encodeControl(v.value), v.bytes));
  test(`decode: ${v.name}`, () => assert.deepEqual(decodeControl(v.bytes), v.value));
}

test('decode ignores bytes after Length (a UDP payload may be padded)', () => {
  const first = VECTORS[0];
  assert.ok(first !== undefined);
  assert.deepEqual(decodeControl(Buffer.concat([first.bytes, hex('0000')])), first.value);
});

const valid = (VECTORS[1] as Vector).bytes;
const patched = (offset: number, byte: number, from = valid): Buffer => {
  const b = Buffer.from(from);
  b[offset] = byte;
  return b;
};

const BAD: readonly { readonly name: string; readonly bytes: Buffer; readonly code: BfdDecodeErrorCode }[] = [
  { name: 'empty', bytes: Buffer.alloc(0), code: BFD_DECODE_ERROR.TRUNCATED },
  { name: 'version 0', bytes: patched(0, 0x01), code: BFD_DECODE_ERROR.BAD_VERSION },
  { name: 'version 2', bytes: patched(0, 0x41), code: BFD_DECODE_ERROR.BAD_VERSION },
  { name: 'Length 23', bytes: patched(3, 23), code: BFD_DECODE_ERROR.BAD_LENGTH },
  { name: 'Length beyond the payload', bytes: patched(3, 30), code: BFD_DECODE_ERROR.TRUNCATED },
  { name: 'Detect Mult 0', bytes: patched(2, 0), code: BFD_DECODE_ERROR.ZERO_DETECT_MULT },
  { name: 'M bit', bytes: patched(1, 0xc1), code: BFD_DECODE_ERROR.MULTIPOINT },
  { name: 'My Discriminator 0', bytes: hex('21', 'c0', '03', '18', '00000000', '00000001', '000493e0', '000493e0', '00000000'), code: BFD_DECODE_ERROR.ZERO_MY_DISCRIMINATOR },
  { name: 'Your Discriminator 0 in Up', bytes: hex('21', 'c0', '03', '18', '00000001', '00000000', '000493e0', '000493e0', '00000000'), code: BFD_DECODE_ERROR.ZERO_YOUR_DISCRIMINATOR },
  { name: 'Your Discriminator 0 in Init', bytes: hex('21', '80', '03', '18', '00000001', '00000000', '000493e0', '000493e0', '00000000'), code: BFD_DECODE_ERROR.ZERO_YOUR_DISCRIMINATOR },
  {
    name: 'A bit, Keyed SHA1 section (28 bytes): parsed, then rejected',
    bytes: Buffer.concat([hex('21', 'c4', '03', '34', '00000001', '00000002', '000493e0', '000493e0', '00000000'), hex('04', '1c', '01', '00', '00000001'), Buffer.alloc(20)]),
    code: BFD_DECODE_ERROR.AUTH_UNSUPPORTED,
  },
  {
    name: 'A bit, Simple Password with a wrong Auth Len',
    bytes: hex('21', 'c4', '03', '1c', '00000001', '00000002', '000493e0', '000493e0', '00000000', '01', '09', '01', '61'),
    code: BFD_DECODE_ERROR.AUTH_MALFORMED,
  },
  { name: 'A bit and Length 24 (no room for the section)', bytes: patched(1, 0xc4), code: BFD_DECODE_ERROR.BAD_LENGTH },
];

for (const b of BAD) {
  test(`decode rejects ${b.name} with ${b.code}`, () => {
    assert.throws(
      () => decodeControl(b.bytes),
      (e: unknown) => e instanceof BfdDecodeError && e.code === b.code,
    );
  });
}

test('every proper prefix of a packet is TRUNCATED, never another error or a value', () => {
  for (const v of VECTORS) {
    for (let n = 0; n < v.bytes.length; n++) {
      assert.throws(
        () => decodeControl(v.bytes.subarray(0, n)),
        (e: unknown) => e instanceof BfdDecodeError && e.code === BFD_DECODE_ERROR.TRUNCATED,
        `${v.name}: first ${n} bytes`,
      );
    }
  }
});

test('encode refuses Poll and Final together (§6.8.7) and out-of-range fields', () => {
  assert.throws(() => encodeControl({ ...base, poll: true, final: true }), RangeError);
  assert.throws(() => encodeControl({ ...base, diag: 32 }), RangeError);
  assert.throws(() => encodeControl({ ...base, detectMult: 0 }), RangeError);
});

test('property: decode returns a packet or throws BfdDecodeError; what it returns encodes back', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
      let p: ControlPacket;
      try {
        p = decodeControl(Buffer.from(bytes));
      } catch (e) {
        return e instanceof BfdDecodeError;
      }
      if (p.poll && p.final) return true; // accepted on receive, never sent
      assert.deepEqual(decodeControl(encodeControl(p)), p);
      return true;
    }),
    { numRuns: 3000 },
  );
});

test('property: any encodable packet survives encode -> decode', () => {
  const state = fc.constantFrom('Down', 'Init', 'Up', 'AdminDown' as const);
  fc.assert(
    fc.property(
      state,
      fc.integer({ min: 0, max: 31 }),
      fc.integer({ min: 1, max: 255 }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.integer({ min: 1, max: 0xffffffff }),
      fc.nat({ max: 0xffffffff }),
      fc.constantFrom<'poll' | 'final' | 'none'>('poll', 'final', 'none'),
      (st, diag, mult, mine, yours, tx, pf) => {
        const p: ControlPacket = { ...base, state: st, diag, detectMult: mult, myDiscriminator: mine, yourDiscriminator: yours, desiredMinTxUs: tx, poll: pf === 'poll', final: pf === 'final' };
        assert.deepEqual(decodeControl(encodeControl(p)), p);
      },
    ),
  );
});
