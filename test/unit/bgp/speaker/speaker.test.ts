// Two berth speakers over in-memory pipes (and a scripted raw peer where a test needs to control
// exactly what the other side sends): Established, UPDATE contents, diffs, withdrawals, End-of-RIB,
// route refresh, hold timer expiry both ways, wrong AS, reconnect convergence.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Speaker, type Advertisement, type PeerSpec, type SpeakerEvent } from '../../../../src/bgp/speaker.ts';
import { memoryTransport, type MemoryNetwork } from '../../../../src/bgp/transport.ts';
import { communityValue } from '../../../../src/config/community.ts';
import type { Capability, Message } from '../../../../src/bgp/messages/types.ts';
import { silentLogger } from '../../../../src/log.ts';
import { pino } from 'pino';
import { FakeClock, RawPeer, RecordingRib, waitFor } from './helpers.ts';

const A = '192.0.2.1';
const B = '192.0.2.2';

interface Pair {
  readonly net: MemoryNetwork;
  readonly a: Speaker;
  readonly b: Speaker;
  readonly ribAtB: RecordingRib;
  readonly fromB: Message[];
  readonly eventsA: SpeakerEvent[];
  readonly eventsB: SpeakerEvent[];
}

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

/** A (192.0.2.1, AS asnA) dials B (192.0.2.2, AS asnB), which listens and records what A sends. */
async function pair(opts: {
  asnA?: number;
  asnB?: number;
  peerA?: Partial<PeerSpec>;
  peerB?: Partial<PeerSpec>;
  clockA?: FakeClock;
  clockB?: FakeClock;
} = {}): Promise<Pair> {
  const net = memoryTransport();
  const asnA = opts.asnA ?? 64512;
  const asnB = opts.asnB ?? 64513;
  const ribAtB = new RecordingRib();
  const fromB: Message[] = [];
  const eventsA: SpeakerEvent[] = [];
  const eventsB: SpeakerEvent[] = [];
  const b = new Speaker({
    transport: net.transport(B),
    logger: silentLogger(),
    routerId: B,
    listen: { host: B, port: 179 },
    onMessage: (_p, m) => ribAtB.apply(m),
    onEvent: (e) => eventsB.push(e),
    ...(opts.clockB !== undefined ? { clock: opts.clockB } : {}),
  });
  await b.start();
  b.setPeers([{ name: 'a', myAsn: asnB, peerAsn: asnA, peerAddress: A, passive: true, ...opts.peerB }]);
  const a = new Speaker({
    transport: net.transport(A),
    logger: silentLogger(),
    routerId: A,
    onMessage: (_p, m) => fromB.push(m),
    onEvent: (e) => eventsA.push(e),
    ...(opts.clockA !== undefined ? { clock: opts.clockA } : {}),
  });
  a.setPeers([{ name: 'b', myAsn: asnA, peerAsn: asnB, peerAddress: B, ...opts.peerA }]);
  stops.push(async () => {
    await a.stop();
    await b.stop();
    net.cutAll();
  });
  return { net, a, b, ribAtB, fromB, eventsA, eventsB };
}

const established = (s: Speaker): boolean => s.sessions().every((x) => x.state === 'Established');

