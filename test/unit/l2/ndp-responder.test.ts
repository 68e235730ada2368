import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NdpDropReason, respondNdp, type NdpResponderContext } from '../../../src/l2/ndp-responder.ts';
import { decodeEthernet, encodeEthernet } from '../../../src/l2/ethernet.ts';
import { decodeIpv6, encodeIpv6 } from '../../../src/l2/ipv6.ts';
import { decodeNdp, encodeNdp, icmpv6Checksum, type NdpMessage } from '../../../src/l2/icmpv6.ts';
import type { NdpOption } from '../../../src/l2/ndp-options.ts';
import { hex, KERNEL_NA, KERNEL_NS, MAC_A, MAC_B } from './vectors.ts';

const VIP = '2001:db8::b';
const OWNS = (ip: string): boolean => ip === VIP;
const CTX: NdpResponderContext = { mac: MAC_B, owns: OWNS };

interface NsSpec {
  ethDst?: string;
  ethSrc?: string;
  src?: string;
  dst?: string;
  hopLimit?: number;
  nextHeader?: number;
  code?: number;
  message?: NdpMessage;
  options?: readonly NdpOption[];
  target?: string;
  vlan?: number;
}

function ns(s: NsSpec = {}): Buffer {
  const src = s.src ?? 'fe80::ff:fe00:a';
  const dst = s.dst ?? 'ff02::1:ff00:b';
  const msg: NdpMessage = s.message ?? {
    kind: 'neighborSolicitation',
    target: s.target ?? VIP,
    options: s.options ?? [{ kind: 'sourceLinkLayerAddress', address: MAC_A }],
  };
  const icmp = encodeNdp(msg, { source: src, destination: dst });
  if (s.code !== undefined) {
    icmp[1] = s.code;
    icmp.writeUInt16BE(0, 2);
    icmp.writeUInt16BE(icmpv6Checksum({ source: src, destination: dst }, icmp), 2);
  }
  return encodeEthernet({
    destination: s.ethDst ?? '33:33:ff:00:00:0b',
    source: s.ethSrc ?? MAC_A,
    ...(s.vlan === undefined ? {} : { vlan: { priority: 0, dropEligible: false, id: s.vlan } }),
    etherType: 0x86dd,
    payload: encodeIpv6({
      header: { trafficClass: 0, flowLabel: 0, nextHeader: s.nextHeader ?? 58, hopLimit: s.hopLimit ?? 255, source: src, destination: dst },
      payload: icmp,
    }),
  });
}

function na(frame: Buffer) {
  const eth = decodeEthernet(frame);
  const ip = decodeIpv6(eth.payload);
  return { eth, ip: ip.header, ...decodeNdp(ip.payload, ip.header) };
}

test('answers a captured Linux NS with the byte-exact NA the kernel itself sends (source = target)', () => {
  const v = respondNdp(KERNEL_NS, CTX);
  assert.ok(v.kind === 'reply');
  assert.equal(v.vip, VIP);
  assert.equal(v.to, 'fe80::ff:fe00:a');
  assert.deepEqual(v.frame, KERNEL_NA);
});

test('the NA: S and O set, R clear, hop limit 255, TLLA = our MAC, sourced from the target', () => {
  const v = respondNdp(KERNEL_NS, CTX);
  assert.ok(v.kind === 'reply');
  const r = na(v.frame);
  assert.equal(r.eth.destination, MAC_A);
  assert.equal(r.eth.source, MAC_B);
  assert.equal(r.ip.source, VIP);
  assert.equal(r.ip.destination, 'fe80::ff:fe00:a');
  assert.equal(r.ip.hopLimit, 255);
  assert.deepEqual(r.message, {
    kind: 'neighborAdvertisement',
    router: false,
    solicited: true,
    override: true,
    target: VIP,
    options: [{ kind: 'targetLinkLayerAddress', address: MAC_B }],
  });
});

test('DAD probe (source ::) is answered to all-nodes with Solicited clear (RFC 4861 §7.2.4)', () => {
  const v = respondNdp(ns({ src: '::', options: [] }), CTX);
  assert.ok(v.kind === 'reply');
  assert.equal(v.to, 'ff02::1');
  const r = na(v.frame);
  assert.equal(r.eth.destination, '33:33:00:00:00:01');
  assert.equal(r.ip.destination, 'ff02::1');
  assert.ok(r.message.kind === 'neighborAdvertisement');
  assert.equal(r.message.solicited, false);
  assert.equal(r.message.override, true);
});

test('unicast NS (NUD) without SLLA goes back to the frame source; VLAN tag is kept', () => {
  const v = respondNdp(ns({ ethDst: MAC_B, dst: VIP, src: '2001:db8::a', options: [], vlan: 7 }), CTX);
  assert.ok(v.kind === 'reply');
  const r = na(v.frame);
  assert.equal(r.eth.destination, MAC_A);
  assert.deepEqual(r.eth.vlan, { priority: 0, dropEligible: false, id: 7 });
  assert.equal(r.ip.destination, '2001:db8::a');
});

