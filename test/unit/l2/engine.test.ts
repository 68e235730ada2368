import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv6MulticastMac, solicitedNodeMulticast } from '../../../src/l2/addresses.ts';
import { createLayer2Engine, type Layer2Engine } from '../../../src/l2/engine.ts';
import { EtherType } from '../../../src/l2/constants.ts';
import { decodeEthernet } from '../../../src/l2/ethernet.ts';
import { decodeArp } from '../../../src/l2/arp.ts';
import { decodeIpv6 } from '../../../src/l2/ipv6.ts';
import { decodeNdp } from '../../../src/l2/icmpv6.ts';
import { FakeLinks, ManualClock } from './fakes.ts';
import { hex, KERNEL_ARP_REPLY, KERNEL_ARP_REQUEST, KERNEL_NA, KERNEL_NS, MAC_B } from './vectors.ts';

const V4 = '192.0.2.11';
const V6 = '2001:db8::b';
const ARP = EtherType.arp;
const IP6 = EtherType.ipv6;

function setup(announce: { burstCount?: number; burstIntervalMs?: number; refreshIntervalMs?: number } = {}) {
  const links = new FakeLinks()
    .add({ name: 'eth0', index: 2, mac: MAC_B })
    .add({ name: 'eth1', index: 3, mac: '02:00:00:00:01:0b' });
  const clock = new ManualClock();
  const engine: Layer2Engine = createLayer2Engine({ openTransport: links.factory, timers: clock, announce });
  return { links, clock, engine };
}

/** The two frames of one IPv4 announcement burst, byte for byte (RFC 5227 §2.3 announcement). */
const GARP_REQUEST = hex(
  'ffffffffffff', // broadcast
  '02000000000b', // our MAC
  '0806',
  '0001 0800 06 04 0001', // request
  '02000000000b c000020b', // sender: our MAC, the VIP
  'ffffffffffff c000020b', // target: broadcast, the VIP
  '00'.repeat(18),
);
const GARP_REPLY = Buffer.from(GARP_REQUEST);
GARP_REPLY[21] = 2; // op reply

test('gaining a VIP announces at once, in a burst, then periodically; requests are answered byte-exact', () => {
  const { links, clock, engine } = setup({ burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 30_000 });
  assert.deepEqual(engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]), []);
  const port = links.port('eth0', ARP);
  assert.deepEqual(port.takeSent(), [GARP_REQUEST, GARP_REPLY]);
  clock.advance(999);
  assert.equal(port.takeSent().length, 0);
  clock.advance(1);
  assert.deepEqual(port.takeSent(), [GARP_REQUEST, GARP_REPLY]);
  clock.advance(1000);
  assert.equal(port.takeSent().length, 2); // third burst
  clock.advance(29_999);
  assert.equal(port.takeSent().length, 0);
  clock.advance(1);
  assert.equal(port.takeSent().length, 2); // refresh
  clock.advance(30_000);
  assert.equal(port.takeSent().length, 2);
  port.deliver(KERNEL_ARP_REQUEST);
  assert.deepEqual(port.takeSent(), [Buffer.concat([KERNEL_ARP_REPLY, Buffer.alloc(18)])]);
  const s = engine.stats();
  assert.equal(s.arpReplies, 1);
  assert.equal(s.announcementsSent, 10);
});

test('refresh 0 stops after the burst; the default burst is 5 at 1100 ms', () => {
  const { links, clock, engine } = setup({ refreshIntervalMs: 0 });
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  const port = links.port('eth0', ARP);
  clock.advance(10 * 60_000);
  assert.equal(port.takeSent().length, 10);
  assert.equal(clock.pendingCount(), 0);
});

test('removing a VIP stops answering at once, stops its bursts and closes the unused transport', () => {
  const { links, clock, engine } = setup();
  engine.setOwned([
    { vip: V4, interfaces: ['eth0'] },
    { vip: '192.0.2.12', interfaces: ['eth0'] },
  ]);
  const port = links.port('eth0', ARP);
  port.takeSent();
  engine.setOwned([{ vip: '192.0.2.12', interfaces: ['eth0'] }]);
  port.deliver(KERNEL_ARP_REQUEST); // asks for 192.0.2.11
  assert.equal(port.takeSent().length, 0);
  assert.equal(engine.stats().drops['arp:notOwned'], 1);
  clock.advance(5000);
  const frames = port.takeSent().map((f) => decodeArp(decodeEthernet(f).payload).senderProtocol);
  assert.ok(frames.length > 0);
  assert.ok(frames.every((ip) => ip === '192.0.2.12'), 'only the kept VIP is still announced');
  engine.setOwned([]);
  assert.equal(port.closed, true);
  assert.equal(clock.pendingCount(), 0);
  port.deliver(KERNEL_ARP_REQUEST); // a late frame from the closed socket
  assert.equal(engine.stats().arpReplies, 0);
});

