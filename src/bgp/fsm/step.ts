// The BGP FSM as one pure function (RFC 4271 §8.2.2). Each state is a function of the event; the
// helpers below build the action lists that the RFC repeats in many places ("drops the TCP
// connection, releases all BGP resources, increments the ConnectRetryCounter, changes its state to
// Idle").
//
// Choices within the RFC's optional session attributes (§8.1.1):
//   AllowAutomaticStart = true    after a failure the FSM restarts itself through the IdleHold timer;
//   DampPeerOscillations = true   IdleHold = 0 s, then 1 s doubling per failure up to ConnectRetryTime;
//   PassiveTcpEstablishment       from the config: the FSM then never emits `connect`;
//   DelayOpen, CollisionDetectEstablishedState, SendNOTIFICATIONwithoutOPEN = false.
// Connection collisions (§6.8) are found by the driver, which holds both connections; it feeds
// OpenCollisionDump to the FSM of the connection that loses (see collision.ts).
import type {
  Fsm,
  FsmAction,
  FsmConfig,
  FsmEvent,
  Negotiated,
  NotificationView,
  Reason,
  SessionState,
  StepResult,
} from './types.ts';
import { ReasonCode, TimerName } from './types.ts';
import { negotiate } from './negotiate.ts';
import { CeaseSubcode, FsmErrorCode, FsmErrorSubcode, adminShutdown, notification } from './notifications.ts';

/** RFC 4271 §8.2.2 (OpenSent): "the HoldTimer to a large value ... A HoldTimer value of 4 minutes is suggested". */
export const LARGE_HOLD_TIME_SEC = 240;
/** First reconnect delay after a failure; doubles per consecutive failure. */
export const IDLE_HOLD_BASE_SEC = 1;
const MS = 1000;

export function initialFsm(config: FsmConfig): Fsm {
  return { config, state: 'Idle', connectRetryCounter: 0 };
}

/** The IdleHold delay after `failures` consecutive failures: 0, 1 s, 2 s, 4 s ... up to ConnectRetryTime. */
export function idleHoldMs(failures: number, connectRetrySec: number): number {
  if (failures <= 0) return 0;
  const sec = IDLE_HOLD_BASE_SEC * 2 ** Math.min(failures - 1, 30);
  return Math.min(sec, Math.max(connectRetrySec, IDLE_HOLD_BASE_SEC)) * MS;
}

const start = (timer: TimerName, sec: number): FsmAction => ({ type: 'startTimer', timer, ms: sec * MS });
const stop = (timer: TimerName): FsmAction => ({ type: 'stopTimer', timer });
const send = (n: NotificationView): FsmAction => ({ type: 'sendNotification', notification: n });

function result(fsm: Fsm, actions: readonly FsmAction[], reason: Reason): StepResult {
  return { fsm, actions, reason };
}

function ignore(fsm: Fsm, event: FsmEvent): StepResult {
  return result(fsm, [], { code: ReasonCode.Ignored, state: fsm.state, event: event.type });
}

interface IdleOptions {
  /** NOTIFICATION to send before dropping the connection. */
  readonly notify?: NotificationView;
  /** true: ConnectRetryCounter += 1 (most failures); false: ManualStop resets it to 0. */
  readonly countFailure: boolean;
  /** Manual/automatic stop: do not restart by itself. */
  readonly stopped?: boolean;
  /** Whether a TCP connection exists to drop. */
  readonly dropConnection: boolean;
}