test('the SLLA wins over the Ethernet source as the reply destination', () => {
  const v = respondNdp(ns({ ethSrc: '02:00:00:00:00:0c', options: [{ kind: 'sourceLinkLayerAddress', address: MAC_A }] }), CTX);
  assert.ok(v.kind === 'reply');
  assert.equal(na(v.frame).eth.destination, MAC_A);
});

test('nonce and unknown options in the NS do not stop the answer', () => {
  const v = respondNdp(
    ns({
      options: [
        { kind: 'nonce', nonce: hex('010203040506') },
        { kind: 'unknown', type: 200, data: hex('000000000000') },
        { kind: 'sourceLinkLayerAddress', address: MAC_A },
      ],
    }),
    CTX,
  );
  assert.equal(v.kind, 'reply');
});

const badChecksum = (() => {
  const f = Buffer.from(KERNEL_NS);
  f[56] = (f[56] ?? 0) ^ 0xff; // checksum field
  return f;
})();
const zeroLengthOption = (() => {
  // A valid checksum over an option with length 0.
  const f = Buffer.from(KERNEL_NS);
  f[79] = 0; // option length
  f.writeUInt16BE(0, 56);
  const ip = decodeIpv6(f.subarray(14));
  f.writeUInt16BE(icmpv6Checksum(ip.header, f.subarray(54)), 56);
  return f;
})();
const version4 = (() => {
  const f = Buffer.from(KERNEL_NS);
  f[14] = 0x40;
  return f;
})();

const DROPS: readonly { name: string; frame: Buffer; reason: NdpDropReason }[] = [
  { name: 'runt', frame: hex('3333ff00000b02000000'), reason: NdpDropReason.malformedEthernet },
  { name: 'ARP EtherType', frame: Buffer.concat([KERNEL_NS.subarray(0, 12), hex('0806'), KERNEL_NS.subarray(14)]), reason: NdpDropReason.notIpv6 },
  { name: 'unicast to another MAC', frame: ns({ ethDst: '02:00:00:00:00:0c' }), reason: NdpDropReason.notForUs },
  { name: 'our own frame', frame: ns({ ethSrc: MAC_B }), reason: NdpDropReason.ownFrame },
  { name: 'IP version 4 inside 0x86dd', frame: version4, reason: NdpDropReason.malformedIpv6 },
  { name: 'UDP', frame: ns({ nextHeader: 17 }), reason: NdpDropReason.notIcmpv6 },
  { name: 'hop limit 254 (forwarded)', frame: ns({ hopLimit: 254 }), reason: NdpDropReason.badHopLimit },
  { name: 'checksum', frame: badChecksum, reason: NdpDropReason.badChecksum },
  { name: 'zero-length option', frame: zeroLengthOption, reason: NdpDropReason.malformedIcmpv6 },
  {
    name: 'a Neighbor Advertisement from another host',
    frame: ns({
      dst: 'ff02::1',
      ethDst: '33:33:00:00:00:01',
      message: { kind: 'neighborAdvertisement', router: false, solicited: false, override: true, target: '2001:db8::c', options: [] },
    }),
    reason: NdpDropReason.notSolicitation,
  },
  { name: 'ICMP code 1', frame: ns({ code: 1 }), reason: NdpDropReason.badCode },
  { name: 'multicast target', frame: ns({ target: 'ff02::1', dst: 'ff02::1:ff00:1' }), reason: NdpDropReason.multicastTarget },
  { name: 'DAD to the target itself', frame: ns({ src: '::', dst: VIP, ethDst: MAC_B, options: [] }), reason: NdpDropReason.dadNotSolicitedNode },
  { name: 'DAD with SLLA', frame: ns({ src: '::' }), reason: NdpDropReason.dadWithSourceLinkLayer },
  { name: 'solicited-node group of another address', frame: ns({ dst: 'ff02::1:ff00:c' }), reason: NdpDropReason.wrongDestination },
  { name: 'foreign target', frame: ns({ target: '2001:db8::c', dst: 'ff02::1:ff00:c' }), reason: NdpDropReason.notOwned },
];

test('every drop reason is produced, by the frame that should produce it', () => {
  for (const d of DROPS) {
    const v = respondNdp(d.frame, CTX);
    assert.equal(v.kind, 'drop', d.name);
    assert.ok(v.kind === 'drop');
    assert.equal(v.reason, d.reason, d.name);
  }
  assert.deepEqual(new Set(DROPS.map((d) => d.reason)), new Set(Object.values(NdpDropReason)));
});

test('mutating any byte of a valid NS gives a reply or a named drop, never an exception', () => {
  fc.assert(
    fc.property(fc.nat(KERNEL_NS.length - 1), fc.integer({ min: 0, max: 255 }), (i, b) => {
      const f = Buffer.from(KERNEL_NS);
      f[i] = b;
      const v = respondNdp(f, CTX);
      if (v.kind === 'drop') assert.ok(Object.values(NdpDropReason).includes(v.reason));
    }),
    { numRuns: 2000 },
  );
});
