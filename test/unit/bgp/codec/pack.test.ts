// pack.ts: the fewest UPDATEs within the session's maximum size, decoding back to the input.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, endOfRib, getAttribute, packAnnouncements, packWithdrawals, parsePrefix, updateRoutes } from '../../../../src/bgp/codec.ts';
import type { CodecContext, PathAttribute, Prefix, Update } from '../../../../src/bgp/messages/types.ts';
import { bytes, CTX2, CTX4, CTX4X, MARKER } from './helpers.ts';

const ATTRS: readonly PathAttribute[] = [
  { kind: 'ORIGIN', origin: 0 },
  { kind: 'AS_PATH', segments: [{ type: 2, asns: [4200000001] }] },
  { kind: 'COMMUNITIES', communities: [0xfde90064] },
];

function v4Hosts(n: number): Prefix[] {
  const out: Prefix[] = [];
  for (let i = 0; i < n; i++) {
    out.push({ family: 'ipv4', address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, length: 32 });
  }
  return out;
}

function v6Hosts(n: number): Prefix[] {
  const out: Prefix[] = [];
  // parsePrefix gives the canonical (RFC 5952) text the decoder produces.
  for (let i = 0; i < n; i++) out.push(parsePrefix(`2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}/128`));
  return out;
}

function decodeAll(bufs: readonly Buffer[], ctx: CodecContext): Update[] {
  return bufs.map((b) => {
    assert.ok(b.length <= ctx.maxMessageSize, `message of ${b.length} > ${ctx.maxMessageSize}`);
    const d = decodeMessage(b, ctx);
    assert.equal(d.action, 'none');
    assert.equal(d.message.type, 'UPDATE');
    return d.message as Update;
  });
}

/** Messages needed when each carries `fixed` octets plus as many `per`-octet prefixes as fit. */
function fewest(n: number, fixed: number, per: number, max: number): number {
  return Math.ceil(n / Math.floor((max - fixed) / per));
}

test('100,000 IPv4 /32s: all announced, in order, in the fewest 4096-octet UPDATEs', () => {
  const prefixes = v4Hosts(100_000);
  const bufs = packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1' }, prefixes }, CTX4);
  const ups = decodeAll(bufs, CTX4);
  assert.deepEqual(
    ups.flatMap((u) => u.nlri),
    prefixes,
  );
  // header 19 + 2 + 2, ORIGIN 4, AS_PATH 9, NEXT_HOP 7, COMMUNITIES 7 = 50 fixed; 5 octets per /32.
  assert.equal(bufs.length, fewest(100_000, 50, 5, 4096));
  for (const u of ups) {
    assert.deepEqual(u.attributes.map((a) => a.kind), ['ORIGIN', 'AS_PATH', 'NEXT_HOP', 'COMMUNITIES']);
    assert.equal(getAttribute(u.attributes, 'NEXT_HOP')?.nextHop, '192.0.2.1');
  }
});

test('extended message (RFC 8654) packs up to 65535 octets per UPDATE', () => {
  const prefixes = v4Hosts(100_000);
  const bufs = packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1' }, prefixes }, CTX4X);
  assert.equal(bufs.length, fewest(100_000, 50, 5, 65535));
  assert.equal(decodeAll(bufs, CTX4X).flatMap((u) => u.nlri).length, 100_000);
});

test('IPv6 prefixes go in MP_REACH_NLRI with global + link-local next hop, fewest messages', () => {
  const prefixes = v6Hosts(5000);
  const bufs = packAnnouncements(
    { attributes: ATTRS, nextHops: { ipv6: '2001:db8::1', ipv6LinkLocal: 'fe80::1' }, prefixes },
    CTX4,
  );
  const ups = decodeAll(bufs, CTX4);
  const got: Prefix[] = [];
  for (const u of ups) {
    assert.deepEqual(u.nlri, []);
    assert.equal(u.attributes[0]?.kind, 'MP_REACH_NLRI'); // RFC 7606 §5.1: first
    const mp = getAttribute(u.attributes, 'MP_REACH_NLRI');
    assert.ok(mp !== undefined);
    assert.deepEqual(mp.nextHops, ['2001:db8::1', 'fe80::1']);
    assert.equal(getAttribute(u.attributes, 'NEXT_HOP'), undefined);
    got.push(...mp.prefixes);
  }
  assert.deepEqual(got, prefixes);
  // 23 header/lengths, MP_REACH header 4 + AFI/SAFI/len 4 + 32 next hops + reserved 1, other attrs 20.
  assert.equal(bufs.length, fewest(5000, 23 + 4 + 4 + 32 + 1 + 20, 17, 4096));
});

test('a mixed list is split by family; global-only IPv6 next hop is 16 octets', () => {
  const prefixes = [...v4Hosts(3), ...v6Hosts(3)];
  const bufs = packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1', ipv6: '2001:db8::1' }, prefixes }, CTX4);
  assert.equal(bufs.length, 2);
  const [v4, v6] = decodeAll(bufs, CTX4);
  assert.equal(v4?.nlri.length, 3);
  assert.deepEqual(getAttribute(v6?.attributes ?? [], 'MP_REACH_NLRI')?.nextHops, ['2001:db8::1']);
});