/** "Changes its state to Idle": stop every timer, send/drop, report `down` if we were Established. */
function toIdle(fsm: Fsm, reason: Reason, opts: IdleOptions): StepResult {
  const actions: FsmAction[] = [];
  if (opts.notify !== undefined) actions.push(send(opts.notify));
  if (opts.dropConnection) actions.push({ type: 'dropConnection' });
  actions.push(stop(TimerName.ConnectRetry), stop(TimerName.Hold), stop(TimerName.Keepalive));
  if (fsm.state === 'Established') actions.push({ type: 'down', reason });
  const counter = opts.countFailure ? fsm.connectRetryCounter + 1 : 0;
  if (opts.stopped !== true) {
    // AllowAutomaticStart + DampPeerOscillations (§8.1.1): come back through IdleHoldTimer_Expires.
    actions.push(start(TimerName.IdleHold, idleHoldMs(counter, fsm.config.connectRetrySec) / MS));
  } else {
    actions.push(stop(TimerName.IdleHold));
  }
  const next: Fsm = { config: fsm.config, state: 'Idle', connectRetryCounter: counter };
  return result(next, actions, reason);
}

/** Any event a state does not expect: RFC 4271 §8.2.2 "FSM Error", with the RFC 6608 subcode. */
function fsmError(fsm: Fsm, event: FsmEvent): StepResult {
  const subcode =
    fsm.state === 'OpenSent'
      ? FsmErrorSubcode.UnexpectedInOpenSent
      : fsm.state === 'OpenConfirm'
        ? FsmErrorSubcode.UnexpectedInOpenConfirm
        : fsm.state === 'Established'
          ? FsmErrorSubcode.UnexpectedInEstablished
          : FsmErrorSubcode.Unspecified;
  // A NOTIFICATION is only sent once an OPEN may have been exchanged (OpenSent onwards).
  const connected = fsm.state === 'OpenSent' || fsm.state === 'OpenConfirm' || fsm.state === 'Established';
  const n = notification(FsmErrorCode.FiniteStateMachine, subcode);
  const reason: Reason = { code: ReasonCode.FsmError, state: fsm.state, event: event.type, ...(connected ? { notification: n } : {}) };
  return toIdle(fsm, reason, { ...(connected ? { notify: n } : {}), countFailure: true, dropConnection: true });
}

function startSession(fsm: Fsm, manual: boolean): StepResult {
  const counter = manual ? 0 : fsm.connectRetryCounter;
  const retry = start(TimerName.ConnectRetry, fsm.config.connectRetrySec);
  if (fsm.config.passive) {
    // PassiveTcpEstablishment: wait in Active for the peer to connect; no ConnectRetry timer, since
    // its expiry would make us connect (§8.2.2 Active, Event 9).
    return result({ ...fsm, state: 'Active', connectRetryCounter: counter }, [stop(TimerName.IdleHold)], {
      code: ReasonCode.Started,
    });
  }
  return result(
    { ...fsm, state: 'Connect', connectRetryCounter: counter },
    [stop(TimerName.IdleHold), retry, { type: 'connect' }],
    { code: ReasonCode.Started },
  );
}

/** Connect / Active + TCP up: send OPEN, arm the large hold timer, go to OpenSent (§8.2.2). */
function connected(fsm: Fsm): StepResult {
  return result(
    { ...fsm, state: 'OpenSent' },
    [stop(TimerName.ConnectRetry), { type: 'sendOpen' }, start(TimerName.Hold, LARGE_HOLD_TIME_SEC)],
    { code: ReasonCode.Connected },
  );
}

function stopSession(fsm: Fsm, event: { readonly type: 'ManualStop' | 'AutomaticStop'; readonly communication?: string }): StepResult {
  const manual = event.type === 'ManualStop';
  const hasConnection = fsm.state !== 'Idle' && fsm.state !== 'Active';
  // RFC 4271 §8.2.2: in OpenSent/OpenConfirm/Established a Cease NOTIFICATION is sent; RFC 4486 §4
  // Administrative Shutdown, with the RFC 9003 Shutdown Communication.
  const notify =
    fsm.state === 'OpenSent' || fsm.state === 'OpenConfirm' || fsm.state === 'Established'
      ? adminShutdown(event.communication)
      : undefined;
  return toIdle(
    fsm,
    { code: ReasonCode.Stopped, ...(notify !== undefined ? { notification: notify } : {}) },
    {
      ...(notify !== undefined ? { notify } : {}),
      // ManualStop sets the counter to zero; AutomaticStop increments it (§8.2.2).
      countFailure: !manual,
      stopped: true,
      dropConnection: hasConnection,
    },
  );
}

