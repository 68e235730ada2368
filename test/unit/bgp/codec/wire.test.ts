// Reader/Writer/IP text: the building blocks.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { WireError } from '../../../../src/bgp/errors.ts';
import { formatPrefix, parsePrefix } from '../../../../src/bgp/nlri.ts';
import { formatIpv4, formatIpv6, ipv4ToBytes, ipv6ToBytes } from '../../../../src/bgp/wire/ip.ts';
import { Reader } from '../../../../src/bgp/wire/reader.ts';
import { Writer } from '../../../../src/bgp/wire/writer.ts';

test('fork/join fills 1- and 2-octet lengths of nested sections', () => {
  const w = new Writer(4); // grows
  w.u8(0xaa).fork(2).u8(1).fork(1).u16(0x0203).join().u8(4).join();
  assert.equal(w.finish().toString('hex'), 'aa' + '0005' + '01' + '02' + '0203' + '04');
});

test('forkMessage writes marker, whole-message length and type', () => {
  const w = new Writer();
  w.forkMessage(4).join();
  assert.equal(w.finish().toString('hex'), 'ff'.repeat(16) + '0013' + '04');
});

test('an attribute section switches to Extended Length past 255 octets', () => {
  const w = new Writer();
  w.forkAttribute(0xc0, 8).bytes(Buffer.alloc(256, 1)).join().u8(0xee);
  const b = w.finish();
  assert.equal(b.subarray(0, 4).toString('hex'), 'd0080100');
  assert.equal(b.length, 4 + 256 + 1);
  assert.equal(b[b.length - 1], 0xee);
  const short = new Writer();
  short.forkAttribute(0xc0, 8).bytes(Buffer.alloc(255, 1)).join();
  assert.equal(short.finish().subarray(0, 3).toString('hex'), 'c008ff');
});

test('a plain section longer than its length field is a RangeError; unbalanced join/finish throw', () => {
  assert.throws(() => new Writer().fork(1).bytes(Buffer.alloc(256)).join(), RangeError);
  assert.throws(() => new Writer().join());
  assert.throws(() => new Writer().fork(1).finish());
  assert.throws(() => new Writer().u8(256), RangeError);
  assert.throws(() => new Writer().u16(-1), RangeError);
});

test('reader bounds: reading past the window throws WireError, sub-readers are confined', () => {
  const r = new Reader(Buffer.from('0102030405', 'hex'), 1, 4);
  assert.equal(r.u8(), 2);
  const sub = r.sub(1);
  assert.equal(sub.u8(), 3);
  assert.throws(() => sub.u8(), WireError);
  assert.equal(r.u8(), 4);
  assert.ok(r.atEnd);
  assert.throws(() => r.u16(), (e: unknown) => e instanceof WireError && e.wanted === 2 && e.available === 0);
});

test('IPv6 text is canonical (RFC 5952)', () => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
    ['FE80::ABCD', 'fe80::abcd'],
    ['::', '::'],
    ['::ffff:192.0.2.1', '::ffff:c000:201'],
  ];
  for (const [input, want] of cases) assert.equal(formatIpv6(ipv6ToBytes(input)), want);
  for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', ':1', '1:', 'g::', '12345::', '']) assert.throws(() => ipv6ToBytes(bad), RangeError);
  for (const bad of ['1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', 'a.b.c.d', '']) assert.throws(() => ipv4ToBytes(bad), RangeError);
});

test('IP text round trips for arbitrary addresses', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      assert.deepEqual(new Uint8Array(ipv6ToBytes(formatIpv6(b))), b);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
      assert.deepEqual(new Uint8Array(ipv4ToBytes(formatIpv4(b))), b);
    }),
  );
});

test('parsePrefix clears host bits and formats back', () => {
  assert.deepEqual(parsePrefix('192.0.2.77/24'), { family: 'ipv4', address: '192.0.2.0', length: 24 });
  assert.deepEqual(parsePrefix('2001:db8::1'), { family: 'ipv6', address: '2001:db8::1', length: 128 });
  assert.equal(formatPrefix(parsePrefix('2001:DB8:1:2::/33')), '2001:db8::/33');
  for (const bad of ['192.0.2.0/33', '2001:db8::/129', '192.0.2.0/x', '192.0.2/24', '192.0.2.0/']) assert.throws(() => parsePrefix(bad), RangeError);
});
