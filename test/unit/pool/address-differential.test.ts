// Differential property test: berth's IP parser (src/net/ip.ts, allocation-free, used per frame in l2,
// per prefix in the BGP codec, and through src/pool/address.ts parseIP for user text) against an
// independent one, the `ip-address` library (Address4 / Address6): both reject a text, or both accept
// it with the same family and value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { IPV4_BYTES, IPV6_BYTES, parseIpv4Into, parseIpv6Into } from '../../../src/net/ip.ts';
import { parseIP, parsePoolAddress } from '../../../src/pool/address.ts';

const RUNS = 3000;

// Berth's grammar is stricter than `ip-address` in two places, kept by screening the text first:
//   - ip-address accepts a CIDR suffix on an address ("192.0.2.1/24"): an IP is not a prefix;
//   - Address6 accepts a zone index ("fe80::1%eth0", RFC 4007 §11): a pool address has no zone.
// Only hex digits, ":" and "." therefore reach the library.
const IPV4_CHARS = /^[0-9.]+$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]+$/;

/** The `ip-address` library's reading of `text` (after the screening above), or undefined. */
function oracle(text: string): { family: 'ipv4' | 'ipv6'; value: bigint } | undefined {
  try {
    if (IPV4_CHARS.test(text)) return { family: 'ipv4', value: new Address4(text).bigInt() };
    if (text.includes(':') && IPV6_CHARS.test(text)) return { family: 'ipv6', value: new Address6(text).bigInt() };
  } catch {
    // AddressError: not an address.
  }
  return undefined;
}

/** src/net/ip.ts's reading of `text`: family and big-endian value, or undefined. */
function hotPath(text: string): { family: 'ipv4' | 'ipv6'; value: bigint } | undefined {
  const b = new Uint8Array(IPV6_BYTES);
  const toBigint = (length: number): bigint => {
    let v = 0n;
    for (let i = 0; i < length; i++) v = (v << 8n) | BigInt(b[i] ?? 0);
    return v;
  };
  if (parseIpv4Into(text, b)) return { family: 'ipv4', value: toBigint(IPV4_BYTES) };
  if (parseIpv6Into(text, b)) return { family: 'ipv6', value: toBigint(IPV6_BYTES) };
  return undefined;
}

/** parseIP trims surrounding spaces (its documented contract); the other readers get the trimmed text. */
function agree(text: string): void {
  const expected = oracle(text.trim());
  const hot = hotPath(text.trim());
  const cold = parseIP(text);
  assert.deepEqual(hot, expected, `src/net/ip.ts and ip-address disagree on ${JSON.stringify(text)}`);
  if (expected === undefined) {
    assert.equal(cold.ok, false, `parseIP accepted ${JSON.stringify(text)}, ip-address rejects it`);
    if (!cold.ok) assert.equal(cold.error.kind, text.trim() === '' ? 'empty' : 'invalid-ip');
    return;
  }
  assert.ok(cold.ok, `parseIP rejected ${JSON.stringify(text)}, ip-address reads ${expected.family} ${expected.value.toString(16)}`);
  assert.deepEqual(cold.value, expected, JSON.stringify(text));
}

// Text close to an address: the pieces both grammars are made of, and the ones ip-address alone accepts.
const token = fc.oneof(
  fc.constantFrom(':', '::', ':::', '.', '0', '00', '01', '1', '12', '255', '256', 'ffff', 'FfFf', '12345', 'g', '1.2.3.4',
    '/', '/24', '%', '%eth0', ' ', '[', ']', 'x', '-', '+', '0x1'),
  fc.stringMatching(/^[0-9a-fA-F]{1,5}$/),
  fc.nat(300).map(String),
);
const nearText = fc.array(token, { maxLength: 14 }).map((parts) => parts.join(''));

const octet = fc.integer({ min: 0, max: 255 });
const dotted = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const hexGroup = fc.integer({ min: 0, max: 0xffff });