function idle(fsm: Fsm, event: FsmEvent): StepResult {
  switch (event.type) {
    case 'ManualStart':
      return startSession(fsm, true);
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return startSession(fsm, false);
    case 'TcpConnectionConfirmed':
    case 'Tcp_CR_Acked':
      // §8.2.2 Idle: "refuses all incoming BGP connections".
      return result(fsm, [{ type: 'dropConnection' }], { code: ReasonCode.Ignored, state: fsm.state, event: event.type });
    default:
      return ignore(fsm, event);
  }
}

function connect(fsm: Fsm, event: FsmEvent): StepResult {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return ignore(fsm, event);
    case 'ManualStop':
    case 'AutomaticStop':
      return stopSession(fsm, event);
    case 'ConnectRetryTimer_Expires':
      // §8.2.2 Connect, Event 9: drop the attempt, restart ConnectRetryTimer, connect again.
      return result(
        fsm,
        [{ type: 'dropConnection' }, start(TimerName.ConnectRetry, fsm.config.connectRetrySec), { type: 'connect' }],
        { code: ReasonCode.ConnectRetry },
      );
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return connected(fsm);
    case 'TcpConnectionFails':
      // §8.2.2 Connect, Event 18 (no DelayOpen): stop ConnectRetryTimer, drop, Idle. The backoff counter
      // still counts the failure so that a refused peer is not hammered.
      return toIdle(fsm, { code: ReasonCode.ConnectFailed }, { countFailure: true, dropConnection: true });
    default:
      return fsmError(fsm, event);
  }
}

function active(fsm: Fsm, event: FsmEvent): StepResult {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return ignore(fsm, event);
    case 'ManualStop':
    case 'AutomaticStop':
      return stopSession(fsm, event);
    case 'ConnectRetryTimer_Expires':
      if (fsm.config.passive) return ignore(fsm, event);
      // §8.2.2 Active, Event 9: restart ConnectRetryTimer, initiate a connection, go to Connect.
      return result(
        { ...fsm, state: 'Connect' },
        [start(TimerName.ConnectRetry, fsm.config.connectRetrySec), { type: 'connect' }],
        { code: ReasonCode.ConnectRetry },
      );
    case 'Tcp_CR_Acked':
    case 'TcpConnectionConfirmed':
      return connected(fsm);
    case 'TcpConnectionFails':
      return toIdle(fsm, { code: ReasonCode.ConnectFailed }, { countFailure: true, dropConnection: true });
    default:
      return fsmError(fsm, event);
  }
}

/** Errors detected on a received message: send its NOTIFICATION, then Idle (§8.2.2 Events 21, 22, 28). */
function messageError(fsm: Fsm, code: ReasonCode, n: NotificationView): StepResult {
  return toIdle(fsm, { code, notification: n }, { notify: n, countFailure: true, dropConnection: true });
}

function holdExpired(fsm: Fsm): StepResult {
  // §8.2.2 Event 10 (OpenSent, OpenConfirm, Established): NOTIFICATION Hold Timer Expired, Idle.
  const n = notification(FsmErrorCode.HoldTimerExpired, 0);
  return toIdle(fsm, { code: ReasonCode.HoldTimerExpired, notification: n }, { notify: n, countFailure: true, dropConnection: true });
}

function collisionDump(fsm: Fsm): StepResult {
  // §6.8: the losing connection is closed with Cease; RFC 4486 §4 subcode 7.
  const n = notification(FsmErrorCode.Cease, CeaseSubcode.ConnectionCollisionResolution);
  return toIdle(fsm, { code: ReasonCode.CollisionDump, notification: n }, { notify: n, countFailure: true, dropConnection: true });
}

