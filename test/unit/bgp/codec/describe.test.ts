// describe.ts: log text for messages (presentation, outside the codec).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMessage } from '../../../../src/bgp/describe.ts';
import { decodeMessage, makeNotification } from '../../../../src/bgp/codec.ts';
import { CTX4X, fixtures } from './helpers.ts';

test('describes UPDATE, OPEN, ROUTE-REFRESH, End-of-RIB and NOTIFICATION', () => {
  assert.equal(
    describeMessage({
      type: 'UPDATE',
      withdrawn: [],
      attributes: [
        { kind: 'ORIGIN', origin: 0 },
        { kind: 'AS_PATH', segments: [{ type: 2, asns: [65001, 65002] }, { type: 1, asns: [65003, 65004] }] },
        { kind: 'NEXT_HOP', nextHop: '192.0.2.1' },
        { kind: 'COMMUNITIES', communities: [65001 * 65536 + 100] },
        { kind: 'LARGE_COMMUNITIES', communities: [{ globalAdmin: 1, localData1: 2, localData2: 3 }] },
      ],
      nlri: [{ family: 'ipv4', address: '203.0.113.0', length: 24 }],
    }),
    'UPDATE withdrawn=[] attrs=[origin igp; as-path [65001 65002 {65003 65004}]; next-hop 192.0.2.1; communities 65001:100; large-communities 1:2:3] nlri=[203.0.113.0/24]',
  );
  assert.equal(describeMessage({ type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] }), 'UPDATE end-of-rib ipv4');
  assert.equal(describeMessage({ type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 1 }), 'ROUTE-REFRESH 1/1 BoRR');
  assert.equal(describeMessage(makeNotification({ code: 6, subcode: 2, shutdownMessage: 'bye' })), 'NOTIFICATION 6/2 "bye"');
  assert.equal(
    describeMessage({
      type: 'OPEN',
      version: 4,
      myAsn: 65001,
      holdTime: 90,
      bgpId: '192.0.2.1',
      parameters: [{ kind: 'CAPABILITIES', capabilities: [{ kind: 'MULTIPROTOCOL', afi: 1, safi: 1 }, { kind: 'FOUR_OCTET_AS', asn: 65001 }] }],
    }),
    'OPEN v4 as=65001 hold=90 id=192.0.2.1 caps=[mp(1/1) as4(65001)]',
  );
});

test('describes the FRR hard reset with the shutdown text inside it', () => {
  const texts = fixtures('frr')
    .filter((f) => f.name.endsWith('-notification.hex'))
    .map((f) => describeMessage(decodeMessage(f.bytes, CTX4X).message));
  assert.ok(texts.includes('NOTIFICATION 6/9 (hard reset: NOTIFICATION 6/2 ""berth fixture: maintenance"")'), texts.join('\n'));
});
