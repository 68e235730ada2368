// RFC 7606 revised error handling: each malformed attribute -> the action the RFC prescribes.
// Non-fatal problems come back next to the decoded UPDATE; fatal ones throw a BgpError carrying
// the NOTIFICATION code/subcode/data.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, decodeMessage, updateRoutes } from '../../../../src/bgp/codec.ts';
import type { CodecContext, Update } from '../../../../src/bgp/messages/types.ts';
import { bytes, CTX4, MARKER } from './helpers.ts';

const ORIGIN = '40010100';
const AS_PATH = '4002060201fa56ea01';
const NEXT_HOP = '400304c0000201';
const NLRI = '18cb0071'; // 203.0.113.0/24

/** An UPDATE from hex chunks: withdrawn routes, attributes, NLRI (lengths computed here). */
function update(opts: { readonly withdrawn?: string; readonly attrs: readonly string[]; readonly nlri?: string }): Buffer {
  const withdrawn = bytes(opts.withdrawn ?? '');
  const attrs = bytes(...opts.attrs);
  const nlri = bytes(opts.nlri ?? '');
  const body = Buffer.concat([u16(withdrawn.length), withdrawn, u16(attrs.length), attrs, nlri]);
  return Buffer.concat([bytes(MARKER), u16(19 + body.length), bytes('02'), body]);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

interface Row {
  readonly name: string;
  /** The attribute under test, replacing nothing: the other mandatory attributes stay valid. */
  readonly attrs: readonly string[];
  readonly nlri?: string;
  readonly action: 'treat-as-withdraw' | 'attribute-discard' | 'none';
  readonly typeCode?: number;
  readonly subcode?: number;
  /** Attribute kinds expected in the decoded UPDATE. */
  readonly kinds?: readonly string[];
  readonly ctx?: CodecContext;
}

const ROWS: readonly Row[] = [
  { name: 'valid UPDATE', attrs: [ORIGIN, AS_PATH, NEXT_HOP], action: 'none', kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP'] },
  // §7.1 ORIGIN
  { name: 'ORIGIN length 2', attrs: ['4001020000', AS_PATH, NEXT_HOP], action: 'treat-as-withdraw', typeCode: 1, subcode: 5 },
  { name: 'ORIGIN undefined value 3', attrs: ['40010103', AS_PATH, NEXT_HOP], action: 'treat-as-withdraw', typeCode: 1, subcode: 6 },
  { name: 'ORIGIN with the Optional flag (§3(c))', attrs: ['c0010100', AS_PATH, NEXT_HOP], action: 'treat-as-withdraw', typeCode: 1, subcode: 4 },
  // §7.2 AS_PATH
  { name: 'AS_PATH unknown segment type', attrs: [ORIGIN, '4002060701fa56ea01', NEXT_HOP], action: 'treat-as-withdraw', typeCode: 2, subcode: 11 },
  { name: 'AS_PATH zero-length segment', attrs: [ORIGIN, '4002020200', NEXT_HOP], action: 'treat-as-withdraw', typeCode: 2, subcode: 11 },
  { name: 'AS_PATH segment overrun', attrs: [ORIGIN, '4002060202fa56ea01', NEXT_HOP], action: 'treat-as-withdraw', typeCode: 2, subcode: 11 },
  { name: 'AS_PATH single octet left over', attrs: [ORIGIN, '4002070201fa56ea0102', NEXT_HOP], action: 'treat-as-withdraw', typeCode: 2, subcode: 11 },
  // §7.3 NEXT_HOP
  { name: 'NEXT_HOP length 5', attrs: [ORIGIN, AS_PATH, '400305c000020100'], action: 'treat-as-withdraw', typeCode: 3, subcode: 5 },
  { name: 'NEXT_HOP 0.0.0.0', attrs: [ORIGIN, AS_PATH, '40030400000000'], action: 'treat-as-withdraw', typeCode: 3, subcode: 8 },
  { name: 'NEXT_HOP multicast 224.0.0.5', attrs: [ORIGIN, AS_PATH, '400304e0000005'], action: 'treat-as-withdraw', typeCode: 3, subcode: 8 },
  // §7.4 MED, §7.5 LOCAL_PREF
  { name: 'MED length 3', attrs: [ORIGIN, AS_PATH, NEXT_HOP, '800403000001'], action: 'treat-as-withdraw', typeCode: 4, subcode: 5 },
  { name: 'LOCAL_PREF length 0', attrs: [ORIGIN, AS_PATH, NEXT_HOP, '400500'], action: 'treat-as-withdraw', typeCode: 5, subcode: 5 },
  // §7.6 ATOMIC_AGGREGATE, §7.7 AGGREGATOR: attribute-discard
  {
    name: 'ATOMIC_AGGREGATE length 1',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, '40060100'],
    action: 'attribute-discard',
    typeCode: 6,
    subcode: 5,
    kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP'],
  },
  {
    name: 'AGGREGATOR 6 octets on a 4-octet session',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c00706fde9c0000201'],
    action: 'attribute-discard',
    typeCode: 7,
    subcode: 5,
    kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP'],
  },
  // §7.8 COMMUNITIES, §7.14 EXTENDED_COMMUNITIES, RFC 8092 §6 LARGE_COMMUNITIES
  { name: 'COMMUNITIES length 5', attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c00805fde9006400'], action: 'treat-as-withdraw', typeCode: 8, subcode: 9 },
  { name: 'COMMUNITIES length 0', attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c00800'], action: 'treat-as-withdraw', typeCode: 8, subcode: 9 },
  {
    name: 'EXTENDED_COMMUNITIES length 12',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c0100c' + '00'.repeat(12)],
    action: 'treat-as-withdraw',
    typeCode: 16,
    subcode: 9,
  },
  { name: 'LARGE_COMMUNITIES length 8', attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c02008' + '00'.repeat(8)], action: 'treat-as-withdraw', typeCode: 32, subcode: 9 },
  // RFC 6793 §6: AS4_PATH / AS4_AGGREGATOR malformed -> attribute-discard
  {
    name: 'AS4_PATH zero-length segment',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c011020200'],
    action: 'attribute-discard',
    typeCode: 17,
    subcode: 9,
    kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP'],
  },
  {
    name: 'AS4_AGGREGATOR length 6',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, 'c01206fde9c0000201'],
    action: 'attribute-discard',
    typeCode: 18,
    subcode: 9,
    kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP'],
  },
  // §3(g): duplicates other than MP_* -> keep the first
  {
    name: 'MED twice: the second is discarded',
    attrs: [ORIGIN, AS_PATH, NEXT_HOP, '80040400000001', '80040400000002'],
    action: 'attribute-discard',
    typeCode: 4,
    subcode: 1,
    kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP', 'MULTI_EXIT_DISC'],
  },
  // §3(d): missing well-known mandatory
  { name: 'ORIGIN missing', attrs: [AS_PATH, NEXT_HOP], action: 'treat-as-withdraw', typeCode: 1, subcode: 3 },
  { name: 'NEXT_HOP missing with classic NLRI', attrs: [ORIGIN, AS_PATH], action: 'treat-as-withdraw', typeCode: 3, subcode: 3 },
  {
    name: 'NEXT_HOP not needed with MP_REACH_NLRI only',
    attrs: ['800e0e00010104c00002010019cb007180', ORIGIN, AS_PATH],
    nlri: '',
    action: 'none',
    kinds: ['MP_REACH_NLRI', 'ORIGIN', 'AS_PATH'],
  },
  { name: 'no mandatory attribute needed without NLRI', attrs: ['80040400000001'], nlri: '', action: 'none', kinds: ['MULTI_EXIT_DISC'] },
  // §4: attribute lengths in conflict with Total Path Attribute Length
  { name: 'last attribute overruns the attribute list', attrs: [ORIGIN, AS_PATH, NEXT_HOP, '800404000000'], action: 'treat-as-withdraw', typeCode: 0, subcode: 1 },
  { name: 'two octets left, too few for an attribute', attrs: [ORIGIN, AS_PATH, NEXT_HOP, '8004'], action: 'treat-as-withdraw', typeCode: 0, subcode: 1 },
  // Unknown optional attributes are not errors (RFC 4271 §5 / §9).
  { name: 'unknown optional non-transitive kept', attrs: [ORIGIN, AS_PATH, NEXT_HOP, '80fe0101'], action: 'none', kinds: ['ORIGIN', 'AS_PATH', 'NEXT_HOP', 'UNKNOWN'] },
];

for (const row of ROWS) {
  test(`RFC 7606: ${row.name} -> ${row.action}`, () => {
    const d = decodeMessage(update({ attrs: row.attrs, nlri: row.nlri ?? NLRI }), row.ctx ?? CTX4);
    assert.equal(d.action, row.action);
    if (row.typeCode !== undefined) {
      assert.ok(
        d.problems.some((p) => p.typeCode === row.typeCode && p.subcode === row.subcode && p.action === row.action),
        `expected a problem ${row.typeCode}/${row.subcode}, got ${JSON.stringify(d.problems)}`,
      );
    } else assert.deepEqual(d.problems, []);
    if (row.kinds !== undefined) {
      assert.deepEqual((d.message as Update).attributes.map((a) => a.kind), row.kinds);
    }
    const routes = updateRoutes(d.message as Update, d.action);
    if (row.action === 'treat-as-withdraw') {
      // The NLRI are to be withdrawn, none announced.
      assert.deepEqual(routes.announce, []);
      assert.ok(routes.withdraw.length > 0);
    } else if ((row.nlri ?? NLRI) !== '') {
      assert.deepEqual(routes.announce, [{ family: 'ipv4', address: '203.0.113.0', length: 24 }]);
    }
  });
}

interface FatalRow {
  readonly name: string;
  readonly message: Buffer;
  readonly code: number;
  readonly subcode: number;
  readonly data?: string;
}

const MP_REACH = '800e0e00010104c00002010019cb007180';
const FATAL: readonly FatalRow[] = [
  { name: 'MP_REACH_NLRI twice (§3(g))', message: update({ attrs: [MP_REACH, MP_REACH, ORIGIN, AS_PATH], nlri: '' }), code: 3, subcode: 1 },
  {
    name: 'MP_REACH_NLRI next hop length 5 (§7.11)',
    message: update({ attrs: ['800e0f0001010500c00002010019cb007180', ORIGIN, AS_PATH], nlri: '' }),
    code: 3,
    subcode: 9,
    data: '800e0f0001010500c00002010019cb007180',
  },
  {
    name: 'MP_UNREACH_NLRI IPv6 prefix length 129 (§7.11)',
    message: update({ attrs: ['800f0400020181'], nlri: '' }),
    code: 3,
    subcode: 9,
    data: '800f0400020181',
  },
  {
    name: 'unrecognized well-known attribute (RFC 4271 §6.3)',
    message: update({ attrs: [ORIGIN, AS_PATH, NEXT_HOP, '40630100'] }),
    code: 3,
    subcode: 2,
    data: '40630100',
  },
  { name: 'Withdrawn Routes Length overruns the message', message: bytes(MARKER, '0017', '02', '0010', '0000'), code: 3, subcode: 1 },
  { name: 'Total Path Attribute Length overruns the message', message: bytes(MARKER, '0019', '02', '0000', '0010', '0000'), code: 3, subcode: 1 },
  { name: 'NLRI prefix length 33 (§5.3)', message: update({ attrs: [ORIGIN, AS_PATH, NEXT_HOP], nlri: '21c0000201ff' }), code: 3, subcode: 10 },
  { name: 'NLRI prefix truncated', message: update({ attrs: [ORIGIN, AS_PATH, NEXT_HOP], nlri: '18cb00' }), code: 3, subcode: 10 },
  { name: 'withdrawn prefix truncated', message: update({ withdrawn: '20c00002', attrs: [] }), code: 3, subcode: 10 },
];

for (const row of FATAL) {
  test(`RFC 7606 session reset: ${row.name}`, () => {
    assert.throws(
      () => decodeMessage(row.message, CTX4),
      (e: unknown) => {
        assert.ok(e instanceof BgpError, `not a BgpError: ${String(e)}`);
        assert.equal(e.code, row.code);
        assert.equal(e.subcode, row.subcode);
        if (row.data !== undefined) assert.equal(e.data.toString('hex'), row.data);
        assert.equal(e.action, 'session-reset');
        return true;
      },
    );
  });
}
