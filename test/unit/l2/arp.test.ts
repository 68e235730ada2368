import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeArp, encodeArp, type ArpPacket } from '../../../src/l2/arp.ts';
import { decodeEthernet } from '../../../src/l2/ethernet.ts';
import { L2CodecError, L2ErrorCode } from '../../../src/l2/errors.ts';
import { ArpOperation } from '../../../src/l2/constants.ts';
import { hex, KERNEL_ARP_REPLY, KERNEL_ARP_REQUEST } from './vectors.ts';

const CASES: readonly { name: string; value: ArpPacket; bytes: Buffer }[] = [
  {
    name: 'request who-has 192.0.2.11 tell 192.0.2.10',
    value: {
      operation: ArpOperation.request,
      senderHardware: '02:00:00:00:00:0a',
      senderProtocol: '192.0.2.10',
      targetHardware: '00:00:00:00:00:00',
      targetProtocol: '192.0.2.11',
    },
    bytes: hex(
      '0001', // ar$hrd Ethernet
      '0800', // ar$pro IPv4
      '06 04', // ar$hln, ar$pln
      '0001', // ar$op request
      '02000000000a c000020a', // ar$sha, ar$spa
      '000000000000 c000020b', // ar$tha, ar$tpa
    ),
  },
  {
    name: 'reply 192.0.2.11 is-at 02:..:0b',
    value: {
      operation: ArpOperation.reply,
      senderHardware: '02:00:00:00:00:0b',
      senderProtocol: '192.0.2.11',
      targetHardware: '02:00:00:00:00:0a',
      targetProtocol: '192.0.2.10',
    },
    bytes: hex('0001', '0800', '06 04', '0002', '02000000000b c000020b', '02000000000a c000020a'),
  },
];

test('ARP vectors both ways', () => {
  for (const c of CASES) {
    assert.deepEqual(encodeArp(c.value), c.bytes, c.name);
    assert.deepEqual(decodeArp(c.bytes), c.value, c.name);
  }
});

test('captured kernel ARP frames decode to the expected packets (padding ignored)', () => {
  assert.deepEqual(decodeArp(decodeEthernet(KERNEL_ARP_REQUEST).payload), CASES[0]?.value);
  assert.deepEqual(decodeArp(decodeEthernet(KERNEL_ARP_REPLY).payload), CASES[1]?.value);
});

test('ARP decode errors carry their code', () => {
  const base = CASES[0]?.bytes ?? Buffer.alloc(0);
  const patch = (off: number, bytes: string): Buffer => {
    const b = Buffer.from(base);
    hex(bytes).copy(b, off);
    return b;
  };
  const cases: readonly [Buffer, string][] = [
    [base.subarray(0, 7), L2ErrorCode.truncated],
    [base.subarray(0, 27), L2ErrorCode.truncated],
    [patch(0, '0006'), L2ErrorCode.unsupportedHardware], // IEEE 802 networks
    [patch(2, '86dd'), L2ErrorCode.unsupportedProtocol],
    [patch(4, '08'), L2ErrorCode.badAddressLength],
    [patch(5, '10'), L2ErrorCode.badAddressLength],
    [patch(6, '0003'), L2ErrorCode.unsupportedOperation], // RARP request
  ];
  for (const [bytes, code] of cases) {
    assert.throws(() => decodeArp(bytes), (e: unknown) => e instanceof L2CodecError && e.code === code, code);
  }
});

test('ARP constructor rejects bad values', () => {
  const ok = CASES[0]?.value;
  assert.ok(ok);
  assert.throws(() => encodeArp({ ...ok, senderProtocol: '2001:db8::1' }), L2CodecError);
  assert.throws(() => encodeArp({ ...ok, senderHardware: 'nope' }), L2CodecError);
  assert.throws(() => encodeArp({ ...ok, operation: 3 as never }), L2CodecError);
});
