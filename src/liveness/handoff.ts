// Hand-off before stop (docs/handoff.md): a node that lets a layer 2 VIP go keeps answering for it
// until the next owner has announced it, so that a client never meets a silent VIP. Pure: the caller
// (runtime.ts) passes the time, what it answered for and what it answers for now, and the foreign
// announcements its observer saw (observer.ts).
//
// A VIP this node stops owning for any reason but a lost conflict (the plan moved it: this node was
// cordoned, drained, tainted out-of-service, labelled exclude-from-external-load-balancers, or a node
// ahead came back; or the node is stopping) is *released*, not dropped:
//   - if another MAC announced or answered for it within the last `handoffMs` (the next owner's plan
//     reached it first), it is dropped at once: the next owner has spoken;
//   - else this node keeps answering until the observer sees another MAC announce or answer for it
//     (the next owner's gratuitous ARP / unsolicited NA), then drops it;
//   - at most `handoffMs` (a Service deleted, or nobody left to take it): then it is dropped anyway.
// A lost conflict (claims.ts Resolution.yield) drops the VIP at once: the other node already answers.
// The new owner, for its part, takes frames from a known member in the first `handoffMs` after it
// starts answering for a VIP as that member's hand-off, not as a conflict (claims.ts).

/** How long a released VIP is answered at most while waiting for the next owner's announcement. */
export const HANDOFF_MAX_MS = 1000;

export interface Release {
  readonly vip: string;
  /** Why this node stopped answering it. */
  readonly reason: 'nextOwnerAnnouncedBefore' | 'timeout';
  /** The MAC that announced or answered for it (nextOwnerAnnouncedBefore). */
  readonly otherMac?: string;
}

export interface HandoffStep {
  /** VIPs still answered while the next owner has not announced them. */
  readonly releasing: ReadonlyMap<string, readonly string[]>;
  /** VIPs this step started to release (keep answering). */
  readonly started: readonly string[];
  /** VIPs dropped in this step, with the reason. */
  readonly dropped: readonly Release[];
  /** The earliest time a release times out; undefined: none pending. */
  readonly wakeAt: number | undefined;
}

export interface Handoff {
  /**
   * After an evaluation: `before` was answered (VIP -> interfaces), `now` is what is owned now,
   * `yielded` the VIPs lost in a conflict (dropped at once).
   */
  step(before: ReadonlyMap<string, readonly string[]>, owned: ReadonlySet<string>, yielded: ReadonlySet<string>, now: number): HandoffStep;
  /** Another MAC announced or answered for `vip`. A release that waited for it ends: true. */
  foreign(vip: string, mac: string, now: number): boolean;
  /** VIPs answered only while being handed off. */
  releasing(): ReadonlyMap<string, readonly string[]>;
  /** Forget what was seen of VIPs that are neither wanted nor released. */
  prune(keep: (vip: string) => boolean): void;
}

export function createHandoff(opts: { readonly handoffMs: number }): Handoff {
  const releasing = new Map<string, { readonly interfaces: readonly string[]; readonly until: number }>();
  const lastForeign = new Map<string, { readonly at: number; readonly mac: string }>();

  const view = (): Map<string, readonly string[]> => new Map([...releasing].map(([vip, r]) => [vip, r.interfaces]));

  return {
    step(before, owned, yielded, now) {
      const started: string[] = [];
      const dropped: Release[] = [];
      for (const vip of owned) releasing.delete(vip);
      for (const [vip, interfaces] of before) {
        if (owned.has(vip) || yielded.has(vip) || releasing.has(vip)) continue;
        const seen = lastForeign.get(vip);
        if (seen !== undefined && now - seen.at < opts.handoffMs) {
          dropped.push({ vip, reason: 'nextOwnerAnnouncedBefore', otherMac: seen.mac });
          continue;
        }
        releasing.set(vip, { interfaces, until: now + opts.handoffMs });
        started.push(vip);
      }
      for (const vip of yielded) releasing.delete(vip);
      let wakeAt: number | undefined;
      for (const [vip, r] of releasing) {
        if (now >= r.until) {
          releasing.delete(vip);
          dropped.push({ vip, reason: 'timeout' });
        } else wakeAt = wakeAt === undefined ? r.until : Math.min(wakeAt, r.until);
      }
      return { releasing: view(), started, dropped, wakeAt };
    },

    foreign(vip, mac, now) {
      lastForeign.set(vip, { at: now, mac });
      return releasing.delete(vip);
    },

    releasing: view,

    prune(keep) {
      for (const vip of lastForeign.keys()) if (!keep(vip) && !releasing.has(vip)) lastForeign.delete(vip);
    },
  };
}
