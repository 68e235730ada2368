// A NodePlan as a change against the previous one, so that what crosses from the planner thread to the
// engines (src/speaker/plan-thread.ts), and what the agent logs and hands on, is proportional to the
// change, not to the 100,000 Services behind it. Pure.
//
//   PlanDiffer   keeps each keyed entry's encoding from the last plan it saw; diff(plan) -> PlanDelta
//   PlanMirror   the receiving side: apply(delta) keeps the current lists (L2 VIPs, advertisements)
//
// Keys: L2 announcements by VIP, advertisements by prefix and peer filter (the identity the BGP
// speaker merges on, plan.ts mergeAdvertisements). Peers, peer notes and the node's addressing are small
// and travel whole when they change. Per-Service plans stay with the planner: they are for logs and
// status, which the planner side writes (agent.ts logServiceChanges).
import type { Advertisement } from '../bgp/speaker.ts';
import type { NodeAddressing } from '../l2/interfaces.ts';
import type { L2Announcement, Member, NodePlan, PeerNote, PlannedPeer } from './plan.ts';
import { flat } from '../config/compact.ts';

export interface KeyedDelta<T> {
  /** New or changed entries. */
  readonly upsert: readonly T[];
  /** Keys of entries that are gone. */
  readonly remove: readonly string[];
}

export interface PlanDelta {
  /** The first delta of a differ: the receiver drops what it held before applying it. */
  readonly reset?: true;
  readonly node: string;
  readonly nodeKnown: boolean;
  /** Present when changed (and always in the first delta). */
  readonly addressing?: NodeAddressing;
  readonly peers?: readonly PlannedPeer[];
  readonly peerNotes?: readonly PeerNote[];
  /** The liveness members (plan.members), when they changed. */
  readonly members?: readonly Member[];
  readonly l2: KeyedDelta<L2Announcement>;
  readonly advertisements: KeyedDelta<Advertisement>;
}

export const l2Key = (a: L2Announcement): string => a.vip;
export const adKey = (a: Advertisement): string => (a.peers === undefined ? a.prefix : `${a.prefix} to ${a.peers.join(',')}`);

/** True when the delta changes nothing. */
export function emptyDelta(d: PlanDelta): boolean {
  return (
    d.reset === undefined &&
    d.addressing === undefined &&
    d.peers === undefined &&
    d.peerNotes === undefined &&
    d.members === undefined &&
    d.l2.upsert.length + d.l2.remove.length + d.advertisements.upsert.length + d.advertisements.remove.length === 0
  );
}

function keyedDiff<T>(last: Map<string, string>, items: readonly T[], key: (t: T) => string): KeyedDelta<T> {
  const upsert: T[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const k = key(item);
    seen.add(k);
    const enc = JSON.stringify(item);
    if (last.get(k) !== enc) {
      upsert.push(item);
      // Kept until the next plan, one per prefix: flat strings (compact.ts flat).
      last.set(flat(k), flat(enc));
    }
  }
  const remove: string[] = [];
  for (const k of last.keys()) if (!seen.has(k)) remove.push(k);
  for (const k of remove) last.delete(k);
  return { upsert, remove };
}

export interface PlanDiffer {
  diff(plan: NodePlan): PlanDelta;
}

export function createPlanDiffer(): PlanDiffer {
  const l2 = new Map<string, string>();
  const ads = new Map<string, string>();
  let small: { node: string; addressing: string; peers: string; peerNotes: string; members: string } | undefined;
  return {
    diff(plan) {
      const addressing = JSON.stringify(plan.addressing);
      const peers = JSON.stringify(plan.peers);
      const peerNotes = JSON.stringify(plan.peerNotes);
      const members = JSON.stringify(plan.members ?? []);
      const fresh = small === undefined;
      const delta: PlanDelta = {
        ...(fresh ? { reset: true as const } : {}),
        node: plan.node,
        nodeKnown: plan.nodeKnown,
        ...(fresh || small?.addressing !== addressing ? { addressing: plan.addressing } : {}),
        ...(fresh || small?.peers !== peers ? { peers: plan.peers } : {}),
        ...(fresh || small?.peerNotes !== peerNotes ? { peerNotes: plan.peerNotes } : {}),
        ...((fresh && plan.members !== undefined) || (!fresh && small?.members !== members) ? { members: plan.members ?? [] } : {}),
        l2: keyedDiff(l2, plan.l2, l2Key),
        advertisements: keyedDiff(ads, plan.advertisements, adKey),
      };
      small = { node: plan.node, addressing, peers, peerNotes, members };
      return delta;
    },
  };
}

/** The receiving side's view of the plan in force, kept from deltas. */
export interface PlanMirror {
  apply(delta: PlanDelta): void;
  readonly node: string | undefined;
  readonly nodeKnown: boolean;
  readonly addressing: NodeAddressing;
  readonly peers: readonly PlannedPeer[];
  readonly peerNotes: readonly PeerNote[];
  readonly members: readonly Member[];
  /** Current L2 announcements. */
  l2(): readonly L2Announcement[];
  /** Current advertisements. */
  advertisements(): readonly Advertisement[];
}

export function createPlanMirror(): PlanMirror {
  let node: string | undefined;
  let nodeKnown = false;
  let addressing: NodeAddressing = { internalIPs: [] };
  let peers: readonly PlannedPeer[] = [];
  let peerNotes: readonly PeerNote[] = [];
  let members: readonly Member[] = [];
  const l2 = new Map<string, L2Announcement>();
  const ads = new Map<string, Advertisement>();
  let adsArray: readonly Advertisement[] | undefined;
  let l2Array: readonly L2Announcement[] | undefined;
  return {
    apply(d) {
      if (d.reset === true) {
        l2.clear();
        ads.clear();
      }
      node = d.node;
      nodeKnown = d.nodeKnown;
      if (d.addressing !== undefined) addressing = d.addressing;
      if (d.peers !== undefined) peers = d.peers;
      if (d.peerNotes !== undefined) peerNotes = d.peerNotes;
      if (d.members !== undefined) members = d.members;
      for (const k of d.l2.remove) l2.delete(k);
      for (const a of d.l2.upsert) l2.set(l2Key(a), a);
      for (const k of d.advertisements.remove) ads.delete(k);
      for (const a of d.advertisements.upsert) ads.set(adKey(a), a);
      if (d.reset === true || d.advertisements.remove.length + d.advertisements.upsert.length > 0) adsArray = undefined;
      if (d.reset === true || d.l2.remove.length + d.l2.upsert.length > 0) l2Array = undefined;
    },
    get node() {
      return node;
    },
    get nodeKnown() {
      return nodeKnown;
    },
    get addressing() {
      return addressing;
    },
    get peers() {
      return peers;
    },
    get peerNotes() {
      return peerNotes;
    },
    get members() {
      return members;
    },
    l2() {
      l2Array ??= [...l2.values()];
      return l2Array;
    },
    advertisements() {
      adsArray ??= [...ads.values()];
      return adsArray;
    },
  };
}