test('a family without its next hop is refused', () => {
  assert.throws(() => packAnnouncements({ attributes: ATTRS, nextHops: { ipv6: '2001:db8::1' }, prefixes: v4Hosts(1) }, CTX4), RangeError);
  assert.throws(() => packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1' }, prefixes: v6Hosts(1) }, CTX4), RangeError);
});

test('to a 2-octet peer the 4-octet AS becomes AS_TRANS + AS4_PATH (RFC 6793 §4.2.2)', () => {
  const [buf] = packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '198.51.100.1' }, prefixes: v4Hosts(1) }, CTX2);
  assert.ok(buf !== undefined);
  const u = decodeAll([buf], CTX2)[0];
  assert.ok(u !== undefined);
  assert.deepEqual(u.attributes.map((a) => a.kind), ['ORIGIN', 'AS_PATH', 'NEXT_HOP', 'COMMUNITIES', 'AS4_PATH']);
  assert.deepEqual(getAttribute(u.attributes, 'AS_PATH')?.segments, [{ type: 2, asns: [23456] }]);
  assert.deepEqual(getAttribute(u.attributes, 'AS4_PATH')?.segments, [{ type: 2, asns: [4200000001] }]);
});

test('withdrawals: classic for IPv4, MP_UNREACH_NLRI for IPv6, fewest messages', () => {
  const v4 = v4Hosts(2000);
  const v6 = v6Hosts(1000);
  const bufs = packWithdrawals([...v4, ...v6], CTX4);
  const ups = decodeAll(bufs, CTX4);
  const routes = ups.map((u) => updateRoutes(u));
  assert.deepEqual(
    routes.flatMap((r) => r.withdraw),
    [...v4, ...v6],
  );
  assert.ok(routes.every((r) => r.announce.length === 0));
  assert.equal(bufs.length, fewest(2000, 23, 5, 4096) + fewest(1000, 23 + 4 + 3, 17, 4096));
});

test('End-of-RIB markers (RFC 4724 §2)', () => {
  assert.deepEqual(endOfRib('ipv4', CTX4), bytes(MARKER, '0017', '02', '0000', '0000'));
  assert.deepEqual(endOfRib('ipv6', CTX4), bytes(MARKER, '001d', '02', '0000', '0006', '80', '0f', '03', '0002', '01'));
});

// RFC 8950 §4: IPv4 NLRI with an IPv6 next hop, in MP_REACH_NLRI (AFI 1, SAFI 1).
const CTX_ENH: CodecContext = { ...CTX4, ipv4NextHopIpv6: true };

test('RFC 8950: IPv4 prefixes with only an IPv6 next hop go in MP_REACH_NLRI AFI 1, global + link-local (32 octets)', () => {
  const prefixes = v4Hosts(3000);
  const bufs = packAnnouncements({ attributes: ATTRS, nextHops: { ipv6: '2001:db8::1', ipv6LinkLocal: 'fe80::1' }, prefixes }, CTX_ENH);
  const ups = decodeAll(bufs, CTX_ENH);
  const reach = ups.map((u) => getAttribute(u.attributes, 'MP_REACH_NLRI'));
  assert.deepEqual(
    reach.flatMap((r) => r?.prefixes ?? []),
    prefixes,
  );
  for (const [i, r] of reach.entries()) {
    assert.equal(r?.afi, 1, `message ${i}: AFI`);
    assert.deepEqual(r.nextHops, ['2001:db8::1', 'fe80::1']);
    assert.equal(ups[i]?.nlri.length, 0, 'no classic NLRI');
    assert.equal(getAttribute(ups[i]?.attributes ?? [], 'NEXT_HOP'), undefined, 'no NEXT_HOP attribute');
  }
  // header 19 + 2 + 2, MP_REACH header 4 + AFI/SAFI 3 + length 1 + 32 + reserved 1, ORIGIN 4, AS_PATH 9, COMMUNITIES 7 = 84.
  assert.equal(bufs.length, fewest(3000, 84, 5, 4096));
});

test('RFC 8950: a link-local-only next hop (unnumbered, no global address) is 16 octets; the exact bytes', () => {
  const bufs = packAnnouncements(
    { attributes: ATTRS.slice(0, 2), nextHops: { ipv6: 'fe80::1' }, prefixes: [{ family: 'ipv4', address: '198.51.100.7', length: 32 }] },
    CTX_ENH,
  );
  assert.equal(bufs.length, 1);
  assert.deepEqual(
    bufs[0],
    bytes(
      MARKER,
      '0042', // length 66
      '02', // UPDATE
      '0000', // no withdrawn routes
      '002b', // path attributes: 43 octets
      '90 0e 001a', // MP_REACH_NLRI, optional + extended length, 26 octets
      '0001 01', // AFI 1 (IPv4), SAFI 1: RFC 8950 §4
      '10 fe800000000000000000000000000001', // next hop length 16: the link-local address
      '00', // reserved
      '20 c6336407', // 198.51.100.7/32
      '40 01 01 00', // ORIGIN IGP
      '40 02 06 02 01 fa56ea01', // AS_PATH: AS_SEQUENCE 4200000001
    ),
  );
});

test('RFC 8950: without the negotiated capability, IPv4 prefixes without an IPv4 next hop are refused', () => {
  assert.throws(
    () => packAnnouncements({ attributes: ATTRS, nextHops: { ipv6: '2001:db8::1' }, prefixes: v4Hosts(1) }, CTX4),
    /RFC 8950/,
  );
  // An IPv4 next hop keeps the classic encoding even when RFC 8950 was negotiated.
  const [u] = decodeAll(packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1', ipv6: '2001:db8::1' }, prefixes: v4Hosts(1) }, CTX_ENH), CTX_ENH);
  assert.equal(u?.nlri.length, 1);
  assert.equal(getAttribute(u?.attributes ?? [], 'MP_REACH_NLRI'), undefined);
});
