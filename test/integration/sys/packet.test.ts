// AF_PACKET through the real kernel: two lab nodes on the bridge, each running agent.ts with the
// addon's packet socket bound to its eth1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { startAgent, type Agent } from './agent-client.ts';
import { waitFor } from '../common.ts';

const PREFIX = 'bsysp';

// An ARP request (RFC 826) from node1 (192.0.2.11) for 192.0.2.12, Ethernet broadcast.
const node1Mac = '02b10000010b';
const arpRequest = Buffer.from(
  [
    'ffffffffffff', // destination: broadcast
    node1Mac, // source
    '0806', // EtherType ARP
    '0001', // htype Ethernet
    '0800', // ptype IPv4
    '06', // hlen
    '04', // plen
    '0001', // op request
    node1Mac, // sender MAC
    'c000020b', // sender IP 192.0.2.11
    '000000000000', // target MAC unknown
    'c0000263', // target IP 192.0.2.99: nobody's, so no kernel answers
    '00'.repeat(18), // padding to the 60-byte minimum
  ].join(''),
  'hex',
);

// An IPv6 frame to the solicited-node group of 2001:db8:1::99 (RFC 4291 §2.7.1 -> 33:33:ff:00:00:99).
const solicitedMac = '33:33:ff:00:00:99';
const ipv6ToGroup = Buffer.from(
  [
    '3333ff000099', // destination: solicited-node multicast MAC
    node1Mac,
    '86dd', // EtherType IPv6
    '6000000000003bff', // IPv6 header: version 6, payload 0, next header 59 (none), hop limit 255
    '20010db8000100000000000000000011', // source 2001:db8:1::11
    'ff0200000000000000000001ff000099', // destination ff02::1:ff00:99
    '00'.repeat(6),
  ].join(''),
  'hex',
);

async function withAgents(fn: (lab: Lab, a: Agent, b: Agent) => Promise<void>): Promise<void> {
  await withLab({ prefix: PREFIX, nodes: 2 }, async (lab) => {
    const [a, b] = await Promise.all([startAgent(lab, 'node1'), startAgent(lab, 'node2')]);
    await fn(lab, a, b);
  });
}

test('an ARP request sent with the addon arrives whole on the other namespace, a reply comes back, neither echoes to its sender', async () => {
  await withAgents(async (_lab, a, b) => {
    await a.call('open', { ifname: 'eth1', etherType: 0x0806 });
    const opened = await b.call<{ ifindex: number }>('open', { ifname: 'eth1', etherType: 0x0806 });
    await a.call('send', { hex: arpRequest.toString('hex') });
    const got = await b.waitEvent((e) => e.ev === 'frame');
    assert.equal(got['hex'], arpRequest.toString('hex'));
    assert.equal(got['packetType'], 'broadcast');
    assert.equal(got['ifindex'], opened.ifindex);
    // node2 answers with a unicast frame to node1: packet type 'host' on node1.
    const reply = Buffer.from(arpRequest);
    Buffer.from(node1Mac, 'hex').copy(reply, 0);
    Buffer.from('02b10000010c', 'hex').copy(reply, 6);
    await b.call('send', { hex: reply.toString('hex') });
    const back = await a.waitEvent((e) => e.ev === 'frame');
    assert.equal(back['packetType'], 'host');
    assert.equal(back['hex'], reply.toString('hex'));
    // Our own transmissions are never delivered (PACKET_OUTGOING): node1 saw only node2's reply (an echo
    // of node1's request would have been queued before it). For node2, a marker frame from node1 comes
    // after any echo of node2's reply: once it is there, node2 has seen everything it was going to.
    assert.equal(a.events.filter((e) => e.ev === 'frame').length, 1);
    await a.call('send', { hex: arpRequest.toString('hex') });
    await b.waitEvent((e) => e.ev === 'frame' && b.events.filter((x) => x.ev === 'frame').length >= 2);
    assert.deepEqual(b.events.filter((e) => e.ev === 'frame').map((e) => e['hex']), [arpRequest.toString('hex'), arpRequest.toString('hex')]);
  });
});

