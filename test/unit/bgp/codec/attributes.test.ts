// Byte vectors for every path attribute and capability, both ways.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readAttributes, writeAttribute } from '../../../../src/bgp/attributes/index.ts';
import { readCapabilities, writeCapability } from '../../../../src/bgp/capabilities/index.ts';
import type { Capability, CodecContext, PathAttribute } from '../../../../src/bgp/messages/types.ts';
import { Reader } from '../../../../src/bgp/wire/reader.ts';
import { Writer } from '../../../../src/bgp/wire/writer.ts';
import { ascii, bytes, CTX2, CTX4 } from './helpers.ts';

interface AttrVector {
  readonly name: string;
  readonly ctx: CodecContext;
  readonly value: PathAttribute;
  readonly bytes: Buffer;
}

const ATTRS: readonly AttrVector[] = [
  { name: 'ORIGIN EGP', ctx: CTX4, value: { kind: 'ORIGIN', origin: 1, flags: 0x40 }, bytes: bytes('40', '01', '01', '01') },
  {
    name: 'AS_PATH with set and confederation segments, 4-octet',
    ctx: CTX4,
    value: {
      kind: 'AS_PATH',
      flags: 0x40,
      segments: [
        { type: 3, asns: [64512] }, // AS_CONFED_SEQUENCE
        { type: 2, asns: [65001, 4200000001] }, // AS_SEQUENCE
        { type: 1, asns: [65010, 65011] }, // AS_SET
        { type: 4, asns: [64513] }, // AS_CONFED_SET
      ],
    },
    bytes: bytes(
      '40', '02', '20', // AS_PATH, 32 octets
      '03', '01', '0000fc00', // confed sequence [64512]
      '02', '02', '0000fde9', 'fa56ea01', // sequence [65001 4200000001]
      '01', '02', '0000fdf2', '0000fdf3', // set {65010 65011}
      '04', '01', '0000fc01', // confed set [64513]
    ),
  },
  {
    name: 'AS_PATH 2-octet',
    ctx: CTX2,
    value: { kind: 'AS_PATH', flags: 0x40, segments: [{ type: 2, asns: [65001, 23456] }] },
    bytes: bytes('40', '02', '06', '02', '02', 'fde9', '5ba0'),
  },
  {
    name: 'AS_PATH with Extended Length as FRR sends it',
    ctx: CTX4,
    value: { kind: 'AS_PATH', flags: 0x50, segments: [{ type: 2, asns: [4200000001] }] },
    bytes: bytes('50', '02', '0006', '02', '01', 'fa56ea01'),
  },
  { name: 'NEXT_HOP', ctx: CTX4, value: { kind: 'NEXT_HOP', nextHop: '203.0.113.9', flags: 0x40 }, bytes: bytes('40', '03', '04', 'cb007109') },
  { name: 'MULTI_EXIT_DISC', ctx: CTX4, value: { kind: 'MULTI_EXIT_DISC', med: 4294967295, flags: 0x80 }, bytes: bytes('80', '04', '04', 'ffffffff') },
  { name: 'LOCAL_PREF', ctx: CTX4, value: { kind: 'LOCAL_PREF', localPref: 200, flags: 0x40 }, bytes: bytes('40', '05', '04', '000000c8') },
  { name: 'ATOMIC_AGGREGATE', ctx: CTX4, value: { kind: 'ATOMIC_AGGREGATE', flags: 0x40 }, bytes: bytes('40', '06', '00') },
  {
    name: 'AGGREGATOR 4-octet',
    ctx: CTX4,
    value: { kind: 'AGGREGATOR', asn: 4200000001, address: '192.0.2.1', flags: 0xc0 },
    bytes: bytes('c0', '07', '08', 'fa56ea01', 'c0000201'),
  },
  {
    name: 'AGGREGATOR 2-octet',
    ctx: CTX2,
    value: { kind: 'AGGREGATOR', asn: 65001, address: '192.0.2.1', flags: 0xc0 },
    bytes: bytes('c0', '07', '06', 'fde9', 'c0000201'),
  },
  {
    name: 'COMMUNITIES incl. NO_EXPORT',
    ctx: CTX4,
    value: { kind: 'COMMUNITIES', communities: [0xfde90064, 0xffffff01], flags: 0xc0 },
    bytes: bytes('c0', '08', '08', 'fde90064', /* 65001:100 */ 'ffffff01' /* NO_EXPORT */),
  },
  {
    name: 'EXTENDED_COMMUNITIES route target 65001:7',
    ctx: CTX4,
    value: { kind: 'EXTENDED_COMMUNITIES', communities: [0x0002fde900000007n], flags: 0xc0 },
    bytes: bytes('c0', '10', '08', '00', '02', 'fde9', '00000007'),
  },
  {
    name: 'LARGE_COMMUNITIES two values',
    ctx: CTX4,
    value: {
      kind: 'LARGE_COMMUNITIES',
      flags: 0xc0,
      communities: [
        { globalAdmin: 65001, localData1: 1, localData2: 2 },
        { globalAdmin: 4200000001, localData1: 4294967295, localData2: 0 },
      ],
    },
    bytes: bytes('c0', '20', '18', '0000fde9', '00000001', '00000002', 'fa56ea01', 'ffffffff', '00000000'),
  },
  {
    name: 'MP_REACH_NLRI IPv4 unicast with a 4-octet next hop',
    ctx: CTX4,
    value: {
      kind: 'MP_REACH_NLRI',
      afi: 1,
      safi: 1,
      nextHops: ['192.0.2.1'],
      prefixes: [{ family: 'ipv4', address: '203.0.113.128', length: 25 }],
      flags: 0x80,
    },
    bytes: bytes('80', '0e', '0e', '0001', '01', '04', 'c0000201', '00', '19', 'cb007180'),
  },
  {
    name: 'MP_REACH_NLRI IPv6 with a global next hop only',
    ctx: CTX4,
    value: {
      kind: 'MP_REACH_NLRI',
      afi: 2,
      safi: 1,
      nextHops: ['2001:db8::2'],
      prefixes: [
        { family: 'ipv6', address: '2001:db8:100::', length: 40 },
        { family: 'ipv6', address: '::', length: 0 },
      ],
      flags: 0x80,
    },
    bytes: bytes('80', '0e', '1c', '0002', '01', '10', '20010db8000000000000000000000002', '00', '28', '20010db801', '00'),
  },
  {
    name: 'MP_UNREACH_NLRI IPv6',
    ctx: CTX4,
    value: { kind: 'MP_UNREACH_NLRI', afi: 2, safi: 1, prefixes: [{ family: 'ipv6', address: '2001:db8:200::', length: 64 }], flags: 0x90 },
    bytes: bytes('90', '0f', '000c', '0002', '01', '40', '20010db802000000'),
  },
  {
    name: 'AS4_PATH',
    ctx: CTX2,
    value: { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001] }], flags: 0xd0 },
    bytes: bytes('d0', '11', '0006', '02', '01', 'fa56ea01'),
  },
  {
    name: 'AS4_AGGREGATOR',
    ctx: CTX2,
    value: { kind: 'AS4_AGGREGATOR', asn: 4200000001, address: '192.0.2.1', flags: 0xc0 },
    bytes: bytes('c0', '12', '08', 'fa56ea01', 'c0000201'),
  },
  {
    name: 'unknown optional transitive attribute kept raw, Partial bit kept',
    ctx: CTX4,
    value: { kind: 'UNKNOWN', typeCode: 99, data: bytes('abcd'), flags: 0xe0 },
    bytes: bytes('e0', '63', '02', 'abcd'),
  },
  {
    name: 'MP_REACH_NLRI of a family we do not decode (L2VPN EVPN) kept raw',
    ctx: CTX4,
    value: { kind: 'UNKNOWN', typeCode: 14, data: bytes('0019', '46', '04', 'c0000201', '00'), flags: 0x80 },
    bytes: bytes('80', '0e', '09', '0019', '46', '04', 'c0000201', '00'),
  },
];