function peerClosed(fsm: Fsm, code: ReasonCode, n?: NotificationView): StepResult {
  // A NOTIFICATION is never answered with one (RFC 4271 §6: the sender closes the connection).
  return toIdle(fsm, { code, ...(n !== undefined ? { notification: n } : {}) }, { countFailure: true, dropConnection: true });
}

function openSent(fsm: Fsm, event: FsmEvent): StepResult {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return ignore(fsm, event);
    case 'ManualStop':
    case 'AutomaticStop':
      return stopSession(fsm, event);
    case 'HoldTimer_Expires':
      return holdExpired(fsm);
    case 'TcpConnectionFails':
      // §8.2.2 OpenSent, Event 18: close, restart ConnectRetryTimer, go to Active.
      return result(
        { ...fsm, state: 'Active' },
        [
          { type: 'dropConnection' },
          stop(TimerName.Hold),
          ...(fsm.config.passive ? [] : [start(TimerName.ConnectRetry, fsm.config.connectRetrySec)]),
        ],
        { code: ReasonCode.ConnectionLost },
      );
    case 'BGPOpen': {
      const nego = negotiate(fsm.config, event.open);
      if (!nego.ok) {
        return toIdle(
          fsm,
          { code: ReasonCode.OpenRejected, notification: nego.notification, detail: nego.detail },
          { notify: nego.notification, countFailure: true, dropConnection: true },
        );
      }
      return openAccepted(fsm, nego.negotiated);
    }
    case 'BGPHeaderErr':
      return messageError(fsm, ReasonCode.HeaderError, event.notification);
    case 'BGPOpenMsgErr':
      return messageError(fsm, ReasonCode.OpenMessageError, event.notification);
    case 'OpenCollisionDump':
      return collisionDump(fsm);
    case 'NotifMsgVerErr':
      // §8.2.2 OpenSent, Event 24: Idle without counting a failure (the peer told us its version).
      return toIdle(fsm, { code: ReasonCode.NotificationReceived, notification: event.notification }, { countFailure: false, dropConnection: true });
    case 'NotifMsg':
      return peerClosed(fsm, ReasonCode.NotificationReceived, event.notification);
    default:
      return fsmError(fsm, event);
  }
}

/** §8.2.2 OpenSent, Event 19: KEEPALIVE, keepalive timer, negotiated hold timer, OpenConfirm. */
function openAccepted(fsm: Fsm, negotiated: Negotiated): StepResult {
  const actions: FsmAction[] = [stop(TimerName.ConnectRetry), { type: 'sendKeepalive' }];
  if (negotiated.holdTimeSec > 0) {
    actions.push(start(TimerName.Keepalive, negotiated.keepaliveSec), start(TimerName.Hold, negotiated.holdTimeSec));
  } else {
    // §4.4 / §10: a zero hold time means no hold timer and no periodic keepalives.
    actions.push(stop(TimerName.Keepalive), stop(TimerName.Hold));
  }
  return result({ ...fsm, state: 'OpenConfirm', negotiated }, actions, { code: ReasonCode.OpenAccepted });
}

