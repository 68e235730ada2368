// Data of the BGP finite state machine (RFC 4271 §8): states, events, actions and reasons.
//
// The FSM is one pure function, `step(fsm, event) -> { fsm, actions, reason }` (see step.ts). It never
// touches a socket or a clock: the session driver (../session.ts) turns socket and timer activity into
// events and executes the actions it gets back. Events keep the RFC 4271 §8.1 names so that a reader
// can put the RFC next to the code.

/** RFC 4271 §8.2.2 session states. */
export const SessionState = {
  Idle: 'Idle',
  Connect: 'Connect',
  Active: 'Active',
  OpenSent: 'OpenSent',
  OpenConfirm: 'OpenConfirm',
  Established: 'Established',
} as const;
export type SessionState = (typeof SessionState)[keyof typeof SessionState];

/** The timers of RFC 4271 §8 / §10 (IdleHold is the DampPeerOscillations timer of §8.1.1). */
export const TimerName = {
  ConnectRetry: 'ConnectRetry',
  Hold: 'Hold',
  Keepalive: 'Keepalive',
  IdleHold: 'IdleHold',
} as const;
export type TimerName = (typeof TimerName)[keyof typeof TimerName];

/** A NOTIFICATION's payload (RFC 4271 §4.5) as the FSM sees it. */
export interface NotificationView {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
}

/** Address family / subsequent address family (RFC 4760). */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** RFC 4724 §3: one address family inside the Graceful Restart capability. */
export interface GracefulRestartFamily extends AfiSafi {
  /** F bit: forwarding state was preserved for this family across the restart. */
  readonly forwardingState: boolean;
}

/** RFC 4724 §3 Graceful Restart capability. */
export interface GracefulRestartView {
  /** R bit: the sender has restarted. */
  readonly restartState: boolean;
  readonly restartTimeSec: number;
  readonly families: readonly GracefulRestartFamily[];
}

/**
 * The capabilities of one side of a session (RFC 5492), reduced to what the FSM and the driver use.
 * The driver maps the codec's capability list to and from this view.
 */
export interface CapabilitiesView {
  /** RFC 6793: the 4-octet AS number, when the capability is present. */
  readonly fourOctetAs?: number;
  /** RFC 4760 multiprotocol capabilities. */
  readonly multiprotocol: readonly AfiSafi[];
  /** RFC 2918 (code 2). */
  readonly routeRefresh: boolean;
  /** RFC 7313 (code 70). */
  readonly enhancedRouteRefresh: boolean;
  /** RFC 8654 (code 6). */
  readonly extendedMessage: boolean;
  /** RFC 4724 (code 64). */
  readonly gracefulRestart?: GracefulRestartView;
}

/** The fields of a received OPEN (RFC 4271 §4.2) that the FSM validates and negotiates. */
export interface OpenView {
  readonly version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real AS does not fit). */
  readonly myAutonomousSystem: number;
  readonly holdTimeSec: number;
  /** BGP Identifier as an unsigned 32-bit integer. */
  readonly bgpIdentifier: number;
  readonly capabilities: CapabilitiesView;
}

/** What both ends agreed on when the session reached OpenConfirm (RFC 4271 §4.2, §10; RFC 5492). */
export interface Negotiated {
  readonly peerAsn: number;
  readonly peerRouterId: number;
  /** Internal session: the peer is in our AS (RFC 4271 §5.1.2 / §5.1.5 rules differ). */
  readonly internal: boolean;
  /** min(our hold time, peer's), seconds; 0 = no hold timer and no keepalives. */
  readonly holdTimeSec: number;
  /** seconds between our KEEPALIVEs; 0 when holdTimeSec is 0. */
  readonly keepaliveSec: number;
  /** Both sides advertised the 4-octet AS capability (RFC 6793). */
  readonly fourOctetAs: boolean;
  /** Families both sides advertised (RFC 4760 §8); IPv4 unicast is implied when neither side sent MP. */
  readonly families: readonly AfiSafi[];
  readonly routeRefresh: boolean;
  readonly enhancedRouteRefresh: boolean;
  readonly extendedMessage: boolean;
  /** The peer's Graceful Restart capability, when both sides sent one (RFC 4724 §4). */
  readonly peerGracefulRestart?: GracefulRestartView;
}

/** Static per-peer configuration the FSM needs. Times are in seconds as in the RFCs. */
export interface FsmConfig {
  readonly localAsn: number;
  /** The expected peer AS; `undefined` with a dynamic ASN. */
  readonly peerAsn?: number;
  /** MetalLB's `dynamicASN`: accept any internal (same AS) or any external (other AS) peer. */
  readonly dynamicAsn?: 'internal' | 'external';
  /** Our BGP Identifier (unsigned 32-bit). */
  readonly routerId: number;
  /** Proposed hold time: 0 or >= 3 (RFC 4271 §4.2). */
  readonly holdTimeSec: number;
  /** Configured keepalive interval; default hold/3 (RFC 4271 §10). */
  readonly keepaliveTimeSec?: number;
  /** ConnectRetryTime (RFC 4271 §10, suggested 120 s); also caps the reconnect backoff. */
  readonly connectRetrySec: number;
  /** PassiveTcpEstablishment (RFC 4271 §8.1.1): never initiate a TCP connection. */
  readonly passive: boolean;
  /** What we advertise in our OPEN; used to intersect with the peer's. */
  readonly localCapabilities: CapabilitiesView;
}

