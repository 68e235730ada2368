// Messages captured from a real FRR <-> FRR session (test/fixtures/bgp/README.md): each decodes
// without problems and re-encodes to the same bytes; a few carry facts we check by value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  contextFromCapabilities,
  decodeMessage,
  encodeMessage,
  endOfRib,
  getAttribute,
  hardResetCause,
  INITIAL_CONTEXT,
  openCapabilities,
  reconstructAs4,
  updateRoutes,
} from '../../../../src/bgp/codec.ts';
import type { CodecContext, Message, Open, Update } from '../../../../src/bgp/messages/types.ts';
import { CTX2, CTX4X, fixtures, type Fixture } from './helpers.ts';

const ALL = fixtures('frr');
const BIRD = fixtures('bird');
const GOBGP = fixtures('gobgp');

/** Per README: OPENs with the initial context, the 2-octet session with CTX2, the rest 4-octet + extended. */
function contextFor(f: Fixture): CodecContext {
  if (f.name.endsWith('-open.hex')) return INITIAL_CONTEXT;
  return f.name.includes('-198.51.100.') ? CTX2 : CTX4X;
}

function decoded(f: Fixture): Message {
  return decodeMessage(f.bytes, contextFor(f)).message;
}

test('the capture holds every message type', () => {
  assert.ok(ALL.length >= 30, `only ${ALL.length} fixtures`);
  const types = new Set(ALL.map((f) => decoded(f).type));
  assert.deepEqual([...types].sort(), ['KEEPALIVE', 'NOTIFICATION', 'OPEN', 'ROUTE_REFRESH', 'UPDATE']);
});

for (const [dir, f] of [...BIRD.map((x) => ['BIRD', x] as const), ...GOBGP.map((x) => ['GoBGP', x] as const)]) {
  test(`${dir}/FRR ${f.name}: decodes cleanly and re-encodes byte for byte`, () => {
    const ctx = f.name.endsWith('-open.hex') ? INITIAL_CONTEXT : CTX4X;
    const d = decodeMessage(f.bytes, ctx);
    assert.deepEqual(d.problems, []);
    assert.equal(d.action, 'none');
    assert.equal(encodeMessage(d.message, ctx).toString('hex'), f.bytes.toString('hex'));
  });
}

test('BIRD groups its capabilities in one parameter and sends a plain shutdown communication', () => {
  const open = BIRD.filter((f) => f.name.includes('-192.0.2.2-') && f.name.endsWith('-open.hex')).map(
    (f) => decodeMessage(f.bytes, INITIAL_CONTEXT).message as Open,
  )[0];
  assert.ok(open !== undefined);
  assert.equal(open.parameters.length, 1);
  assert.ok(openCapabilities(open).length >= 5);
  const n = BIRD.filter((f) => f.name.endsWith('-notification.hex')).map((f) => decodeMessage(f.bytes, CTX4X).message)[0];
  assert.ok(n !== undefined && n.type === 'NOTIFICATION');
  assert.equal(n.code, 6);
  assert.equal(n.subcode, 2);
  assert.equal(n.shutdownMessage, 'berth fixture: bird shutdown');
});

for (const f of ALL) {
  test(`FRR ${f.name}: decodes cleanly and re-encodes byte for byte`, () => {
    const ctx = contextFor(f);
    const d = decodeMessage(f.bytes, ctx);
    assert.deepEqual(d.problems, []);
    assert.equal(d.action, 'none');
    assert.equal(encodeMessage(d.message, ctx).toString('hex'), f.bytes.toString('hex'));
  });
}

const updates = (prefix: string): Update[] =>
  ALL.filter((f) => f.name.includes(prefix) && f.name.endsWith('-update.hex')).map((f) => decoded(f) as Update);
const opens = (prefix: string): Open[] =>
  ALL.filter((f) => f.name.includes(prefix) && f.name.endsWith('-open.hex')).map((f) => decoded(f) as Open);