function openConfirm(fsm: Fsm, event: FsmEvent): StepResult {
  const nego = fsm.negotiated;
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return ignore(fsm, event);
    case 'ManualStop':
    case 'AutomaticStop':
      return stopSession(fsm, event);
    case 'HoldTimer_Expires':
      return holdExpired(fsm);
    case 'KeepaliveTimer_Expires':
      return keepaliveDue(fsm);
    case 'TcpConnectionFails':
      return peerClosed(fsm, ReasonCode.ConnectionLost);
    case 'NotifMsgVerErr':
      return toIdle(fsm, { code: ReasonCode.NotificationReceived, notification: event.notification }, { countFailure: false, dropConnection: true });
    case 'NotifMsg':
      return peerClosed(fsm, ReasonCode.NotificationReceived, event.notification);
    case 'BGPHeaderErr':
      return messageError(fsm, ReasonCode.HeaderError, event.notification);
    case 'BGPOpenMsgErr':
      return messageError(fsm, ReasonCode.OpenMessageError, event.notification);
    case 'OpenCollisionDump':
      return collisionDump(fsm);
    case 'KeepAliveMsg': {
      if (nego === undefined) return fsmError(fsm, event);
      // §8.2.2 OpenConfirm, Event 26: restart the hold timer, go to Established. The backoff counter
      // is reset here (a session that came up is not a failing one).
      const actions: FsmAction[] = [];
      if (nego.holdTimeSec > 0) actions.push(start(TimerName.Hold, nego.holdTimeSec));
      actions.push({ type: 'established', negotiated: nego });
      return result({ ...fsm, state: 'Established', connectRetryCounter: 0 }, actions, { code: ReasonCode.KeepaliveReceived });
    }
    default:
      return fsmError(fsm, event);
  }
}

function keepaliveDue(fsm: Fsm): StepResult {
  const nego = fsm.negotiated;
  const actions: FsmAction[] = [{ type: 'sendKeepalive' }];
  if (nego !== undefined && nego.keepaliveSec > 0) actions.push(start(TimerName.Keepalive, nego.keepaliveSec));
  return result(fsm, actions, { code: ReasonCode.KeepaliveSent });
}

/** §8.2.2 Established, Events 26/27: restart the hold timer (when not zero). */
function holdRestart(fsm: Fsm): FsmAction[] {
  const hold = fsm.negotiated?.holdTimeSec ?? 0;
  return hold > 0 ? [start(TimerName.Hold, hold)] : [];
}

function established(fsm: Fsm, event: FsmEvent): StepResult {
  switch (event.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimer_Expires':
      return ignore(fsm, event);
    case 'ManualStop':
    case 'AutomaticStop':
      return stopSession(fsm, event);
    case 'HoldTimer_Expires':
      return holdExpired(fsm);
    case 'KeepaliveTimer_Expires':
      return keepaliveDue(fsm);
    case 'TcpConnectionFails':
      return peerClosed(fsm, ReasonCode.ConnectionLost);
    case 'NotifMsgVerErr':
    case 'NotifMsg':
      return peerClosed(fsm, ReasonCode.NotificationReceived, event.notification);
    case 'KeepAliveMsg':
      return result(fsm, holdRestart(fsm), { code: ReasonCode.KeepaliveReceived });
    case 'UpdateMsg':
      return result(fsm, holdRestart(fsm), { code: ReasonCode.UpdateReceived });
    case 'RouteRefreshMsg':
      // RFC 2918 §4: re-advertise the Adj-RIB-Out. Only meaningful if negotiated; a peer sending it
      // anyway gets the table too (harmless, and FRR never does).
      return result(fsm, [...holdRestart(fsm), { type: 'resendTable' }], { code: ReasonCode.RouteRefreshReceived });
    case 'UpdateMsgErr':
      return messageError(fsm, ReasonCode.UpdateMessageError, event.notification);
    case 'BGPHeaderErr':
      return messageError(fsm, ReasonCode.HeaderError, event.notification);
    case 'OpenCollisionDump':
      return collisionDump(fsm);
    default:
      return fsmError(fsm, event);
  }
}

const byState: Readonly<Record<SessionState, (fsm: Fsm, event: FsmEvent) => StepResult>> = {
  Idle: idle,
  Connect: connect,
  Active: active,
  OpenSent: openSent,
  OpenConfirm: openConfirm,
  Established: established,
};

/** One FSM transition: the next state, the actions to execute in order, and why. */
export function step(fsm: Fsm, event: FsmEvent): StepResult {
  return byState[fsm.state](fsm, event);
}
