import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ArpDropReason, respondArp, type ArpResponderContext } from '../../../src/l2/arp-responder.ts';
import { encodeEthernet } from '../../../src/l2/ethernet.ts';
import { encodeArp, type ArpPacket } from '../../../src/l2/arp.ts';
import { ArpOperation } from '../../../src/l2/constants.ts';
import { hex, KERNEL_ARP_REPLY, KERNEL_ARP_REQUEST, MAC_A, MAC_B } from './vectors.ts';

const VIP = '192.0.2.11';
const CTX: ArpResponderContext = { mac: MAC_B, owns: (ip) => ip === VIP };

function request(over: Partial<ArpPacket> = {}, eth: { destination?: string; source?: string; etherType?: number } = {}): Buffer {
  const p: ArpPacket = {
    operation: ArpOperation.request,
    senderHardware: MAC_A,
    senderProtocol: '192.0.2.10',
    targetHardware: '00:00:00:00:00:00',
    targetProtocol: VIP,
    ...over,
  };
  return encodeEthernet({
    destination: eth.destination ?? 'ff:ff:ff:ff:ff:ff',
    source: eth.source ?? p.senderHardware,
    etherType: eth.etherType ?? 0x0806,
    payload: encodeArp(p),
  });
}

test('answers a captured Linux request with the byte-exact reply the kernel itself sends (plus padding)', () => {
  const v = respondArp(KERNEL_ARP_REQUEST, CTX);
  assert.equal(v.kind, 'reply');
  assert.ok(v.kind === 'reply');
  assert.equal(v.vip, VIP);
  assert.deepEqual(v.frame, Buffer.concat([KERNEL_ARP_REPLY, Buffer.alloc(18)]));
});

test('answers a unicast refresh to our MAC, and an RFC 5227 probe', () => {
  const uni = respondArp(request({}, { destination: MAC_B }), CTX);
  assert.equal(uni.kind, 'reply');
  const probe = respondArp(request({ senderProtocol: '0.0.0.0' }), CTX);
  assert.ok(probe.kind === 'reply');
  assert.deepEqual(
    probe.frame.subarray(0, 42),
    hex(
      '02000000000a', // to the prober
      '02000000000b',
      '0806',
      '0001 0800 06 04 0002',
      '02000000000b c000020b', // VIP is at our MAC
      '02000000000a 00000000', // back to the prober's 0.0.0.0
    ),
  );
});

test('a request with an 802.1Q tag is answered with the same tag', () => {
  const tagged = encodeEthernet({
    destination: 'ff:ff:ff:ff:ff:ff',
    source: MAC_A,
    vlan: { priority: 0, dropEligible: false, id: 42 },
    etherType: 0x0806,
    payload: KERNEL_ARP_REQUEST.subarray(14, 42),
  });
  const v = respondArp(tagged, CTX);
  assert.ok(v.kind === 'reply');
  assert.deepEqual(v.frame.subarray(12, 18), hex('8100 002a 0806'));
  assert.deepEqual(v.frame.subarray(18, 46), KERNEL_ARP_REPLY.subarray(14));
});

const DROPS: readonly { name: string; frame: Buffer; reason: ArpDropReason }[] = [
  { name: 'runt frame', frame: hex('ffffffffffff02000000'), reason: ArpDropReason.malformedEthernet },
  { name: 'IPv4 EtherType', frame: request({}, { etherType: 0x0800 }), reason: ArpDropReason.notArp },
  { name: 'our own frame', frame: request({}, { source: MAC_B }), reason: ArpDropReason.ownFrame },
  { name: 'unicast to another MAC', frame: request({}, { destination: '02:00:00:00:00:0c' }), reason: ArpDropReason.notForUs },
  {
    name: 'non-Ethernet hardware type',
    frame: (() => {
      const f = request();
      f.writeUInt16BE(6, 14);
      return f;
    })(),
    reason: ArpDropReason.malformedArp,
  },
  { name: 'a reply', frame: request({ operation: ArpOperation.reply }), reason: ArpDropReason.notRequest },
  {
    name: 'someone else announcing the VIP',
    frame: request({ senderProtocol: VIP, senderHardware: '02:00:00:00:00:0c' }),
    reason: ArpDropReason.announcement,
  },
  { name: 'a foreign target', frame: request({ targetProtocol: '192.0.2.99' }), reason: ArpDropReason.notOwned },
];

test('every drop reason is produced, by the frame that should produce it', () => {
  for (const d of DROPS) {
    const v = respondArp(d.frame, CTX);
    assert.equal(v.kind, 'drop', d.name);
    assert.ok(v.kind === 'drop');
    assert.equal(v.reason, d.reason, d.name);
  }
  assert.deepEqual(new Set(DROPS.map((d) => d.reason)), new Set(Object.values(ArpDropReason)));
});

test('ownership is asked per interface context: the same frame is dropped where the VIP is not owned', () => {
  const v = respondArp(KERNEL_ARP_REQUEST, { mac: MAC_B, owns: () => false });
  assert.ok(v.kind === 'drop');
  assert.equal(v.reason, ArpDropReason.notOwned);
});

test('mutating any byte of a valid request gives a reply or a named drop, never an exception', () => {
  fc.assert(
    fc.property(fc.nat(KERNEL_ARP_REQUEST.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(KERNEL_ARP_REQUEST.length), (i, b, cut) => {
      const f = Buffer.from(KERNEL_ARP_REQUEST);
      f[i] = b;
      const v = respondArp(f.subarray(0, cut), CTX);
      if (v.kind === 'drop') assert.ok(Object.values(ArpDropReason).includes(v.reason));
      else assert.equal(v.vip, VIP);
    }),
    { numRuns: 2000 },
  );
});
