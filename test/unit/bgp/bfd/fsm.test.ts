// The BFD state machine (RFC 5880) as scenario tables: each row feeds one event to the session the
// previous row left and checks the state, the diagnostic and the actions that came out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlPacket, detectionTimeUs, initialSession, step, txDelayMs, type BfdAction, type BfdEvent, type BfdParameters, type BfdSession } from '../../../../src/bgp/bfd/fsm.ts';
import { BFD_DIAG, type BfdState, type ControlPacket } from '../../../../src/bgp/bfd/packet.ts';

const PARAMS: BfdParameters = { desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, detectMult: 3, passive: false };
const LOCAL = 0x1111;
const REMOTE = 0x2222;

/** A packet from the remote (FRR-like: starts at the 1 s rate). */
function remote(state: BfdState, over: Partial<ControlPacket> = {}): BfdEvent {
  const packet: ControlPacket = {
    diag: 0,
    state,
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: 3,
    myDiscriminator: REMOTE,
    yourDiscriminator: state === 'Down' || state === 'AdminDown' ? 0 : LOCAL,
    desiredMinTxUs: 1_000_000,
    requiredMinRxUs: 300_000,
    requiredMinEchoRxUs: 0,
    ...over,
  };
  return { type: 'Received', packet };
}

interface Row {
  readonly name: string;
  readonly event: BfdEvent;
  readonly state: BfdState;
  readonly diag?: number;
  /** The sent packets' flags and states, in order. */
  readonly sent?: readonly { readonly state: BfdState; readonly poll?: boolean; readonly final?: boolean; readonly desiredMinTxUs?: number; readonly yourDiscriminator?: number }[];
  /** The transmit interval asked for (µs), when the row asks for one. */
  readonly transmit?: number;
  /** The detection time asked for (µs). */
  readonly detect?: number;
  readonly transition?: { readonly from: BfdState; readonly to: BfdState };
}

function run(start: BfdSession, rows: readonly Row[]): BfdSession {
  let s = start;
  for (const r of rows) {
    const out = step(s, r.event);
    s = out.session;
    const ctx = `row "${r.name}": ${JSON.stringify(out.actions)}`;
    assert.equal(s.state, r.state, ctx);
    if (r.diag !== undefined) assert.equal(s.localDiag, r.diag, ctx);
    const sends = out.actions.filter((a): a is Extract<BfdAction, { type: 'send' }> => a.type === 'send').map((a) => a.packet);
    if (r.sent !== undefined) {
      assert.equal(sends.length, r.sent.length, ctx);
      r.sent.forEach((want, i) => {
        const got = sends[i];
        assert.ok(got !== undefined, ctx);
        assert.equal(got.state, want.state, ctx);
        assert.equal(got.poll, want.poll ?? false, ctx);
        assert.equal(got.final, want.final ?? false, ctx);
        assert.ok(!(got.poll && got.final), `never P and F together: ${ctx}`);
        if (want.desiredMinTxUs !== undefined) assert.equal(got.desiredMinTxUs, want.desiredMinTxUs, ctx);
        if (want.yourDiscriminator !== undefined) assert.equal(got.yourDiscriminator, want.yourDiscriminator, ctx);
      });
    }
    const tx = out.actions.filter((a) => a.type === 'transmit').at(-1);
    if (r.transmit !== undefined) assert.deepEqual(tx, { type: 'transmit', intervalUs: r.transmit }, ctx);
    const det = out.actions.filter((a) => a.type === 'detect').at(-1);
    if (r.detect !== undefined) assert.deepEqual(det, { type: 'detect', timeoutUs: r.detect }, ctx);
    const changes = out.actions.filter((a) => a.type === 'state');
    if (r.transition !== undefined) assert.deepEqual(changes.map((c) => c.type === 'state' && [c.from, c.to]), [[r.transition.from, r.transition.to]], ctx);
    else assert.equal(changes.length, 0, `no state change expected: ${ctx}`);
  }
  return s;
}

