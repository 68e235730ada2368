// The liveness detector: which watched speakers are alive, from heartbeats (packet.ts) and the passing
// of time. Pure: events in (members, heartbeats, ticks, each with the time), transitions out; the
// driver (driver.ts) owns the socket and the timer (docs/liveness.md).
//
//   alive -> dead     no accepted heartbeat for `deadAfter` intervals (3 x 100 ms by default), or a
//                     heartbeat with the leaving flag (the sender is stopping)
//   dead  -> alive    `aliveAfter` accepted heartbeats in a row, each within `deadAfter` intervals of
//                     the one before (hysteresis: a flapping link does not move VIPs back and forth)
//   new member        alive, with a full deadline from when it was added (a speaker that starts does
//                     not take over from owners it has not heard yet; one that never speaks is dead
//                     after the first deadline)
// Replay (an attacker, or a switch, re-sending old authenticated datagrams): within one boot id only a
// higher sequence number is accepted; another boot id only with a newer sender clock than the last
// accepted datagram, and only within `maxSkewMs` of our own clock.
// Local stalls (Lifeguard, Dadgar et al. 2018, "local health awareness": a member that is itself slow
// must not blame others): a tick that comes more than `deadAfter` intervals after the previous one
// means this process did not run (SIGSTOP, a long pause); every alive member then gets a fresh
// deadline instead of being declared dead for heartbeats this process could not read.

export interface DetectorOptions {
  readonly self: string;
  /** Heartbeat interval, ms (default 100). */
  readonly intervalMs: number;
  /** Missed intervals before a member is declared dead (default 3). */
  readonly deadAfter: number;
  /** Consecutive accepted heartbeats before a dead member is alive again (default 3). */
  readonly aliveAfter: number;
  /** Largest difference between a sender's clock and ours for a datagram of a new boot (default 30 s). */
  readonly maxSkewMs: number;
}

export const DEFAULT_DETECTOR: Omit<DetectorOptions, 'self'> = { intervalMs: 100, deadAfter: 3, aliveAfter: 3, maxSkewMs: 30_000 };

export type MemberState = 'alive' | 'dead';

export const TransitionReason = {
  missed: 'missed',
  leaving: 'leaving',
  recovered: 'recovered',
} as const;
export type TransitionReason = (typeof TransitionReason)[keyof typeof TransitionReason];

export interface Transition {
  readonly node: string;
  readonly from: MemberState;
  readonly to: MemberState;
  readonly reason: TransitionReason;
}

export const Verdict = {
  accepted: 'accepted',
  /** Not newer than what was accepted from that sender already. */
  replay: 'replay',
  /** A new boot whose clock is outside maxSkewMs of ours. */
  stale: 'stale',
  /** From a node we do not watch. */
  unknownMember: 'unknownMember',
  /** Carries our own name. */
  self: 'self',
} as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface HeartbeatFacts {
  readonly node: string;
  readonly leaving: boolean;
  readonly boot: string;
  readonly seq: number;
  readonly sentAt: number;
  readonly macs: readonly string[];
}

export interface MemberView {
  readonly node: string;
  readonly state: MemberState;
  /** When the last heartbeat was accepted (detector clock); undefined: never. */
  readonly lastHeard: number | undefined;
  readonly macs: readonly string[];
}

interface Member {
  readonly node: string;
  state: MemberState;
  /** Deadline base: the last accepted heartbeat, or when the member was added / the stall ended. */
  since: number;
  lastHeard: number | undefined;
  boot: string | undefined;
  seq: number;
  sentAt: number;
  /** Consecutive accepted heartbeats while dead. */
  good: number;
  macs: readonly string[];
}

export interface Detector {
  /** Sets who is watched. New members start alive; removed members are forgotten. */
  setMembers(nodes: Iterable<string>, now: number): void;
  /** One authenticated heartbeat; `wall` is our wall clock (for the skew check). */
  receive(h: HeartbeatFacts, now: number, wall: number): { readonly verdict: Verdict; readonly transitions: readonly Transition[] };
  /** Checks the deadlines. `stalled`: this tick came late (see the header), deadlines were renewed. */
  tick(now: number): { readonly transitions: readonly Transition[]; readonly stalled: boolean };
  state(node: string): MemberState | undefined;
  members(): readonly MemberView[];
}

export function createDetector(opts: DetectorOptions, start: number): Detector {
  const members = new Map<string, Member>();
  const window = opts.deadAfter * opts.intervalMs;
  let lastTick = start;

  return {
    setMembers(nodes, now) {
      const wanted = new Set(nodes);
      wanted.delete(opts.self);
      for (const n of members.keys()) if (!wanted.has(n)) members.delete(n);
      for (const n of wanted) {
        if (members.has(n)) continue;
        members.set(n, { node: n, state: 'alive', since: now, lastHeard: undefined, boot: undefined, seq: 0, sentAt: 0, good: 0, macs: [] });
      }
    },

    receive(h, now, wall) {
      if (h.node === opts.self) return { verdict: Verdict.self, transitions: [] };
      const m = members.get(h.node);
      if (m === undefined) return { verdict: Verdict.unknownMember, transitions: [] };
      if (m.boot === h.boot) {
        if (h.seq <= m.seq) return { verdict: Verdict.replay, transitions: [] };
      } else {
        if (m.boot !== undefined && h.sentAt <= m.sentAt) return { verdict: Verdict.replay, transitions: [] };
        if (Math.abs(wall - h.sentAt) > opts.maxSkewMs) return { verdict: Verdict.stale, transitions: [] };
      }
      m.boot = h.boot;
      m.seq = h.seq;
      m.sentAt = h.sentAt;
      m.macs = h.macs;
      const previous = m.lastHeard;
      m.lastHeard = now;
      const transitions: Transition[] = [];
      if (m.state === 'alive') {
        m.since = now;
        if (h.leaving) {
          m.state = 'dead';
          m.good = 0;
          transitions.push({ node: m.node, from: 'alive', to: 'dead', reason: TransitionReason.leaving });
        }
      } else if (h.leaving) {
        m.good = 0;
      } else {
        m.good = previous !== undefined && now - previous <= window && m.good > 0 ? m.good + 1 : 1;
        if (m.good >= opts.aliveAfter) {
          m.state = 'alive';
          m.since = now;
          m.good = 0;
          transitions.push({ node: m.node, from: 'dead', to: 'alive', reason: TransitionReason.recovered });
        }
      }
      return { verdict: Verdict.accepted, transitions };
    },

    tick(now) {
      const stalled = now - lastTick > window;
      lastTick = now;
      const transitions: Transition[] = [];
      for (const m of members.values()) {
        if (m.state !== 'alive') continue;
        if (stalled) m.since = Math.max(m.since, now);
        else if (now - m.since > window) {
          m.state = 'dead';
          m.good = 0;
          transitions.push({ node: m.node, from: 'alive', to: 'dead', reason: TransitionReason.missed });
        }
      }
      return { transitions, stalled };
    },

    state: (node) => (node === opts.self ? 'alive' : members.get(node)?.state),

    members: () => [...members.values()].map((m) => ({ node: m.node, state: m.state, lastHeard: m.lastHeard, macs: m.macs })),
  };
}
