import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { formatIpv4, formatIpv6, ipFamilyOf, isIpv6LinkLocal, parseIpv4Into, parseIpv6Into } from '../../../src/net/ip.ts';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replaceAll(' ', ''), 'hex'));

// { text, canonical text, octets }: parsed text -> octets, octets -> canonical text.
const V6: readonly { readonly text: string; readonly canonical: string; readonly bytes: string }[] = [
  { text: '::', canonical: '::', bytes: '0000 0000 0000 0000 0000 0000 0000 0000' },
  { text: '::1', canonical: '::1', bytes: '0000 0000 0000 0000 0000 0000 0000 0001' },
  { text: '1::', canonical: '1::', bytes: '0001 0000 0000 0000 0000 0000 0000 0000' },
  // RFC 5952 §4.1 leading zeros dropped, §4.3 lower case
  { text: '2001:0DB8:0000:0000:0000:0000:0000:0001', canonical: '2001:db8::1', bytes: '2001 0db8 0000 0000 0000 0000 0000 0001' },
  // §4.2.2: a single zero group is not compressed
  { text: '2001:db8:0:1:1:1:1:1', canonical: '2001:db8:0:1:1:1:1:1', bytes: '2001 0db8 0000 0001 0001 0001 0001 0001' },
  // §4.2.3: the longest run is compressed...
  { text: '2001:0:0:1:0:0:0:1', canonical: '2001:0:0:1::1', bytes: '2001 0000 0000 0001 0000 0000 0000 0001' },
  // ...and on a tie, the first
  { text: '2001:db8:0:0:1:0:0:1', canonical: '2001:db8::1:0:0:1', bytes: '2001 0db8 0000 0000 0001 0000 0000 0001' },
  // RFC 4291 §2.2 form 3: a trailing dotted quad (written back in hex)
  { text: '::ffff:192.0.2.1', canonical: '::ffff:c000:201', bytes: '0000 0000 0000 0000 0000 ffff c000 0201' },
  { text: '1:2:3:4:5:6:198.51.100.7', canonical: '1:2:3:4:5:6:c633:6407', bytes: '0001 0002 0003 0004 0005 0006 c633 6407' },
  { text: 'fe80::1', canonical: 'fe80::1', bytes: 'fe80 0000 0000 0000 0000 0000 0000 0001' },
];

test('IPv6 text <-> octets both ways (RFC 5952 output)', () => {
  for (const c of V6) {
    const out = new Uint8Array(16);
    assert.equal(parseIpv6Into(c.text, out), true, c.text);
    assert.deepEqual(out, hex(c.bytes), c.text);
    assert.equal(formatIpv6(hex(c.bytes)), c.canonical, c.text);
  }
  for (const bad of ['', ':', ':1', '1:', '1::2::3', '1:2:3:4:5:6:7:8:9', '1::2:3:4:5:6:7:8', '12345::', 'g::', '::1.2.3', '::01.2.3.4', '1.2.3.4', 'fe80::1%eth0']) {
    assert.equal(parseIpv6Into(bad, new Uint8Array(16)), false, bad);
  }
});

test('IPv4 text <-> octets both ways', () => {
  const out = new Uint8Array(4);
  assert.equal(parseIpv4Into('198.51.100.7', out), true);
  assert.deepEqual(out, Uint8Array.of(198, 51, 100, 7));
  assert.equal(formatIpv4(Uint8Array.of(0, 255, 10, 1)), '0.255.10.1');
  for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.0.0.1', '01.2.3.4', '1..2.3', '1.2.3.4.', 'a.b.c.d', ' 1.2.3.4']) {
    assert.equal(parseIpv4Into(bad, new Uint8Array(4)), false, bad);
    assert.equal(parseIpv4Into(bad, undefined), false, bad);
  }
  assert.equal(parseIpv4Into('192.0.2.1', undefined), true);
});

test('parsing writes at the offset and nowhere else, and fully overwrites a dirty buffer', () => {
  for (const c of V6) {
    const out = new Uint8Array(20).fill(0xaa);
    assert.equal(parseIpv6Into(c.text, out, 2), true);
    assert.deepEqual(out.subarray(2, 18), hex(c.bytes), c.text);
    assert.deepEqual([out[0], out[1], out[18], out[19]], [0xaa, 0xaa, 0xaa, 0xaa], c.text);
    assert.equal(formatIpv6(out, 2), c.canonical);
  }
  const out = new Uint8Array(6).fill(0xaa);
  assert.equal(parseIpv4Into('192.0.2.1', out, 1), true);
  assert.deepEqual(out, Uint8Array.of(0xaa, 192, 0, 2, 1, 0xaa));
  assert.equal(formatIpv4(out, 1), '192.0.2.1');
});

test('ipFamilyOf and isIpv6LinkLocal', () => {
  assert.equal(ipFamilyOf('192.0.2.1'), 4);
  assert.equal(ipFamilyOf('2001:db8::1'), 6);
  assert.equal(ipFamilyOf('::ffff:192.0.2.1'), 6);
  assert.equal(ipFamilyOf('192.0.2.256'), 0);
  assert.equal(ipFamilyOf('example.org'), 0);
  assert.equal(isIpv6LinkLocal(hex('fe80 0000 0000 0000 0000 0000 0000 0001')), true);
  assert.equal(isIpv6LinkLocal(hex('febf ffff 0000 0000 0000 0000 0000 0001')), true);
  assert.equal(isIpv6LinkLocal(hex('fec0 0000 0000 0000 0000 0000 0000 0001')), false);
  assert.equal(isIpv6LinkLocal(hex('2001 0db8 0000 0000 0000 0000 0000 0001')), false);
});

test('property: the IPv6 parser accepts exactly what node:net isIPv6 accepts (zone-less)', () => {
  const token = fc.oneof(
    fc.constantFrom(':', '::', '.', '0', 'ffff', 'FfFf', '1', '12', '123', '1234', '12345', 'g', '255', '256', '01', '1.2.3.4'),
    fc.stringMatching(/^[0-9a-fA-F]{1,5}$/),
  );
  fc.assert(
    fc.property(fc.array(token, { maxLength: 14 }), (parts) => {
      const text = parts.join('');
      assert.equal(parseIpv6Into(text, new Uint8Array(16)), isIPv6(text), JSON.stringify(text));
    }),
    { numRuns: 20_000 },
  );
});

test('property: the IPv4 parser accepts exactly what node:net isIPv4 accepts', () => {
  const token = fc.oneof(fc.constantFrom('.', '0', '00', '01', '255', '256', '1', '10', '999', 'a', ' '), fc.nat(300).map(String));
  fc.assert(
    fc.property(fc.array(token, { maxLength: 9 }), (parts) => {
      const text = parts.join('');
      assert.equal(parseIpv4Into(text, undefined), isIPv4(text), JSON.stringify(text));
    }),
    { numRuns: 20_000 },
  );
});

test('property: octets -> text is what the WHATWG URL serializer writes (RFC 5952 compression), and parses back', () => {
  // Zero groups are frequent so that runs, ties and single zeros all occur.
  const group = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(group, { minLength: 8, maxLength: 8 }), (groups) => {
      const b = new Uint8Array(16);
      groups.forEach((g, i) => {
        b[i * 2] = g >> 8;
        b[i * 2 + 1] = g & 0xff;
      });
      const text = formatIpv6(b);
      assert.equal(`[${text}]`, new URL(`http://[${text}]/`).hostname, text);
      const back = new Uint8Array(16);
      assert.equal(parseIpv6Into(text, back), true, text);
      assert.deepEqual(back, b, text);
    }),
    { numRuns: 5_000 },
  );
});