/** The FSM's whole state: plain data, replaced (never mutated) by each step. */
export interface Fsm {
  readonly config: FsmConfig;
  readonly state: SessionState;
  /** RFC 4271 §8.1.1 ConnectRetryCounter; also drives the reconnect backoff (IdleHold). */
  readonly connectRetryCounter: number;
  /** Set from OpenConfirm on; cleared when the session goes back to Idle. */
  readonly negotiated?: Negotiated;
}

// ---------------------------------------------------------------------------------------------
// Events (RFC 4271 §8.1.2 - §8.1.5). Events the driver never produces (DelayOpen, Tcp_CR_Invalid,
// the *_with_PassiveTcpEstablishment variants: passive is configuration here) are left out.

export type FsmEvent =
  | { readonly type: 'ManualStart' } // Event 1
  | { readonly type: 'ManualStop'; readonly communication?: string } // Event 2 (RFC 9003 message)
  | { readonly type: 'AutomaticStart' } // Event 3
  | { readonly type: 'AutomaticStop'; readonly communication?: string } // Event 8
  | { readonly type: 'ConnectRetryTimer_Expires' } // Event 9
  | { readonly type: 'HoldTimer_Expires' } // Event 10
  | { readonly type: 'KeepaliveTimer_Expires' } // Event 11
  | { readonly type: 'IdleHoldTimer_Expires' } // Event 13
  | { readonly type: 'Tcp_CR_Acked' } // Event 16: our outgoing connection completed
  | { readonly type: 'TcpConnectionConfirmed' } // Event 17: an incoming connection was accepted
  | { readonly type: 'TcpConnectionFails' } // Event 18
  | { readonly type: 'BGPOpen'; readonly open: OpenView } // Event 19
  | { readonly type: 'BGPHeaderErr'; readonly notification: NotificationView } // Event 21
  | { readonly type: 'BGPOpenMsgErr'; readonly notification: NotificationView } // Event 22
  | { readonly type: 'OpenCollisionDump' } // Event 23
  | { readonly type: 'NotifMsgVerErr'; readonly notification: NotificationView } // Event 24
  | { readonly type: 'NotifMsg'; readonly notification: NotificationView } // Event 25
  | { readonly type: 'KeepAliveMsg' } // Event 26
  | { readonly type: 'UpdateMsg' } // Event 27
  | { readonly type: 'UpdateMsgErr'; readonly notification: NotificationView } // Event 28
  // RFC 2918 / RFC 7313: not an RFC 4271 event; a ROUTE-REFRESH keeps the session alive like an UPDATE.
  | { readonly type: 'RouteRefreshMsg' };
export type FsmEventType = FsmEvent['type'];

// ---------------------------------------------------------------------------------------------
// Actions: what the driver must do, in order.

export type FsmAction =
  | { readonly type: 'connect' }
  | { readonly type: 'dropConnection' }
  | { readonly type: 'sendOpen' }
  | { readonly type: 'sendKeepalive' }
  | { readonly type: 'sendNotification'; readonly notification: NotificationView }
  | { readonly type: 'startTimer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: TimerName }
  /** The session reached Established: send the table, then End-of-RIB. */
  | { readonly type: 'established'; readonly negotiated: Negotiated }
  /** The session left Established. */
  | { readonly type: 'down'; readonly reason: Reason }
  /** RFC 2918 §4: re-send the Adj-RIB-Out. */
  | { readonly type: 'resendTable' };
export type FsmActionType = FsmAction['type'];

// ---------------------------------------------------------------------------------------------
// Reasons: why a step did what it did. Every step returns one; every `down` action carries one.

export const ReasonCode = {
  Started: 'Started',
  Stopped: 'Stopped',
  ConnectRetry: 'ConnectRetry',
  Connected: 'Connected',
  ConnectFailed: 'ConnectFailed',
  ConnectionLost: 'ConnectionLost',
  OpenAccepted: 'OpenAccepted',
  OpenRejected: 'OpenRejected',
  HeaderError: 'HeaderError',
  OpenMessageError: 'OpenMessageError',
  UpdateMessageError: 'UpdateMessageError',
  HoldTimerExpired: 'HoldTimerExpired',
  KeepaliveSent: 'KeepaliveSent',
  KeepaliveReceived: 'KeepaliveReceived',
  UpdateReceived: 'UpdateReceived',
  RouteRefreshReceived: 'RouteRefreshReceived',
  NotificationReceived: 'NotificationReceived',
  CollisionDump: 'CollisionDump',
  FsmError: 'FsmError',
  Ignored: 'Ignored',
} as const;
export type ReasonCode = (typeof ReasonCode)[keyof typeof ReasonCode];

export interface Reason {
  readonly code: ReasonCode;
  /** The NOTIFICATION we sent or received, when there was one. */
  readonly notification?: NotificationView;
  /** The state and event of an unexpected event (FsmError / Ignored). */
  readonly state?: SessionState;
  readonly event?: FsmEventType;
  /** A short machine-friendly detail, e.g. which OPEN check failed. */
  readonly detail?: string;
}

export interface StepResult {
  readonly fsm: Fsm;
  readonly actions: readonly FsmAction[];
  readonly reason: Reason;
}