test('three-way handshake, the Poll that leaves the 1 s start rate, Final, detection timeout', () => {
  run(initialSession(PARAMS, LOCAL), [
    // §6.8.3: not Up -> advertise at least one second.
    { name: 'Start', event: { type: 'Start' }, state: 'Down', sent: [{ state: 'Down', desiredMinTxUs: 1_000_000, yourDiscriminator: 0 }], transmit: 1_000_000 },
    // §6.8.6 Down + received Down -> Init; detection = remote mult 3 x max(our RX 300 ms, its TX 1 s).
    { name: 'remote Down', event: remote('Down'), state: 'Init', sent: [{ state: 'Init', yourDiscriminator: REMOTE }], transmit: 1_000_000, detect: 3_000_000, transition: { from: 'Down', to: 'Init' } },
    // Init + received Up -> Up; DesiredMinTx drops to 300 ms: a Poll Sequence (§6.8.3, §6.5).
    { name: 'remote Up', event: remote('Up'), state: 'Up', diag: 0, sent: [{ state: 'Up', poll: true, desiredMinTxUs: 300_000 }], transmit: 300_000, detect: 3_000_000, transition: { from: 'Init', to: 'Up' } },
    { name: 'periodic while polling carries P', event: { type: 'TxTimer' }, state: 'Up', sent: [{ state: 'Up', poll: true }], transmit: 300_000 },
    // The remote answers with F and now sends at 300 ms: the Poll ends; detection 3 x 300 ms (§6.8.4).
    { name: 'Final', event: remote('Up', { final: true, desiredMinTxUs: 300_000 }), state: 'Up', sent: [], transmit: 300_000, detect: 900_000 },
    { name: 'periodic after the Poll: no P', event: { type: 'TxTimer' }, state: 'Up', sent: [{ state: 'Up' }], transmit: 300_000 },
    // §6.8.6: a Poll from the remote is answered at once with F (and P clear).
    { name: 'remote Poll', event: remote('Up', { poll: true, desiredMinTxUs: 300_000 }), state: 'Up', sent: [{ state: 'Up', final: true }], detect: 900_000 },
    // §6.8.4: Down with diag 1, back to the slow rate; §6.8.1: RemoteDiscr cleared.
    { name: 'detection time expires', event: { type: 'DetectionTimeout' }, state: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED, transmit: 1_000_000, transition: { from: 'Up', to: 'Down' } },
    { name: 'periodic after the timeout', event: { type: 'TxTimer' }, state: 'Down', sent: [{ state: 'Down', yourDiscriminator: 0, desiredMinTxUs: 1_000_000 }] },
    // Down + received AdminDown: no change (§6.8.6 "If bfd.SessionState is not Down").
    { name: 'AdminDown while Down', event: remote('AdminDown'), state: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED },
    // Down + received Init -> Up straight away.
    { name: 'remote Init while Down', event: remote('Init'), state: 'Up', diag: 0, transition: { from: 'Down', to: 'Up' } },
  ]);
});

function up(params: BfdParameters = PARAMS): BfdSession {
  return run(initialSession(params, LOCAL), [
    { name: 'Start', event: { type: 'Start' }, state: 'Down' },
    { name: 'Down', event: remote('Down'), state: 'Init', transition: { from: 'Down', to: 'Init' } },
    { name: 'Up', event: remote('Up'), state: 'Up', transition: { from: 'Init', to: 'Up' } },
    { name: 'Final', event: remote('Up', { final: true, desiredMinTxUs: 300_000 }), state: 'Up' },
  ]);
}

test('the remote signals Down or AdminDown: Down with diag 3 (§6.8.6)', () => {
  for (const st of ['Down', 'AdminDown'] as const) {
    run(up(), [{ name: `remote ${st}`, event: remote(st), state: 'Down', diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN, transition: { from: 'Up', to: 'Down' } }]);
    // RFC 5882 §3.2: only the AdminDown case is marked, so clients do not treat it as a path failure.
    const change = step(up(), remote(st)).actions.find((a) => a.type === 'state');
    assert.equal(change?.type === 'state' ? change.remoteAdminDown === true : undefined, st === 'AdminDown');
  }
  // Init + remote AdminDown -> Down too.
  run(initialSession(PARAMS, LOCAL), [
    { name: 'Start', event: { type: 'Start' }, state: 'Down' },
    { name: 'Down', event: remote('Down'), state: 'Init', transition: { from: 'Down', to: 'Init' } },
    { name: 'AdminDown', event: remote('AdminDown'), state: 'Down', diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN, transition: { from: 'Init', to: 'Down' } },
  ]);
});

test('Init: a remote still Down keeps Init; Up stays Up on remote Init (§6.8.6)', () => {
  const s = run(initialSession(PARAMS, LOCAL), [
    { name: 'Start', event: { type: 'Start' }, state: 'Down' },
    { name: 'Down', event: remote('Down'), state: 'Init', transition: { from: 'Down', to: 'Init' } },
    { name: 'Down again', event: remote('Down'), state: 'Init' },
  ]);
  run(s, [
    { name: 'Up', event: remote('Up'), state: 'Up', transition: { from: 'Init', to: 'Up' } },
    { name: 'remote Init while Up', event: remote('Init'), state: 'Up' },
  ]);
});

