// foreignClaim: which ARP frames claim one of our VIPs (RFC 5227 §2.4), from kernel-shaped frames
// built by berth's own codecs; and the RFC 5227 §2.1.1 probe's bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foreignClaim, foreignNdpClaim, probeFrame } from '../../../src/liveness/observer.ts';
import { encodeIpv6 } from '../../../src/l2/ipv6.ts';
import { encodeNdp, icmpv6Checksum } from '../../../src/l2/icmpv6.ts';
import { unsolicitedAdvertisement } from '../../../src/l2/announcements.ts';
import { IpProtocol } from '../../../src/l2/constants.ts';
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
  assert.deepEqual(foreignClaim(asReply ?? Buffer.alloc(0), OURS, watched), { vip: VIP, mac: OTHER, kind: 'announcement' }, 'a gratuitous ARP reply announces too');
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

const VIP6 = '2001:db8:f00::10';
const watched6 = (ip: string): boolean => ip === VIP6;

function na(o: { solicited: boolean; tlla?: string; source?: string; hopLimit?: number; target?: string }): Buffer {
  const src = o.source ?? OTHER;
  const pseudo = { source: o.target ?? VIP6, destination: 'ff02::1' };
  return encodeEthernet({
    destination: '33:33:00:00:00:01',
    source: src,
    etherType: EtherType.ipv6,
    payload: encodeIpv6({
      header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: o.hopLimit ?? 255, ...pseudo },
      payload: encodeNdp({ kind: 'neighborAdvertisement', router: false, solicited: o.solicited, override: true, target: o.target ?? VIP6, options: o.tlla === undefined ? [] : [{ kind: 'targetLinkLayerAddress', address: o.tlla }] }, pseudo),
    }),
  });
}

test('NDP claims: an unsolicited NA (announcement), a solicited one (reply); the TLLA option names the MAC', () => {
  assert.deepEqual(foreignNdpClaim(unsolicitedAdvertisement({ mac: OTHER }, VIP6), OURS, watched6), { vip: VIP6, mac: OTHER, kind: 'announcement' });
  assert.deepEqual(foreignNdpClaim(na({ solicited: true, tlla: OTHER }), OURS, watched6), { vip: VIP6, mac: OTHER, kind: 'reply' });
  assert.deepEqual(foreignNdpClaim(na({ solicited: false, source: '02:b1:00:00:01:0b', tlla: OTHER }), OURS, watched6)?.mac, OTHER, 'the option wins over the frame source');
  assert.deepEqual(foreignNdpClaim(na({ solicited: false }), OURS, watched6)?.mac, OTHER, 'without the option: the frame source');
});

test('NDP non-claims: ours, another target, a forwarded NA (hop limit below 255), a bad checksum, an NS', () => {
  assert.equal(foreignNdpClaim(unsolicitedAdvertisement({ mac: '02:b1:00:00:01:0b' }, VIP6), OURS, watched6), undefined);
  assert.equal(foreignNdpClaim(na({ solicited: false, target: '2001:db8:f00::11' }), OURS, watched6), undefined);
  assert.equal(foreignNdpClaim(na({ solicited: false, hopLimit: 64 }), OURS, watched6), undefined);
  const bad = Buffer.from(na({ solicited: false }));
  bad[14 + 40 + 2] = (bad[14 + 40 + 2] ?? 0) ^ 0xff;
  assert.equal(foreignNdpClaim(bad, OURS, watched6), undefined);
  assert.equal(foreignNdpClaim(probeFrame(OTHER, VIP6), OURS, watched6), undefined);
});

test('the IPv6 probe: a DAD solicitation (RFC 4862 §5.4.2) from ::, to the solicited-node group, no options, hop limit 255', () => {
  const f = probeFrame('02:b1:00:00:01:0b', VIP6);
  const icmp = f.subarray(14 + 40);
  const want = Buffer.concat([
    Buffer.from('3333ff000010', 'hex'), // the group's MAC (RFC 2464 §7)
    Buffer.from('02b10000010b', 'hex'),
    Buffer.from('86dd', 'hex'),
    Buffer.from('60000000', 'hex'), // version 6, class 0, flow 0
    Buffer.from([0, 24, 58, 255]), // payload 24 (no options), ICMPv6, hop limit 255
    Buffer.alloc(16), // source ::
    Buffer.from('ff0200000000000000000001ff000010', 'hex'), // ff02::1:ff00:10
    Buffer.from([135, 0]), // Neighbor Solicitation, code 0
    Buffer.from([icmp[2] ?? 0, icmp[3] ?? 0]), // checksum (verified below)
    Buffer.alloc(4), // reserved
    Buffer.from('20010db80f0000000000000000000010', 'hex'), // target
  ]);
  assert.deepEqual(f, want);
  assert.equal(icmpv6Checksum({ source: '::', destination: 'ff02::1:ff00:10' }, icmp), 0);
});