describe('speaker: two berth speakers', () => {
  it('eBGP: table with AS_PATH [myASN], next hop = local address, communities, no LOCAL_PREF, then End-of-RIB', async () => {
    const p = await pair();
    const ads: Advertisement[] = [
      { prefix: '198.51.100.10/32', communities: [communityValue('64512:100')], largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] },
      { prefix: '198.51.100.11/32', communities: [communityValue('64512:100')], largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 2 }] },
      { prefix: '198.51.100.12/32', localPref: 300 },
    ];
    p.a.setAdvertisements(ads);
    await waitFor('Established', () => established(p.a) && established(p.b));
    await waitFor('End-of-RIB', () => p.ribAtB.endOfRib.length > 0);
    assert.deepEqual([...p.ribAtB.routes.keys()].sort(), ['198.51.100.10/32', '198.51.100.11/32', '198.51.100.12/32']);
    assert.deepEqual(p.ribAtB.routes.get('198.51.100.10/32')?.nextHops, [A]);
    assert.deepEqual(p.ribAtB.attr('198.51.100.10/32', 'ORIGIN')?.origin, 0);
    assert.deepEqual(p.ribAtB.attr('198.51.100.10/32', 'AS_PATH')?.segments, [{ type: 2, asns: [64512] }]);
    assert.deepEqual(p.ribAtB.attr('198.51.100.10/32', 'COMMUNITIES')?.communities, [communityValue('64512:100')]);
    assert.deepEqual(p.ribAtB.attr('198.51.100.11/32', 'LARGE_COMMUNITIES')?.communities, [{ globalAdmin: 64512, localData1: 1, localData2: 2 }]);
    assert.equal(p.ribAtB.attr('198.51.100.12/32', 'LOCAL_PREF'), undefined, 'no LOCAL_PREF toward an external peer');
    // The two prefixes sharing attributes travel in one UPDATE: 2 UPDATEs + End-of-RIB.
    assert.equal(p.ribAtB.updates.length, 3);
    assert.deepEqual(p.ribAtB.endOfRib, ['ipv4']);
    const last = p.ribAtB.updates.at(-1);
    assert.deepEqual(last, { type: 'UPDATE', withdrawn: [], attributes: [], nlri: [] }, 'End-of-RIB comes after the table');
  });

  it('iBGP: empty AS_PATH and LOCAL_PREF (100 when unset)', async () => {
    const p = await pair({ asnA: 64512, asnB: 64512 });
    p.a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '198.51.100.2/32', localPref: 250 }]);
    await waitFor('routes', () => p.ribAtB.routes.size === 2);
    assert.deepEqual(p.ribAtB.attr('198.51.100.1/32', 'AS_PATH')?.segments, []);
    assert.equal(p.ribAtB.attr('198.51.100.1/32', 'LOCAL_PREF')?.localPref, 100);
    assert.equal(p.ribAtB.attr('198.51.100.2/32', 'LOCAL_PREF')?.localPref, 250);
  });

  it('sends only differences, withdrawals in one UPDATE', async () => {
    const p = await pair();
    const many = Array.from({ length: 50 }, (_, i) => ({ prefix: `198.51.100.${i}/32` }));
    p.a.setAdvertisements(many);
    await waitFor('initial table', () => p.ribAtB.routes.size === 50 && p.ribAtB.endOfRib.length === 1);
    const before = p.ribAtB.updates.length;
    assert.equal(before, 2, 'fifty /32s with equal attributes in one UPDATE, plus End-of-RIB');
    // Remove 40, keep 10, change the attributes of one, add one.
    const next: Advertisement[] = [
      ...many.slice(0, 9),
      { prefix: '198.51.100.9/32', communities: [7] },
      { prefix: '203.0.113.1/32' },
    ];
    p.a.setAdvertisements(next);
    await waitFor('diff applied', () => p.ribAtB.routes.size === 11 && p.ribAtB.routes.has('203.0.113.1/32'));
    // Same desired state again, then a marker: the session sends in order, so once the marker's UPDATE
    // is in, anything the repeated state or the diff still had to send has arrived (no pause needed).
    const count = p.ribAtB.updates.length;
    p.a.setAdvertisements(next);
    p.a.setAdvertisements([...next, { prefix: '203.0.113.99/32' }]);
    await waitFor('marker', () => p.ribAtB.routes.has('203.0.113.99/32'));
    const marker = p.ribAtB.updates.slice(count);
    assert.deepEqual(marker.flatMap((u) => u.nlri.map((x) => x.address)), ['203.0.113.99'], 'the repeated state sent nothing; the marker alone');
    assert.ok(marker.every((u) => u.withdrawn.length === 0));
    const diff = p.ribAtB.updates.slice(before, count);
    const withdrawals = diff.filter((u) => u.withdrawn.length > 0);
    assert.equal(withdrawals.length, 1, 'one UPDATE withdraws all 40');
    assert.equal(withdrawals[0]?.withdrawn.length, 40);
    const announced = diff.flatMap((u) => u.nlri.map((x) => x.address)).sort();
    assert.deepEqual(announced, ['198.51.100.9', '203.0.113.1'], 'unchanged prefixes are not re-sent');
    assert.deepEqual(p.ribAtB.attr('198.51.100.9/32', 'COMMUNITIES')?.communities, [7]);
  });

  it('withdrawAll (hand-off before stop): every prefix withdrawn, the session stays up, later plans announce nothing', async () => {
    const p = await pair();
    p.a.setAdvertisements(Array.from({ length: 20 }, (_, i) => ({ prefix: `198.51.100.${i}/32` })));
    await waitFor('initial table', () => p.ribAtB.routes.size === 20 && p.ribAtB.endOfRib.length === 1);
    const r = await p.a.withdrawAll(1000);
    assert.deepEqual(r, { peers: 1, prefixes: 20, drained: true });
    await waitFor('withdrawn at B', () => p.ribAtB.routes.size === 0);
    assert.ok(established(p.a) && established(p.b), 'the sessions stay up until stop()');
    const count = p.ribAtB.updates.length;
    // A plan applied while stopping announces nothing; a marker cannot be sent either, so wait for the
    // speaker's send queue to be idle and check B received nothing new.
    p.a.setAdvertisements([{ prefix: '203.0.113.1/32' }]);
    await p.a.idle();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(p.a.advertised('b').size, 0, 'nothing in the Adj-RIB-Out');
    assert.equal(p.ribAtB.updates.length, count);
    assert.equal(p.ribAtB.routes.size, 0);
  });

  it('packs a large table into UPDATEs within 4096 octets', async () => {
    const p = await pair();
    const ads = Array.from({ length: 3000 }, (_, i) => ({ prefix: `10.${(i >> 8) & 0xff}.${i & 0xff}.1/32` }));
    p.a.setAdvertisements(ads);
    await waitFor('3000 routes', () => p.ribAtB.routes.size === 3000 && p.ribAtB.endOfRib.length === 1);
    // 3000 * 5 octets of NLRI need at least 4 messages of 4096; far fewer than one per prefix.
    assert.ok(p.ribAtB.updates.length <= 6, `${p.ribAtB.updates.length} UPDATEs`);
    p.a.setAdvertisements([]);
    await waitFor('all withdrawn', () => p.ribAtB.routes.size === 0);
  });

  it('IPv6 over a dual-stack session: MP_REACH_NLRI with the configured global and link-local next hops, IPv6 End-of-RIB', async () => {
    const p = await pair({
      peerA: { dualStackAddressFamily: true, nextHops: { ipv6: '2001:db8::1', ipv6LinkLocal: 'fe80::1' } },
      peerB: { dualStackAddressFamily: true },
    });
    p.a.setAdvertisements([{ prefix: '2001:db8:100::10/128' }, { prefix: '198.51.100.1/32' }]);
    await waitFor('both families and both EoRs', () => p.ribAtB.routes.size === 2 && p.ribAtB.endOfRib.length === 2);
    assert.deepEqual(p.ribAtB.routes.get('2001:db8:100::10/128')?.nextHops, ['2001:db8::1', 'fe80::1']);
    assert.deepEqual(p.ribAtB.routes.get('198.51.100.1/32')?.nextHops, [A]);
    assert.deepEqual([...p.ribAtB.endOfRib].sort(), ['ipv4', 'ipv6']);
    p.a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    await waitFor('IPv6 withdrawn', () => p.ribAtB.routes.size === 1);
  });

  it('dual stack over an IPv4 session without configured next hops: the interface\'s IPv6 addresses', async () => {
    const net = memoryTransport();
    const rib = new RecordingRib();
    const b = new Speaker({ transport: net.transport(B), logger: silentLogger(), routerId: B, listen: { host: B, port: 179 }, onMessage: (_p, m) => rib.apply(m) });
    await b.start();
    b.setPeers([{ name: 'a', myAsn: 64513, peerAsn: 64512, peerAddress: A, passive: true, dualStackAddressFamily: true }]);
    const a = new Speaker({
      transport: net.transport(A),
      logger: silentLogger(),
      routerId: A,
      interfaceAddresses: (local) => (local === A ? { ipv6: '2001:db8::a', ipv6LinkLocal: 'fe80::a' } : {}),
    });
    a.setPeers([{ name: 'b', myAsn: 64512, peerAsn: 64513, peerAddress: B, dualStackAddressFamily: true }]);
    a.setAdvertisements([{ prefix: '2001:db8:100::1/128' }]);
    stops.push(async () => {
      await a.stop();
      await b.stop();
      net.cutAll();
    });
    await waitFor('IPv6 route', () => rib.routes.size === 1);
    assert.deepEqual(rib.routes.get('2001:db8:100::1/128')?.nextHops, ['2001:db8::a', 'fe80::a']);
  });

  // Interface (unnumbered) peers: IPv4 prefixes with the IPv6 next hop once RFC 8950 is negotiated.
  async function unnumberedPair(bSpec: Partial<PeerSpec>, ifaceA: { ipv6?: string; ipv6LinkLocal?: string }): Promise<RecordingRib> {
    const net = memoryTransport();
    const rib = new RecordingRib();
    const b = new Speaker({ transport: net.transport(B), logger: silentLogger(), routerId: B, listen: { host: B, port: 179 }, onMessage: (_p, m) => rib.apply(m) });
    await b.start();
    b.setPeers([{ name: 'a', myAsn: 64513, peerAsn: 64512, peerAddress: A, passive: true, ...bSpec }]);
    const a = new Speaker({ transport: net.transport(A), logger: silentLogger(), routerId: A, interfaceAddressesByName: (ifname) => (ifname === 'eth1' ? ifaceA : {}) });
    a.setPeers([{ name: 'b', myAsn: 64512, peerAsn: 64513, peerAddress: B, interface: 'eth1' }]);
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '2001:db8:100::1/128' }]);
    stops.push(async () => {
      await a.stop();
      await b.stop();
      net.cutAll();
    });
    return rib;
  }

  it('interface peer: IPv4 prefixes in MP_REACH_NLRI with our link-local address alone (RFC 8950), IPv6 too', async () => {
    const rib = await unnumberedPair({ interface: 'eth0' }, { ipv6LinkLocal: 'fe80::a' });
    await waitFor('both routes', () => rib.routes.size === 2);
    assert.deepEqual(rib.routes.get('198.51.100.1/32')?.nextHops, ['fe80::a']);
    assert.deepEqual(rib.routes.get('2001:db8:100::1/128')?.nextHops, ['fe80::a']);
    const v4 = rib.updates.find((u) => u.attributes.some((a) => a.kind === 'MP_REACH_NLRI' && a.afi === 1));
    assert.ok(v4 !== undefined, 'IPv4 came in MP_REACH_NLRI AFI 1');
    assert.equal(v4.nlri.length, 0);
  });

  it('interface peer with a global address on the interface: global + link-local (RFC 2545 §3)', async () => {
    const rib = await unnumberedPair({ interface: 'eth0' }, { ipv6: '2001:db8::a', ipv6LinkLocal: 'fe80::a' });
    await waitFor('both routes', () => rib.routes.size === 2);
    assert.deepEqual(rib.routes.get('198.51.100.1/32')?.nextHops, ['2001:db8::a', 'fe80::a']);
  });

  it('interface peer whose peer does not offer RFC 8950: IPv6 only, no IPv4 with an IPv6 next hop (RFC 8950 §4)', async () => {
    const rib = await unnumberedPair({ dualStackAddressFamily: true }, { ipv6LinkLocal: 'fe80::a' });
    await waitFor('EoR of both families', () => rib.endOfRib.length === 2);
    assert.deepEqual([...rib.routes.keys()], ['2001:db8:100::1/128']);
  });

  it('an IPv6 prefix is not sent over a session without the IPv6 family', async () => {
    const p = await pair();
    p.a.setAdvertisements([{ prefix: '2001:db8:100::10/128' }, { prefix: '198.51.100.1/32' }]);
    await waitFor('EoR', () => p.ribAtB.endOfRib.length === 1);
    assert.deepEqual([...p.ribAtB.routes.keys()], ['198.51.100.1/32']);
  });

  it('an unparsable prefix is left out without disturbing the session or the other prefixes', async () => {
    const p = await pair();
    p.a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '198.51.100.300/32' }, { prefix: '198.51.100.2/33' }]);
    await waitFor('EoR', () => p.ribAtB.endOfRib.length === 1);
    assert.deepEqual([...p.ribAtB.routes.keys()], ['198.51.100.1/32']);
    assert.ok(established(p.a));
  });

  it('the peer filter selects which sessions get an advertisement', async () => {
    const p = await pair();
    p.a.setAdvertisements([{ prefix: '198.51.100.1/32', peers: ['b'] }, { prefix: '198.51.100.2/32', peers: ['other'] }]);
    await waitFor('EoR', () => p.ribAtB.endOfRib.length === 1);
    assert.deepEqual([...p.ribAtB.routes.keys()], ['198.51.100.1/32']);
  });

  it('wrong peer AS: the receiver sends NOTIFICATION OPEN Message Error / Bad Peer AS and no session comes up', async () => {
    const p = await pair({ peerB: { peerAsn: 65000 } });
    await waitFor('NOTIFICATION', () => p.fromB.some((m) => m.type === 'NOTIFICATION'));
    const n = p.fromB.find((m) => m.type === 'NOTIFICATION');
    assert.ok(n?.type === 'NOTIFICATION');
    assert.deepEqual([n.code, n.subcode], [2, 2]);
    assert.ok(!established(p.a) && !established(p.b));
  });

  it('reconnects after the connection is cut and converges to the same table', async () => {
    const p = await pair();
    p.a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '198.51.100.2/32' }]);
    await waitFor('EoR', () => p.ribAtB.endOfRib.length === 1);
    p.net.cutAll();
    await waitFor('down', () => p.eventsA.some((e) => e.kind === 'down'));
    // While down, the desired state changes; the new session gets the new table.
    p.a.setAdvertisements([{ prefix: '198.51.100.2/32' }, { prefix: '198.51.100.3/32' }]);
    p.ribAtB.routes.clear(); // a receiver flushes a session's routes when it goes down
    await waitFor('second EoR', () => p.ribAtB.endOfRib.length === 2, 8000);
    assert.deepEqual([...p.ribAtB.routes.keys()].sort(), ['198.51.100.2/32', '198.51.100.3/32']);
    assert.deepEqual(p.a.advertised('b').size, 2);
  });

  it('hold timer expiry both ways (fake clocks)', async () => {
    const clockA = new FakeClock();
    const clockB = new FakeClock();
    const p = await pair({ clockA, clockB, peerA: { holdTimeSec: 9 }, peerB: { holdTimeSec: 9 } });
    clockA.advance(0); // IdleHold 0 -> connect
    await waitFor('Established', () => established(p.a) && established(p.b));
    // Only B's time passes: A sends no KEEPALIVE, so B's hold timer (9 s) expires.
    clockB.advance(9000);
    await waitFor('A hears Hold Timer Expired', () => p.fromB.some((m) => m.type === 'NOTIFICATION'));
    const n = p.fromB.find((m) => m.type === 'NOTIFICATION');
    assert.ok(n?.type === 'NOTIFICATION');
    assert.deepEqual([n.code, n.subcode], [4, 0]);
    const downA = p.eventsA.find((e) => e.kind === 'down');
    assert.equal(downA?.reason?.code, 'NotificationReceived');
    const downB = p.eventsB.find((e) => e.kind === 'down');
    assert.equal(downB?.reason?.code, 'HoldTimerExpired');
  });
});

