import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalIp,
  ipv4FromBytes,
  ipv4ToBytes,
  ipv6FromBytes,
  ipv6MulticastMac,
  ipv6ToBytes,
  isMulticastMac,
  macFromBytes,
  macToBytes,
  parseMac,
  prefixContains,
  solicitedNodeMulticast,
} from '../../../src/l2/addresses.ts';
import { L2CodecError } from '../../../src/l2/errors.ts';
import { hex } from './vectors.ts';

test('MAC text <-> bytes', () => {
  assert.equal(parseMac('02-00-00-AB-cd-0F'), '02:00:00:ab:cd:0f');
  assert.deepEqual(macToBytes('02:00:00:ab:cd:0f'), hex('020000abcd0f'));
  assert.equal(macFromBytes(hex('ffffffffffff')), 'ff:ff:ff:ff:ff:ff');
  assert.throws(() => parseMac('02:00:00:00:00'), L2CodecError);
  assert.throws(() => parseMac('02:00:00:00:00:0g'), L2CodecError);
  assert.equal(isMulticastMac('33:33:00:00:00:01'), true);
  assert.equal(isMulticastMac('02:00:00:00:00:01'), false);
});

test('IPv4 text <-> bytes', () => {
  assert.deepEqual(ipv4ToBytes('192.0.2.10'), hex('c000020a'));
  assert.equal(ipv4FromBytes(hex('cb007101')), '203.0.113.1');
  assert.throws(() => ipv4ToBytes('192.0.2.256'), L2CodecError);
  assert.throws(() => ipv4ToBytes('2001:db8::1'), L2CodecError);
});

// The parser and RFC 5952 formatter are src/net/ip.ts (tested in test/unit/net/ip.test.ts); these check
// the l2 face: Buffers of the exact size, canonical text, and L2CodecError.
const V6: readonly { text: string; canonical: string; bytes: string }[] = [
  { text: '2001:DB8:0:0:0:0:0:B', canonical: '2001:db8::b', bytes: '20010db8 00000000 00000000 0000000b' },
  { text: 'ff02::1:ff00:b', canonical: 'ff02::1:ff00:b', bytes: 'ff020000 00000000 00000001 ff00000b' },
  { text: '::ffff:192.0.2.1', canonical: '::ffff:c000:201', bytes: '00000000 00000000 0000ffff c0000201' },
];

test('IPv6 text <-> bytes both ways (RFC 5952 output)', () => {
  for (const v of V6) {
    assert.deepEqual(ipv6ToBytes(v.text), hex(v.bytes), v.text);
    assert.equal(ipv6FromBytes(hex(v.bytes)), v.canonical, v.text);
    assert.equal(canonicalIp(v.text), v.canonical);
  }
  assert.equal(canonicalIp('192.0.2.1'), '192.0.2.1');
  assert.throws(() => ipv6ToBytes('2001:db8::g'), L2CodecError);
  assert.throws(() => ipv6ToBytes('fe80::1%eth0'), L2CodecError);
  assert.throws(() => canonicalIp('192.0.2.01'), L2CodecError);
  assert.throws(() => ipv6FromBytes(hex('20010db8')), L2CodecError);
  assert.throws(() => ipv4FromBytes(hex('20010db8 00')), L2CodecError);
});

test('solicited-node group and its MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
  assert.equal(solicitedNodeMulticast('2001:db8::b'), 'ff02::1:ff00:b');
  assert.equal(solicitedNodeMulticast('2001:db8::12:3456:789a'), 'ff02::1:ff56:789a');
  assert.equal(ipv6MulticastMac('ff02::1:ff56:789a'), '33:33:ff:56:78:9a');
  assert.equal(ipv6MulticastMac('ff02::1'), '33:33:00:00:00:01');
});

test('prefixContains', () => {
  assert.equal(prefixContains('192.0.2.0', 24, '192.0.2.200'), true);
  assert.equal(prefixContains('192.0.2.0', 25, '192.0.2.200'), false);
  assert.equal(prefixContains('2001:db8::', 32, '2001:db8:ffff::1'), true);
  assert.equal(prefixContains('2001:db8::', 33, '2001:db8:ffff::1'), false);
  assert.equal(prefixContains('0.0.0.0', 0, '203.0.113.9'), true);
  assert.equal(prefixContains('192.0.2.0', 24, '2001:db8::1'), false);
});