test('passive role: silent until the remote is heard (§6.1), then answers at once', () => {
  run(initialSession({ ...PARAMS, passive: true }, LOCAL), [
    { name: 'Start', event: { type: 'Start' }, state: 'Down', sent: [], transmit: 0 },
    { name: 'timer (none armed) sends nothing', event: { type: 'TxTimer' }, state: 'Down', sent: [], transmit: 0 },
    { name: 'remote Down', event: remote('Down'), state: 'Init', sent: [{ state: 'Init', yourDiscriminator: REMOTE }], transmit: 1_000_000, transition: { from: 'Down', to: 'Init' } },
  ]);
});

test('Required Min RX 0 from the remote stops periodic transmission (§6.8.7)', () => {
  run(up(), [{ name: 'remote RX 0', event: remote('Up', { requiredMinRxUs: 0, desiredMinTxUs: 300_000 }), state: 'Up', transmit: 0 }]);
});

test('a slower remote RX sets our interval: max(DesiredMinTx, RemoteMinRx) (§6.8.7)', () => {
  run(up(), [{ name: 'remote asks 500 ms', event: remote('Up', { requiredMinRxUs: 500_000, desiredMinTxUs: 300_000 }), state: 'Up', transmit: 500_000 }]);
});

test('new parameters while Up: Poll; a slower TX applies only after the Final (§6.8.3)', () => {
  const s = up();
  const slower: BfdParameters = { ...PARAMS, desiredMinTxUs: 800_000, requiredMinRxUs: 100_000 };
  const polled = run(s, [
    { name: 'SetParameters', event: { type: 'SetParameters', params: slower }, state: 'Up', sent: [{ state: 'Up', poll: true, desiredMinTxUs: 800_000 }], transmit: 300_000 },
  ]);
  // §6.8.3: the reduced RequiredMinRx does not shorten the detection time while the Poll runs.
  assert.equal(detectionTimeUs(polled), 900_000);
  const done = run(polled, [{ name: 'Final', event: remote('Up', { final: true, desiredMinTxUs: 100_000 }), state: 'Up', sent: [], transmit: 800_000, detect: 300_000 }]);
  assert.equal(done.pollActive, false);
  // Parameters changed while Down need no Poll.
  const down = initialSession(PARAMS, LOCAL);
  run(down, [{ name: 'SetParameters while Down', event: { type: 'SetParameters', params: slower }, state: 'Down', sent: [] }]);
});

test('Stop: AdminDown with diag 7, one packet, timers off; later packets are ignored (§6.8.16)', () => {
  const stopped = run(up(), [
    { name: 'Stop', event: { type: 'Stop' }, state: 'AdminDown', diag: BFD_DIAG.ADMINISTRATIVELY_DOWN, sent: [{ state: 'AdminDown' }], transmit: 0, detect: 0, transition: { from: 'Up', to: 'AdminDown' } },
    { name: 'packet after Stop', event: remote('Up'), state: 'AdminDown', sent: [] },
    { name: 'timeout after Stop', event: { type: 'DetectionTimeout' }, state: 'AdminDown', sent: [] },
  ]);
  // Start again: Down, diag cleared.
  run(stopped, [{ name: 'Start', event: { type: 'Start' }, state: 'Down', diag: 0, sent: [{ state: 'Down' }], transition: { from: 'AdminDown', to: 'Down' } }]);
});

test('the packet we send carries our state, discriminators, no echo (§6.8.7, §6.8.9)', () => {
  const s = up();
  const p = controlPacket(s, { final: false });
  assert.deepEqual([p.myDiscriminator, p.yourDiscriminator, p.detectMult, p.requiredMinRxUs, p.requiredMinEchoRxUs, p.demand], [LOCAL, REMOTE, 3, 300_000, 0, false]);
});

test('initialSession refuses a zero discriminator (§6.8.1)', () => {
  assert.throws(() => initialSession(PARAMS, 0), RangeError);
});

test('jitter: 75-100% of the interval, 75-90% with Detect Mult 1 (§6.8.7)', () => {
  assert.equal(txDelayMs(300_000, 3, 0), 225);
  assert.ok(txDelayMs(300_000, 3, 0.999999) <= 300 && txDelayMs(300_000, 3, 0.999999) > 299.9);
  assert.equal(txDelayMs(300_000, 1, 0), 225);
  assert.ok(txDelayMs(300_000, 1, 0.999999) <= 270 && txDelayMs(300_000, 1, 0.999999) > 269.9);
});
