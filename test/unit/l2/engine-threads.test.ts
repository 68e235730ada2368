// The engine with answer threads (cpu-answerers.ts) replaced by a fake: what it asks of them and when
// it announces. The threads themselves run against the kernel in test/integration/l2/per-cpu.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLayer2Engine } from '../../../src/l2/engine.ts';
import { EtherType } from '../../../src/l2/constants.ts';
import { COUNTER_SLOTS, sumCounters, type AnswerTotals, type Family } from '../../../src/l2/answer.ts';
import type { AnsweringThreads } from '../../../src/l2/cpu-answerers.ts';
import { FakeLinks, ManualClock } from './fakes.ts';
import { KERNEL_ARP_REQUEST, MAC_B } from './vectors.ts';

const V4 = '192.0.2.11';
const V4B = '192.0.2.12';
const V6 = '2001:db8::b';

class FakeThreads implements AnsweringThreads {
  readonly calls: string[] = [];
  readonly pending: (() => void)[] = [];
  totalsNow: AnswerTotals = { arpReplies: 0, ndpReplies: 0, sendErrors: 0, drops: {} };
  closed = false;
  failOpen = false;
  owns = new Map<string, (ip: string) => boolean>();
  openPort(key: string, iface: string, family: Family, mac: string, owns: (ip: string) => boolean): void {
    if (this.failOpen) throw new Error('EPERM');
    this.calls.push(`open ${key} ${iface} ${family} ${mac}`);
    this.owns.set(key, owns);
  }
  setVips(key: string, vips: readonly string[]): Promise<void> {
    this.calls.push(`vips ${key} [${vips.join(',')}]`);
    return new Promise((resolve) => this.pending.push(resolve));
  }
  closePort(key: string): void {
    this.calls.push(`close ${key}`);
  }
  totals(): AnswerTotals {
    return this.totalsNow;
  }
  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
  /** Every thread applies every pushed list. */
  async applyAll(): Promise<void> {
    for (const r of this.pending.splice(0)) r();
    await new Promise((r) => setImmediate(r));
  }
}

function setup() {
  const links = new FakeLinks().add({ name: 'eth0', index: 2, mac: MAC_B });
  const clock = new ManualClock();
  const threads = new FakeThreads();
  const engine = createLayer2Engine({ openTransport: links.factory, timers: clock, threads, announce: { burstCount: 2, burstIntervalMs: 1000, refreshIntervalMs: 0 } });
  return { links, clock, threads, engine };
}

test('with threads: send-only transport, ports opened on the threads, VIP lists pushed per port', () => {
  const { links, threads, engine } = setup();
  assert.deepEqual(engine.setOwned([{ vip: V4, interfaces: ['eth0'] }, { vip: V4B, interfaces: ['eth0'] }, { vip: V6, interfaces: ['eth0'] }]), []);
  assert.equal(links.port('eth0', EtherType.arp).receive, false);
  assert.equal(links.port('eth0', EtherType.ipv6).receive, false);
  assert.deepEqual(threads.calls, [`open 4|eth0 eth0 4 ${MAC_B}`, `open 6|eth0 eth0 6 ${MAC_B}`, `vips 4|eth0 [${V4},${V4B}]`, `vips 6|eth0 [${V6}]`]);
  // CPUs without a thread answer from the engine's own lookup: it follows setOwned at once.
  const owns = threads.owns.get('4|eth0');
  assert.ok(owns !== undefined);
  assert.deepEqual([owns(V4), owns(V4B), owns('192.0.2.99')], [true, true, false]);
  // Solicited-node membership stays with the engine's own (send-only) socket: it is per device.
  assert.equal(links.port('eth0', EtherType.ipv6).groups.size, 1);
  threads.calls.length = 0;
  // Unchanged lists are not pushed again; a shrunk list is; an emptied port gets its empty list, then closes.
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }, { vip: V6, interfaces: ['eth0'] }]);
  assert.deepEqual(threads.calls, [`vips 4|eth0 [${V4}]`]);
  assert.equal(owns(V4B), false, 'a removed VIP is not answered by the lookup from the next frame on');
  threads.calls.length = 0;
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  assert.deepEqual(threads.calls, ['vips 6|eth0 []', 'close 6|eth0']);
});

