// The BFD driver and the BGP gate over a fake UDP network and a manual clock (the real-peer tests are
// test/integration/speaker/bfd-frr.test.ts and bfd-bird.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BFD_SINGLE_HOP_PORT, BFD_TTL, BfdDriver, SOURCE_PORT_MAX, SOURCE_PORT_MIN, type BfdClock, type BfdDatagram, type BfdSessionSpec, type BfdStateChange, type BfdTransport } from '../../../../src/bgp/bfd/driver.ts';
import { BfdGate, bfdSessionFor, type GatedSpeaker } from '../../../../src/bgp/bfd/gate.ts';
import { decodeControl, encodeControl } from '../../../../src/bgp/bfd/packet.ts';
import type { PeerSpec } from '../../../../src/bgp/peer.ts';
import { createLogger } from '../../../../src/log.ts';

const log = createLogger({ level: 'silent', name: 'bfd-test' });

class ManualClock implements BfdClock {
  now = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.now + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  /** Runs every timer due within `ms`, in time order. */
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.#timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.#timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
    }
    this.now = end;
  }
}

interface Sent {
  readonly from: string;
  readonly fromPort: number;
  readonly ttl: number;
  readonly to: string;
  readonly port: number;
  readonly payload: Buffer;
}

/** Hosts on one segment: what one sends to another's listening port arrives with the sender's TTL. */
class FakeNet {
  readonly sent: Sent[] = [];
  readonly #listeners = new Map<string, (d: BfdDatagram) => void>();
  /** Rewrites the TTL on delivery (a router in the path), or drops (undefined). */
  deliver: (s: Sent) => number | undefined = (s) => s.ttl;
  transport(host: string): BfdTransport {
    return {
      listen: ({ port, onDatagram }) => {
        this.#listeners.set(`${host}:${port}`, onDatagram);
        return { send: () => undefined, close: () => this.#listeners.delete(`${host}:${port}`) };
      },
      sender: ({ port: fromPort, ttl, localAddress }) => ({
        send: (payload, to, port) => {
          const s: Sent = { from: localAddress ?? host, fromPort, ttl, to, port, payload };
          this.sent.push(s);
          const arrivingTtl = this.deliver(s);
          if (arrivingTtl !== undefined) this.#listeners.get(`${to}:${port}`)?.({ payload, address: s.from, port: fromPort, ttl: arrivingTtl });
        },
        close: () => undefined,
      }),
    };
  }
}

const PARAMS = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false };
const spec = (peer: string, peerAddress: string): BfdSessionSpec => ({ peer, peerAddress, multihop: false, minimumTtl: 254, params: PARAMS });

function pair(): { net: FakeNet; clock: ManualClock; a: BfdDriver; b: BfdDriver; changes: BfdStateChange[] } {
  const net = new FakeNet();
  const clock = new ManualClock();
  let seed = 1;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const changes: BfdStateChange[] = [];
  const a = new BfdDriver({ transport: net.transport('192.0.2.11'), clock, random, logger: log, onStateChange: (c) => changes.push(c) });
  const b = new BfdDriver({ transport: net.transport('192.0.2.1'), clock, random, logger: log });
  a.setSessions([spec('router', '192.0.2.1')]);
  b.setSessions([spec('node1', '192.0.2.11')]);
  return { net, clock, a, b, changes };
}

test('two drivers come Up; packets leave from 49152-65535 with TTL 255 to 3784 (RFC 5881 §4, §5)', () => {
  const { net, clock, a, b } = pair();
  clock.advance(5000);
  assert.equal(a.state('router'), 'Up');
  assert.equal(b.state('node1'), 'Up');
  assert.ok(net.sent.length > 0);
  for (const s of net.sent) {
    assert.equal(s.ttl, BFD_TTL);
    assert.equal(s.port, BFD_SINGLE_HOP_PORT);
    assert.ok(s.fromPort >= SOURCE_PORT_MIN && s.fromPort <= SOURCE_PORT_MAX, `source port ${s.fromPort}`);
  }
  // One source port per session for its whole life.
  assert.equal(new Set(net.sent.filter((s) => s.from === '192.0.2.11').map((s) => s.fromPort)).size, 1);
  const info = a.sessions()[0];
  assert.equal(info?.transmitIntervalUs, 300_000);
  assert.equal(info?.detectionTimeUs, 900_000);
  // Up at 300 ms: over 3 s each side sends 10-14 packets (jitter 75-100%), not the 1 s start rate.
  const before = net.sent.length;
  clock.advance(3000);
  const fromA = net.sent.slice(before).filter((s) => s.from === '192.0.2.11').length;
  assert.ok(fromA >= 10 && fromA <= 14, `${fromA} packets in 3 s`);
});

