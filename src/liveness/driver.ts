// The liveness channel's thin driver: one UDP socket per address family (src/sys/udp.ts), one timer
// on the main thread (the planner thread never delays it: docs/speaker.md "Two threads"), and the pure
// detector (detector.ts). Every `intervalMs` it sends a heartbeat (packet.ts) to each watched member;
// every half interval it checks the deadlines. Datagrams that fail authentication are counted and
// dropped (and logged, at most once per LOG_EVERY_MS per source address); accepted ones feed the
// detector. Transitions go to `onTransitions`, a local stall to `onStall`. Throws at start when the
// IPv4 socket cannot be bound.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { openUdp, type UdpSocket } from '../sys/udp.ts';
import type { IpFamily } from '../sys/tcp.ts';
import { decodeHeartbeat, encodeHeartbeat } from './packet.ts';
import { createDetector, DEFAULT_DETECTOR, Verdict, type Detector, type DetectorOptions, type MemberView, type Transition } from './detector.ts';

/** Default UDP port of the liveness channel (unassigned by IANA in the user range; --liveness-port). */
export const DEFAULT_LIVENESS_PORT = 7947;
const LOG_EVERY_MS = 10_000;
/** The rate limiter forgets everything past this many keys (spoofed sources must not grow it). */
const LOG_KEYS_MAX = 1024;

export interface LivenessSocketOptions {
  readonly family: IpFamily;
  readonly port: number;
  readonly onDatagram: (payload: Buffer, address: string) => void;
}
export interface LivenessSocket {
  send(payload: Buffer, address: string, port: number): void;
  close(): void;
}
export type OpenLivenessSocket = (opts: LivenessSocketOptions) => LivenessSocket;

export const openSysLivenessSocket: OpenLivenessSocket = ({ family, port, onDatagram }) => {
  const s: UdpSocket = openUdp({ family, port, onDatagram: (d) => onDatagram(d.payload, d.address) });
  return { send: (p, a, pt) => s.send(p, a, pt), close: () => s.close() };
};

export interface LivenessDriverOptions {
  readonly self: string;
  readonly key: Buffer;
  readonly port: number;
  readonly detector?: Partial<Omit<DetectorOptions, 'self'>>;
  readonly logger: Logger;
  /** The MACs this node answers from (sent in each heartbeat; claims.ts places a foreign MAC). */
  readonly macs: () => readonly string[];
  readonly onTransitions: (t: readonly Transition[]) => void;
  readonly onStall: () => void;
  readonly open?: OpenLivenessSocket;
  /** Monotonic ms (default performance.now). */
  readonly now?: () => number;
}

export interface LivenessCounters {
  sent: number;
  received: number;
  sendErrors: number;
  authFailures: number;
  /** Rejected after authentication, by detector verdict (replay, stale, unknownMember, self). */
  readonly rejected: Record<string, number>;
  localStalls: number;
  /** Transitions by "node|to". */
  readonly transitions: Record<string, number>;
}

export interface LivenessDriver {
  /** Who we exchange heartbeats with: name -> address. */
  setMembers(members: ReadonlyMap<string, string>): void;
  readonly detector: Detector;
  members(): readonly MemberView[];
  counters(): Readonly<LivenessCounters>;
  /** Sends `count` heartbeats with the leaving flag, `gapMs` apart, then stops sending. */
  leave(count: number, gapMs: number): Promise<void>;
  close(): void;
}