describe('speaker: against a scripted peer', () => {
  async function scripted(peer: Partial<PeerSpec> = {}, clock?: FakeClock): Promise<{ raw: RawPeer; a: Speaker; events: SpeakerEvent[] }> {
    const net = memoryTransport();
    const raw = await RawPeer.listen(net, B);
    const events: SpeakerEvent[] = [];
    const a = new Speaker({
      transport: net.transport(A),
      logger: silentLogger(),
      routerId: A,
      onEvent: (e) => events.push(e),
      ...(clock !== undefined ? { clock } : {}),
    });
    a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, ...peer }]);
    stops.push(async () => {
      await a.stop();
      net.cutAll();
    });
    clock?.advance(0);
    await waitFor('OPEN from berth', () => raw.of('OPEN').length === 1);
    return { raw, a, events };
  }

  function openFrom(caps: readonly Capability[], hold = 90): Message {
    return { type: 'OPEN', version: 4, myAsn: 64513, holdTime: hold, bgpId: B, parameters: [{ kind: 'CAPABILITIES', capabilities: caps }] };
  }

  const baseCaps = [
    { kind: 'MULTIPROTOCOL', afi: 1, safi: 1 },
    { kind: 'FOUR_OCTET_AS', asn: 64513 },
    { kind: 'ROUTE_REFRESH' },
  ] as const;

  it('our OPEN: version 4, AS, hold 90, router id, MP/4-octet/route-refresh/enhanced RR, GR with R and F bits', async () => {
    const { raw } = await scripted({ enableGracefulRestart: true, gracefulRestartTimeSec: 90 });
    const open = raw.of('OPEN')[0];
    assert.ok(open !== undefined);
    assert.equal(open.version, 4);
    assert.equal(open.myAsn, 64512);
    assert.equal(open.holdTime, 90);
    assert.equal(open.bgpId, A);
    const caps = open.parameters.flatMap((x) => (x.kind === 'CAPABILITIES' ? x.capabilities : []));
    assert.deepEqual(caps.map((c) => c.kind), ['MULTIPROTOCOL', 'ROUTE_REFRESH', 'ENHANCED_ROUTE_REFRESH', 'FOUR_OCTET_AS', 'GRACEFUL_RESTART']);
    const gr = caps.find((c) => c.kind === 'GRACEFUL_RESTART');
    assert.ok(gr?.kind === 'GRACEFUL_RESTART');
    assert.equal(gr.restartTime, 90);
    assert.equal(gr.restarting, false, 'no R bit without a restart');
    assert.deepEqual(gr.families, [{ afi: 1, safi: 1, forwarding: true }]);
  });

  it('ROUTE-REFRESH re-sends the table; with enhanced route refresh framed by BoRR / EoRR', async () => {
    const { raw, a } = await scripted();
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '198.51.100.2/32', communities: [5] }]);
    raw.send(openFrom([...baseCaps, { kind: 'ENHANCED_ROUTE_REFRESH' }]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('EoR', () => raw.rib.endOfRib.length === 1);
    const n = raw.of('UPDATE').length;
    raw.send({ type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 0 });
    await waitFor('EoRR', () => raw.of('ROUTE_REFRESH').length === 2);
    const after = raw.received.slice(raw.received.findIndex((m) => m.type === 'ROUTE_REFRESH'));
    assert.deepEqual(after.map((m) => (m.type === 'ROUTE_REFRESH' ? `RR${m.subtype}` : m.type)), ['RR1', 'UPDATE', 'UPDATE', 'RR2']);
    assert.equal(raw.of('UPDATE').length, n + 2);
    assert.equal(raw.rib.routes.size, 2);
  });

  it('ROUTE-REFRESH without enhanced route refresh: the table alone', async () => {
    const { raw, a } = await scripted();
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('EoR', () => raw.rib.endOfRib.length === 1);
    const n = raw.of('UPDATE').length;
    raw.send({ type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 0 });
    await waitFor('re-sent', () => raw.of('UPDATE').length === n + 1);
    assert.equal(raw.of('ROUTE_REFRESH').length, 0);
  });

  it('our hold timer: a silent peer gets NOTIFICATION Hold Timer Expired after the negotiated hold time', async () => {
    const clock = new FakeClock();
    const { raw, a, events } = await scripted({ holdTimeSec: 30 }, clock);
    raw.send(openFrom([...baseCaps], 12)); // negotiated hold = 12 s, keepalive 4 s
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    await waitFor('End-of-RIB', () => raw.rib.endOfRib.length === 1);
    const kaBefore = raw.of('KEEPALIVE').length;
    clock.advance(11_999);
    // The marker: an UPDATE sent after the clock moved. Messages arrive in order, so once it is in,
    // whatever the timers sent up to 11.999 s is in too.
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    await waitFor('the marker UPDATE', () => raw.rib.routes.size === 1);
    assert.equal(raw.of('KEEPALIVE').length - kaBefore, 2, 'keepalives every 4 s while waiting');
    assert.equal(raw.of('NOTIFICATION').length, 0);
    clock.advance(1);
    await waitFor('NOTIFICATION', () => raw.of('NOTIFICATION').length === 1);
    assert.deepEqual([raw.of('NOTIFICATION')[0]?.code, raw.of('NOTIFICATION')[0]?.subcode], [4, 0]);
    await waitFor('closed', () => raw.closed);
    assert.equal(events.filter((e) => e.kind === 'down').at(-1)?.reason?.code, 'HoldTimerExpired');
  });

  it('sending an UPDATE restarts our keepalive timer (RFC 4271 §8.2.2)', async () => {
    const clock = new FakeClock();
    const { raw, a, events } = await scripted({}, clock);
    raw.send(openFrom([...baseCaps], 12)); // keepalive every 4 s
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    const ka0 = raw.of('KEEPALIVE').length;
    clock.advance(3000);
    raw.send({ type: 'KEEPALIVE' }); // keep our hold timer happy
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    await waitFor('UPDATE', () => raw.rib.routes.size === 1);
    const first = raw.received.length - 1;
    clock.advance(1500); // t = 4.5 s: without the restart a KEEPALIVE would be due at 4 s
    // The marker: a second UPDATE at 4.5 s. Messages arrive in order: a KEEPALIVE due at 4 s would come
    // between the two UPDATEs.
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }, { prefix: '198.51.100.2/32' }]);
    await waitFor('the marker UPDATE', () => raw.rib.routes.size === 2);
    assert.deepEqual(raw.received.slice(first).map((m) => m.type), ['UPDATE', 'UPDATE'], 'no KEEPALIVE between the UPDATEs at 3 s and 4.5 s');
    assert.equal(raw.of('KEEPALIVE').length, ka0);
    clock.advance(4000); // t = 8.5 s: due at 4.5 + 4 s
    await waitFor('the KEEPALIVE due 4 s after the last UPDATE', () => raw.of('KEEPALIVE').length === ka0 + 1);
  });

  it('UPDATEs from the peer are parsed and dropped; RFC 7606 treat-as-withdraw keeps the session', async () => {
    const { raw, a, events } = await scripted();
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    await waitFor('End-of-RIB', () => raw.rib.endOfRib.length === 1);
    // A well-formed UPDATE.
    raw.send({
      type: 'UPDATE',
      withdrawn: [],
      attributes: [
        { kind: 'ORIGIN', origin: 0 },
        { kind: 'AS_PATH', segments: [{ type: 2, asns: [64513] }] },
        { kind: 'NEXT_HOP', nextHop: B },
      ],
      nlri: [{ family: 'ipv4', address: '203.0.113.0', length: 24 }],
    });
    // ORIGIN with a bad value (RFC 7606 §7.1: treat-as-withdraw): header 19 + lengths, built by hand.
    const attrs = Buffer.from([0x40, 1, 1, 7, 0x40, 2, 0, 0x40, 3, 4, 192, 0, 2, 2]);
    const nlri = Buffer.from([24, 203, 0, 113]);
    const body = Buffer.concat([Buffer.from([0, 0, 0, attrs.length]), attrs, nlri]);
    const hdr = Buffer.alloc(19, 0xff);
    hdr.writeUInt16BE(19 + body.length, 16);
    hdr[18] = 2;
    raw.sendRaw(Buffer.concat([hdr, body]));
    raw.send({ type: 'KEEPALIVE' });
    // The marker: a ROUTE-REFRESH after them (RFC 2918 §4). Its answer (the table again) comes after
    // berth has handled both UPDATEs, so a NOTIFICATION for either would already be in.
    const n = raw.of('UPDATE').length;
    raw.send({ type: 'ROUTE_REFRESH', afi: 1, safi: 1, subtype: 0 });
    await waitFor('the table sent again', () => raw.of('UPDATE').length > n);
    assert.equal(raw.of('NOTIFICATION').length, 0);
    assert.equal(a.sessions()[0]?.state, 'Established');
  });

  it('a malformed UPDATE (bad attribute list length) gets NOTIFICATION 3/1 and the session resets', async () => {
    const { raw, events } = await scripted();
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    // Total path attribute length runs past the message (RFC 4271 §6.3 Malformed Attribute List).
    const body = Buffer.from([0, 0, 0, 200, 0x40, 1, 1, 0]);
    const hdr = Buffer.alloc(19, 0xff);
    hdr.writeUInt16BE(19 + body.length, 16);
    hdr[18] = 2;
    raw.sendRaw(Buffer.concat([hdr, body]));
    await waitFor('NOTIFICATION', () => raw.of('NOTIFICATION').length === 1);
    assert.deepEqual([raw.of('NOTIFICATION')[0]?.code, raw.of('NOTIFICATION')[0]?.subcode], [3, 1]);
    assert.equal(events.filter((e) => e.kind === 'down').at(-1)?.reason?.code, 'UpdateMessageError');
  });

  it('a bad marker gets NOTIFICATION 1/1 (Connection Not Synchronized)', async () => {
    const { raw } = await scripted();
    const bad = Buffer.alloc(19, 0xff);
    bad[0] = 0;
    bad.writeUInt16BE(19, 16);
    bad[18] = 4;
    raw.sendRaw(bad);
    await waitFor('NOTIFICATION', () => raw.of('NOTIFICATION').length === 1);
    assert.deepEqual([raw.of('NOTIFICATION')[0]?.code, raw.of('NOTIFICATION')[0]?.subcode], [1, 1]);
  });

  it('stop({ preserveRoutes }) closes without NOTIFICATION (a planned graceful restart)', async () => {
    const { raw, a, events } = await scripted({ enableGracefulRestart: true });
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    await a.stop({ preserveRoutes: true });
    await waitFor('closed', () => raw.closed);
    assert.equal(raw.of('NOTIFICATION').length, 0);
    assert.equal(events.filter((e) => e.kind === 'down').at(-1)?.reason?.code, 'Stopped');
  });

  it('stop() sends Cease / Administrative Shutdown with the communication and waits for the close', async () => {
    const { raw, a, events } = await scripted();
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    await a.stop('node drained'); // the string form (src/speaker's BgpDriver contract)
    await waitFor('NOTIFICATION', () => raw.of('NOTIFICATION').length === 1);
    const n = raw.of('NOTIFICATION')[0];
    assert.deepEqual([n?.code, n?.subcode, n?.shutdownMessage], [6, 2, 'node drained']);
  });

  it('setPeers removing a peer sends Cease / Administrative Shutdown with a shutdown communication', async () => {
    const { raw, a, events } = await scripted();
    raw.send(openFrom([...baseCaps]));
    raw.send({ type: 'KEEPALIVE' });
    raw.established();
    await waitFor('Established', () => events.some((e) => e.state === 'Established'));
    a.setPeers([]);
    await waitFor('NOTIFICATION', () => raw.of('NOTIFICATION').length === 1);
    const n = raw.of('NOTIFICATION')[0];
    assert.deepEqual([n?.code, n?.subcode, n?.shutdownMessage], [6, 2, 'peer removed']);
  });
});

