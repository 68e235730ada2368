// The BFD session state machine (RFC 5880 asynchronous mode), pure: `step(session, event)` returns the
// next session and the actions a driver executes (driver.ts). No clock, no socket, no randomness: the
// driver turns `transmit` into a jittered timer (txDelayMs) and `detect` into a one-shot timer.
//
//   events   Start, Stop (AdminDown), Received (a decoded packet for this session), TxTimer,
//            DetectionTimeout, SetParameters (a new profile: Poll Sequence)
//   actions  send (a packet now), transmit (periodic interval, 0 = stop), detect (detection time,
//            0 = cancel), state (a change of bfd.SessionState with its diagnostic)
//
// Rules applied, by section: §6.2 state diagram and §6.8.6 reception; §6.8.3 timer negotiation with
// the one-second floor while not Up and the Poll Sequence on every change (§6.5); §6.8.4 detection
// time = remote Detect Mult × max(bfd.RequiredMinRxInterval, remote Desired Min TX); §6.8.7 what a
// packet carries and when not to send; §6.1 passive role; §6.8.16 AdminDown. Not implemented: Demand
// mode (D is never set; a remote D bit is recorded and otherwise ignored), the Echo function (Required
// Min Echo RX is sent as 0, §6.8.9) and authentication (packet.ts rejects it).
import { BFD_DIAG, type BfdDiag, type BfdState, type ControlPacket } from './packet.ts';

/** Intervals are microseconds on the wire (§4.1); timers and configuration use milliseconds. */
export const US_PER_MS = 1000;

/** §6.8.3: "bfd.DesiredMinTxInterval ... not less than one second" while the session is not Up. */
export const SLOW_TX_US = 1_000_000;

export interface BfdParameters {
  /** bfd.DesiredMinTxInterval once Up, microseconds. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval, microseconds. */
  readonly requiredMinRxUs: number;
  /** bfd.DetectMult. */
  readonly detectMult: number;
  /** §6.1: passive role: send nothing until the remote has been heard. */
  readonly passive: boolean;
}

/** The RFC 5880 §6.8.1 state variables this implementation keeps. */
export interface BfdSession {
  readonly params: BfdParameters;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  readonly localDiscr: number;
  readonly remoteDiscr: number;
  readonly localDiag: BfdDiag;
  /** bfd.RemoteMinRxInterval (starts at 1, §6.8.1). */
  readonly remoteMinRxUs: number;
  /** The remote's Desired Min TX Interval, last received (0 before anything was received). */
  readonly remoteDesiredMinTxUs: number;
  /** The remote's Detect Mult, last received. */
  readonly remoteDetectMult: number;
  readonly remoteDemand: boolean;
  /** A Poll Sequence is in progress (§6.5): periodic packets carry P until a Final arrives. */
  readonly pollActive: boolean;
  /** The DesiredMinTx / RequiredMinRx the remote has acknowledged (with a Final, or before any Poll). */
  readonly ackedTxUs: number;
  readonly ackedRxUs: number;
  /** Sending at all: false before Start and after Stop. */
  readonly running: boolean;
}

export type BfdEvent =
  | { readonly type: 'Start' }
  | { readonly type: 'Stop' }
  | { readonly type: 'Received'; readonly packet: ControlPacket }
  | { readonly type: 'TxTimer' }
  | { readonly type: 'DetectionTimeout' }
  | { readonly type: 'SetParameters'; readonly params: BfdParameters };

export type BfdAction =
  | { readonly type: 'send'; readonly packet: ControlPacket }
  /** (Re)arm the periodic transmission with this interval; 0: send nothing periodically. */
  | { readonly type: 'transmit'; readonly intervalUs: number }
  /** (Re)arm the detection timer; 0: cancel it. */
  | { readonly type: 'detect'; readonly timeoutUs: number }
  /** `remoteAdminDown`: Down because the remote signalled AdminDown, which is not a path failure:
   * RFC 5882 §3.2 forbids clients to act on it as one. */
  | { readonly type: 'state'; readonly from: BfdState; readonly to: BfdState; readonly diag: BfdDiag; readonly remoteAdminDown?: boolean };

export interface BfdStep {
  readonly session: BfdSession;
  readonly actions: readonly BfdAction[];
}

