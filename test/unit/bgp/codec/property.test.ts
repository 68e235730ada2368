// Property tests (fast-check): decode never throws anything but a BgpError, encode/decode round trips
// on arbitrary valid messages, and the framer is indifferent to how the stream is split.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BgpError, createFramer, decodeMessage, encodeMessage, makeContext, makeNotification } from '../../../../src/bgp/codec.ts';
import { ATTR_TYPE, CAPABILITY } from '../../../../src/bgp/constants.ts';
import { formatIpv4, formatIpv6 } from '../../../../src/bgp/wire/ip.ts';
import type { Capability, CodecContext, Message, PathAttribute, Prefix } from '../../../../src/bgp/messages/types.ts';
import { CTX2, CTX4, CTX4X, fixtures, MARKER } from './helpers.ts';

const RUNS = { numRuns: 400 };

function decodesOrBgpError(buf: Buffer, ctx: CodecContext): void {
  try {
    decodeMessage(buf, ctx);
  } catch (e) {
    if (!(e instanceof BgpError)) throw new Error(`non-BgpError thrown: ${String(e)}`, { cause: e });
  }
}

// --------------------------------------------------------------------------------- decode robustness

test('decodeMessage on arbitrary bytes: a message or a BgpError', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => decodesOrBgpError(Buffer.from(b), CTX4)),
    RUNS,
  );
});

test('decodeMessage on a valid header with an arbitrary body: a message or a BgpError', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 5 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.constantFrom(CTX2, CTX4, CTX4X),
      (type, body, ctx) => {
        const len = Buffer.alloc(2);
        len.writeUInt16BE(19 + body.length);
        decodesOrBgpError(Buffer.concat([Buffer.from(MARKER, 'hex'), len, Buffer.from([type]), body]), ctx);
      },
    ),
    RUNS,
  );
});

test('decodeMessage on FRR messages with corrupted bodies: a message or a BgpError', () => {
  const msgs = fixtures('frr').map((f) => f.bytes).filter((b) => b.length > 19);
  fc.assert(
    fc.property(
      fc.constantFrom(...msgs),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
      fc.constantFrom(CTX2, CTX4, CTX4X),
      (msg, edits, ctx) => {
        const b = Buffer.from(msg);
        for (const [at, v] of edits) b[19 + (at % (b.length - 19))] = v; // keep the header intact
        decodesOrBgpError(b, ctx);
      },
    ),
    { numRuns: 2000 },
  );
});

// ----------------------------------------------------------------------------- arbitrary valid values

const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });

function prefixArb(family: 'ipv4' | 'ipv6'): fc.Arbitrary<Prefix> {
  const bits = family === 'ipv4' ? 32 : 128;
  return fc.tuple(fc.uint8Array({ minLength: bits / 8, maxLength: bits / 8 }), fc.integer({ min: 0, max: bits })).map(([addr, length]) => {
    const b = Uint8Array.from(addr);
    for (let i = 0; i < b.length; i++) {
      const keep = length - i * 8;
      b[i] = keep >= 8 ? (b[i] as number) : keep <= 0 ? 0 : (b[i] as number) & (0xff << (8 - keep)) & 0xff;
    }
    return { family, address: family === 'ipv4' ? formatIpv4(b) : formatIpv6(b), length };
  });
}

const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIpv4(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6(b));
const KNOWN_CAPS: readonly number[] = Object.values(CAPABILITY);
const KNOWN_ATTRS: readonly number[] = Object.values(ATTR_TYPE);
const shortAscii = fc.string({ maxLength: 20 }).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'));

const capabilityArb: fc.Arbitrary<Capability> = fc.oneof(
  fc.record({ kind: fc.constant('MULTIPROTOCOL' as const), afi: u16, safi: fc.integer({ min: 0, max: 255 }) }),
  fc.constant({ kind: 'ROUTE_REFRESH' as const }),
  fc.constant({ kind: 'ROUTE_REFRESH_OLD' as const }),
  fc.constant({ kind: 'ENHANCED_ROUTE_REFRESH' as const }),
  fc.constant({ kind: 'EXTENDED_MESSAGE' as const }),
  fc.record({ kind: fc.constant('FOUR_OCTET_AS' as const), asn: u32 }),
  fc.record({
    kind: fc.constant('GRACEFUL_RESTART' as const),
    restarting: fc.boolean(),
    notification: fc.boolean(),
    restartTime: fc.integer({ min: 0, max: 4095 }),
    families: fc.array(fc.record({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), forwarding: fc.boolean() }), { maxLength: 4 }),
  }),
  fc.record({ kind: fc.constant('FQDN' as const), hostname: shortAscii, domainName: shortAscii }),
  fc.record({
    kind: fc.constant('UNKNOWN' as const),
    code: fc.integer({ min: 0, max: 255 }).filter((c) => !KNOWN_CAPS.includes(c)),
    data: fc.uint8Array({ maxLength: 16 }).map((b) => Buffer.from(b)),
  }),
);

