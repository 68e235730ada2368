// The session driver: the one place where a BGP session touches a socket and a clock. It feeds socket
// and timer activity to the pure FSM (fsm/step.ts) as RFC 4271 §8.1 events and executes the actions
// that come back. It holds up to two connections per peer, the one we initiated and one the peer
// initiated, each with its own FSM, and settles collisions between them (RFC 4271 §6.8).
//
// Receive path: socket bytes -> framer -> decodeMessage(ctx) -> FSM event. UPDATEs are decoded (so a
//   malformed one gets the right NOTIFICATION, RFC 4271 §6.3 / RFC 7606) and then dropped: berth
//   installs no routes. RFC 7606 treat-as-withdraw and attribute-discard never reset the session.
// Send path: the FSM's sendOpen / sendKeepalive / sendNotification; UPDATEs come from the speaker
//   through `send()`, which only works while Established.
import type { Logger } from '../log.ts';
import type { BgpSocket, TransportFactory } from './transport.ts';
import type { Capability, CodecContext, Message, Family } from './messages/types.ts';
import { INITIAL_CONTEXT, contextFromCapabilities, createFramer, decodeMessage, encodeMessage, isBgpError } from './codec.ts';
import type { Framer } from './framer.ts';
import { ERROR_CODE, OPEN_ERROR, ROUTE_REFRESH_SUBTYPE } from './constants.ts';
import {
  ReasonCode,
  idleHoldMs,
  initialFsm,
  resolveCollision,
  step,
  type Fsm,
  type FsmAction,
  type FsmEvent,
  type Negotiated,
  type NotificationView,
  type Reason,
  type SessionState,
  type TimerName,
} from './fsm.ts';
import {
  BGP_PORT,
  buildOpen,
  capabilitiesView,
  familyOfAddress,
  familyOfAfi,
  fsmConfigFor,
  hashRouterId,
  ipv4ToNumber,
  localCapabilities,
  openCapabilities,
  ttlFor,
  unmapAddress,
  type PeerSpec,
} from './peer.ts';

/** Injected timers (tests pass a fake clock). */
export interface Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** What the speaker sees of an Established session. */
export interface EstablishedSession {
  readonly peer: PeerSpec;
  readonly negotiated: Negotiated;
  readonly ctx: CodecContext;
  /** The local address of the TCP connection (the default next hop). */
  readonly localAddress: string;
  /** The peer's address as the connection sees it. */
  readonly remoteAddress: string;
  /** Families both sides can exchange over this session. */
  readonly families: readonly Family[];
  /** Who opened the TCP connection that won (RFC 4271 §6.8 collisions keep one of two). */
  readonly direction: 'outgoing' | 'incoming';
}

export interface SessionHandler {
  /** Established: send the whole table, then End-of-RIB (RFC 4724 §2). */
  established(session: Session, view: EstablishedSession): void;
  /** Left Established. */
  down(session: Session, reason: Reason): void;
  /** ROUTE-REFRESH received for `family` (RFC 2918 §4); `enhanced`: wrap in BoRR/EoRR (RFC 7313 §4). */
  refresh(session: Session, family: Family, enhanced: boolean): void;
  /** Every change of the session's state (the most advanced of its connections), with the reason. */
  stateChanged?(session: Session, state: SessionState, reason: Reason): void;
}

export interface SessionOptions {
  readonly peer: PeerSpec;
  readonly transport: TransportFactory;
  readonly handler: SessionHandler;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** The speaker-wide BGP Identifier (dotted quad), used when the peer has none. */
  readonly routerId?: string;
  /** RFC 4724 R bit in our first OPEN: this process restarted with routes still in the peer's RIB. */
  readonly restarting?: boolean;
  /** TCP connect timeout; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Bound on octets queued for the peer beyond what the kernel took; default DEFAULT_MAX_UNSENT_BYTES. */
  readonly maxUnsentBytes?: number;
  /** Sees every decoded message from the peer (tests, debugging). */
  readonly onMessage?: (msg: Message) => void;
}

