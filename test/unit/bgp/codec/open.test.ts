// OPEN decode errors (RFC 4271 §6.2, RFC 5492) and the OPEN helpers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BgpError, decodeMessage, encodeMessage, INITIAL_CONTEXT, makeOpen, openAsn, openCapabilities } from '../../../../src/bgp/codec.ts';
import { bytes, MARKER } from './helpers.ts';

function open(body: string): Buffer {
  const b = bytes(body);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(19 + b.length);
  return Buffer.concat([bytes(MARKER), len, bytes('01'), b]);
}

const ERRORS: readonly { name: string; body: string; subcode: number; data?: string }[] = [
  { name: 'version 3 -> Unsupported Version Number, data = 4', body: '03 fde9 005a c0000201 00', subcode: 1, data: '0004' },
  { name: 'hold time 1 -> Unacceptable Hold Time', body: '04 fde9 0001 c0000201 00', subcode: 6 },
  { name: 'hold time 2 -> Unacceptable Hold Time', body: '04 fde9 0002 c0000201 00', subcode: 6 },
  { name: 'BGP Identifier 0 -> Bad BGP Identifier', body: '04 fde9 005a 00000000 00', subcode: 3 },
  { name: 'unknown optional parameter type 1', body: '04 fde9 005a c0000201 03 01 01 00', subcode: 4 },
  { name: 'parameters overrun Opt Parm Len', body: '04 fde9 005a c0000201 04 02 06 01 04', subcode: 0 },
  { name: 'octets after the parameters', body: '04 fde9 005a c0000201 00 00', subcode: 0 },
  { name: 'capability length overruns its parameter', body: '04 fde9 005a c0000201 04 02 02 41 04', subcode: 0 },
  { name: 'multiprotocol capability of 3 octets', body: '04 fde9 005a c0000201 05 02 03 01 01 00', subcode: 0 },
  { name: '4-octet AS capability of 2 octets', body: '04 fde9 005a c0000201 06 02 04 41 02 fde9', subcode: 0 },
];

for (const row of ERRORS) {
  test(`OPEN: ${row.name}`, () => {
    assert.throws(
      () => decodeMessage(open(row.body), INITIAL_CONTEXT),
      (e: unknown) =>
        e instanceof BgpError && e.code === 2 && e.subcode === row.subcode && (row.data === undefined || e.data.toString('hex') === row.data),
    );
  });
}

test('hold time 0 and 3 are accepted', () => {
  for (const hold of ['0000', '0003']) {
    assert.equal(decodeMessage(open(`04 fde9 ${hold} c0000201 00`), INITIAL_CONTEXT).message.type, 'OPEN');
  }
});

test('makeOpen puts AS_TRANS in My AS for a 4-octet AS; openAsn reads the capability', () => {
  const o = makeOpen({ asn: 4200000001, holdTime: 90, bgpId: '192.0.2.1', capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 4200000001 }] });
  assert.equal(o.myAsn, 23456);
  const back = decodeMessage(encodeMessage(o, INITIAL_CONTEXT), INITIAL_CONTEXT).message;
  assert.equal(back.type, 'OPEN');
  if (back.type !== 'OPEN') return;
  assert.equal(openAsn(back), 4200000001);
  assert.deepEqual(openCapabilities(back), [{ kind: 'FOUR_OCTET_AS', asn: 4200000001 }]);
  const small = makeOpen({ asn: 65001, holdTime: 90, bgpId: '192.0.2.1', capabilities: [] });
  assert.equal(small.myAsn, 65001);
  assert.equal(openAsn(small), 65001);
});

test('parameters over 255 octets switch to the RFC 9072 extended format by themselves', () => {
  const hostname = 'h'.repeat(200);
  const o = makeOpen({
    asn: 65001,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: [
      { kind: 'FQDN', hostname, domainName: '' }, // 204 octets
      ...Array.from({ length: 10 }, (_, i) => ({ kind: 'MULTIPROTOCOL' as const, afi: 1, safi: i + 1 })), // 60 octets
    ],
  });
  const b = encodeMessage(o, INITIAL_CONTEXT);
  assert.equal(b[28], 255); // Non-Ext OP Len
  assert.equal(b[29], 255); // Non-Ext OP Type
  const back = decodeMessage(b, INITIAL_CONTEXT).message;
  assert.deepEqual(back, { ...o, extendedParameters: true });
});

test('RFC 8950 §3 Extended Next Hop Encoding capability: both ways, and a length not a multiple of 6 is refused', () => {
  // Capabilities parameter (2), 8 octets: capability 5, length 6, <AFI 1, SAFI 1, Nexthop AFI 2>.
  const body = '04 fde9 005a c0000201 0a 02 08 05 06 0001 0001 0002';
  const m = decodeMessage(open(body), INITIAL_CONTEXT).message;
  assert.equal(m.type, 'OPEN');
  const caps = m.type === 'OPEN' ? openCapabilities(m) : [];
  assert.deepEqual(caps, [{ kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] }]);
  assert.deepEqual(encodeMessage(m, INITIAL_CONTEXT), open(body));
  assert.throws(
    () => decodeMessage(open('04 fde9 005a c0000201 09 02 07 05 05 0001 0001 00'), INITIAL_CONTEXT),
    (e: unknown) => e instanceof BgpError && e.code === 2,
  );
});
