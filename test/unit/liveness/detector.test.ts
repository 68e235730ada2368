// The liveness detector as a scenario table: each row is an event at a time and the transitions (and
// verdict) expected, the detector's state carrying from row to row. 100 ms interval, dead after 3
// missed intervals, alive again after 3 heartbeats in a row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDetector, DEFAULT_DETECTOR, type Detector, type HeartbeatFacts, type Transition } from '../../../src/liveness/detector.ts';

const WALL = 1_700_000_000_000;
const hb = (seq: number, o: Partial<HeartbeatFacts> = {}): HeartbeatFacts => ({ node: 'b', leaving: false, boot: 'aaaaaaaaaaaaaaaa', seq, sentAt: WALL + seq, macs: ['02:00:00:00:00:0b'], ...o });

type Row =
  | { readonly at: number; readonly tick: true; readonly want?: readonly Transition[]; readonly stalled?: boolean }
  | { readonly at: number; readonly hb: HeartbeatFacts; readonly verdict?: string; readonly want?: readonly Transition[]; readonly wall?: number };

function run(rows: readonly Row[], d: Detector = fresh()): Detector {
  for (const [i, r] of rows.entries()) {
    const what = `row ${i} at ${r.at}`;
    if ('tick' in r) {
      const out = d.tick(r.at);
      assert.deepEqual(out.transitions, r.want ?? [], what);
      assert.equal(out.stalled, r.stalled ?? false, what);
    } else {
      const out = d.receive(r.hb, r.at, r.wall ?? WALL + r.at);
      assert.equal(out.verdict, r.verdict ?? 'accepted', what);
      assert.deepEqual(out.transitions, r.want ?? [], what);
    }
  }
  return d;
}

function fresh(): Detector {
  const d = createDetector({ self: 'a', ...DEFAULT_DETECTOR }, 0);
  d.setMembers(['a', 'b'], 0);
  return d;
}

const dead = (reason: 'missed' | 'leaving'): Transition => ({ node: 'b', from: 'alive', to: 'dead', reason });
const back: Transition = { node: 'b', from: 'dead', to: 'alive', reason: 'recovered' };

test('a new member is alive, and dead after 3 missed intervals if it never speaks', () => {
  const d = run([
    { at: 50, tick: true },
    { at: 100, tick: true },
    { at: 150, tick: true },
    { at: 200, tick: true },
    { at: 250, tick: true },
    { at: 300, tick: true },
    { at: 350, tick: true, want: [dead('missed')] },
  ]);
  assert.equal(d.state('b'), 'dead');
  assert.equal(d.state('a'), 'alive', 'this node is always alive to itself');
});

test('heartbeats keep a member alive; silence kills it 300 ms after the last one', () => {
  run([
    { at: 90, hb: hb(1) },
    { at: 140, tick: true },
    { at: 190, hb: hb(2) },
    { at: 240, tick: true },
    { at: 290, tick: true },
    { at: 340, tick: true },
    { at: 390, tick: true },
    { at: 440, tick: true },
    { at: 491, tick: true, want: [dead('missed')] },
  ]);
});

test('hysteresis: back alive only after 3 heartbeats in a row; a gap starts the count again', () => {
  run([
    { at: 50, tick: true },
    { at: 100, tick: true },
    { at: 150, tick: true },
    { at: 200, tick: true },
    { at: 250, tick: true },
    { at: 300, tick: true },
    { at: 350, tick: true, want: [dead('missed')] },
    { at: 360, hb: hb(1) },
    { at: 460, hb: hb(2) },
    { at: 800, hb: hb(3) }, // 340 ms after the previous one: the count starts again
    { at: 900, hb: hb(4) },
    { at: 1000, hb: hb(5), want: [back] },
  ]);
});

test('a leaving heartbeat kills at once and does not count towards coming back', () => {
  run([
    { at: 10, hb: hb(1) },
    { at: 20, hb: hb(2, { leaving: true }), want: [dead('leaving')] },
    { at: 30, hb: hb(3, { leaving: true }) },
    { at: 40, hb: hb(4) },
    { at: 50, hb: hb(5) },
    { at: 60, hb: hb(6), want: [back] },
  ]);
});

test('replay: an old or repeated sequence number is refused; a new boot only with a newer clock within the skew', () => {
  const d = run([
    { at: 10, hb: hb(5) },
    { at: 20, hb: hb(5), verdict: 'replay' },
    { at: 30, hb: hb(4), verdict: 'replay' },
    { at: 40, hb: hb(1, { boot: 'bbbbbbbbbbbbbbbb', sentAt: WALL }), verdict: 'replay' }, // older clock than the last accepted
    { at: 50, hb: hb(1, { boot: 'bbbbbbbbbbbbbbbb', sentAt: WALL + 40_000 }), verdict: 'stale', wall: WALL + 50 },
    { at: 60, hb: hb(1, { boot: 'bbbbbbbbbbbbbbbb', sentAt: WALL + 60 }) }, // a restart of the sender
    { at: 70, hb: hb(6), verdict: 'replay' }, // the previous boot's datagrams are now old
  ]);
  assert.equal(d.state('b'), 'alive');
});

test('a first heartbeat from far outside the clock skew is stale', () => {
  run([{ at: 10, hb: hb(1, { sentAt: WALL - 31_000 }), verdict: 'stale', wall: WALL }]);
});

test('heartbeats from unknown members and with our own name are refused', () => {
  run([
    { at: 10, hb: hb(1, { node: 'z' }), verdict: 'unknownMember' },
    { at: 10, hb: hb(1, { node: 'a' }), verdict: 'self' },
  ]);
});

test('a local stall (our own tick late) renews deadlines instead of killing members', () => {
  run([
    { at: 50, hb: hb(1) },
    { at: 100, tick: true },
    { at: 5000, tick: true, stalled: true }, // SIGSTOP of this process for ~5 s
    { at: 5050, tick: true },
    { at: 5100, hb: hb(2) },
    { at: 5150, tick: true },
  ]);
});

test('members removed are forgotten; re-added they start alive with a fresh deadline', () => {
  const d = fresh();
  d.setMembers(['a'], 100);
  assert.equal(d.state('b'), undefined);
  for (let t = 50; t <= 1000; t += 50) d.tick(t);
  d.setMembers(['a', 'b'], 1000);
  for (let t = 1050; t <= 1300; t += 50) assert.deepEqual(d.tick(t).transitions, [], `tick ${t}`);
  assert.deepEqual(d.tick(1350).transitions, [dead('missed')]);
});
