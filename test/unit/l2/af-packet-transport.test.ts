// The AF_PACKET adapter over src/sys, driven through src/sys's own fakes (no sockets, no root): the
// mapping to PacketTransport, and two engines on one fake LAN answering a client.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeLan, createFakePacketTransport, type FakePacketTransport, type PacketSocketOptions } from '../../../src/sys/index.ts';
import { afPacketTransportFactory, interfaceFactsFromSys, linkInfoFromSys } from '../../../src/l2/af-packet-transport.ts';
import { createLayer2Engine } from '../../../src/l2/engine.ts';
import { decodeArp, encodeArp } from '../../../src/l2/arp.ts';
import { decodeEthernet, encodeEthernet } from '../../../src/l2/ethernet.ts';
import { ManualClock } from './fakes.ts';
import { KERNEL_ARP_REQUEST, KERNEL_NA, KERNEL_NS, MAC_B } from './vectors.ts';
import type { InterfaceInfo } from '../../../src/sys/index.ts';

test('adapter: frames in and out, multicast MACs as bytes, close', () => {
  const fakes: FakePacketTransport[] = [];
  const filters: (string | undefined)[] = [];
  const open = (o: PacketSocketOptions): FakePacketTransport => {
    const t = createFakePacketTransport(o, 2);
    fakes.push(t);
    filters.push(o.filter);
    return t;
  };
  const engine = createLayer2Engine({
    openTransport: afPacketTransportFactory({ link: (n) => (n === 'eth0' ? { name: 'eth0', index: 2, mac: MAC_B } : undefined), open }),
    timers: new ManualClock(),
    announce: { burstCount: 0 },
  });
  assert.deepEqual(engine.setOwned([{ vip: '2001:db8::b', interfaces: ['eth0'] }, { vip: '192.0.2.11', interfaces: ['eth0'] }]), []);
  const [v6, v4] = fakes;
  assert.ok(v6 && v4);
  assert.equal(v6.etherType, 0x86dd);
  assert.equal(v4.etherType, 0x0806);
  // The kernel filters what reaches JavaScript: Neighbor Solicitations only / ARP requests only.
  assert.deepEqual(filters, ['neighborSolicitation', 'arpRequest']);
  assert.deepEqual([...v6.memberships], ['33:33:ff:00:00:0b']);
  v6.inject(KERNEL_NS, 'multicast');
  assert.deepEqual(v6.sent, [KERNEL_NA]);
  v4.inject(KERNEL_ARP_REQUEST, 'broadcast');
  assert.equal(v4.sent.length, 1);
  assert.equal(engine.setOwned([{ vip: '192.0.2.11', interfaces: ['eth9'] }])[0]?.reason, 'transportFailed');
  assert.equal(v6.closed, true);
  assert.equal(v4.closed, true);
});

test('two engines on one LAN: only the owner answers; the new owner announces itself after a handover', () => {
  const lan = createFakeLan();
  const mk = (mac: string) =>
    createLayer2Engine({
      openTransport: afPacketTransportFactory({
        link: (n) => ({ name: n, index: 2, mac }),
        open: (o) => lan.open({ ...o, mac }),
      }),
      timers: new ManualClock(),
      announce: { burstCount: 1, refreshIntervalMs: 0 },
    });
  const a = mk('02:00:00:00:00:0a');
  const b = mk('02:00:00:00:00:0b');
  const heard: Buffer[] = [];
  const client = lan.open({ ifname: 'eth0', etherType: 0x0806, mac: '02:00:00:00:00:64', onFrame: (f) => heard.push(f.frame) });
  // Both nodes listen on ARP (B owns something else), A owns the VIP.
  a.setOwned([{ vip: '203.0.113.10', interfaces: ['eth0'] }]);
  b.setOwned([{ vip: '203.0.113.11', interfaces: ['eth0'] }]);
  heard.length = 0; // the two announcements
  const request = encodeEthernet({
    destination: 'ff:ff:ff:ff:ff:ff',
    source: '02:00:00:00:00:64',
    etherType: 0x0806,
    payload: encodeArp({
      operation: 1,
      senderHardware: '02:00:00:00:00:64',
      senderProtocol: '192.0.2.100',
      targetHardware: '00:00:00:00:00:00',
      targetProtocol: '203.0.113.10',
    }),
  });
  client.send(request);
  assert.equal(heard.length, 1);
  const reply = decodeArp(decodeEthernet(heard[0] ?? Buffer.alloc(0)).payload);
  assert.equal(reply.senderHardware, '02:00:00:00:00:0a');
  assert.equal(b.stats().drops['arp:notOwned'], 1);
  // Handover: A releases, B takes; the client hears B's announcement without asking.
  heard.length = 0;
  a.setOwned([]);
  b.setOwned([
    { vip: '203.0.113.11', interfaces: ['eth0'] },
    { vip: '203.0.113.10', interfaces: ['eth0'] },
  ]);
  const announced = heard.map((f) => decodeArp(decodeEthernet(f).payload));
  assert.deepEqual(
    announced.map((p) => [p.operation, p.senderHardware, p.senderProtocol, p.targetProtocol]),
    [
      [1, '02:00:00:00:00:0b', '203.0.113.10', '203.0.113.10'],
      [2, '02:00:00:00:00:0b', '203.0.113.10', '203.0.113.10'],
    ],
  );
  heard.length = 0;
  client.send(request);
  assert.equal(heard.length, 1);
  assert.equal(decodeArp(decodeEthernet(heard[0] ?? Buffer.alloc(0)).payload).senderHardware, '02:00:00:00:00:0b');
});

test('src/sys interface facts convert to InterfaceFacts and LinkInfo', () => {
  const info: InterfaceInfo = {
    name: 'eth2',
    index: 5,
    mac: '02:00:00:00:00:05',
    mtu: 1500,
    flags: { up: true, running: true, loopback: false, noarp: false, broadcast: true, multicast: true, promisc: false },
    master: 'br0',
    kind: undefined,
    addresses: [
      { family: 4, address: '192.0.2.5', prefixLength: 24, linkLocal: false },
      { family: 6, address: 'fe80::5%eth2', prefixLength: 64, linkLocal: true },
    ],
  };
  assert.deepEqual(interfaceFactsFromSys(info), {
    name: 'eth2',
    index: 5,
    up: true,
    loopback: false,
    noarp: false,
    addresses: [
      { ip: '192.0.2.5', prefixLength: 24 },
      { ip: 'fe80::5', prefixLength: 64 },
    ],
    mac: '02:00:00:00:00:05',
    master: 'br0',
  });
  assert.deepEqual(linkInfoFromSys(info), { name: 'eth2', index: 5, mac: '02:00:00:00:00:05' });
  assert.equal(linkInfoFromSys({ ...info, mac: '' }), undefined);
  assert.equal(interfaceFactsFromSys({ ...info, mac: '', master: undefined }).mac, undefined);
});