/** Valid IPv6 text in many spellings: any "::" position, leading zeros, upper case, an IPv4 tail. */
const ipv6Text = fc
  .record({
    groups: fc.array(fc.oneof(fc.constant(0), hexGroup), { minLength: 8, maxLength: 8 }),
    gapStart: fc.integer({ min: -1, max: 8 }),
    gapLength: fc.integer({ min: 1, max: 8 }),
    pad: fc.boolean(),
    upper: fc.boolean(),
    v4Tail: fc.boolean(),
  })
  .map(({ groups, gapStart, gapLength, pad, upper, v4Tail }) => {
    const hex = (g: number): string => {
      const t = pad ? g.toString(16).padStart(4, '0') : g.toString(16);
      return upper ? t.toUpperCase() : t;
    };
    const tail = v4Tail ? [`${(groups[6] ?? 0) >> 8}.${(groups[6] ?? 0) & 0xff}.${(groups[7] ?? 0) >> 8}.${(groups[7] ?? 0) & 0xff}`] : [];
    const words = [...groups.slice(0, v4Tail ? 6 : 8).map(hex), ...tail];
    const slots = v4Tail ? 7 : 8; // an IPv4 tail fills two groups
    if (gapStart < 0 || gapStart >= slots) return words.join(':');
    const end = Math.min(slots, gapStart + gapLength);
    return `${words.slice(0, gapStart).join(':')}::${words.slice(end).join(':')}`;
  });

/** A valid text with one character inserted, deleted or replaced. */
const mutated = fc
  .tuple(fc.oneof(dotted, ipv6Text), fc.nat(), fc.constantFrom('insert', 'delete', 'replace'), fc.constantFrom(...'0123456789abcdefABCDEFg:.%/ -'))
  .map(([text, at, op, c]) => {
    const i = at % (text.length + 1);
    if (op === 'insert') return text.slice(0, i) + c + text.slice(i);
    if (op === 'delete') return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + c + text.slice(i + 1);
  });

test('differential: berth\'s parser and ip-address agree on text built from address pieces', () => {
  fc.assert(fc.property(nearText, (text) => agree(text)), { numRuns: RUNS });
});

test('differential: both accept every valid IPv4 and IPv6 spelling with the same value', () => {
  fc.assert(
    fc.property(fc.oneof(dotted, ipv6Text), (text) => {
      assert.ok(oracle(text) !== undefined, `generator made an invalid address ${text}`);
      agree(text);
    }),
    { numRuns: RUNS },
  );
});

test('differential: both agree on one-character mutations of valid addresses', () => {
  fc.assert(fc.property(mutated, (text) => agree(text)), { numRuns: RUNS });
});

test('differential: both agree on arbitrary strings', () => {
  fc.assert(fc.property(fc.string({ maxLength: 45 }), (text) => agree(text)), { numRuns: RUNS });
});

test('berth stays stricter than ip-address: CIDR suffix, zone index, leading zeros are not addresses', () => {
  for (const text of ['192.0.2.1/24', '2001:db8::1/64', 'fe80::1%eth0', 'fe80::1%1', '192.0.2.01', '::ffff:192.0.2.01']) {
    agree(text);
    const r = parseIP(text);
    assert.equal(r.ok, false, text);
    if (!r.ok) {
      assert.equal(r.error.kind, 'invalid-ip');
      assert.equal(r.error.message, `invalid IP address "${text}"`);
    }
  }
});

test('parsePoolAddress reads a single address as parseIP does (same validity, same value)', () => {
  fc.assert(
    fc.property(fc.oneof(dotted, ipv6Text, mutated), (text) => {
      fc.pre(!text.includes('/') && !text.includes('-'));
      const hot = oracle(text.trim());
      const r = parsePoolAddress(text);
      if (hot === undefined) assert.equal(r.ok, false, text);
      else {
        assert.ok(r.ok, text);
        assert.deepEqual(r.value.range, { family: hot.family, first: hot.value, last: hot.value });
      }
    }),
    { numRuns: 1000 },
  );
});