describe('speaker: connection collision (RFC 4271 §6.8)', () => {
  it('both sides dial and listen: one connection survives, the one opened by the higher BGP Identifier', async () => {
    const net = memoryTransport();
    const logs: { component: string; msg: string; code?: number; subcode?: number; reason?: string; state?: string }[] = [];
    const mk = (addr: string) =>
      new Speaker({
        transport: net.transport(addr),
        logger: pino({ level: 'debug', base: { component: addr } }, { write: (l: string) => logs.push(JSON.parse(l) as (typeof logs)[number]) }),
        routerId: addr,
        listen: { host: addr, port: 179 },
      });
    const a = mk(A);
    const b = mk(B);
    await a.start();
    await b.start();
    stops.push(async () => {
      await a.stop();
      await b.stop();
      net.cutAll();
    });
    a.setPeers([{ name: 'b', myAsn: 64512, peerAsn: 64513, peerAddress: B }]);
    b.setPeers([{ name: 'a', myAsn: 64513, peerAsn: 64512, peerAddress: A }]);
    await waitFor('Established', () => established(a) && established(b));
    // Each side closes the losing connection with Cease / Connection Collision Resolution (RFC 4486 §4).
    const cease = (who: string) => logs.some((l) => l.component === who && l.msg === 'NOTIFICATION sent' && l.code === 6 && l.subcode === 7);
    await waitFor('Cease 6/7 from both sides', () => cease(A) && cease(B));
    // 192.0.2.1 < 192.0.2.2: A closes the connection it initiated and keeps B's.
    assert.deepEqual(a.sessionView('b')?.direction, 'incoming');
    assert.deepEqual(b.sessionView('a')?.direction, 'outgoing');
    // Each side has put its losing connection to Idle (the positive signal), and the surviving session
    // then still carries an UPDATE.
    const dumped = (who: string) => logs.some((l) => l.component === who && l.msg === 'connection state' && l.reason === 'CollisionDump' && l.state === 'Idle');
    await waitFor('both losing connections Idle', () => dumped(A) && dumped(B));
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    await waitFor('the UPDATE sent to b', () => a.advertised('b').has('198.51.100.1/32'));
    await a.idle();
    assert.ok(established(a) && established(b), 'the surviving session stays up');
  });
});