test('FRR OPENs: capabilities negotiate 4-octet AS, extended message and the family', () => {
  const a = opens('-192.0.2.1-')[0];
  const b = opens('-192.0.2.2-')[0];
  assert.ok(a !== undefined && b !== undefined);
  const capsA = openCapabilities(a);
  assert.equal(a.myAsn, 23456); // AS_TRANS: A is AS 4200000001
  assert.deepEqual(capsA.find((c) => c.kind === 'FOUR_OCTET_AS'), { kind: 'FOUR_OCTET_AS', asn: 4200000001 });
  assert.deepEqual(capsA.find((c) => c.kind === 'FQDN'), { kind: 'FQDN', hostname: 'bcodA', domainName: '' });
  assert.ok(capsA.some((c) => c.kind === 'GRACEFUL_RESTART'));
  const ctx = contextFromCapabilities(capsA, openCapabilities(b));
  assert.deepEqual(ctx, { fourOctetAs: true, extendedMessage: true, maxMessageSize: 65535, families: [{ afi: 1, safi: 1 }] });
  // B's OPEN on the 2-octet session has no capabilities at all.
  const b2 = opens('-198.51.100.2-')[0];
  assert.ok(b2 !== undefined);
  assert.deepEqual(b2.parameters, []);
  assert.equal(contextFromCapabilities(capsA, openCapabilities(b2)).fourOctetAs, false);
});

test('FRR 2-octet session: AS_TRANS + AS4_PATH / AS4_AGGREGATOR rebuild the 4-octet values (RFC 6793 §4.2.3)', () => {
  const withAgg = updates('-198.51.100.1-').find((u) => getAttribute(u.attributes, 'AS4_AGGREGATOR') !== undefined);
  assert.ok(withAgg !== undefined, 'no UPDATE with AS4_AGGREGATOR in the capture');
  assert.deepEqual(getAttribute(withAgg.attributes, 'AS_PATH')?.segments, [{ type: 2, asns: [23456] }]);
  assert.deepEqual(reconstructAs4(withAgg.attributes, CTX2), {
    asPath: [{ type: 2, asns: [4200000001] }],
    aggregator: { asn: 4200000001, address: '192.0.2.1' },
  });
  // B -> A: B prepends its own 2-octet AS in front of AS_TRANS.
  const fromB = updates('-198.51.100.2-').find((u) => getAttribute(u.attributes, 'AS4_PATH') !== undefined);
  assert.ok(fromB !== undefined);
  assert.deepEqual(reconstructAs4(fromB.attributes, CTX2).asPath, [{ type: 2, asns: [65002, 4200000001] }]);
});

test('FRR End-of-RIB markers equal ours (RFC 4724 §2)', () => {
  const eor4 = ALL.find((f) => f.name.includes('-192.0.2.1-') && f.bytes.length === 23 && f.name.endsWith('-update.hex'));
  const eor6 = ALL.find((f) => f.name.includes('-v6-') && f.bytes.length === 29 && f.name.endsWith('-update.hex'));
  assert.ok(eor4 !== undefined && eor6 !== undefined);
  assert.equal(endOfRib('ipv4', CTX4X).toString('hex'), eor4.bytes.toString('hex'));
  assert.equal(endOfRib('ipv6', CTX4X).toString('hex'), eor6.bytes.toString('hex'));
  assert.equal(updateRoutes(decoded(eor6) as Update).endOfRib, 'ipv6');
  assert.equal(updateRoutes(decoded(eor4) as Update).endOfRib, 'ipv4');
});

test('FRR IPv6 UPDATE: global and link-local next hop, communities', () => {
  const u = updates('-v6-0001-').find((x) => getAttribute(x.attributes, 'LARGE_COMMUNITIES') !== undefined);
  assert.ok(u !== undefined);
  const mp = getAttribute(u.attributes, 'MP_REACH_NLRI');
  assert.ok(mp !== undefined);
  assert.equal(mp.nextHops.length, 2);
  assert.equal(mp.nextHops[0], '2001:db8::1');
  assert.match(mp.nextHops[1] ?? '', /^fe80::/);
  assert.deepEqual(mp.prefixes, [{ family: 'ipv6', address: '2001:db8:100::', length: 48 }]);
  assert.deepEqual(getAttribute(u.attributes, 'LARGE_COMMUNITIES')?.communities, [
    { globalAdmin: 4200000001, localData1: 3, localData2: 4 },
  ]);
  assert.deepEqual(getAttribute(u.attributes, 'COMMUNITIES')?.communities, [65001 * 65536 + 300]);
});

