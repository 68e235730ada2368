// RFC 6793 helpers: sending to and receiving from a 2-octet speaker.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reconstructAs4, toTwoOctetAttributes } from '../../../../src/bgp/codec.ts';
import type { PathAttribute } from '../../../../src/bgp/messages/types.ts';
import { CTX2, CTX4 } from './helpers.ts';

test('toTwoOctetAttributes: AS_TRANS in AS_PATH and AGGREGATOR, AS4_* inserted in type order (§4.2.2)', () => {
  const attrs: PathAttribute[] = [
    { kind: 'ORIGIN', origin: 0 },
    { kind: 'AS_PATH', segments: [{ type: 3, asns: [64512] }, { type: 2, asns: [65001, 4200000001] }] },
    { kind: 'NEXT_HOP', nextHop: '192.0.2.1' },
    { kind: 'AGGREGATOR', asn: 4200000001, address: '192.0.2.1' },
    { kind: 'LARGE_COMMUNITIES', communities: [] },
  ];
  assert.deepEqual(toTwoOctetAttributes(attrs), [
    { kind: 'ORIGIN', origin: 0 },
    { kind: 'AS_PATH', segments: [{ type: 3, asns: [64512] }, { type: 2, asns: [65001, 23456] }] },
    { kind: 'NEXT_HOP', nextHop: '192.0.2.1' },
    { kind: 'AGGREGATOR', asn: 23456, address: '192.0.2.1' },
    { kind: 'AS4_PATH', segments: [{ type: 2, asns: [65001, 4200000001] }] }, // no confederation segments
    { kind: 'AS4_AGGREGATOR', asn: 4200000001, address: '192.0.2.1' },
    { kind: 'LARGE_COMMUNITIES', communities: [] },
  ]);
});

test('toTwoOctetAttributes leaves 2-octet-only attributes alone and drops stale AS4_*', () => {
  const attrs: PathAttribute[] = [
    { kind: 'AS_PATH', segments: [{ type: 2, asns: [65001] }] },
    { kind: 'AS4_PATH', segments: [{ type: 2, asns: [1] }] },
  ];
  assert.deepEqual(toTwoOctetAttributes(attrs), [{ kind: 'AS_PATH', segments: [{ type: 2, asns: [65001] }] }]);
});

interface Row {
  readonly name: string;
  readonly attrs: readonly PathAttribute[];
  readonly asPath: readonly { type: 1 | 2 | 3 | 4; asns: number[] }[];
  readonly aggregator?: { asn: number; address: string };
}

const ROWS: readonly Row[] = [
  {
    name: 'AS4_PATH replaces the trailing AS_TRANS part',
    attrs: [
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [65002, 65003, 23456, 23456] }] },
      { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001, 4200000002] }] },
    ],
    asPath: [{ type: 2, asns: [65002, 65003] }, { type: 2, asns: [4200000001, 4200000002] }],
  },
  {
    name: 'AS4_PATH longer than AS_PATH is ignored',
    attrs: [
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [23456] }] },
      { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001, 4200000002] }] },
    ],
    asPath: [{ type: 2, asns: [23456] }],
  },
  {
    name: 'an AS_SET counts as one',
    attrs: [
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [65002] }, { type: 1, asns: [23456, 65009] }] },
      { kind: 'AS4_PATH', segments: [{ type: 1, asns: [4200000001, 65009] }] },
    ],
    asPath: [{ type: 2, asns: [65002] }, { type: 1, asns: [4200000001, 65009] }],
  },
  {
    name: 'AGGREGATOR with a real AS: AS4_AGGREGATOR and AS4_PATH ignored',
    attrs: [
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [23456] }] },
      { kind: 'AGGREGATOR', asn: 65005, address: '192.0.2.5' },
      { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001] }] },
      { kind: 'AS4_AGGREGATOR', asn: 4200000001, address: '192.0.2.1' },
    ],
    asPath: [{ type: 2, asns: [23456] }],
    aggregator: { asn: 65005, address: '192.0.2.5' },
  },
  {
    name: 'AGGREGATOR AS_TRANS: AS4_AGGREGATOR wins',
    attrs: [
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [23456] }] },
      { kind: 'AGGREGATOR', asn: 23456, address: '192.0.2.1' },
      { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001] }] },
      { kind: 'AS4_AGGREGATOR', asn: 4200000001, address: '192.0.2.1' },
    ],
    asPath: [{ type: 2, asns: [4200000001] }],
    aggregator: { asn: 4200000001, address: '192.0.2.1' },
  },
];

for (const row of ROWS) {
  test(`reconstructAs4 (§4.2.3): ${row.name}`, () => {
    const v = reconstructAs4(row.attrs, CTX2);
    assert.deepEqual(v.asPath, row.asPath);
    assert.deepEqual(v.aggregator, row.aggregator);
  });
}

test('reconstructAs4 between 4-octet speakers ignores AS4_* (§4.1)', () => {
  const attrs: PathAttribute[] = [
    { kind: 'AS_PATH', segments: [{ type: 2, asns: [23456] }] },
    { kind: 'AS4_PATH', segments: [{ type: 2, asns: [4200000001] }] },
  ];
  assert.deepEqual(reconstructAs4(attrs, CTX4), { asPath: [{ type: 2, asns: [23456] }] });
});
