// foreignClaim: which ARP frames claim one of our VIPs (RFC 5227 §2.4), from kernel-shaped frames
// built by berth's own codecs; and the RFC 5227 §2.1.1 probe's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignClaim, probeFrame } from '../../../src/liveness/observer.ts';
import { encodeEthernet } from '../../../src/l2/ethernet.ts';
import { encodeArp } from '../../../src/l2/arp.ts';
import { gratuitousArp } from '../../../src/l2/announcements.ts';
import { ArpOperation, EtherType } from '../../../src/l2/constants.ts';

const VIP = '203.0.113.130';
const OURS = new Set(['02:b1:00:00:01:0b']);
const OTHER = '02:b1:00:00:01:0c';
const watched = (ip: string): boolean => ip === VIP;

function arp(op: 1 | 2, sender: string, senderIp: string, targetIp: string): Buffer {
  return encodeEthernet({
    destination: 'ff:ff:ff:ff:ff:ff',
    source: sender,
    etherType: EtherType.arp,
    payload: encodeArp({ operation: op, senderHardware: sender, senderProtocol: senderIp, targetHardware: '00:00:00:00:00:00', targetProtocol: targetIp }),
  });
}

test('claims: a reply from the VIP, an announcement (both forms), a request sent from the VIP', () => {
  assert.deepEqual(foreignClaim(arp(ArpOperation.reply, OTHER, VIP, '192.0.2.100'), OURS, watched), { vip: VIP, mac: OTHER, kind: 'reply' });
  const [asRequest, asReply] = gratuitousArp({ mac: OTHER }, VIP);
  assert.deepEqual(foreignClaim(asRequest ?? Buffer.alloc(0), OURS, watched), { vip: VIP, mac: OTHER, kind: 'announcement' });
  assert.deepEqual(foreignClaim(asReply ?? Buffer.alloc(0), OURS, watched), { vip: VIP, mac: OTHER, kind: 'reply' });
  assert.deepEqual(foreignClaim(arp(ArpOperation.request, OTHER, VIP, '192.0.2.1'), OURS, watched), { vip: VIP, mac: OTHER, kind: 'request' });
});

test('not claims: our own MAC, a client asking for the VIP, a probe (sender 0.0.0.0), other VIPs, other frames', () => {
  assert.equal(foreignClaim(arp(ArpOperation.reply, '02:b1:00:00:01:0b', VIP, '192.0.2.100'), OURS, watched), undefined);
  assert.equal(foreignClaim(arp(ArpOperation.request, OTHER, '192.0.2.100', VIP), OURS, watched), undefined);
  assert.equal(foreignClaim(probeFrame(OTHER, VIP), OURS, watched), undefined);
  assert.equal(foreignClaim(arp(ArpOperation.reply, OTHER, '203.0.113.131', '192.0.2.100'), OURS, watched), undefined);
  assert.equal(foreignClaim(Buffer.alloc(8), OURS, watched), undefined);
  assert.equal(foreignClaim(encodeEthernet({ destination: 'ff:ff:ff:ff:ff:ff', source: OTHER, etherType: EtherType.ipv4, payload: Buffer.alloc(28) }), OURS, watched), undefined);
});

test('the probe: broadcast ARP request, sender IP 0.0.0.0, target hardware zero, target the VIP (RFC 5227 §2.1.1)', () => {
  const want = Buffer.concat([
    Buffer.from('ffffffffffff', 'hex'), // broadcast
    Buffer.from('02b10000010b', 'hex'), // our MAC
    Buffer.from('0806', 'hex'), // ARP
    Buffer.from('0001 0800 06 04 0001'.replace(/ /g, ''), 'hex'), // Ethernet, IPv4, 6, 4, request
    Buffer.from('02b10000010b', 'hex'), // sender hardware
    Buffer.from([0, 0, 0, 0]), // sender IP 0.0.0.0
    Buffer.from('000000000000', 'hex'), // target hardware
    Buffer.from([203, 0, 113, 130]), // target IP: the VIP
  ]);
  const got = probeFrame('02:b1:00:00:01:0b', VIP);
  assert.deepEqual(got.subarray(0, want.length), want);
});