test('single hop: a packet that arrives with TTL 254 is discarded (RFC 5881 §5); the session never comes Up', () => {
  const { net, clock, a } = pair();
  net.deliver = (s) => s.ttl - 1;
  clock.advance(5000);
  assert.equal(a.state('router'), 'Down');
  assert.ok((a.discards()['ttl'] ?? 0) > 0);
});

test('silence: Down after the detection time with diag 1; a closed peer sends AdminDown: Down with diag 3', () => {
  const { net, clock, a, b, changes } = pair();
  clock.advance(5000);
  assert.equal(a.state('router'), 'Up');
  net.deliver = () => undefined;
  clock.advance(1000); // > 900 ms detection time
  assert.equal(a.state('router'), 'Down');
  assert.deepEqual(changes.at(-1), { peer: 'router', from: 'Up', to: 'Down', diag: 1 });
  net.deliver = (s) => s.ttl;
  clock.advance(5000);
  assert.equal(a.state('router'), 'Up');
  b.close();
  assert.deepEqual(changes.at(-1), { peer: 'router', from: 'Up', to: 'Down', diag: 3, remoteAdminDown: true });
  const last = net.sent.filter((x) => x.from === '192.0.2.1').at(-1);
  assert.equal(last === undefined ? undefined : decodeControl(last.payload).state, 'AdminDown');
});

test('a silent close sends nothing (planned restart)', () => {
  const { net, clock, a } = pair();
  clock.advance(5000);
  const n = net.sent.length;
  a.close({ silent: true });
  clock.advance(5000);
  assert.equal(net.sent.filter((s) => s.from === '192.0.2.11').length, net.sent.slice(0, n).filter((s) => s.from === '192.0.2.11').length);
});

test('a packet for an unknown discriminator or from another address is discarded', () => {
  const { net, clock, a } = pair();
  clock.advance(5000);
  const other = new BfdDriver({ transport: net.transport('192.0.2.99'), clock, random: () => 0.5, logger: log });
  other.setSessions([spec('x', '192.0.2.11')]);
  clock.advance(2000);
  assert.ok((a.discards()['no-session'] ?? 0) > 0, JSON.stringify(a.discards()));
  assert.equal(a.sessions().length, 1);
});

// ------------------------------------------------------------------------------------------------ gate

class FakeSpeaker implements GatedSpeaker {
  readonly calls: { peers: string[]; removedBecause: string | undefined; specs: readonly PeerSpec[] }[] = [];
  setPeers(peers: readonly PeerSpec[], opts: { readonly removedBecause?: string } = {}): void {
    this.calls.push({ peers: peers.map((p) => p.name), removedBecause: opts.removedBecause, specs: peers });
  }
  setAdvertisements(): void {}
  async stop(): Promise<void> {}
  sessions(): readonly { peer: string; state: string }[] {
    return (this.calls.at(-1)?.peers ?? []).map((peer) => ({ peer, state: 'Established' }));
  }
  advertised(): ReadonlyMap<string, unknown> {
    return new Map();
  }
}