test('a socket bound to ARP does not see IPv6 frames', async () => {
  await withAgents(async (_lab, a, b) => {
    await a.call('open', { ifname: 'eth1', etherType: 0x86dd });
    await b.call('open', { ifname: 'eth1', etherType: 0x0806 });
    await a.call('send', { hex: ipv6ToGroup.toString('hex') });
    await a.call('send', { hex: arpRequest.toString('hex') }); // wrong EtherType for a's socket, but sendable
    const got = await b.waitEvent((e) => e.ev === 'frame');
    assert.equal(got['hex'], arpRequest.toString('hex'));
    // The IPv6 frame went out first on the same link: had the ARP socket accepted it, it would have
    // arrived before the ARP frame. No pause needed.
    assert.equal(b.events.filter((e) => e.ev === 'frame').length, 1);
  });
});

test('multicast membership joins the solicited-node group on the interface, and a frame to it arrives as multicast', async () => {
  await withAgents(async (lab, a, b) => {
    await a.call('open', { ifname: 'eth1', etherType: 0x86dd });
    await b.call('open', { ifname: 'eth1', etherType: 0x86dd });
    const maddr = async (): Promise<string> => (await lab.exec('node2', ['ip', 'maddr', 'show', 'dev', 'eth1'])).stdout;
    assert.doesNotMatch(await maddr(), /33:33:ff:00:00:99/);
    await b.call('join', { mac: solicitedMac });
    assert.match(await maddr(), /link\s+33:33:ff:00:00:99/);
    await a.call('send', { hex: ipv6ToGroup.toString('hex') });
    const got = await b.waitEvent((e) => e.ev === 'frame' && String(e['hex']).startsWith('3333ff000099'));
    assert.equal(got['packetType'], 'multicast');
    await b.call('leave', { mac: solicitedMac });
    assert.doesNotMatch(await maddr(), /33:33:ff:00:00:99/);
    // Membership goes with the socket: join again, close, and the kernel forgets it.
    await b.call('join', { mac: solicitedMac });
    await b.call('closePacket');
    assert.doesNotMatch(await maddr(), /33:33:ff:00:00:99/);
  });
});

test('a burst of 3,000 frames: every frame is received, none dropped (receive buffer)', async () => {
  await withAgents(async (_lab, a, b) => {
    const etherType = 0x88b5; // IEEE 802 local experimental EtherType 1: nothing else on the LAN uses it
    await b.call('open', { ifname: 'eth1', etherType, quiet: true });
    await a.call('open', { ifname: 'eth1', etherType });
    const frame = Buffer.concat([Buffer.from('ffffffffffff' + node1Mac + '88b5', 'hex'), Buffer.alloc(46, 0xab)]);
    const sent = await a.call<{ sent: number; failed: number }>('send', { hex: frame.toString('hex'), count: 3000 });
    assert.equal(sent.sent + sent.failed, 3000);
    let r = { received: 0, stats: { packets: 0, drops: 0 } };
    let drops = 0;
    const until = Date.now() + 5000;
    while (Date.now() < until) {
      r = await b.call<typeof r>('received');
      drops += r.stats.drops;
      if (r.received + drops >= sent.sent) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.received + drops, sent.sent, `received ${r.received}, dropped ${drops}, sent ${sent.sent}`);
    // The default 4 MiB receive buffer holds the whole burst even if JavaScript never ran meanwhile.
    assert.equal(drops, 0, `kernel dropped ${drops} frames`);
    assert.equal(r.received, sent.sent);
  });
});

test('opening a packet socket on a missing interface fails with a typed error', async () => {
  await withAgents(async (_lab, a) => {
    await assert.rejects(a.call('open', { ifname: 'nosuch0', etherType: 0x0806 }), (e: Error & { detail?: { kind?: string; code?: string } }) => {
      assert.equal(e.detail?.kind, 'syscall');
      assert.equal(e.detail?.code, 'ENODEV');
      return true;
    });
  });
});

