// Byte vectors for every message type, checked both ways: encode(value) = bytes, decode(bytes) = value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeMessage, encodeMessage, INITIAL_CONTEXT } from '../../../../src/bgp/codec.ts';
import type { CodecContext, Message } from '../../../../src/bgp/messages/types.ts';
import { ascii, bytes, CTX2, CTX4, MARKER } from './helpers.ts';

interface Vector {
  readonly name: string;
  readonly ctx: CodecContext;
  readonly value: Message;
  readonly bytes: Buffer;
}

const VECTORS: readonly Vector[] = [
  {
    name: 'KEEPALIVE',
    ctx: INITIAL_CONTEXT,
    value: { type: 'KEEPALIVE' },
    bytes: bytes(MARKER, '0013', /* length 19 */ '04' /* KEEPALIVE */),
  },
  {
    name: 'OPEN without optional parameters (a 2-octet speaker)',
    ctx: INITIAL_CONTEXT,
    value: { type: 'OPEN', version: 4, myAsn: 65002, holdTime: 180, bgpId: '192.0.2.2', parameters: [] },
    bytes: bytes(
      MARKER,
      '001d', // length 29
      '01', // OPEN
      '04', // version 4
      'fdea', // My AS 65002
      '00b4', // hold time 180
      'c0000202', // BGP Identifier 192.0.2.2
      '00', // Opt Parm Len 0
    ),
  },
  {
    name: 'OPEN with every capability in one parameter, AS_TRANS in My AS',
    ctx: INITIAL_CONTEXT,
    value: {
      type: 'OPEN',
      version: 4,
      myAsn: 23456,
      holdTime: 90,
      bgpId: '192.0.2.1',
      parameters: [
        {
          kind: 'CAPABILITIES',
          capabilities: [
            { kind: 'MULTIPROTOCOL', afi: 1, safi: 1 },
            { kind: 'MULTIPROTOCOL', afi: 2, safi: 1 },
            { kind: 'FOUR_OCTET_AS', asn: 4200000001 },
            { kind: 'ROUTE_REFRESH' },
            { kind: 'ROUTE_REFRESH_OLD' },
            { kind: 'ENHANCED_ROUTE_REFRESH' },
            { kind: 'EXTENDED_MESSAGE' },
            {
              kind: 'GRACEFUL_RESTART',
              restarting: true,
              notification: false,
              restartTime: 120,
              families: [
                { afi: 1, safi: 1, forwarding: true },
                { afi: 2, safi: 1, forwarding: false },
              ],
            },
            { kind: 'FQDN', hostname: 'node1', domainName: 'example' },
            { kind: 'UNKNOWN', code: 69, data: bytes('00010101') },
          ],
        },
      ],
    },
    bytes: bytes(
      MARKER,
      '005b', // length 91
      '01', // OPEN
      '04', '5ba0', '005a', 'c0000201', // version 4, My AS 23456 (AS_TRANS), hold 90, id 192.0.2.1
      '3e', // Opt Parm Len 62
      '02', '3c', // parameter: Capabilities, length 60
      '01', '04', '0001', '00', '01', // MP: AFI 1, reserved, SAFI 1
      '01', '04', '0002', '00', '01', // MP: AFI 2, reserved, SAFI 1
      '41', '04', 'fa56ea01', // 4-octet AS 4200000001
      '02', '00', // route refresh
      '80', '00', // route refresh (old code 128)
      '46', '00', // enhanced route refresh
      '06', '00', // extended message
      '40', '0a', '8078', // graceful restart: R bit, restart time 120
      '0001', '01', '80', // IPv4 unicast, forwarding preserved
      '0002', '01', '00', // IPv6 unicast
      '49', '0e', '05', ascii('node1'), '07', ascii('example'), // FQDN
      '45', '04', '00010101', // unknown capability 69 kept raw
    ),
  },
  {
    name: 'OPEN with RFC 9072 extended optional parameters length',
    ctx: INITIAL_CONTEXT,
    value: {
      type: 'OPEN',
      version: 4,
      myAsn: 65001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      parameters: [{ kind: 'CAPABILITIES', capabilities: [{ kind: 'MULTIPROTOCOL', afi: 1, safi: 1 }] }],
      extendedParameters: true,
    },
    bytes: bytes(
      MARKER,
      '0029', // length 41
      '01',
      '04', 'fde9', '005a', 'c0000201',
      'ff', // Non-Ext OP Len (255 when sent)
      'ff', // Non-Ext OP Type 255: extended format
      '0009', // Extended Opt. Parm. Length 9
      '02', '0006', // Capabilities parameter, 2-octet length 6
      '01', '04', '0001', '00', '01', // MP IPv4 unicast
    ),
  },
  {
    name: 'UPDATE announcing IPv4 with the common attributes (4-octet session)',
    ctx: CTX4,
    value: {
      type: 'UPDATE',
      withdrawn: [],
      attributes: [
        { kind: 'ORIGIN', origin: 0, flags: 0x40 },
        { kind: 'AS_PATH', segments: [{ type: 2, asns: [4200000001] }], flags: 0x40 },
        { kind: 'NEXT_HOP', nextHop: '192.0.2.1', flags: 0x40 },
        { kind: 'MULTI_EXIT_DISC', med: 50, flags: 0x80 },
        { kind: 'LOCAL_PREF', localPref: 100, flags: 0x40 },
        { kind: 'COMMUNITIES', communities: [0xfde90064], flags: 0xc0 },
        { kind: 'LARGE_COMMUNITIES', communities: [{ globalAdmin: 4200000001, localData1: 1, localData2: 2 }], flags: 0xc0 },
      ],
      nlri: [{ family: 'ipv4', address: '203.0.113.0', length: 24 }],
    },
    bytes: bytes(
      MARKER,
      '0053', // length 83
      '02', // UPDATE
      '0000', // Withdrawn Routes Length 0
      '0038', // Total Path Attribute Length 56
      '40', '01', '01', '00', // ORIGIN IGP
      '40', '02', '06', '02', '01', 'fa56ea01', // AS_PATH: AS_SEQUENCE [4200000001]
      '40', '03', '04', 'c0000201', // NEXT_HOP 192.0.2.1
      '80', '04', '04', '00000032', // MED 50
      '40', '05', '04', '00000064', // LOCAL_PREF 100
      'c0', '08', '04', 'fde90064', // COMMUNITIES 65001:100
      'c0', '20', '0c', 'fa56ea01', '00000001', '00000002', // LARGE_COMMUNITIES 4200000001:1:2
      '18', 'cb0071', // NLRI 203.0.113.0/24
    ),
  },
  {
    name: 'UPDATE to a 2-octet peer: AS_TRANS with AS4_PATH and AS4_AGGREGATOR',
    ctx: CTX2,
    value: {
      type: 'UPDATE',
      withdrawn: [],
      attributes: [
        { kind: 'ORIGIN', origin: 0, flags: 0x40 },
        { kind: 'AS_PATH', segments: [{ type: 2, asns: [65002, 23456] }], flags: 0x40 },
        { kind: 'NEXT_HOP', nextHop: '198.51.100.2', flags: 0x40 },
        { kind: 'ATOMIC_AGGREGATE', flags: 0x40 },
        { kind: 'AGGREGATOR', asn: 23456, address: '192.0.2.1', flags: 0xc0 },
        { kind: 'AS4_PATH', segments: [{ type: 2, asns: [65002, 4200000001] }], flags: 0xc0 },
        { kind: 'AS4_AGGREGATOR', asn: 4200000001, address: '192.0.2.1', flags: 0xc0 },
      ],
      nlri: [{ family: 'ipv4', address: '198.51.100.0', length: 24 }],
    },
    bytes: bytes(
      MARKER,
      '0053', // length 83
      '02',
      '0000', // no withdrawn routes
      '0038', // attributes: 56 octets
      '40', '01', '01', '00', // ORIGIN IGP
      '40', '02', '06', '02', '02', 'fdea', '5ba0', // AS_PATH [65002 23456] in 2 octets
      '40', '03', '04', 'c6336402', // NEXT_HOP 198.51.100.2
      '40', '06', '00', // ATOMIC_AGGREGATE
      'c0', '07', '06', '5ba0', 'c0000201', // AGGREGATOR AS_TRANS 192.0.2.1 (6 octets)
      'c0', '11', '0a', '02', '02', '0000fdea', 'fa56ea01', // AS4_PATH [65002 4200000001]
      'c0', '12', '08', 'fa56ea01', 'c0000201', // AS4_AGGREGATOR 4200000001 192.0.2.1
      '18', 'c63364', // NLRI 198.51.100.0/24
    ),
  },
  {
    name: 'UPDATE withdrawing IPv4',
    ctx: CTX4,
    value: {
      type: 'UPDATE',
      withdrawn: [
        { family: 'ipv4', address: '198.51.100.64', length: 26 },
        { family: 'ipv4', address: '0.0.0.0', length: 0 },
      ],
      attributes: [],
      nlri: [],
    },
    bytes: bytes(
      MARKER,
      '001d', // length 29
      '02',
      '0006', // Withdrawn Routes Length 6
      '1a', 'c6336440', // 198.51.100.64/26
      '00', // 0.0.0.0/0
      '0000', // no attributes
    ),
  },
  {
    name: 'UPDATE announcing IPv6 in MP_REACH_NLRI with global and link-local next hops',
    ctx: CTX4,
    value: {
      type: 'UPDATE',
      withdrawn: [],
      attributes: [
        {
          kind: 'MP_REACH_NLRI',
          afi: 2,
          safi: 1,
          nextHops: ['2001:db8::1', 'fe80::1'],
          prefixes: [{ family: 'ipv6', address: '2001:db8:1::', length: 48 }],
          flags: 0x90,
        },
        { kind: 'ORIGIN', origin: 2, flags: 0x40 },
        { kind: 'AS_PATH', segments: [], flags: 0x40 },
      ],
      nlri: [],
    },
    bytes: bytes(
      MARKER,
      '004e', // length 78
      '02',
      '0000',
      '0037', // attributes: 55 octets
      '90', '0e', '002c', // MP_REACH_NLRI, optional + extended length, 44 octets
      '0002', '01', // AFI IPv6, SAFI unicast
      '20', // next hop length 32
      '20010db8000000000000000000000001', // 2001:db8::1
      'fe800000000000000000000000000001', // fe80::1
      '00', // reserved
      '30', '20010db80001', // 2001:db8:1::/48
      '40', '01', '01', '02', // ORIGIN INCOMPLETE
      '40', '02', '00', // AS_PATH empty (iBGP)
    ),
  },
  {
    name: 'UPDATE End-of-RIB for IPv6 (empty MP_UNREACH_NLRI)',
    ctx: CTX4,
    value: {
      type: 'UPDATE',
      withdrawn: [],
      attributes: [{ kind: 'MP_UNREACH_NLRI', afi: 2, safi: 1, prefixes: [], flags: 0x80 }],
      nlri: [],
    },
    bytes: bytes(MARKER, '001d', '02', '0000', '0006', '80', '0f', '03', '0002', '01'),
  },
  {
    name: 'NOTIFICATION Hold Timer Expired',
    ctx: CTX4,
    value: { type: 'NOTIFICATION', code: 4, subcode: 0, data: Buffer.alloc(0) },
    bytes: bytes(MARKER, '0015', /* length 21 */ '03', /* NOTIFICATION */ '04', '00'),
  },
  {
    name: 'NOTIFICATION Cease/Administrative Shutdown with a shutdown communication (RFC 8203)',
    ctx: CTX4,
    value: { type: 'NOTIFICATION', code: 6, subcode: 2, data: bytes('03', ascii('bye')), shutdownMessage: 'bye' },
    bytes: bytes(MARKER, '0019', '03', '06', '02', '03', /* text length */ ascii('bye')),
  },
  {
    name: 'NOTIFICATION UPDATE error with data',
    ctx: CTX4,
    value: { type: 'NOTIFICATION', code: 3, subcode: 2, data: bytes('40630100') },
    bytes: bytes(MARKER, '0019', '03', '03', '02', '40630100'),
  },
  {
    name: 'ROUTE-REFRESH normal',
    ctx: CTX4,
    value: { type: 'ROUTE_REFRESH', afi: 2, safi: 1, subtype: 0 },
    bytes: bytes(MARKER, '0017', '05', '0002', '00', '01'),
  },
  {
    name: 'ROUTE-REFRESH Begin-of-RIB (RFC 7313)',
    ctx: CTX4,
    value: { type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 1 },
    bytes: bytes(MARKER, '0017', '05', '0001', '01', '01'),
  },
  {
    name: 'ROUTE-REFRESH End-of-RIB (RFC 7313)',
    ctx: CTX4,
    value: { type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 2 },
    bytes: bytes(MARKER, '0017', '05', '0001', '02', '01'),
  },
];