export function initialSession(params: BfdParameters, localDiscr: number): BfdSession {
  if (!(localDiscr > 0 && localDiscr <= 0xffffffff)) throw new RangeError(`BFD local discriminator ${localDiscr} must be 1..2^32-1 (RFC 5880 §6.8.1)`);
  const tx = effectiveTxUs(params, 'Down');
  return {
    params,
    state: 'Down',
    remoteState: 'Down',
    localDiscr,
    remoteDiscr: 0,
    localDiag: BFD_DIAG.NONE,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    pollActive: false,
    ackedTxUs: tx,
    ackedRxUs: params.requiredMinRxUs,
    running: false,
  };
}

/** bfd.DesiredMinTxInterval as advertised in this state (§6.8.3 one-second floor while not Up). */
export function effectiveTxUs(params: BfdParameters, state: BfdState): number {
  return state === 'Up' ? params.desiredMinTxUs : Math.max(params.desiredMinTxUs, SLOW_TX_US);
}

/** §6.8.2/§6.8.7: the periodic transmission interval; 0 when nothing may be sent periodically. */
export function transmitIntervalUs(s: BfdSession): number {
  if (!s.running) return 0;
  // §6.1 / §6.8.7: the passive role sends nothing while bfd.RemoteDiscr is zero.
  if (s.params.passive && s.remoteDiscr === 0) return 0;
  // §6.8.7: no periodic packets while bfd.RemoteMinRxInterval is zero.
  if (s.remoteMinRxUs === 0) return 0;
  const desired = effectiveTxUs(s.params, s.state);
  // §6.8.3: an increase takes effect only once the Poll Sequence has ended.
  const tx = s.pollActive ? Math.min(desired, s.ackedTxUs) : desired;
  return Math.max(tx, s.remoteMinRxUs);
}

/** §6.8.4 asynchronous mode: the remote's Detect Mult × the agreed remote transmit interval. */
export function detectionTimeUs(s: BfdSession): number {
  if (s.remoteDetectMult === 0) return 0;
  // §6.8.3: a reduced RequiredMinRx does not shorten the detection time until the Poll has ended.
  const rx = s.pollActive ? Math.max(s.params.requiredMinRxUs, s.ackedRxUs) : s.params.requiredMinRxUs;
  return s.remoteDetectMult * Math.max(rx, s.remoteDesiredMinTxUs);
}

/** §6.8.7: the Control packet this session sends now. */
export function controlPacket(s: BfdSession, opts: { readonly final: boolean }): ControlPacket {
  return {
    diag: s.localDiag,
    state: s.state,
    // §6.8.7: P while polling, never together with F.
    poll: s.pollActive && !opts.final,
    final: opts.final,
    controlPlaneIndependent: false,
    demand: false,
    detectMult: s.params.detectMult,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxUs: effectiveTxUs(s.params, s.state),
    requiredMinRxUs: s.params.requiredMinRxUs,
    // §6.8.9 / §6.8.7: no Echo function: "MUST be set to zero".
    requiredMinEchoRxUs: 0,
  };
}

/** §6.8.7: "no more than 25% jitter" below the interval, and "no more than 90%" with Detect Mult 1. */
const JITTER = { min: 0.75, max: 1, maxSingle: 0.9 } as const;

/**
 * The jittered delay before the next periodic packet (§6.8.7): 75-100% of the interval, or 75-90%
 * when bfd.DetectMult is 1. `random` is in [0, 1).
 */
export function txDelayMs(intervalUs: number, detectMult: number, random: number): number {
  const span = detectMult === 1 ? JITTER.maxSingle - JITTER.min : JITTER.max - JITTER.min;
  return (intervalUs * (JITTER.min + span * random)) / US_PER_MS;
}

export function step(s: BfdSession, e: BfdEvent): BfdStep {
  switch (e.type) {
    case 'Start':
      return onStart(s);
    case 'Stop':
      return onStop(s);
    case 'Received':
      return onReceived(s, e.packet);
    case 'TxTimer':
      return onTxTimer(s);
    case 'DetectionTimeout':
      return onDetectionTimeout(s);
    case 'SetParameters':
      return onSetParameters(s, e.params);
    default: {
      const never: never = e;
      return never;
    }
  }
}