describe('speaker: TTL of accepted sessions', () => {
  it('single-hop eBGP gets TTL 1, multi-hop and iBGP 255 (set per accepted socket)', async () => {
    const net = memoryTransport();
    const ttls: number[] = [];
    const base = net.transport(A);
    const a = new Speaker({ transport: { ...base, setTtl: (_s, ttl) => ttls.push(ttl) }, logger: silentLogger(), routerId: A, listen: { host: A, port: 179 } });
    await a.start();
    stops.push(async () => {
      await a.stop();
      net.cutAll();
    });
    const dial = async (): Promise<void> => {
      const raw = new RawPeer();
      raw.attach(await net.transport(B).connect({ host: A, port: 179 }));
    };
    a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, passive: true }]);
    await dial();
    await waitFor('TTL set', () => ttls.length === 1);
    a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, passive: true, ebgpMultiHop: true }]);
    await dial();
    await waitFor('TTL set', () => ttls.length === 2);
    assert.deepEqual(ttls, [1, 255]);
  });
});

describe('speaker: the peer restarts (RFC 4724 §4.2)', () => {
  async function setup(peerCaps: readonly Capability[]) {
    const net = memoryTransport();
    const events: SpeakerEvent[] = [];
    const a = new Speaker({ transport: net.transport(A), logger: silentLogger(), routerId: A, listen: { host: A, port: 179 }, onEvent: (e) => events.push(e) });
    await a.start();
    a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, passive: true, enableGracefulRestart: true }]);
    a.setAdvertisements([{ prefix: '198.51.100.1/32' }]);
    stops.push(async () => {
      await a.stop();
      net.cutAll();
    });
    const connect = async (): Promise<RawPeer> => {
      const raw = new RawPeer();
      raw.attach(await net.transport(B).connect({ host: A, port: 179 }));
      raw.send({ type: 'OPEN', version: 4, myAsn: 64513, holdTime: 90, bgpId: B, parameters: [{ kind: 'CAPABILITIES', capabilities: peerCaps }] });
      raw.send({ type: 'KEEPALIVE' });
      raw.established();
      return raw;
    };
    return { a, events, connect };
  }
  const caps: Capability[] = [
    { kind: 'MULTIPROTOCOL', afi: 1, safi: 1 },
    { kind: 'FOUR_OCTET_AS', asn: 64513 },
  ];

  it('with graceful restart negotiated, a new connection replaces the old session and gets the table', async () => {
    const { events, connect } = await setup([...caps, { kind: 'GRACEFUL_RESTART', restarting: true, notification: false, restartTime: 120, families: [{ afi: 1, safi: 1, forwarding: true }] }]);
    const first = await connect();
    await waitFor('first table', () => first.rib.endOfRib.length === 1);
    // The peer "reboots": no FIN on the old connection, a new one arrives.
    const second = await connect();
    await waitFor('table on the new connection', () => second.rib.endOfRib.length === 1 && second.rib.routes.size === 1);
    await waitFor('old connection closed', () => first.closed);
    assert.equal(events.filter((e) => e.kind === 'established').length, 2);
  });

  it('without graceful restart, the new connection is refused while the session is Established (RFC 4271 §6.8)', async () => {
    const { connect, a } = await setup(caps);
    const first = await connect();
    await waitFor('first table', () => first.rib.endOfRib.length === 1);
    const second = await connect();
    await waitFor('second refused', () => second.closed);
    assert.equal(second.of('OPEN').length, 0);
    assert.ok(!first.closed);
    assert.equal(a.sessions()[0]?.state, 'Established');
  });
});