for (const v of ATTRS) {
  test(`attribute encode: ${v.name}`, () => {
    const w = new Writer();
    writeAttribute(w, v.value, v.ctx);
    assert.equal(w.finish().toString('hex'), v.bytes.toString('hex'));
  });
  test(`attribute decode: ${v.name}`, () => {
    const res = readAttributes(new Reader(v.bytes), v.ctx);
    assert.deepEqual(res.problems, []);
    assert.deepEqual(res.attributes, [v.value]);
  });
}

test('attribute without flags is written with its well-known flags', () => {
  const w = new Writer();
  writeAttribute(w, { kind: 'MULTI_EXIT_DISC', med: 1 }, CTX4);
  writeAttribute(w, { kind: 'UNKNOWN', typeCode: 200, data: Buffer.alloc(0) }, CTX4);
  assert.equal(w.finish().toString('hex'), '80040400000001' + 'c0c800');
});

interface CapVector {
  readonly name: string;
  readonly value: Capability;
  readonly bytes: Buffer;
}

const CAPS: readonly CapVector[] = [
  { name: 'multiprotocol IPv6 unicast', value: { kind: 'MULTIPROTOCOL', afi: 2, safi: 1 }, bytes: bytes('01', '04', '0002', '00', '01') },
  { name: 'route refresh', value: { kind: 'ROUTE_REFRESH' }, bytes: bytes('02', '00') },
  { name: 'route refresh (old 128)', value: { kind: 'ROUTE_REFRESH_OLD' }, bytes: bytes('80', '00') },
  { name: 'enhanced route refresh', value: { kind: 'ENHANCED_ROUTE_REFRESH' }, bytes: bytes('46', '00') },
  { name: 'extended message', value: { kind: 'EXTENDED_MESSAGE' }, bytes: bytes('06', '00') },
  { name: '4-octet AS', value: { kind: 'FOUR_OCTET_AS', asn: 4294967294 }, bytes: bytes('41', '04', 'fffffffe') },
  {
    name: 'graceful restart, R and N bits, max restart time, no families',
    value: { kind: 'GRACEFUL_RESTART', restarting: true, notification: true, restartTime: 4095, families: [] },
    bytes: bytes('40', '02', 'cfff'),
  },
  {
    name: 'graceful restart with per-family forwarding flags',
    value: {
      kind: 'GRACEFUL_RESTART',
      restarting: false,
      notification: false,
      restartTime: 90,
      families: [
        { afi: 1, safi: 1, forwarding: false },
        { afi: 2, safi: 1, forwarding: true },
      ],
    },
    bytes: bytes('40', '0a', '005a', '0001', '01', '00', '0002', '01', '80'),
  },
  { name: 'FQDN', value: { kind: 'FQDN', hostname: 'bcodA', domainName: '' }, bytes: bytes('49', '07', '05', ascii('bcodA'), '00') },
  { name: 'unknown (add-path) kept raw', value: { kind: 'UNKNOWN', code: 69, data: bytes('00020101') }, bytes: bytes('45', '04', '00020101') },
];

for (const v of CAPS) {
  test(`capability encode: ${v.name}`, () => {
    const w = new Writer();
    writeCapability(w, v.value);
    assert.equal(w.finish().toString('hex'), v.bytes.toString('hex'));
  });
  test(`capability decode: ${v.name}`, () => {
    assert.deepEqual(readCapabilities(new Reader(v.bytes)), [v.value]);
  });
}
