// The fake packet transports other areas test against must behave like Ethernet on a LAN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeLan, createFakePacketTransport, EtherType, SysError, type ReceivedFrame } from '../../../src/sys/index.ts';

const frame = (dst: string, etherType: number): Buffer =>
  Buffer.concat([Buffer.from(dst.replaceAll(':', ''), 'hex'), Buffer.from('02b10000010b', 'hex'), Buffer.from([etherType >> 8, etherType & 0xff]), Buffer.alloc(46)]);

function host(lan: ReturnType<typeof createFakeLan>, mac: string, etherType: number = EtherType.ARP) {
  const got: ReceivedFrame[] = [];
  const t = lan.open({ ifname: 'eth1', etherType, mac, onFrame: (f) => got.push(f) });
  return { t, got };
}

test('fake LAN: broadcast reaches every other host, never the sender', () => {
  const lan = createFakeLan();
  const a = host(lan, '02:00:00:00:00:0a');
  const b = host(lan, '02:00:00:00:00:0b');
  const c = host(lan, '02:00:00:00:00:0c');
  const f = frame('ff:ff:ff:ff:ff:ff', EtherType.ARP);
  a.t.send(f);
  assert.equal(a.got.length, 0);
  assert.deepEqual(
    [b, c].map((h) => h.got.map((g) => [g.packetType, g.frame.equals(f)])),
    [[['broadcast', true]], [['broadcast', true]]],
  );
  assert.deepEqual(a.t.sent, [f]);
});

test('fake LAN: unicast reaches only the addressed MAC, as packet type host', () => {
  const lan = createFakeLan();
  const a = host(lan, '02:00:00:00:00:0a');
  const b = host(lan, '02:00:00:00:00:0b');
  const c = host(lan, '02:00:00:00:00:0c');
  a.t.send(frame('02:00:00:00:00:0b', EtherType.ARP));
  assert.equal(b.got.length, 1);
  assert.equal(b.got[0]?.packetType, 'host');
  assert.equal(c.got.length, 0);
});

test('fake LAN: multicast reaches members only; leaving stops delivery', () => {
  const lan = createFakeLan();
  const a = host(lan, '02:00:00:00:00:0a', EtherType.IPv6);
  const b = host(lan, '02:00:00:00:00:0b', EtherType.IPv6);
  const c = host(lan, '02:00:00:00:00:0c', EtherType.IPv6);
  const group = Buffer.from('3333ff000099', 'hex');
  b.t.addMembership(group);
  a.t.send(frame('33:33:ff:00:00:99', EtherType.IPv6));
  assert.equal(b.got[0]?.packetType, 'multicast');
  assert.equal(c.got.length, 0);
  assert.deepEqual([...b.t.memberships], ['33:33:ff:00:00:99']);
  b.t.dropMembership(group);
  a.t.send(frame('33:33:ff:00:00:99', EtherType.IPv6));
  assert.equal(b.got.length, 1);
});

test('fake LAN: EtherType separates sockets, closed sockets receive nothing and refuse to send', () => {
  const lan = createFakeLan();
  const a = host(lan, '02:00:00:00:00:0a', EtherType.ARP);
  const v6 = host(lan, '02:00:00:00:00:0b', EtherType.IPv6);
  const arp = host(lan, '02:00:00:00:00:0c', EtherType.ARP);
  a.t.send(frame('ff:ff:ff:ff:ff:ff', EtherType.ARP));
  assert.equal(v6.got.length, 0);
  assert.equal(arp.got.length, 1);
  arp.t.close();
  arp.t.close(); // idempotent
  a.t.send(frame('ff:ff:ff:ff:ff:ff', EtherType.ARP));
  assert.equal(arp.got.length, 1);
  assert.throws(() => arp.t.send(frame('ff:ff:ff:ff:ff:ff', EtherType.ARP)), (e: unknown) => e instanceof SysError && e.kind === 'closed');
});

test('a lone fake transport: inject() delivers, sent records', () => {
  const got: ReceivedFrame[] = [];
  const t = createFakePacketTransport({ ifname: 'eth0', etherType: EtherType.ARP, onFrame: (f) => got.push(f) }, 7);
  const f = frame('ff:ff:ff:ff:ff:ff', EtherType.ARP);
  t.inject(f, 'broadcast');
  assert.deepEqual(got, [{ frame: f, ifindex: 7, packetType: 'broadcast' }]);
  t.send(f);
  assert.equal(t.sent.length, 1);
  assert.equal(t.ifindex, 7);
});