test('gate: BFD Up -> Down removes the BGP peer with a BFD reason; Up puts it back; a profile change keeps BGP', () => {
  const net = new FakeNet();
  const clock = new ManualClock();
  const speaker = new FakeSpeaker();
  const remoteDriver = new BfdDriver({ transport: net.transport('192.0.2.1'), clock, random: () => 0.3, logger: log });
  remoteDriver.setSessions([spec('node1', '192.0.2.11')]);
  const driver = new BfdDriver({ transport: net.transport('192.0.2.11'), clock, random: () => 0.6, logger: log, onStateChange: (c) => gate.onBfdStateChange(c) });
  const gate = new BfdGate({ speaker, bfd: driver, logger: log });
  const bfd = { profile: 'fast', receiveIntervalMs: 300, transmitIntervalMs: 300, detectMultiplier: 3, passive: false, minimumTtl: 254 };
  const peers: PeerSpec[] = [
    { name: 'router', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1', bfd },
    { name: 'plain', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.2' },
  ];
  gate.setPeers(peers);
  // BGP starts at once, before BFD was ever Up; the speaker never sees the bfd field.
  assert.deepEqual(speaker.calls.at(-1)?.peers, ['router', 'plain']);
  assert.equal(speaker.calls.at(-1)?.specs.some((p) => p.bfd !== undefined), false);
  clock.advance(5000);
  assert.equal(driver.state('router'), 'Up');

  net.deliver = () => undefined;
  clock.advance(1000);
  assert.deepEqual(speaker.calls.at(-1)?.peers, ['plain']);
  assert.match(speaker.calls.at(-1)?.removedBecause ?? '', /BFD session down \(control detection time expired\)/);
  assert.deepEqual(gate.held(), ['router']);
  assert.deepEqual(gate.sessions().find((s) => s.peer === 'router'), { peer: 'router', state: 'Idle' });
  // The hold survives a re-plan.
  gate.setPeers(peers);
  assert.deepEqual(speaker.calls.at(-1)?.peers, ['plain']);

  net.deliver = (s) => s.ttl;
  clock.advance(5000);
  assert.equal(driver.state('router'), 'Up');
  assert.deepEqual(speaker.calls.at(-1)?.peers, ['router', 'plain']);
  assert.deepEqual(gate.held(), []);

  const calls = speaker.calls.length;
  gate.setPeers([{ ...peers[0], bfd: { ...bfd, transmitIntervalMs: 500 } } as PeerSpec, peers[1] as PeerSpec]);
  assert.deepEqual(speaker.calls.at(-1)?.specs, speaker.calls[calls - 1]?.specs, 'same BGP specs: no BGP restart');
  clock.advance(5000);
  assert.equal(driver.sessions()[0]?.transmitIntervalUs, 500_000);
  assert.equal(driver.state('router'), 'Up');
});

test('a session whose sockets cannot be opened stays Down, is logged, and is tried again by the next setSessions', () => {
  const net = new FakeNet();
  const clock = new ManualClock();
  const real = net.transport('192.0.2.11');
  let fail = true;
  const flaky: BfdTransport = {
    listen: (o) => {
      if (fail) throw Object.assign(new Error('bind: Address already in use'), { code: 'EADDRINUSE' });
      return real.listen(o);
    },
    sender: (o) => real.sender(o),
  };
  const a = new BfdDriver({ transport: flaky, clock, random: () => 0.4, logger: log });
  const b = new BfdDriver({ transport: net.transport('192.0.2.1'), clock, random: () => 0.7, logger: log });
  b.setSessions([spec('node1', '192.0.2.11')]);
  a.setSessions([spec('router', '192.0.2.1')]);
  clock.advance(5000);
  assert.equal(a.state('router'), 'Down');
  fail = false;
  a.setSessions([spec('router', '192.0.2.1')]);
  clock.advance(5000);
  assert.equal(a.state('router'), 'Up');
});

test('gate: our own stop (Up -> AdminDown, e.g. the peer address changed) and the peer\'s AdminDown hold nothing', () => {
  const speaker = new FakeSpeaker();
  const bfdStub = { setSessions: (): void => undefined, sessions: () => [], close: (): void => undefined };
  const gate = new BfdGate({ speaker, bfd: bfdStub, logger: log });
  const bfd = { profile: 'fast', receiveIntervalMs: 300, transmitIntervalMs: 300, detectMultiplier: 3, passive: false, minimumTtl: 254 };
  gate.setPeers([{ name: 'router', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1', bfd }]);
  gate.onBfdStateChange({ peer: 'router', from: 'Up', to: 'AdminDown', diag: 7 });
  assert.deepEqual(gate.held(), []);
  assert.deepEqual(speaker.calls.at(-1)?.peers, ['router']);
  // RFC 5882 §3.2: the peer turned its BFD off; not a failure.
  gate.onBfdStateChange({ peer: 'router', from: 'Up', to: 'Down', diag: 3, remoteAdminDown: true });
  assert.deepEqual(gate.held(), []);
  gate.onBfdStateChange({ peer: 'router', from: 'Down', to: 'Up', diag: 0 });
  gate.onBfdStateChange({ peer: 'router', from: 'Up', to: 'Down', diag: 3 });
  assert.deepEqual(gate.held(), ['router']);
  assert.match(speaker.calls.at(-1)?.removedBecause ?? '', /neighbor signaled session down/);
});

test('a peer in a VRF (BGPPeer vrf): its listener and sender are bound to the VRF device; packets from the default VRF do not reach it', () => {
  const clock = new ManualClock();
  let seed = 7;
  const random = (): number => {
    seed = (seed * 16807) % 2147483647;
    return seed / 2147483647;
  };
  const listens: (string | undefined)[] = [];
  const senders: (string | undefined)[] = [];
  // host:port:device -> receiver. The router 192.0.2.1 is reached through VRF red on the node.
  const receivers = new Map<string, (d: BfdDatagram) => void>();
  const VRF_OF: Readonly<Record<string, string>> = { '192.0.2.1': 'red' };
  const transport = (host: string, trackCalls: boolean): BfdTransport => ({
    listen: ({ port, device, onDatagram }) => {
      if (trackCalls) listens.push(device);
      const key = `${host}:${port}:${device ?? ''}`;
      receivers.set(key, onDatagram);
      return { send: () => undefined, close: () => receivers.delete(key) };
    },
    sender: ({ port: fromPort, ttl, device }) => {
      if (trackCalls) senders.push(device);
      return {
        send: (payload, to, port) => {
          // The node's packets arrive at the router without a VRF; the router's arrive in the node's VRF red.
          const arrivingDevice = host === '192.0.2.11' ? undefined : VRF_OF[host];
          receivers.get(`${to}:${port}:${arrivingDevice ?? ''}`)?.({ payload, address: host, port: fromPort, ttl });
        },
        close: () => undefined,
      };
    },
  });
  const node = new BfdDriver({ transport: transport('192.0.2.11', true), clock, random, logger: log });
  const router = new BfdDriver({ transport: transport('192.0.2.1', false), clock, random, logger: log });
  node.setSessions([{ ...spec('red-router', '192.0.2.1'), device: 'red' }, spec('plain', '198.51.100.1')]);
  router.setSessions([spec('node1', '192.0.2.11')]);
  assert.deepEqual(listens, ['red', undefined], 'one listener per VRF: red (the first session) and the default one');
  assert.deepEqual(senders, ['red', undefined], 'the red session sends from a socket bound to red, the other from an unbound one');
  clock.advance(5000);
  assert.equal(node.state('red-router'), 'Up');
  assert.equal(router.state('node1'), 'Up');

  // The same source address arriving in the default VRF is not the VRF peer's session.
  const packet = net0Packet();
  receivers.get(`192.0.2.11:${BFD_SINGLE_HOP_PORT}:`)?.({ payload: packet, address: '192.0.2.1', port: 50000, ttl: BFD_TTL });
  assert.equal(node.discards()['no-session'], 1);

  // Removing the VRF peer closes red's listener and keeps the default one.
  node.setSessions([spec('plain', '198.51.100.1')]);
  assert.ok(!receivers.has(`192.0.2.11:${BFD_SINGLE_HOP_PORT}:red`));
  assert.ok(receivers.has(`192.0.2.11:${BFD_SINGLE_HOP_PORT}:`));
});

/** A Down control packet with Your Discriminator 0 (selects the session by source address). */
function net0Packet(): Buffer {
  return encodeControl({ diag: 0, state: 'Down', poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: 99, yourDiscriminator: 0, desiredMinTxUs: 1_000_000, requiredMinRxUs: 1_000_000, requiredMinEchoRxUs: 0 });
}

test('bfdSessionFor: a BGP peer bound to a VRF device gets a BFD session bound to the same device', () => {
  const bfd = { profile: 'fast', receiveIntervalMs: 300, transmitIntervalMs: 300, detectMultiplier: 3, passive: false, minimumTtl: 254 };
  const inVrf: PeerSpec = { name: 'red-router', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1', bindDevice: 'red', bfd };
  assert.equal(bfdSessionFor(inVrf)?.device, 'red');
  const { bindDevice: _unused, ...plain } = inVrf;
  assert.equal(bfdSessionFor(plain)?.device, undefined);
});