test('setOwned is idempotent: the same set (in any spelling) sends nothing new and reopens nothing', () => {
  const { links, engine } = setup();
  engine.setOwned([{ vip: V6, interfaces: ['eth0'] }]);
  const port = links.port('eth0', IP6);
  port.takeSent();
  engine.setOwned([{ vip: V6, interfaces: ['eth0'] }]);
  engine.setOwned([{ vip: '2001:DB8:0:0::B', interfaces: ['eth0', 'eth0'] }]);
  assert.equal(port.takeSent().length, 0);
  assert.equal(links.opened.length, 1);
  assert.deepEqual(port.groupLog, ['join 33:33:ff:00:00:0b']);
});

test('answers only on the interfaces the VIP is owned on, each with its own MAC', () => {
  const { links, engine } = setup();
  engine.setOwned([
    { vip: V4, interfaces: ['eth0'] },
    { vip: '192.0.2.12', interfaces: ['eth1'] },
  ]);
  const eth1 = links.port('eth1', ARP);
  eth1.takeSent();
  eth1.deliver(KERNEL_ARP_REQUEST);
  assert.equal(eth1.takeSent().length, 0);
  assert.equal(engine.stats().drops['arp:notOwned'], 1);
  // Adding eth1 to the VIP announces there (with eth1's MAC) and answers there.
  engine.setOwned([
    { vip: V4, interfaces: ['eth0', 'eth1'] },
    { vip: '192.0.2.12', interfaces: ['eth1'] },
  ]);
  const sent = eth1.takeSent();
  assert.equal(sent.length, 2);
  assert.equal(decodeArp(decodeEthernet(sent[0] ?? Buffer.alloc(0)).payload).senderHardware, '02:00:00:00:01:0b');
  assert.equal(links.port('eth0', ARP).takeSent().length, 2, 'eth0 only had its first burst');
  eth1.deliver(KERNEL_ARP_REQUEST);
  const reply = eth1.takeSent()[0];
  assert.ok(reply);
  assert.equal(decodeArp(decodeEthernet(reply).payload).senderHardware, '02:00:00:00:01:0b');
});

test('IPv6: joins the solicited-node group, sends an unsolicited NA, answers NS, leaves the group', () => {
  const { links, engine } = setup({ refreshIntervalMs: 0 });
  links.add({ name: 'eth0', index: 2, mac: MAC_B }); // no link-local: NA sourced from the VIP
  engine.setOwned([{ vip: V6, interfaces: ['eth0'] }]);
  const port = links.port('eth0', IP6);
  assert.deepEqual([...port.groups], ['33:33:ff:00:00:0b']);
  const [una] = port.takeSent();
  assert.ok(una);
  const eth = decodeEthernet(una);
  assert.equal(eth.destination, '33:33:00:00:00:01');
  const ip = decodeIpv6(eth.payload);
  assert.equal(ip.header.destination, 'ff02::1');
  assert.equal(ip.header.hopLimit, 255);
  assert.deepEqual(decodeNdp(ip.payload, ip.header).message, {
    kind: 'neighborAdvertisement',
    router: false,
    solicited: false,
    override: true,
    target: V6,
    options: [{ kind: 'targetLinkLayerAddress', address: MAC_B }],
  });
  port.deliver(KERNEL_NS);
  assert.deepEqual(port.takeSent(), [KERNEL_NA]);
  engine.setOwned([]);
  assert.deepEqual(port.groupLog, ['join 33:33:ff:00:00:0b', 'leave 33:33:ff:00:00:0b']);
  assert.equal(port.closed, true);
});

test('IPv6: two VIPs sharing a solicited-node group join it once and leave it with the last', () => {
  const { links, engine } = setup();
  engine.setOwned([
    { vip: V6, interfaces: ['eth0'] },
    { vip: '2001:db8:1::b', interfaces: ['eth0'] },
  ]);
  const port = links.port('eth0', IP6);
  engine.setOwned([{ vip: '2001:db8:1::b', interfaces: ['eth0'] }]);
  assert.deepEqual(port.groupLog, ['join 33:33:ff:00:00:0b']);
  port.deliver(KERNEL_NS); // for 2001:db8::b, which is gone
  assert.equal(engine.stats().drops['ndp:notOwned'], 1);
  engine.setOwned([]);
  assert.deepEqual(port.groupLog, ['join 33:33:ff:00:00:0b', 'leave 33:33:ff:00:00:0b']);
});

