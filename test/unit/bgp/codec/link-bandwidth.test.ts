// The RFC 10005 link bandwidth extended community: its octets, its round trip, and where the speaker
// puts it (pathAttributes, the Adj-RIB-Out merge and diff).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { linkBandwidthCommunity, parseLinkBandwidth } from '../../../../src/bgp/attributes/link-bandwidth.ts';
import { describeTable, desiredRoutes, diffRoutes } from '../../../../src/bgp/adj-rib-out.ts';
import { encodeMessage, decodeMessage } from '../../../../src/bgp/codec.ts';
import { pathAttributes } from '../../../../src/bgp/speaker.ts';
import { CTX4 } from './helpers.ts';

describe('link bandwidth extended community (RFC 10005)', () => {
  it('is type 0x00 (two-octet AS, transitive), sub-type 0x04, the AS, then an IEEE 754 float of bytes/s', () => {
    // 125,000 bytes/s = 1 Mbit/s = float32 0x47F42400; AS 64512 = 0xFC00.
    assert.equal(linkBandwidthCommunity(64512, 125_000), 0x0004_fc00_47f4_2400n);
    assert.equal(linkBandwidthCommunity(65001, 375_000).toString(16).padStart(16, '0').slice(0, 8), '0004fde9');
  });
  it('carries AS_TRANS for a four-octet AS (the field has two octets)', () => {
    assert.equal(parseLinkBandwidth(linkBandwidthCommunity(4_200_000_000, 125_000))?.asn, 23456);
  });
  it('round-trips whole endpoint counts exactly, and reads the non-transitive form (0x40) too', () => {
    for (const n of [0, 1, 3, 10, 1000]) assert.deepEqual(parseLinkBandwidth(linkBandwidthCommunity(64512, n * 125_000)), { asn: 64512, bytesPerSecond: n * 125_000 });
    assert.deepEqual(parseLinkBandwidth(0x4004_fc00_47f4_2400n), { asn: 64512, bytesPerSecond: 125_000 });
  });
  it('is not any other community: route target (0x0002), four-octet AS (0x02), opaque (0x03)', () => {
    for (const c of [0x0002_fc00_0000_0001n, 0x0204_0000_fc00_0001n, 0x0304_0000_0000_0000n]) assert.equal(parseLinkBandwidth(c), undefined);
  });
});

describe('the speaker sends it', () => {
  it('pathAttributes: EXTENDED_COMMUNITIES with the link bandwidth when the route has one, nothing otherwise', () => {
    const with3 = pathAttributes(64512, false, { communities: [], largeCommunities: [], linkBandwidth: 375_000 });
    assert.deepEqual(with3.at(-1), { kind: 'EXTENDED_COMMUNITIES', communities: [linkBandwidthCommunity(64512, 375_000)] });
    assert.ok(!pathAttributes(64512, false, { communities: [], largeCommunities: [] }).some((a) => a.kind === 'EXTENDED_COMMUNITIES'));
  });
  it('survives the UPDATE codec: encoded, decoded, parsed back', () => {
    const attrs = pathAttributes(64512, true, { communities: [], largeCommunities: [], linkBandwidth: 250_000 });
    const wire = encodeMessage({ type: 'UPDATE', withdrawn: [], attributes: [...attrs, { kind: 'NEXT_HOP', nextHop: '192.0.2.11' }], nlri: [{ family: 'ipv4', address: '198.51.100.10', length: 32 }] }, CTX4);
    const back = decodeMessage(wire, CTX4);
    assert.equal(back.action, 'none');
    const ext = back.message.type === 'UPDATE' ? back.message.attributes.find((a) => a.kind === 'EXTENDED_COMMUNITIES') : undefined;
    assert.ok(ext?.kind === 'EXTENDED_COMMUNITIES');
    assert.deepEqual(parseLinkBandwidth(ext.communities[0] ?? 0n), { asn: 64512, bytesPerSecond: 250_000 });
  });
  it('Adj-RIB-Out: one prefix advertised twice keeps the larger bandwidth; a changed bandwidth is a changed route', () => {
    const t = describeTable(desiredRoutes('r', [{ prefix: '198.51.100.10/32', linkBandwidth: 125_000 }, { prefix: '198.51.100.10/32', linkBandwidth: 375_000 }]));
    assert.equal(t.get('198.51.100.10/32')?.linkBandwidth, 375_000);
    const before = desiredRoutes('r', [{ prefix: '198.51.100.10/32', linkBandwidth: 125_000 }]);
    const after = desiredRoutes('r', [{ prefix: '198.51.100.10/32', linkBandwidth: 250_000 }]);
    const d = diffRoutes(before, after);
    assert.deepEqual(d.announce.map((g) => g.attributes.linkBandwidth), [250_000]);
  });
});