function onStart(s: BfdSession): BfdStep {
  if (s.running) return { session: s, actions: [] };
  const next: BfdSession = { ...s, running: true, state: s.state === 'AdminDown' ? 'Down' : s.state, localDiag: BFD_DIAG.NONE };
  const actions: BfdAction[] = [];
  if (s.state === 'AdminDown') actions.push({ type: 'state', from: 'AdminDown', to: 'Down', diag: BFD_DIAG.NONE });
  const tx = transmitIntervalUs(next);
  if (tx > 0) actions.push({ type: 'send', packet: controlPacket(next, { final: false }) });
  actions.push({ type: 'transmit', intervalUs: tx });
  return { session: next, actions };
}

/** §6.8.16: AdminDown with diag 7; the remote learns it from the packet sent now (it goes Down with
 * diag 3, §6.8.6) rather than by waiting for the detection time. */
function onStop(s: BfdSession): BfdStep {
  if (!s.running) return { session: s, actions: [] };
  const next: BfdSession = { ...s, state: 'AdminDown', localDiag: BFD_DIAG.ADMINISTRATIVELY_DOWN, pollActive: false, running: false };
  const actions: BfdAction[] = [];
  if (s.state !== 'AdminDown') actions.push({ type: 'state', from: s.state, to: 'AdminDown', diag: BFD_DIAG.ADMINISTRATIVELY_DOWN });
  // Passive and never heard from the remote: nothing to tell.
  if (!(s.params.passive && s.remoteDiscr === 0)) actions.push({ type: 'send', packet: controlPacket(next, { final: false }) });
  actions.push({ type: 'transmit', intervalUs: 0 }, { type: 'detect', timeoutUs: 0 });
  return { session: next, actions };
}

function onTxTimer(s: BfdSession): BfdStep {
  const tx = transmitIntervalUs(s);
  if (tx === 0) return { session: s, actions: [{ type: 'transmit', intervalUs: 0 }] };
  return { session: s, actions: [{ type: 'send', packet: controlPacket(s, { final: false }) }, { type: 'transmit', intervalUs: tx }] };
}

/** §6.8.4: no valid packet within the detection time. */
function onDetectionTimeout(s: BfdSession): BfdStep {
  if (!s.running) return { session: s, actions: [] };
  // §6.8.1: bfd.RemoteDiscr "MUST be set to zero if Detection Time expires"; the remote is unknown again.
  let next: BfdSession = { ...s, remoteDiscr: 0, remoteState: 'Down', remoteMinRxUs: 1, remoteDetectMult: 0, remoteDesiredMinTxUs: 0, pollActive: false };
  const actions: BfdAction[] = [];
  if (s.state === 'Init' || s.state === 'Up') {
    // §6.8.4: "bfd.SessionState is set to Down and bfd.LocalDiag to 1 (Control Detection Time Expired)".
    next = { ...next, state: 'Down', localDiag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED };
    actions.push({ type: 'state', from: s.state, to: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED });
  }
  // Back to the slow rate (§6.8.3); the acknowledged values restart from what we now advertise.
  next = { ...next, ackedTxUs: effectiveTxUs(next.params, next.state), ackedRxUs: next.params.requiredMinRxUs };
  actions.push({ type: 'transmit', intervalUs: transmitIntervalUs(next) });
  return { session: next, actions };
}

/** §6.8.3: a change of DesiredMinTx or RequiredMinRx starts a Poll Sequence (while Up: the remote's
 * timers depend on them). DetectMult and the passive role change without one. */
function onSetParameters(s: BfdSession, params: BfdParameters): BfdStep {
  const before = s.params;
  const timersChanged = before.desiredMinTxUs !== params.desiredMinTxUs || before.requiredMinRxUs !== params.requiredMinRxUs;
  let next: BfdSession = { ...s, params };
  const actions: BfdAction[] = [];
  if (timersChanged && s.state === 'Up' && s.running) {
    next = { ...next, pollActive: true };
    actions.push({ type: 'send', packet: controlPacket(next, { final: false }) });
  } else if (!next.pollActive) {
    next = { ...next, ackedTxUs: effectiveTxUs(params, next.state), ackedRxUs: params.requiredMinRxUs };
  }
  actions.push({ type: 'transmit', intervalUs: transmitIntervalUs(next) });
  return { session: next, actions };
}