const openArb: fc.Arbitrary<Message> = fc.record({
  type: fc.constant('OPEN' as const),
  version: fc.constant(4),
  myAsn: u16,
  holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
  bgpId: ipv4.filter((a) => a !== '0.0.0.0'),
  parameters: fc.array(fc.record({ kind: fc.constant('CAPABILITIES' as const), capabilities: fc.array(capabilityArb, { maxLength: 5 }) }), {
    maxLength: 4,
  }),
});

function segmentsArb(maxAsn: number): fc.Arbitrary<{ type: 1 | 2 | 3 | 4; asns: number[] }[]> {
  return fc.array(
    fc.record({
      type: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const),
      asns: fc.array(fc.integer({ min: 0, max: maxAsn }), { minLength: 1, maxLength: 5 }),
    }),
    { maxLength: 3 },
  );
}

function optionalAttrsArb(ctx: CodecContext): fc.Arbitrary<PathAttribute[]> {
  const asMax = ctx.fourOctetAs ? 0xffffffff : 0xffff;
  const each: fc.Arbitrary<PathAttribute>[] = [
    fc.record({ kind: fc.constant('MULTI_EXIT_DISC' as const), med: u32 }),
    fc.record({ kind: fc.constant('LOCAL_PREF' as const), localPref: u32 }),
    fc.constant({ kind: 'ATOMIC_AGGREGATE' as const }),
    fc.record({ kind: fc.constant('AGGREGATOR' as const), asn: fc.integer({ min: 0, max: asMax }), address: ipv4 }),
    fc.record({ kind: fc.constant('COMMUNITIES' as const), communities: fc.array(u32, { minLength: 1, maxLength: 80 }) }),
    fc.record({ kind: fc.constant('EXTENDED_COMMUNITIES' as const), communities: fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { minLength: 1, maxLength: 4 }) }),
    fc.record({
      kind: fc.constant('LARGE_COMMUNITIES' as const),
      communities: fc.array(fc.record({ globalAdmin: u32, localData1: u32, localData2: u32 }), { minLength: 1, maxLength: 4 }),
    }),
    fc.record({ kind: fc.constant('AS4_PATH' as const), segments: segmentsArb(0xffffffff).filter((s) => s.length > 0) }),
    fc.record({ kind: fc.constant('AS4_AGGREGATOR' as const), asn: u32, address: ipv4 }),
    fc.record({
      kind: fc.constant('MP_REACH_NLRI' as const),
      afi: fc.constant(2),
      safi: fc.constant(1),
      nextHops: fc.oneof(fc.tuple(ipv6), fc.tuple(ipv6, ipv6)),
      prefixes: fc.array(prefixArb('ipv6'), { maxLength: 10 }),
    }),
    fc.record({ kind: fc.constant('MP_UNREACH_NLRI' as const), afi: fc.constant(2), safi: fc.constant(1), prefixes: fc.array(prefixArb('ipv6'), { maxLength: 10 }) }),
    fc.record({
      kind: fc.constant('UNKNOWN' as const),
      typeCode: fc.integer({ min: 1, max: 255 }).filter((c) => !KNOWN_ATTRS.includes(c)),
      flags: fc.constantFrom(0x80, 0xc0, 0xe0),
      data: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    }),
  ];
  return fc.subarray(each.map((_, i) => i)).chain((idx) => fc.tuple(...idx.map((i) => each[i] as fc.Arbitrary<PathAttribute>)));
}