export function startLivenessDriver(opts: LivenessDriverOptions): LivenessDriver {
  const log = opts.logger;
  const now = opts.now ?? (() => performance.now());
  const d: DetectorOptions = { self: opts.self, ...DEFAULT_DETECTOR, ...opts.detector };
  const detector = createDetector(d, now());
  const open = opts.open ?? openSysLivenessSocket;
  const boot = randomBytes(8).toString('hex');
  let seq = 0;
  let members: ReadonlyMap<string, string> = new Map();
  const sockets = new Map<IpFamily, LivenessSocket>();
  const counters: LivenessCounters = { sent: 0, received: 0, sendErrors: 0, authFailures: 0, rejected: {}, localStalls: 0, transitions: {} };
  const lastLog = new Map<string, number>();
  let leaving = false;
  let closed = false;

  const rateLimited = (key: string): boolean => {
    const t = now();
    const last = lastLog.get(key);
    if (last !== undefined && t - last < LOG_EVERY_MS) return true;
    if (lastLog.size >= LOG_KEYS_MAX) lastLog.clear();
    lastLog.set(key, t);
    return false;
  };

  const onDatagram = (payload: Buffer, address: string): void => {
    if (closed) return;
    const r = decodeHeartbeat(payload, opts.key);
    if (!r.ok) {
      counters.authFailures++;
      if (!rateLimited(`auth|${address}`)) log.warn({ address, reason: r.problem, authFailures: counters.authFailures }, 'liveness: dropped a datagram that failed authentication (wrong --liveness-secret-file on one side?)');
      return;
    }
    const { verdict, transitions } = detector.receive(r.heartbeat, now(), Date.now());
    if (verdict !== Verdict.accepted) {
      counters.rejected[verdict] = (counters.rejected[verdict] ?? 0) + 1;
      if (!rateLimited(`${verdict}|${r.heartbeat.node}`)) log.warn({ node: r.heartbeat.node, address, reason: verdict }, 'liveness: dropped an authenticated heartbeat');
      return;
    }
    counters.received++;
    report(transitions);
  };

  function socket(family: IpFamily): LivenessSocket | undefined {
    const s = sockets.get(family);
    if (s !== undefined) return s;
    try {
      const opened = open({ family, port: opts.port, onDatagram });
      sockets.set(family, opened);
      return opened;
    } catch (e) {
      if (!rateLimited(`open|${family}`)) log.error({ port: opts.port, reason: e instanceof Error ? e.message : String(e) }, `liveness: cannot open the IPv${family} UDP socket`);
      return undefined;
    }
  }

  function report(transitions: readonly Transition[]): void {
    if (transitions.length === 0) return;
    for (const t of transitions) {
      const k = `${t.node}|${t.to}`;
      counters.transitions[k] = (counters.transitions[k] ?? 0) + 1;
      log[t.to === 'dead' ? 'warn' : 'info']({ node: opts.self, member: t.node, state: t.to, reason: t.reason }, `liveness: member ${t.to}`);
    }
    opts.onTransitions(transitions);
  }

  function send(leavingFlag: boolean): void {
    const payload = encodeHeartbeat({ node: opts.self, leaving: leavingFlag, boot, seq: ++seq, sentAt: Date.now(), macs: opts.macs().slice(0, 16) }, opts.key);
    for (const [name, address] of members) {
      const s = socket(address.includes(':') ? 6 : 4);
      if (s === undefined) continue;
      try {
        s.send(payload, address, opts.port);
        counters.sent++;
      } catch (e) {
        counters.sendErrors++;
        if (!rateLimited(`send|${name}`)) log.warn({ member: name, address, reason: e instanceof Error ? e.message : String(e) }, 'liveness: sending a heartbeat failed');
      }
    }
  }

  // The IPv4 socket opens now, and a failure stops the start (a port in use must not leave a speaker
  // that every other one sees dead); an IPv6 one opens when a member has only an IPv6 address.
  sockets.set(4, open({ family: 4, port: opts.port, onDatagram }));
  let lastSend = -Infinity;
  const timer = setInterval(() => {
    const t = now();
    const { transitions, stalled } = detector.tick(t);
    if (stalled) {
      counters.localStalls++;
      log.warn({ node: opts.self }, 'liveness: this process did not run for longer than the detection time; renewing every deadline (and announcing owned VIPs again)');
    }
    report(transitions);
    if (stalled) opts.onStall();
    if (!leaving && t - lastSend >= d.intervalMs * 0.9) {
      lastSend = t;
      send(false);
    }
  }, Math.max(1, Math.floor(d.intervalMs / 2)));

  return {
    setMembers(next) {
      members = next;
      detector.setMembers(next.keys(), now());
    },
    detector,
    members: () => detector.members(),
    counters: () => counters,
    async leave(count, gapMs) {
      leaving = true;
      for (let i = 0; i < count && !closed; i++) {
        send(true);
        if (i + 1 < count) await new Promise((r) => setTimeout(r, gapMs));
      }
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const s of sockets.values()) s.close();
      sockets.clear();
    },
  };
}