test('dual stack on one interface uses one transport per EtherType', () => {
  const { links, engine } = setup();
  engine.setOwned([
    { vip: V4, interfaces: ['eth0'] },
    { vip: V6, interfaces: ['eth0'] },
  ]);
  assert.equal(links.openCount(), 2);
  engine.setOwned([{ vip: V6, interfaces: ['eth0'] }]);
  assert.equal(links.openCount(), 1);
  assert.equal(links.port('eth0', IP6).closed, false);
});

test('an interface that cannot be opened is reported; the others still work', () => {
  const { links, engine } = setup();
  const problems = engine.setOwned([{ vip: V4, interfaces: ['eth9', 'eth0'] }, { vip: 'not-an-ip', interfaces: ['eth0'] }]);
  assert.deepEqual(
    problems.map((p) => [p.vip, p.iface, p.reason]),
    [
      ['not-an-ip', '', 'invalidVip'],
      [V4, 'eth9', 'transportFailed'],
    ],
  );
  assert.deepEqual([...(engine.owned().get(V4) ?? [])], ['eth0']);
  links.port('eth0', ARP).deliver(KERNEL_ARP_REQUEST);
  assert.equal(engine.stats().arpReplies, 1);
});

test('send failures are counted, not thrown', () => {
  const { links, engine } = setup();
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  const port = links.port('eth0', ARP);
  port.failSend = true;
  port.deliver(KERNEL_ARP_REQUEST);
  assert.equal(engine.stats().sendErrors, 1);
  assert.equal(engine.stats().arpReplies, 0);
});

test('close() releases everything and further setOwned is refused', () => {
  const { links, clock, engine } = setup();
  engine.setOwned([
    { vip: V4, interfaces: ['eth0', 'eth1'] },
    { vip: V6, interfaces: ['eth0'] },
  ]);
  engine.close();
  assert.equal(links.openCount(), 0);
  assert.equal(clock.pendingCount(), 0);
  assert.throws(() => engine.setOwned([]));
});

test('any sequence of setOwned: owned set, sockets, groups and timers always match the last wanted set', async () => {
  const vips = ['192.0.2.11', '192.0.2.12', '2001:db8::b', '2001:db8:1::b', '2001:db8::c'];
  const ifaces = ['eth0', 'eth1'];
  const wantedSet = fc.array(fc.record({ vip: fc.constantFrom(...vips), interfaces: fc.subarray(ifaces) }), { maxLength: 6 });
  fc.assert(
    fc.property(fc.array(fc.tuple(wantedSet, fc.nat(3000)), { minLength: 1, maxLength: 8 }), (steps) => {
      const { links, clock, engine } = setup({ burstCount: 3, burstIntervalMs: 1000, refreshIntervalMs: 5000 });
      for (const [want, wait] of steps) {
        engine.setOwned(want);
        clock.advance(wait);
        const expected = new Map<string, Set<string>>();
        for (const w of want) for (const i of w.interfaces) expected.set(w.vip, (expected.get(w.vip) ?? new Set()).add(i));
        assert.deepEqual(engine.owned(), expected);
        for (const iface of ifaces) {
          for (const [family, etherType] of [
            [4, ARP],
            [6, IP6],
          ] as const) {
            const need = [...expected].filter(([vip, s]) => s.has(iface) && (vip.includes(':') ? 6 : 4) === family);
            const open = links.opened.filter((o) => o.link.name === iface && o.etherType === etherType && !o.closed);
            assert.equal(open.length, need.length > 0 ? 1 : 0, `${iface}/${family} sockets`);
            if (family === 6 && open[0] !== undefined) {
              const groups = new Set(need.map(([vip]) => ipv6MulticastMac(solicitedNodeMulticast(vip))));
              assert.deepEqual(open[0].groups, groups);
            }
          }
        }
        // One pending timer at most per owned (vip, interface): a lost VIP keeps none.
        const pairs = [...expected.values()].reduce((n, s) => n + s.size, 0);
        assert.ok(clock.pendingCount() <= pairs, `${clock.pendingCount()} timers for ${pairs} pairs`);
      }
      engine.close();
      assert.equal(links.openCount(), 0);
      assert.equal(clock.pendingCount(), 0);
    }),
    { numRuns: 300 },
  );
});