test('on a filtering device (macvlan) the solicited-node frame is kept out until the group is joined', async () => {
  await withAgents(async (lab, a) => {
    // macvlan keeps a multicast filter fed by the device's group list, as a real NIC does; veth
    // does not filter at all, so this is where membership can be seen letting a frame in.
    await lab.exec('node2', ['ip', 'link', 'add', 'mv0', 'link', 'eth1', 'type', 'macvlan', 'mode', 'bridge']);
    await lab.exec('node2', ['sysctl', '-qw', 'net.ipv6.conf.mv0.disable_ipv6=1']);
    await lab.exec('node2', ['ip', 'link', 'set', 'mv0', 'up']);
    const b = await startAgent(lab, 'node2');
    await a.call('open', { ifname: 'eth1', etherType: 0x86dd });
    await b.call('open', { ifname: 'mv0', etherType: 0x86dd });
    const toGroup = (e: { ev: string; [k: string]: unknown }): boolean => e.ev === 'frame' && String(e['hex']).startsWith('3333ff000099');
    await a.call('send', { hex: ipv6ToGroup.toString('hex') });
    // The marker: the same packet to the Ethernet broadcast address, which macvlan always lets in, sent
    // after it. Both take macvlan's multicast/broadcast path in order, so once the marker is in, the
    // group frame has been decided.
    await a.call('send', { hex: Buffer.concat([Buffer.from('ffffffffffff', 'hex'), ipv6ToGroup.subarray(6)]).toString('hex') });
    await b.waitEvent((e) => e.ev === 'frame' && String(e['hex']).startsWith('ffffffffffff'));
    assert.equal(b.events.filter(toGroup).length, 0, 'a frame to a group nobody joined passed the filter');
    await b.call('join', { mac: solicitedMac });
    await a.call('send', { hex: ipv6ToGroup.toString('hex') });
    const got = await b.waitEvent(toGroup);
    assert.equal(got['packetType'], 'multicast');
    // The lower device's IPv6 input may already have trimmed the Ethernet padding off the shared
    // buffer; the frame up to the end of the IPv6 packet (14 + 40 bytes) is what must match.
    assert.equal(String(got['hex']).slice(0, 108), ipv6ToGroup.subarray(0, 54).toString('hex'));
    // Leaving is checked on the device's group list (previous test): this kernel's macvlan does not
    // narrow its filter again when a group goes, so frames alone cannot show it.
    await b.call('leave', { mac: solicitedMac });
    assert.doesNotMatch((await lab.exec('node2', ['ip', 'maddr', 'show', 'dev', 'mv0'])).stdout, /33:33:ff:00:00:99/);
  });
});

test('a packet socket survives a link flap: frames arrive and sends work after down/up', async () => {
  await withAgents(async (lab, a, b) => {
    const etherType = 0x88b5;
    const frame = Buffer.concat([Buffer.from('ffffffffffff' + node1Mac + '88b5', 'hex'), Buffer.alloc(46, 0xcd)]).toString('hex');
    await a.call('open', { ifname: 'eth1', etherType });
    await b.call('open', { ifname: 'eth1', etherType });
    const frames = (): number => b.events.filter((e) => e.ev === 'frame').length;
    await a.call('send', { hex: frame });
    await b.waitEvent((e) => e.ev === 'frame');
    // Down/up: the kernel flags the socket with ENETDOWN; it must come back by itself.
    await lab.exec('node2', ['ip', 'link', 'set', 'eth1', 'down']);
    await lab.exec('node2', ['ip', 'link', 'set', 'eth1', 'up']);
    await lab.exec('node2', ['sh', '-c', 'until grep -q 1 /sys/class/net/eth1/carrier; do sleep 0.05; done']);
    // The bridge port may still be on its way to forwarding: node1 sends until a frame arrives (the
    // positive signal), no pause guessed.
    await waitFor('a frame received after the link came back', 10_000, async () => {
      await a.call('send', { hex: frame });
      return frames() >= 2 ? true : undefined;
    });
    assert.deepEqual(await b.call('send', { hex: frame }), { sent: 1, failed: 0 });
    await a.waitEvent((e) => e.ev === 'frame');
  });
});