function updateArb(ctx: CodecContext): fc.Arbitrary<Message> {
  const asMax = ctx.fourOctetAs ? 0xffffffff : 0xffff;
  return fc
    .record({
      withdrawn: fc.array(prefixArb('ipv4'), { maxLength: 20 }),
      nlri: fc.array(prefixArb('ipv4'), { maxLength: 20 }),
      origin: fc.constantFrom(0 as const, 1 as const, 2 as const),
      segments: segmentsArb(asMax),
      nextHop: ipv4.filter((a) => a !== '0.0.0.0' && Number(a.split('.')[0]) < 224), // unicast (RFC 7606 §7.3)
      rest: optionalAttrsArb(ctx),
    })
    .map(({ withdrawn, nlri, origin, segments, nextHop, rest }) => ({
      type: 'UPDATE' as const,
      withdrawn,
      nlri,
      attributes: [
        { kind: 'ORIGIN' as const, origin },
        { kind: 'AS_PATH' as const, segments },
        { kind: 'NEXT_HOP' as const, nextHop },
        ...rest,
      ],
    }));
}

const notificationArb: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({ code: fc.integer({ min: 0, max: 255 }), subcode: fc.integer({ min: 0, max: 255 }), data: fc.uint8Array({ maxLength: 40 }) })
    .filter((n) => !(n.code === 6 && (n.subcode === 2 || n.subcode === 4)))
    .map((n) => ({ type: 'NOTIFICATION' as const, code: n.code, subcode: n.subcode, data: Buffer.from(n.data) })),
  fc
    .record({ subcode: fc.constantFrom(2, 4), text: fc.string({ maxLength: 60 }) })
    .map((n) => makeNotification({ code: 6, subcode: n.subcode, shutdownMessage: n.text })),
);

const otherArb: fc.Arbitrary<Message> = fc.oneof(
  fc.constant({ type: 'KEEPALIVE' as const }),
  fc.record({ type: fc.constant('ROUTE_REFRESH' as const), afi: u16, safi: fc.integer({ min: 0, max: 255 }), subtype: fc.constantFrom(0, 1, 2) }),
  notificationArb,
);

function messageArb(ctx: CodecContext): fc.Arbitrary<Message> {
  return fc.oneof(openArb, updateArb(ctx), otherArb);
}

/** fc.record builds null-prototype objects; deepStrictEqual compares prototypes. Rebuild plainly. */
function plain<T>(x: T): T {
  if (Array.isArray(x)) return x.map(plain) as T;
  if (x === null || typeof x !== 'object' || Buffer.isBuffer(x)) return x;
  return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)])) as T;
}

/** Decoded attributes carry the flags octet they arrived with; the generated ones may not. */
function withoutFlags(m: Message): Message {
  if (m.type !== 'UPDATE') return m;
  return { ...m, attributes: m.attributes.map((a) => ({ ...a, flags: undefined })).map(({ flags: _f, ...rest }) => rest as PathAttribute) };
}

// ------------------------------------------------------------------------------------------ round trip

for (const [name, ctx] of [
  ['2-octet', CTX2],
  ['4-octet', CTX4],
] as const) {
  test(`encode/decode round trip on arbitrary valid messages (${name} session)`, () => {
    fc.assert(
      fc.property(messageArb(ctx), (m) => {
        const bytes = encodeMessage(m, makeContext({ fourOctetAs: ctx.fourOctetAs, extendedMessage: true }));
        const x = makeContext({ fourOctetAs: ctx.fourOctetAs, extendedMessage: true });
        const d = decodeMessage(bytes, x);
        assert.deepEqual(d.problems, []);
        assert.deepEqual(withoutFlags(d.message), withoutFlags(plain(m)));
        // And the decoded value (with its flags) encodes to the very same bytes.
        assert.deepEqual(encodeMessage(d.message, x), bytes);
      }),
      RUNS,
    );
  });
}

// ------------------------------------------------------------------------------------- framer splits

test('framer: any split of a stream of arbitrary messages gives the same frames', () => {
  fc.assert(
    fc.property(
      fc.array(messageArb(CTX4X), { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (msgs, cuts) => {
        const frames = msgs.map((m) => encodeMessage(m, CTX4X));
        const stream = Buffer.concat(frames);
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const framer = createFramer();
        const got: Buffer[] = [];
        let from = 0;
        for (const p of [...points, stream.length]) {
          framer.push(stream.subarray(from, p));
          from = p;
          for (let f = framer.next(CTX4X); f !== undefined; f = framer.next(CTX4X)) got.push(f);
        }
        assert.deepEqual(got, frames);
      },
    ),
    { numRuns: 200 },
  );
});