test('with threads: a new VIP is announced only once every thread answers for it', async () => {
  const { links, clock, threads, engine } = setup();
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  const port = links.port('eth0', EtherType.arp);
  let settled = false;
  void engine.settled().then(() => (settled = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(port.takeSent().length, 0, 'no gratuitous ARP before the threads have the VIP');
  assert.equal(settled, false);
  await threads.applyAll();
  assert.equal(settled, true);
  assert.equal(port.takeSent().length, 2, 'first burst once applied');
  clock.advance(1000);
  assert.equal(port.takeSent().length, 2, 'second burst on schedule');
});

test('with threads: a VIP given up before the threads applied it is never announced', async () => {
  const { links, threads, engine } = setup();
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }, { vip: V4B, interfaces: ['eth0'] }]);
  const port = links.port('eth0', EtherType.arp);
  engine.setOwned([{ vip: V4B, interfaces: ['eth0'] }]);
  await threads.applyAll();
  const targets = port.takeSent().map((f) => [...f.subarray(38, 42)].join('.'));
  assert.deepEqual(targets, [V4B, V4B]);
});

test('with threads: frames reaching the engine thread are not answered there; stats add the threads', () => {
  const { links, threads, engine } = setup();
  engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  threads.totalsNow = { arpReplies: 7, ndpReplies: 2, sendErrors: 1, drops: { 'arp:notOwned': 3 } };
  const s = engine.stats();
  assert.deepEqual({ arp: s.arpReplies, ndp: s.ndpReplies, err: s.sendErrors, drops: s.drops }, { arp: 7, ndp: 2, err: 1, drops: { 'arp:notOwned': 3 } });
  links.port('eth0', EtherType.arp).takeSent();
  engine.close();
  assert.equal(threads.closed, true);
});

test('with threads: a port the threads cannot open is reported and its send socket closed', () => {
  const { links, threads, engine } = setup();
  threads.failOpen = true;
  const problems = engine.setOwned([{ vip: V4, interfaces: ['eth0'] }]);
  assert.deepEqual(problems.map((p) => [p.vip, p.iface, p.reason]), [[V4, 'eth0', 'transportFailed']]);
  assert.equal(links.openCount(), 0);
  assert.deepEqual([...engine.owned()], []);
});

test('sumCounters adds blocks slot by slot and leaves out reasons never seen', () => {
  const a = new Float64Array(COUNTER_SLOTS);
  const b = new Float64Array(COUNTER_SLOTS);
  a[0] = 2; // arp replies
  b[0] = 3;
  b[1] = 1; // ndp replies
  a[2] = 1; // send errors
  const t = sumCounters([a, b]);
  assert.deepEqual(t, { arpReplies: 5, ndpReplies: 1, sendErrors: 1, drops: {} });
});

test('the engine thread answers and counts drops through answerFrame when there are no threads', () => {
  const links = new FakeLinks().add({ name: 'eth0', index: 2, mac: MAC_B });
  const engine = createLayer2Engine({ openTransport: links.factory, timers: new ManualClock(), announce: { burstCount: 0 } });
  engine.setOwned([{ vip: '192.0.2.99', interfaces: ['eth0'] }]);
  const port = links.port('eth0', EtherType.arp);
  assert.equal(port.receive, true);
  port.deliver(KERNEL_ARP_REQUEST); // asks for 192.0.2.11: not ours
  assert.deepEqual(engine.stats().drops, { 'arp:notOwned': 1 });
  assert.equal(port.takeSent().length, 0);
});