/** §6.8.6, from "Set bfd.RemoteDiscr" on: the packet passed packet.ts's checks and was matched to this
 * session by the driver (Your Discriminator, or source address when it is zero). */
function onReceived(s: BfdSession, p: ControlPacket): BfdStep {
  if (!s.running) return { session: s, actions: [] };
  const before = s;
  let next: BfdSession = {
    ...s,
    remoteDiscr: p.myDiscriminator,
    remoteState: p.state,
    remoteDemand: p.demand,
    remoteMinRxUs: p.requiredMinRxUs,
    remoteDesiredMinTxUs: p.desiredMinTxUs,
    remoteDetectMult: p.detectMult,
  };
  // §6.5 / §6.8.6: "If the Final (F) bit is set and there is a Poll Sequence in progress, the Poll
  // Sequence MUST be terminated": the remote now uses the parameters we polled with.
  if (p.final && next.pollActive) {
    next = { ...next, pollActive: false, ackedTxUs: effectiveTxUs(next.params, next.state), ackedRxUs: next.params.requiredMinRxUs };
  }
  const actions: BfdAction[] = [];
  const change = (to: BfdState, diag: BfdDiag): void => {
    actions.push({ type: 'state', from: next.state, to, diag, ...(p.state === 'AdminDown' ? { remoteAdminDown: true } : {}) });
    next = { ...next, state: to, localDiag: diag };
  };
  // §6.8.6: "If bfd.SessionState is AdminDown: Discard the packet" (not reached: Stop clears running).
  if (p.state === 'AdminDown') {
    // "If received state is AdminDown: If bfd.SessionState is not Down: Set bfd.LocalDiag to 3, Set
    // bfd.SessionState to Down".
    if (next.state !== 'Down') change('Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
  } else if (next.state === 'Down') {
    // "If received State is Down: Set bfd.SessionState to Init; Else if received State is Init: Set
    // bfd.SessionState to Up".
    if (p.state === 'Down') change('Init', BFD_DIAG.NONE);
    else if (p.state === 'Init') change('Up', BFD_DIAG.NONE);
  } else if (next.state === 'Init') {
    // "If received State is Init or Up: Set bfd.SessionState to Up".
    if (p.state === 'Init' || p.state === 'Up') change('Up', BFD_DIAG.NONE);
  } else if (p.state === 'Down') {
    // Up: "If received State is Down: Set bfd.LocalDiag to 3, Set bfd.SessionState to Down".
    change('Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
  }

  if (before.state !== 'Up' && next.state === 'Up') {
    // §6.8.3: leaving the one-second floor changes bfd.DesiredMinTxInterval: poll so the remote
    // adopts our real rate (the remote's packets keep the old detection time until it answers).
    if (effectiveTxUs(next.params, 'Up') !== effectiveTxUs(next.params, before.state)) next = { ...next, pollActive: true };
  } else if (before.state === 'Up' && next.state !== 'Up') {
    next = { ...next, pollActive: false, ackedTxUs: effectiveTxUs(next.params, next.state), ackedRxUs: next.params.requiredMinRxUs };
  }

  // §6.8.6: "If the Poll (P) bit is set, send a BFD Control packet to the remote system with the Poll
  // (P) bit clear, and the Final (F) bit set" - at once, regardless of the transmit timer (§6.8.7).
  if (p.poll) actions.push({ type: 'send', packet: controlPacket(next, { final: true }) });
  else if (next.state !== before.state) actions.push({ type: 'send', packet: controlPacket(next, { final: false }) });
  const wasSending = transmitIntervalUs(before) > 0;
  const tx = transmitIntervalUs(next);
  // A passive session heard its remote for the first time: start with a packet now.
  if (!wasSending && tx > 0 && !actions.some((a) => a.type === 'send')) actions.push({ type: 'send', packet: controlPacket(next, { final: false }) });
  actions.push({ type: 'transmit', intervalUs: tx });
  // §6.8.4: a valid packet restarts the detection timer.
  actions.push({ type: 'detect', timeoutUs: detectionTimeUs(next) });
  return { session: next, actions };
}