describe('speaker: restart flag (RFC 4724)', () => {
  it('sets the R bit in the first OPEN after a restart, and not once a session has come up', async () => {
    const net = memoryTransport();
    const raw = await RawPeer.listen(net, B);
    const a = new Speaker({ transport: net.transport(A), logger: silentLogger(), routerId: A, restarting: true });
    a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, enableGracefulRestart: true }]);
    const rBit = (open: Message | undefined): boolean | undefined => {
      if (open?.type !== 'OPEN') return undefined;
      const gr = open.parameters.flatMap((x) => (x.kind === 'CAPABILITIES' ? x.capabilities : [])).find((c) => c.kind === 'GRACEFUL_RESTART');
      return gr?.kind === 'GRACEFUL_RESTART' ? gr.restarting : undefined;
    };
    try {
      await waitFor('OPEN', () => raw.of('OPEN').length === 1);
      assert.equal(rBit(raw.of('OPEN')[0]), true);
      raw.send({ type: 'OPEN', version: 4, myAsn: 64513, holdTime: 90, bgpId: B, parameters: [{ kind: 'CAPABILITIES', capabilities: [{ kind: 'FOUR_OCTET_AS', asn: 64513 }] }] });
      raw.send({ type: 'KEEPALIVE' });
      await waitFor('Established', () => a.sessions()[0]?.state === 'Established');
      net.cutAll();
      await waitFor('second OPEN', () => raw.of('OPEN').length === 2, 5000);
      assert.equal(rBit(raw.of('OPEN')[1]), false);
    } finally {
      await a.stop();
      net.cutAll();
    }
  });

  it('a peer configured after the restart window gets no R bit (it never had our routes)', async () => {
    const net = memoryTransport();
    const raw = await RawPeer.listen(net, B);
    let now = 1_000_000;
    const a = new Speaker({ transport: net.transport(A), logger: silentLogger(), routerId: A, restarting: true, restartWindowMs: 120_000, now: () => now });
    const rBit = (open: Message | undefined): boolean | undefined => {
      if (open?.type !== 'OPEN') return undefined;
      const gr = open.parameters.flatMap((x) => (x.kind === 'CAPABILITIES' ? x.capabilities : [])).find((c) => c.kind === 'GRACEFUL_RESTART');
      return gr?.kind === 'GRACEFUL_RESTART' ? gr.restarting : undefined;
    };
    try {
      now += 120_001;
      a.setPeers([{ name: 'r', myAsn: 64512, peerAsn: 64513, peerAddress: B, enableGracefulRestart: true }]);
      await waitFor('OPEN', () => raw.of('OPEN').length === 1);
      assert.equal(rBit(raw.of('OPEN')[0]), false);
    } finally {
      await a.stop();
      net.cutAll();
    }
  });
});

