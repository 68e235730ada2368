// Who answers for a layer 2 VIP right now, on this node: the election's order (src/l2/election.ts,
// computed by the planner) gated by liveness (detector.ts) and by what the LAN shows. Pure: the caller
// passes the time, the liveness view and what its ARP observer saw; this file decides
// (docs/liveness.md "Never two answering MACs").
//
// Per VIP the plan gives this node's place in the election: `ahead`, the candidates ranked before it
// (empty: it won), and `behind`, those after it within the liveness window.
//   - Won the election: answer. A rank-0 node never yields to a MAC it cannot place below itself.
//   - Someone ahead is alive: do not answer.
//   - Everyone ahead is dead: take over, but probe first (RFC 5227 §2.1.1: a host probes before it
//     uses an address; RFC 4862 §5.4 Duplicate Address Detection for IPv6): an ARP probe / a DAD
//     solicitation for the VIP, and the VIP is taken only if nobody answers within
//     `probeWaitMs`. An answer means a node we cannot hear on the liveness channel still answers on the
//     client LAN (cut off from the other speakers): it keeps the VIP, and we probe again every
//     `reprobeMs`. A member that said it was leaving is not probed for (it still answers until we
//     announce: docs/liveness.md "Leaving").
// Leaving: frames from a member that said it is leaving are no conflict (it answers on purpose until
// we have announced, docs/liveness.md "Leaving"); a node that is leaving defends nothing.
// Start: for `startGraceMs` after its first evaluation a speaker answers for nothing, so that before it
// claims anything it has heard its members (who is alive, and their MACs for the conflict rules below);
// otherwise a starting node and an owner that cannot place its MAC would both defend.
// Hand-off: for `handoffMs` after this node starts answering for a VIP, answers (not announcements)
// from a known member are that member handing the VIP over (it keeps answering until it sees our
// announcement, handoff.ts), not a conflict; an announcement, or an unknown MAC, is a conflict at once.
// Conflicts (a foreign MAC announcing or answering for a VIP we answer for, seen by the observer):
// the election order decides, deterministically on both sides:
//   - the other node is ahead of us (or unknown while we hold the VIP only by takeover): yield at once
//     and probe again after `reprobeMs`;
//   - it is behind us (or unknown while we won the election): defend, i.e. announce again, at most once
//     per `defendIntervalMs` per VIP and claiming MAC (RFC 5227 §2.4(c): a host that must keep its
//     address MAY defend it indefinitely but SHOULD NOT send more than one defensive ARP within
//     DEFEND_INTERVAL, 10 s; per claimant, so that one noisy host cannot hide a second one);
//   - it is outside our window (the two nodes disagree about the candidates, e.g. different
//     manifests): the lower sha256(node + "#" + election key) keeps it, the election's own tie-break.
import { electionHash } from '../l2/election.ts';
import { HANDOFF_MAX_MS } from './handoff.ts';

export interface ClaimEntry {
  readonly vip: string;
  /** The Service's first IP: the election's hash key. */
  readonly key: string;
  /** Candidates ranked before this node, best first; empty: this node won the election. */
  readonly ahead: readonly string[];
  /** Candidates ranked after this node within the liveness window. */
  readonly behind: readonly string[];
}

export interface ClaimsOptions {
  readonly self: string;
  readonly probeWaitMs: number;
  readonly reprobeMs: number;
  readonly defendIntervalMs: number;
  /** Nothing is answered for this long after the first evaluation (the detection time). */
  readonly startGraceMs: number;
  /** After starting to answer for a VIP, frames from a known member are its hand-off for this long. */
  readonly handoffMs: number;
}

export const DEFAULT_CLAIMS: Omit<ClaimsOptions, 'self'> = { probeWaitMs: 150, reprobeMs: 1000, defendIntervalMs: 10_000, startGraceMs: 300, handoffMs: HANDOFF_MAX_MS };

export interface LivenessView {
  alive(node: string): boolean;
  /** The member's last transition to dead was its own "leaving" heartbeat. */
  left(node: string): boolean;
}

export interface Evaluation {
  /** VIPs to answer for now. */
  readonly owned: ReadonlySet<string>;
  /** VIPs to send an ARP probe for now. */
  readonly probe: readonly string[];
  /** Evaluate again at this time (a probe's wait or a re-probe ends); undefined: nothing pending. */
  readonly wakeAt: number | undefined;
}

export const Resolution = {
  /** We keep the VIP and announce it again. */
  defend: 'defend',
  /** We keep the VIP; a defence was sent within defendIntervalMs already. */
  defendedRecently: 'defendedRecently',
  /** We stop answering at once. */
  yield: 'yield',
  /** An answer to our probe: the VIP is held on the LAN by a node we cannot hear. */
  heldElsewhere: 'heldElsewhere',
  /** Not a VIP we answer for or probe for. */
  ignore: 'ignore',
} as const;
export type Resolution = (typeof Resolution)[keyof typeof Resolution];

