import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIP, formatRange, parseIP, parsePoolAddress } from '../../../src/pool/types.ts';

// text <-> value, checked both ways (the canonical text is what formatIP must print back)
const ips: readonly { text: string; family: 'ipv4' | 'ipv6'; value: bigint; canonical?: string }[] = [
  { text: '0.0.0.0', family: 'ipv4', value: 0n },
  { text: '192.0.2.1', family: 'ipv4', value: 0xc0000201n },
  { text: '255.255.255.255', family: 'ipv4', value: 0xffffffffn },
  { text: '::', family: 'ipv6', value: 0n },
  { text: '::1', family: 'ipv6', value: 1n },
  { text: '2001:db8::', family: 'ipv6', value: 0x20010db8n << 96n },
  // RFC 5952 §4.2.3: the longest zero run is compressed, the first on a tie
  { text: '2001:db8:0:0:1:0:0:1', family: 'ipv6', value: (0x20010db8n << 96n) | (1n << 48n) | 1n, canonical: '2001:db8::1:0:0:1' },
  // RFC 5952 §4.2.2: a single zero group is not compressed
  { text: '2001:db8:0:1:1:1:1:1', family: 'ipv6', value: 0x20010db8000000010001000100010001n },
  // RFC 5952 §4.3: lowercase, no leading zeros
  { text: '2001:0DB8::00AB', family: 'ipv6', value: (0x20010db8n << 96n) | 0xabn, canonical: '2001:db8::ab' },
  // RFC 4291 §2.2 (3): dotted IPv4 tail
  { text: '::ffff:192.0.2.1', family: 'ipv6', value: 0xffffc0000201n, canonical: '::ffff:c000:201' },
  { text: '64:ff9b::192.0.2.33', family: 'ipv6', value: (0x64ff9bn << 96n) | 0xc0000221n, canonical: '64:ff9b::c000:221' },
];

test('parseIP / formatIP both ways', () => {
  for (const c of ips) {
    const r = parseIP(c.text);
    assert.ok(r.ok, c.text);
    if (!r.ok) continue;
    assert.equal(r.value.family, c.family, c.text);
    assert.equal(r.value.value, c.value, c.text);
    assert.equal(formatIP(r.value), c.canonical ?? c.text, c.text);
  }
});

test('parseIP rejects malformed text with a typed error', () => {
  const bad = ['', ' ', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-1', 'a.b.c.d', '1:2:3:4:5:6:7:8:9', '1::2::3', ':::',
    '12345::', 'g::1', '1:2:3:4:5:6:7::8:9', '::1.2.3', '1.2.3.4/24', 'fe80::1%eth0'];
  for (const s of bad) {
    const r = parseIP(s);
    assert.equal(r.ok, false, `accepted "${s}"`);
    if (!r.ok) {
      assert.ok(['invalid-ip', 'empty'].includes(r.error.kind), s);
      assert.equal(r.error.input, s);
      assert.ok(r.error.message.length > 0);
    }
  }
});

test('parsePoolAddress: CIDR, range, single', () => {
  const cases: readonly { text: string; form: string; shown: string; first: string; last: string; prefix?: number; hostBits?: boolean }[] = [
    { text: '192.0.2.0/24', form: 'cidr', shown: '192.0.2.0/24', first: '192.0.2.0', last: '192.0.2.255', prefix: 24 },
    // MetalLB api/v1beta1/ipaddresspool_types.go: normalised to the network address, like net.ParseCIDR
    { text: '198.51.100.10/24', form: 'cidr', shown: '198.51.100.0/24', first: '198.51.100.0', last: '198.51.100.255', prefix: 24, hostBits: true },
    { text: '192.0.2.7/32', form: 'cidr', shown: '192.0.2.7/32', first: '192.0.2.7', last: '192.0.2.7', prefix: 32 },
    { text: '2001:db8::/64', form: 'cidr', shown: '2001:db8::/64', first: '2001:db8::', last: '2001:db8::ffff:ffff:ffff:ffff', prefix: 64 },
    // MetalLB api/v1beta1/ipaddresspool_types.go: spaces around "-" are trimmed
    { text: '192.0.2.1 - 192.0.2.9', form: 'range', shown: '192.0.2.1-192.0.2.9', first: '192.0.2.1', last: '192.0.2.9' },
    { text: '2001:db8::1-2001:db8::ff', form: 'range', shown: '2001:db8::1-2001:db8::ff', first: '2001:db8::1', last: '2001:db8::ff' },
    { text: '192.0.2.5', form: 'single', shown: '192.0.2.5', first: '192.0.2.5', last: '192.0.2.5' },
  ];
  for (const c of cases) {
    const r = parsePoolAddress(c.text);
    assert.ok(r.ok, c.text);
    if (!r.ok) continue;
    assert.equal(r.value.form, c.form, c.text);
    assert.equal(formatRange(r.value.range), c.shown, c.text);
    assert.equal(formatIP({ family: r.value.range.family, value: r.value.range.first }), c.first, c.text);
    assert.equal(formatIP({ family: r.value.range.family, value: r.value.range.last }), c.last, c.text);
    assert.equal(r.value.range.prefixLength, c.prefix, c.text);
    assert.equal(r.value.hostBitsSet, c.hostBits ?? false, c.text);
  }
});

test('parsePoolAddress errors carry a kind and a message', () => {
  const cases = [
    { text: '192.0.2.0/33', kind: 'invalid-prefix' },
    { text: '2001:db8::/129', kind: 'invalid-prefix' },
    { text: '192.0.2.0/', kind: 'invalid-prefix' },
    { text: '192.0.2.0/024', kind: 'invalid-prefix' },
    { text: '192.0.2.300/24', kind: 'invalid-ip' },
    { text: '192.0.2.9-192.0.2.1', kind: 'reversed-range' },
    { text: '192.0.2.1-2001:db8::1', kind: 'mixed-family' },
    { text: '192.0.2.1-', kind: 'invalid-ip' },
    { text: '', kind: 'empty' },
    { text: 'pool', kind: 'invalid-ip' },
  ];
  for (const c of cases) {
    const r = parsePoolAddress(c.text);
    assert.equal(r.ok, false, c.text);
    if (!r.ok) {
      assert.equal(r.error.kind, c.kind, c.text);
      assert.ok(r.error.message.includes(c.text.trim()) || c.text === '', `${c.text}: message "${r.error.message}" names the input`);
    }
  }
});

test('property: formatIP then parseIP gives the same address', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.boolean(), (v, v4) => {
      const addr = v4 ? { family: 'ipv4' as const, value: v & 0xffffffffn } : { family: 'ipv6' as const, value: v };
      const back = parseIP(formatIP(addr));
      assert.ok(back.ok);
      if (back.ok) assert.deepEqual(back.value, addr);
    }),
    { numRuns: 2000 },
  );
});

test('property: parseIP returns a value or a typed error for any string', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789abcdef:.-/ '.split('')), maxLength: 45 }), (s) => {
      const r = parseIP(s);
      if (r.ok) {
        // and whatever it accepted prints back to something it accepts as the same address
        const again = parseIP(formatIP(r.value));
        assert.ok(again.ok);
        if (again.ok) assert.deepEqual(again.value, r.value);
      } else assert.equal(typeof r.error.message, 'string');
      const p = parsePoolAddress(s);
      if (p.ok) assert.ok(p.value.range.first <= p.value.range.last);
    }),
    { numRuns: 3000 },
  );
});