describe('speaker: a large table is sent in chunks', () => {
  it('Established comes first; the table follows over several event-loop turns, then End-of-RIB; a change meanwhile is sent after it', async () => {
    const p = await pair();
    // 198.18.0.0/15 (RFC 2544): 20,000 /32s, about 2.5 chunks.
    const big = Array.from({ length: 20_000 }, (_, i) => ({ prefix: `198.18.${i >> 8}.${i & 0xff}/32` }));
    p.a.setAdvertisements(big);
    let turnsBetween = 0;
    let counting = false;
    const tick = (): void => {
      if (!counting) return;
      turnsBetween++;
      setImmediate(tick);
    };
    const seen: string[] = [];
    // Watch A's events as they happen: count the event-loop turns between Established and 'table sent'.
    const push = p.eventsA.push.bind(p.eventsA);
    p.eventsA.push = (...es: SpeakerEvent[]): number => {
      for (const e of es) {
        if (e.kind === 'state' && e.state === 'Established') {
          seen.push('Established');
          counting = true;
          setImmediate(tick);
          // A change while the table is still going out: it must arrive after it, not be lost.
          queueMicrotask(() => p.a.setAdvertisements([...big.slice(1), { prefix: '198.51.100.7/32' }]));
        }
        if (e.kind === 'established') {
          seen.push('table sent');
          counting = false;
        }
      }
      return push(...es);
    };
    await waitFor('table and End-of-RIB', () => p.ribAtB.endOfRib.length === 1, 10_000);
    await p.a.idle();
    await waitFor('the change', () => p.ribAtB.routes.has('198.51.100.7/32') && !p.ribAtB.routes.has('198.18.0.0/32'), 10_000);
    assert.deepEqual(seen, ['Established', 'table sent']);
    assert.ok(turnsBetween >= 1, `the event loop ran between chunks (${turnsBetween} turns)`);
    assert.equal(p.ribAtB.routes.size, 20_000);
    assert.equal(p.a.advertised('b').size, 20_000);
    assert.ok(p.a.advertised('b').has('198.51.100.7/32'));
  });
});