type TakeoverState =
  | { readonly kind: 'probing'; readonly until: number }
  | { readonly kind: 'heldElsewhere'; readonly until: number }
  | { readonly kind: 'taken' };

export interface Claims {
  evaluate(entries: Iterable<ClaimEntry>, view: LivenessView, now: number): Evaluation;
  /**
   * A frame from `mac` (owned by node `claimant`, if the liveness channel told us) announcing or
   * answering for the entry's VIP. `owned`: whether we answer for it now.
   */
  observed(
    entry: ClaimEntry | undefined,
    claimant: { readonly node: string | undefined; readonly mac: string; readonly left?: boolean; readonly announcement?: boolean },
    owned: boolean,
    now: number,
  ): Resolution;
  /** This node is stopping: from now on it defends nothing. */
  leaving(): void;
}

export function createClaims(opts: ClaimsOptions): Claims {
  const takeovers = new Map<string, TakeoverState>();
  const defended = new Map<string, number>();
  /** When this node started answering for each VIP it answers for. */
  const ownedSince = new Map<string, number>();
  let graceUntil: number | undefined;
  let leaving = false;

  function beats(a: string, b: string, key: string): boolean {
    return Buffer.compare(electionHash(a, key), electionHash(b, key)) < 0;
  }

  return {
    evaluate(entries, view, now) {
      graceUntil ??= now + opts.startGraceMs;
      if (now < graceUntil) return { owned: new Set(), probe: [], wakeAt: graceUntil };
      const owned = new Set<string>();
      const probe: string[] = [];
      let wakeAt: number | undefined;
      const wake = (t: number): void => {
        wakeAt = wakeAt === undefined ? t : Math.min(wakeAt, t);
      };
      const seen = new Set<string>();
      for (const e of entries) {
        seen.add(e.vip);
        let s = takeovers.get(e.vip);
        if (e.ahead.length === 0 && (s === undefined || s.kind === 'taken')) {
          // The election's winner; after a lost conflict it probes first like a takeover.
          owned.add(e.vip);
          continue;
        }
        if (e.ahead.some((n) => view.alive(n))) {
          takeovers.delete(e.vip);
          continue;
        }
        if (s === undefined) {
          s = e.ahead.every((n) => view.left(n)) ? { kind: 'taken' } : { kind: 'probing', until: now + opts.probeWaitMs };
          if (s.kind === 'probing') probe.push(e.vip);
        } else if (s.kind === 'probing' && now >= s.until) {
          s = { kind: 'taken' };
        } else if (s.kind === 'heldElsewhere' && now >= s.until) {
          s = { kind: 'probing', until: now + opts.probeWaitMs };
          probe.push(e.vip);
        }
        takeovers.set(e.vip, s);
        if (s.kind === 'taken') owned.add(e.vip);
        else wake(s.until);
      }
      for (const vip of takeovers.keys()) if (!seen.has(vip)) takeovers.delete(vip);
      for (const vip of ownedSince.keys()) if (!owned.has(vip)) ownedSince.delete(vip);
      for (const vip of owned) if (!ownedSince.has(vip)) ownedSince.set(vip, now);
      for (const key of defended.keys()) if (!seen.has(key.slice(0, key.indexOf('|')))) defended.delete(key);
      return { owned, probe, wakeAt };
    },

    leaving() {
      leaving = true;
    },

    observed(entry, { node: claimant, mac, left, announcement }, owned, now) {
      if (entry === undefined || claimant === opts.self || graceUntil === undefined || now < graceUntil) return Resolution.ignore;
      if (left === true || leaving) return Resolution.ignore;
      const s = takeovers.get(entry.vip);
      if (!owned) {
        if (s?.kind !== 'probing') return Resolution.ignore;
        takeovers.set(entry.vip, { kind: 'heldElsewhere', until: now + opts.reprobeMs });
        return Resolution.heldElsewhere;
      }
      // The previous holder handing the VIP over (handoff.ts): it stops at our announcement.
      const since = ownedSince.get(entry.vip);
      if (claimant !== undefined && announcement !== true && since !== undefined && now - since < opts.handoffMs) return Resolution.ignore;
      let weKeep: boolean;
      if (claimant === undefined) weKeep = entry.ahead.length === 0;
      else if (entry.ahead.includes(claimant)) weKeep = false;
      else if (entry.behind.includes(claimant)) weKeep = true;
      else weKeep = beats(opts.self, claimant, entry.key);
      if (!weKeep) {
        // Probe again later: when the other node is gone, nobody answers the probe and we take over.
        takeovers.set(entry.vip, { kind: 'heldElsewhere', until: now + opts.reprobeMs });
        return Resolution.yield;
      }
      const key = `${entry.vip}|${mac}`;
      const last = defended.get(key);
      if (last !== undefined && now - last < opts.defendIntervalMs) return Resolution.defendedRecently;
      defended.set(key, now);
      return Resolution.defend;
    },
  };
}