type Direction = 'outgoing' | 'incoming';

interface Conn {
  readonly id: number;
  readonly direction: Direction;
  fsm: Fsm;
  socket: BgpSocket | undefined;
  framer: Framer;
  ctx: CodecContext;
  localCaps: Capability[];
  remoteCaps: Capability[];
  readonly timers: Map<TimerName, unknown>;
  /** Bumped on every connect/drop so late callbacks of an old attempt are ignored. */
  generation: number;
  /** The family of the ROUTE-REFRESH being handled (set while its event is fed). */
  refreshFamily: Family | undefined;
  /** The socket dropped for holding more than maxUnsentBytes (its 'close' is still to come). */
  overBound: BgpSocket | undefined;
}

const DROP_GRACE_MS = 1000;

export interface SessionStopOptions {
  /** RFC 9003 Shutdown Communication in the Cease NOTIFICATION. */
  readonly communication?: string;
  /** Close without NOTIFICATION so a graceful-restart peer keeps our routes (RFC 4724 §4.2). */
  readonly preserveRoutes?: boolean;
}

/** Resolves when the socket has closed, or after DROP_GRACE_MS (the driver destroys it by then). */
function closed(s: BgpSocket): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, DROP_GRACE_MS + 100);
    t.unref();
    s.on('close', () => {
      clearTimeout(t);
      resolve();
    });
  });
}
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A peer that stops reading makes every write queue in this process (the kernel's send buffer and the
 * peer's receive window full). Past this many queued octets the connection is dropped, so memory held
 * for one peer stays below the bound plus one write (a send chunk, speaker.ts SEND_CHUNK_PREFIXES).
 * 32 MiB is many full tables: 100,000 IPv4 /32s pack into about 0.6 MB. In the spirit of RFC 9687 (BGP
 * Send Hold Timer): a peer that takes nothing is down; its NOTIFICATION could not be delivered anyway. */
export const DEFAULT_MAX_UNSENT_BYTES = 32 * 1024 * 1024;

function notificationMessage(n: NotificationView): Message {
  return { type: 'NOTIFICATION', code: n.code, subcode: n.subcode, data: n.data ?? Buffer.alloc(0) };
}

export class Session {
  readonly peer: PeerSpec;
  readonly #transport: TransportFactory;
  readonly #handler: SessionHandler;
  readonly #log: Logger;
  readonly #clock: Clock;
  readonly #routerId: string | undefined;
  readonly #connectTimeoutMs: number;
  readonly #maxUnsentBytes: number;
  readonly #onMessage: ((msg: Message) => void) | undefined;
  #restarting: boolean;
  #outgoing: Conn | undefined;
  #incoming: Conn | undefined;
  #established: Conn | undefined;
  #view: EstablishedSession | undefined;
  #started = false;
  #nextId = 1;
  #lastState: SessionState = 'Idle';

  constructor(opts: SessionOptions) {
    this.peer = opts.peer;
    this.#transport = opts.transport;
    this.#handler = opts.handler;
    this.#log = opts.logger;
    this.#clock = opts.clock ?? realClock;
    this.#routerId = opts.routerId;
    this.#restarting = opts.restarting ?? false;
    this.#connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#maxUnsentBytes = opts.maxUnsentBytes ?? DEFAULT_MAX_UNSENT_BYTES;
    this.#onMessage = opts.onMessage;
  }

  /** The most advanced state among this peer's connections. */
  get state(): SessionState {
    const order: readonly SessionState[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];
    let best: SessionState = this.#started && this.peer.passive === true ? 'Active' : 'Idle';
    for (const c of [this.#outgoing, this.#incoming]) {
      if (c !== undefined && order.indexOf(c.fsm.state) > order.indexOf(best)) best = c.fsm.state;
    }
    return best;
  }

  get established(): EstablishedSession | undefined {
    return this.#view;
  }

  /** ManualStart (RFC 4271 §8.1.2 Event 1). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    if (this.peer.passive !== true) {
      this.#outgoing = this.#newConn('outgoing');
      this.#feed(this.#outgoing, { type: 'ManualStart' });
    }
    this.#logState({ code: ReasonCode.Started });
  }

  /**
   * ManualStop (Event 2): Cease / Administrative Shutdown with an RFC 9003 message, on every connection.
   * With `preserveRoutes`, the connections are closed without a NOTIFICATION instead: a peer that
   * negotiated graceful restart then keeps our routes (stale) until we are back (RFC 4724 §4.2).
   * Resolves when the sockets have closed (at most about a second).
   */
  stop(opts: SessionStopOptions = {}): Promise<void> {
    if (!this.#started) return Promise.resolve();
    this.#started = false;
    const closing: Promise<void>[] = [];
    for (const c of [this.#incoming, this.#outgoing]) {
      if (c === undefined) continue;
      if (c.socket !== undefined) closing.push(closed(c.socket));
      if (opts.preserveRoutes !== true) {
        this.#feed(c, opts.communication === undefined ? { type: 'ManualStop' } : { type: 'ManualStop', communication: opts.communication });
      } else if (this.#established === c) {
        this.#established = undefined;
        this.#view = undefined;
        this.#handler.down(this, { code: ReasonCode.Stopped, detail: 'closed for graceful restart' });
      }
      this.#dispose(c);
    }
    this.#incoming = undefined;
    this.#outgoing = undefined;
    this.#logState({ code: ReasonCode.Stopped });
    return Promise.all(closing).then(() => undefined);
  }

  /** AutomaticStop (Event 8) on the Established connection: Cease, then the FSM reconnects by itself
   * after the backoff. Used when the speaker cannot continue a session (e.g. an UPDATE failed to encode). */
  reset(communication?: string): void {
    const c = this.#established;
    if (c === undefined) return;
    this.#feed(c, communication === undefined ? { type: 'AutomaticStop' } : { type: 'AutomaticStop', communication });
    if (c.direction === 'outgoing' && this.#started) this.#startTimer(c, 'IdleHold', idleHoldMs(c.fsm.connectRetryCounter, c.fsm.config.connectRetrySec));
  }

  /** An incoming connection from this peer's address (the speaker's listener matched it). */
  accept(socket: BgpSocket): void {
    if (!this.#started) {
      socket.destroy(); // RFC 4271 §8.2.2 Idle: refuse incoming connections.
      return;
    }
    const est = this.#established;
    if (est !== undefined) {
      if (est.fsm.negotiated?.peerGracefulRestart === undefined) {
        // RFC 4271 §6.8: a connection colliding with an Established one is closed (the newer one).
        this.#log.info({ peer: this.peer.name, reason: 'collision with Established session' }, 'refusing incoming connection');
        socket.destroy();
        return;
      }
      // RFC 4724 §4.2: a peer that negotiated Graceful Restart and connects again has restarted; its old
      // session is gone even if no FIN reached us. Close it and take the new connection.
      this.#log.info({ peer: this.peer.name, reason: 'peer restarted (graceful restart)' }, 'replacing Established session');
      this.#feed(est, { type: 'TcpConnectionFails' });
    }
    if (this.#incoming !== undefined) {
      this.#feed(this.#incoming, { type: 'TcpConnectionFails' });
      this.#dispose(this.#incoming);
    }
    try {
      // The listener's TTL is shared; the session's own (1 for single-hop eBGP) is set per socket.
      this.#transport.setTtl?.(socket, ttlFor(this.peer));
    } catch (e) {
      this.#log.warn({ peer: this.peer.name, reason: e instanceof Error ? e.message : String(e) }, 'cannot set TTL on incoming connection');
    }
    const conn = this.#newConn('incoming');
    this.#incoming = conn;
    this.#feed(conn, { type: 'ManualStart' }); // -> Active (passive FSM)
    this.#attach(conn, socket);
    this.#feed(conn, { type: 'TcpConnectionConfirmed' });
  }

  /** Write encoded UPDATEs / ROUTE-REFRESHes on the Established connection. false when not Established. */
  send(messages: readonly Buffer[]): boolean {
    const c = this.#established;
    if (c?.socket === undefined) return false;
    for (const m of messages) c.socket.write(m);
    if (!this.#checkUnsent(c)) return false;
    // RFC 4271 §8.2.2 (Established): sending an UPDATE restarts the KeepaliveTimer.
    const ka = c.fsm.negotiated?.keepaliveSec ?? 0;
    if (messages.length > 0 && ka > 0) this.#startTimer(c, 'Keepalive', ka * 1000);
    return true;
  }

  /** Octets written on the Established connection that node has not yet handed to the kernel. */
  get unsent(): number {
    return this.#established?.socket?.writableLength ?? 0;
  }

  // ----------------------------------------------------------------------------------------- internals

  #newConn(direction: Direction): Conn {
    const restarting = this.#restarting;
    const caps = localCapabilities(this.peer, { restarting });
    const routerId = this.#routerId !== undefined ? ipv4ToNumber(this.#routerId) : 0;
    const config = fsmConfigFor(this.peer, routerId, caps);
    return {
      id: this.#nextId++,
      direction,
      fsm: initialFsm(direction === 'incoming' ? { ...config, passive: true } : config),
      socket: undefined,
      framer: createFramer(),
      ctx: INITIAL_CONTEXT,
      localCaps: caps,
      remoteCaps: [],
      timers: new Map(),
      generation: 0,
      refreshFamily: undefined,
      overBound: undefined,
    };
  }

  #dispose(conn: Conn): void {
    for (const h of conn.timers.values()) this.#clock.clearTimeout(h);
    conn.timers.clear();
    conn.generation += 1;
    if (conn.socket !== undefined) this.#drop(conn);
  }

  /** Router ID for a connection: peer config, speaker config, local IPv4, else a hash of the local address. */
  #routerIdFor(socket: BgpSocket): number {
    const configured = this.peer.routerId ?? this.#routerId;
    if (configured !== undefined) return ipv4ToNumber(configured);
    const local = unmapAddress(socket.localAddress ?? '');
    return familyOfAddress(local) === 'ipv4' && local !== '' ? ipv4ToNumber(local) : hashRouterId(local);
  }

  #attach(conn: Conn, socket: BgpSocket): void {
    conn.socket = socket;
    conn.framer = createFramer();
    conn.ctx = INITIAL_CONTEXT;
    // Capabilities are fixed per connection: the R bit (RFC 4724 §3) is set only until a session with
    // this peer has come up after our restart.
    conn.localCaps = localCapabilities(this.peer, { restarting: this.#restarting });
    conn.remoteCaps = [];
    conn.fsm = {
      ...conn.fsm,
      config: { ...conn.fsm.config, routerId: this.#routerIdFor(socket), localCapabilities: capabilitiesView(conn.localCaps) },
    };
    const gen = conn.generation;
    socket.on('data', (chunk: Buffer) => {
      if (conn.socket !== socket || conn.generation !== gen) return;
      this.#receive(conn, socket, chunk);
    });
    socket.on('error', (err: Error) => {
      this.#log.debug({ peer: this.peer.name, reason: err.message }, 'socket error');
    });
    socket.on('close', () => {
      if (conn.socket !== socket || conn.generation !== gen) return;
      conn.socket = undefined;
      this.#feed(conn, { type: 'TcpConnectionFails' });
    });
  }

  #drop(conn: Conn): void {
    const s = conn.socket;
    conn.socket = undefined;
    conn.generation += 1;
    if (s === undefined) return;
    // Let a NOTIFICATION written just before reach the peer, then make sure the socket goes away.
    s.end();
    const t = setTimeout(() => s.destroy(), DROP_GRACE_MS);
    t.unref();
  }

  #receive(conn: Conn, socket: BgpSocket, chunk: Buffer): void {
    conn.framer.push(chunk);
    for (;;) {
      if (conn.socket !== socket) return; // dropped by the previous message
      let frame: Buffer | undefined;
      try {
        frame = conn.framer.next(conn.ctx);
      } catch (e) {
        if (!isBgpError(e)) throw e;
        // RFC 4271 §6.1: Message Header Error.
        this.#feed(conn, { type: 'BGPHeaderErr', notification: { code: e.code, subcode: e.subcode, data: e.data } });
        return;
      }
      if (frame === undefined) return;
      this.#feed(conn, this.#eventFor(conn, frame));
      conn.refreshFamily = undefined;
    }
  }

  /** One whole message -> one FSM event. */
  #eventFor(conn: Conn, frame: Buffer): FsmEvent {
    let decoded;
    try {
      decoded = decodeMessage(frame, conn.ctx);
    } catch (e) {
      if (!isBgpError(e)) throw e;
      const n: NotificationView = { code: e.code, subcode: e.subcode, data: e.data };
      this.#log.info({ peer: this.peer.name, reason: e.reason }, 'malformed message');
      if (e.code === ERROR_CODE.OPEN_MESSAGE) return { type: 'BGPOpenMsgErr', notification: n };
      if (e.code === ERROR_CODE.UPDATE_MESSAGE) return { type: 'UpdateMsgErr', notification: n };
      return { type: 'BGPHeaderErr', notification: n };
    }
    const msg = decoded.message;
    this.#onMessage?.(msg);
    switch (msg.type) {
      case 'OPEN': {
        conn.remoteCaps = openCapabilities(msg);
        return {
          type: 'BGPOpen',
          open: {
            version: msg.version,
            myAutonomousSystem: msg.myAsn,
            holdTimeSec: msg.holdTime,
            bgpIdentifier: ipv4ToNumber(msg.bgpId),
            capabilities: capabilitiesView(conn.remoteCaps),
          },
        };
      }
      case 'KEEPALIVE':
        return { type: 'KeepAliveMsg' };
      case 'UPDATE':
        // RFC 7606 §2: treat-as-withdraw and attribute-discard keep the session; we install nothing.
        for (const p of decoded.problems) {
          this.#log.debug({ peer: this.peer.name, reason: p.reason, action: p.action }, 'UPDATE attribute problem');
        }
        return { type: 'UpdateMsg' };
      case 'NOTIFICATION': {
        const n: NotificationView = { code: msg.code, subcode: msg.subcode, data: msg.data };
        this.#log.info(
          { peer: this.peer.name, code: msg.code, subcode: msg.subcode, ...(msg.shutdownMessage !== undefined ? { message: msg.shutdownMessage } : {}) },
          'NOTIFICATION received',
        );
        // RFC 4271 §8.1.5 Event 24: a version error.
        return msg.code === ERROR_CODE.OPEN_MESSAGE && msg.subcode === OPEN_ERROR.UNSUPPORTED_VERSION
          ? { type: 'NotifMsgVerErr', notification: n }
          : { type: 'NotifMsg', notification: n };
      }
      case 'ROUTE_REFRESH': {
        // RFC 7313 §4: BoRR/EoRR from the peer demarcate its own re-advertisement; nothing to do.
        if (msg.subtype !== ROUTE_REFRESH_SUBTYPE.NORMAL) return { type: 'KeepAliveMsg' };
        const fam = familyOfAfi(msg.afi);
        if (fam === undefined) return { type: 'KeepAliveMsg' };
        conn.refreshFamily = fam;
        return { type: 'RouteRefreshMsg' };
      }
      default: {
        const never: never = msg;
        return never;
      }
    }
  }

  #feed(conn: Conn, event: FsmEvent): void {
    const before = conn.fsm.state;
    const r = step(conn.fsm, event);
    conn.fsm = r.fsm;
    for (const a of r.actions) this.#execute(conn, a);
    const after = conn.fsm.state;
    if (before !== after) {
      this.#log.debug({ peer: this.peer.name, conn: conn.direction, from: before, state: after, reason: r.reason.code }, 'connection state');
      if (after === 'OpenConfirm' || after === 'Established') this.#checkCollision();
      if (after === 'Idle' && conn.direction === 'incoming') {
        // An incoming connection's FSM does not restart itself: the peer reconnects.
        this.#dispose(conn);
        if (this.#incoming === conn) this.#incoming = undefined;
      }
      this.#logState(r.reason);
    }
  }

  #checkCollision(): void {
    const out = this.#outgoing;
    const inc = this.#incoming;
    if (out === undefined || inc === undefined) return;
    const view = (c: Conn) => ({
      state: c.fsm.state,
      ...(c.fsm.negotiated !== undefined ? { peerRouterId: c.fsm.negotiated.peerRouterId } : {}),
    });
    const verdict = resolveCollision(out.fsm.config.routerId, view(out), view(inc));
    if (verdict.kind === 'none') return;
    const loser = verdict.which === 'outgoing' ? out : inc;
    this.#log.info({ peer: this.peer.name, reason: 'connection collision', conn: loser.direction }, 'closing colliding connection');
    this.#feed(loser, { type: 'OpenCollisionDump' });
  }

  #logState(reason: Reason): void {
    const state = this.state;
    if (state === this.#lastState) return;
    this.#lastState = state;
    this.#log.info(
      {
        peer: this.peer.name,
        state,
        reason: reason.code,
        ...(reason.notification !== undefined ? { code: reason.notification.code, subcode: reason.notification.subcode } : {}),
        ...(reason.detail !== undefined ? { detail: reason.detail } : {}),
      },
      'BGP session state',
    );
    this.#handler.stateChanged?.(this, state, reason);
  }

  #write(conn: Conn, msg: Message, ctx: CodecContext = conn.ctx): void {
    conn.socket?.write(encodeMessage(msg, ctx));
    this.#checkUnsent(conn);
  }

  /** Drops a connection whose peer has stopped reading (DEFAULT_MAX_UNSENT_BYTES). The socket is
   * destroyed, which frees what it queued; its 'close' drives the FSM (TcpConnectionFails). False when
   * the connection was dropped (now or by an earlier check). */
  #checkUnsent(conn: Conn): boolean {
    const s = conn.socket;
    if (s === undefined || conn.overBound === s) return false;
    const queued = s.writableLength ?? 0;
    if (queued <= this.#maxUnsentBytes) return true;
    conn.overBound = s;
    this.#log.warn({ peer: this.peer.name, queued, bound: this.#maxUnsentBytes, reason: 'peer is not reading' }, 'send buffer over its bound: dropping the connection');
    s.destroy();
    return false;
  }

  #execute(conn: Conn, action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.#connect(conn);
        return;
      case 'dropConnection':
        this.#drop(conn);
        return;
      case 'sendOpen':
        this.#write(conn, buildOpen(this.peer, conn.fsm.config.routerId, conn.localCaps), INITIAL_CONTEXT);
        return;
      case 'sendKeepalive':
        this.#write(conn, { type: 'KEEPALIVE' });
        return;
      case 'sendNotification':
        this.#log.info(
          { peer: this.peer.name, code: action.notification.code, subcode: action.notification.subcode },
          'NOTIFICATION sent',
        );
        this.#write(conn, notificationMessage(action.notification));
        return;
      case 'startTimer':
        this.#startTimer(conn, action.timer, action.ms);
        return;
      case 'stopTimer': {
        const h = conn.timers.get(action.timer);
        if (h !== undefined) this.#clock.clearTimeout(h);
        conn.timers.delete(action.timer);
        return;
      }
      case 'established':
        this.#onEstablished(conn, action.negotiated);
        return;
      case 'down':
        if (this.#established === conn) {
          this.#established = undefined;
          this.#view = undefined;
          this.#handler.down(this, action.reason);
          // The other connection (if dumped earlier) may restart now.
          const other = conn === this.#outgoing ? this.#incoming : this.#outgoing;
          if (other !== undefined && other.fsm.state === 'Idle' && this.#started && other.direction === 'outgoing') {
            this.#feed(other, { type: 'AutomaticStart' });
          }
        }
        return;
      case 'resendTable': {
        const view = this.#view;
        if (this.#established !== conn || view === undefined) return;
        const fam = conn.refreshFamily ?? 'ipv4';
        this.#handler.refresh(this, fam, view.negotiated.enhancedRouteRefresh);
        return;
      }
      default: {
        const never: never = action;
        return never;
      }
    }
  }

  #startTimer(conn: Conn, timer: TimerName, ms: number): void {
    const old = conn.timers.get(timer);
    if (old !== undefined) this.#clock.clearTimeout(old);
    const h = this.#clock.setTimeout(() => {
      if (conn.timers.get(timer) !== h) return;
      conn.timers.delete(timer);
      this.#timerFired(conn, timer);
    }, ms);
    conn.timers.set(timer, h);
  }

  #timerFired(conn: Conn, timer: TimerName): void {
    switch (timer) {
      case 'ConnectRetry':
        this.#feed(conn, { type: 'ConnectRetryTimer_Expires' });
        return;
      case 'Hold':
        this.#feed(conn, { type: 'HoldTimer_Expires' });
        return;
      case 'Keepalive':
        this.#feed(conn, { type: 'KeepaliveTimer_Expires' });
        return;
      case 'IdleHold': {
        if (conn.direction === 'incoming') return;
        // While the peer's own connection is up or opening, do not dial a connection that would only
        // collide with it; look again after ConnectRetryTime.
        const other = this.#incoming;
        if (other !== undefined && other.fsm.state !== 'Idle' && other.fsm.state !== 'Active') {
          this.#startTimer(conn, 'IdleHold', conn.fsm.config.connectRetrySec * 1000);
          return;
        }
        this.#feed(conn, { type: 'IdleHoldTimer_Expires' });
        return;
      }
      default: {
        const never: never = timer;
        return never;
      }
    }
  }

  #connect(conn: Conn): void {
    if (conn.socket !== undefined) this.#drop(conn);
    conn.generation += 1;
    const gen = conn.generation;
    const p = this.peer;
    const md5 = p.password !== undefined && p.password !== '' ? { md5Key: p.password } : {};
    this.#transport
      .connect({
        host: p.peerAddress,
        port: p.peerPort ?? BGP_PORT,
        ...(p.sourceAddress !== undefined ? { localAddress: p.sourceAddress } : {}),
        ...md5,
        ttl: ttlFor(p),
        ...(p.bindDevice !== undefined ? { device: p.bindDevice } : {}),
        timeoutMs: this.#connectTimeoutMs,
      })
      .then(
        (socket) => {
          if (conn.generation !== gen || !this.#started || conn.fsm.state !== 'Connect') {
            socket.destroy();
            return;
          }
          this.#attach(conn, socket);
          this.#feed(conn, { type: 'Tcp_CR_Acked' });
        },
        (err: unknown) => {
          if (conn.generation !== gen || !this.#started) return;
          this.#log.debug({ peer: p.name, reason: err instanceof Error ? err.message : String(err) }, 'connect failed');
          this.#feed(conn, { type: 'TcpConnectionFails' });
        },
      );
  }

  #onEstablished(conn: Conn, negotiated: Negotiated): void {
    const socket = conn.socket;
    if (socket === undefined) return;
    conn.ctx = contextFromCapabilities(conn.localCaps, conn.remoteCaps);
    // The R bit is for the first OPEN after our restart only (RFC 4724 §3).
    this.#restarting = false;
    const families = negotiated.families.flatMap((f) => {
      const fam = familyOfAfi(f.afi);
      return fam === undefined || f.safi !== 1 ? [] : [fam];
    });
    this.#established = conn;
    this.#view = {
      peer: this.peer,
      negotiated,
      ctx: conn.ctx,
      localAddress: unmapAddress(socket.localAddress ?? ''),
      remoteAddress: unmapAddress(socket.remoteAddress ?? ''),
      families,
      direction: conn.direction,
    };
    this.#handler.established(this, this.#view);
  }
}
