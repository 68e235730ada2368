import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { peerProblems, ttlFor, localCapabilities, buildOpen, type PeerSpec } from '../../../../src/bgp/peer.ts';

const ok: PeerSpec = { name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: '192.0.2.1' };

describe('peerProblems', () => {
  it('accepts a plain peer', () => assert.deepEqual(peerProblems(ok), []));
  const bad: readonly [string, Partial<PeerSpec>, RegExp][] = [
    ['hold time 2 (RFC 4271 §4.2)', { holdTimeSec: 2 }, /holdTime/],
    ['hold time above 65535', { holdTimeSec: 70000 }, /holdTime/],
    ['keepalive above hold', { holdTimeSec: 9, keepaliveTimeSec: 10 }, /keepaliveTime/],
    ['both peerAsn and dynamicAsn', { dynamicAsn: 'external' }, /exactly one/],
    ['bad address', { peerAddress: 'router1' }, /peerAddress/],
    ['router id 0.0.0.0', { routerId: '0.0.0.0' }, /routerId/],
    ['AS 0', { myAsn: 0 }, /myAsn/],
    ['restart time above 12 bits', { gracefulRestartTimeSec: 5000 }, /gracefulRestartTime/],
    ['MD5 key above 80 bytes', { password: 'x'.repeat(81) }, /password/],
  ];
  for (const [name, change, re] of bad) {
    it(`rejects ${name}`, () => assert.match(peerProblems({ ...ok, ...change }).join('; '), re));
  }
  it('accepts hold time 0 and dynamic ASN alone', () => {
    const { peerAsn: _p, ...rest } = ok;
    assert.deepEqual(peerProblems({ ...rest, dynamicAsn: 'internal', holdTimeSec: 0 }), []);
  });
});

describe('TTL and OPEN', () => {
  it('single-hop eBGP uses TTL 1; multi-hop eBGP and iBGP 255', () => {
    assert.equal(ttlFor(ok), 1);
    assert.equal(ttlFor({ ...ok, ebgpMultiHop: true }), 255);
    assert.equal(ttlFor({ ...ok, peerAsn: 64512 }), 255);
  });
  it('a 4-octet AS goes in the capability, AS_TRANS in My AS (RFC 6793 §4.1)', () => {
    const p = { ...ok, myAsn: 4200000000 };
    const open = buildOpen(p, 0xc0000201, localCapabilities(p, { restarting: false }));
    assert.equal(open.myAsn, 23456);
    assert.equal(open.bgpId, '192.0.2.1');
    const caps = open.parameters.flatMap((x) => (x.kind === 'CAPABILITIES' ? x.capabilities : []));
    assert.ok(caps.some((c) => c.kind === 'FOUR_OCTET_AS' && c.asn === 4200000000));
  });
  it('dual stack advertises both unicast families; otherwise only the peer address family', () => {
    const fams = (p: PeerSpec) => localCapabilities(p, { restarting: false }).flatMap((c) => (c.kind === 'MULTIPROTOCOL' ? [c.afi] : []));
    assert.deepEqual(fams(ok), [1]);
    assert.deepEqual(fams({ ...ok, peerAddress: '2001:db8::1' }), [2]);
    assert.deepEqual(fams({ ...ok, dualStackAddressFamily: true }), [1, 2]);
  });
});