test('FRR IPv4 UPDATE with communities, large and extended communities and MED', () => {
  const u = updates('-192.0.2.1-').find((x) => getAttribute(x.attributes, 'EXTENDED_COMMUNITIES') !== undefined);
  assert.ok(u !== undefined);
  assert.deepEqual(u.nlri, [{ family: 'ipv4', address: '203.0.113.0', length: 24 }]);
  assert.equal(getAttribute(u.attributes, 'MULTI_EXIT_DISC')?.med, 50);
  assert.deepEqual(getAttribute(u.attributes, 'COMMUNITIES')?.communities, [
    (65001 * 65536 + 100) >>> 0,
    (65001 * 65536 + 200) >>> 0,
    0xffffff01, // NO_EXPORT
  ]);
  assert.deepEqual(getAttribute(u.attributes, 'EXTENDED_COMMUNITIES')?.communities, [0x0002fde900000007n]); // rt 65001:7
});

test('FRR route refresh: normal request, then BoRR and EoRR (RFC 7313)', () => {
  const rr = ALL.filter((f) => f.name.endsWith('-route-refresh.hex')).map((f) => decoded(f));
  const subtypes = rr.map((m) => (m.type === 'ROUTE_REFRESH' ? m.subtype : -1));
  assert.ok(subtypes.includes(0) && subtypes.includes(1) && subtypes.includes(2), `subtypes ${subtypes.join(',')}`);
});

test('FRR shutdown: Hard Reset (RFC 8538) wrapping Cease/Administrative Shutdown with its text (RFC 8203)', () => {
  const n = ALL.filter((f) => f.name.endsWith('-notification.hex'))
    .map((f) => decoded(f))
    .find((m) => m.type === 'NOTIFICATION' && m.code === 6 && m.subcode === 9);
  assert.ok(n !== undefined && n.type === 'NOTIFICATION');
  assert.equal(n.data.subarray(0, 2).toString('hex'), '0602');
  const inner = hardResetCause(n);
  assert.equal(inner?.code, 6);
  assert.equal(inner?.subcode, 2);
  assert.equal(inner?.shutdownMessage, '"berth fixture: maintenance"');
});

test('GoBGP puts MP_REACH_NLRI last, with plain flags; its RFC 8950 extended next hop capability decodes', () => {
  const u = GOBGP.filter((f) => f.name.includes('-v6-0002-') && f.name.endsWith('-update.hex'))
    .map((f) => decodeMessage(f.bytes, CTX4X).message as Update)
    .find((x) => getAttribute(x.attributes, 'MP_REACH_NLRI') !== undefined);
  assert.ok(u !== undefined);
  assert.equal(u.attributes.at(-1)?.kind, 'MP_REACH_NLRI');
  assert.equal(u.attributes.at(-1)?.flags, 0x80);
  const open = GOBGP.filter((f) => f.name.includes('-192.0.2.2-') && f.name.endsWith('-open.hex')).map(
    (f) => decodeMessage(f.bytes, INITIAL_CONTEXT).message as Open,
  )[0];
  assert.ok(open !== undefined);
  // RFC 8950 §3: GoBGP offers IPv4 unicast (1/1) with an IPv6 next hop (AFI 2).
  const enh = openCapabilities(open).find((c) => c.kind === 'EXTENDED_NEXT_HOP');
  assert.ok(enh?.kind === 'EXTENDED_NEXT_HOP', 'GoBGP OPEN carries capability 5');
  assert.ok(enh.entries.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2), JSON.stringify(enh.entries));
});