for (const v of VECTORS) {
  test(`encode: ${v.name}`, () => {
    assert.equal(encodeMessage(v.value, v.ctx).toString('hex'), v.bytes.toString('hex'));
  });
  test(`decode: ${v.name}`, () => {
    const d = decodeMessage(v.bytes, v.ctx);
    assert.deepEqual(d.message, v.value);
    assert.deepEqual(d.problems, []);
    assert.equal(d.action, 'none');
  });
}

test('an attribute value over 255 octets gets the Extended Length flag from the writer', () => {
  const communities = Array.from({ length: 70 }, (_, i) => 0xfde90000 + i); // 280 octets
  const msg: Message = { type: 'UPDATE', withdrawn: [], attributes: [{ kind: 'COMMUNITIES', communities }], nlri: [] };
  const b = encodeMessage(msg, CTX4);
  assert.equal(b.subarray(23, 27).toString('hex'), 'd0080118'); // flags O+T+ExtLen, type 8, length 280
  const d = decodeMessage(b, CTX4);
  assert.deepEqual(d.message, { ...msg, attributes: [{ kind: 'COMMUNITIES', communities, flags: 0xd0 }] });
});

test('encode refuses a message over the session maximum, and OPEN over 4096 always', () => {
  const communities = Array.from({ length: 1100 }, (_, i) => i); // 4400 octets
  const msg: Message = { type: 'UPDATE', withdrawn: [], attributes: [{ kind: 'COMMUNITIES', communities }], nlri: [] };
  assert.throws(() => encodeMessage(msg, CTX4), RangeError);
});

test('encode refuses IPv6 prefixes in the classic NLRI field', () => {
  const msg: Message = { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [{ family: 'ipv6', address: '2001:db8::', length: 32 }] };
  assert.throws(() => encodeMessage(msg, CTX4), RangeError);
});
