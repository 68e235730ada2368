// Liveness on the speaker's main thread: the heartbeat driver (driver.ts), the ownership rules
// (claims.ts) and the ARP observer (observer.ts) around the layer 2 engine. The agent hands it every
// VIP this node stands by for (plan.l2 with l2Window > 1, interfaces resolved) and the members; from
// then on it alone calls l2.setOwned, again whenever liveness, a probe's wait or a conflict changes
// the answer. Nothing here waits for the planner thread (docs/liveness.md).
// A VIP this node lets go (plan change, a node ahead back, stopping) is answered until the next owner
// announces it (handoff.ts, docs/handoff.md).
import type { Logger } from '../log.ts';
import type { MetricFamily, Sample } from '../metrics/exposition.ts';
import type { OwnedVip, SetOwnedProblem } from '../l2/engine.ts';
import type { LinkInfo } from '../l2/transport.ts';
import type { Member } from '../speaker/plan.ts';
import { createClaims, DEFAULT_CLAIMS, Resolution, type ClaimEntry, type ClaimsOptions } from './claims.ts';
import { startLivenessDriver, type LivenessDriverOptions, type OpenLivenessSocket } from './driver.ts';
import { createObserver, type ForeignClaim } from './observer.ts';
import { createHandoff, HANDOFF_MAX_MS } from './handoff.ts';
import { DEFAULT_DETECTOR, type DetectorOptions, type Transition } from './detector.ts';
import type { OpenPacketTransport } from '../sys/packet.ts';

/** Up to this many members every speaker watches every other (all pairs); above, only the pairs
 * that share a VIP's window (its owner and the nodes standing by for it). */
export const DEFAULT_FULL_MESH_UP_TO = 16;

/** The log line of a hand-off that ended because the next owner announced the VIP (docs/handoff.md). */
const HANDED_OFF = 'hand-off: the next owner announced the VIP: we stop answering for it';

/** Candidates per VIP that stand by for it (plan.ts l2Window): the owner and two successors. */
export const L2_WINDOW = 3;

export interface GateEntry extends ClaimEntry {
  readonly interfaces: readonly string[];
}

export interface GateL2 {
  setOwned(all: readonly OwnedVip[]): readonly SetOwnedProblem[];
  announceNow(vip: string): number;
}

/** A duplicate owner met on the LAN, for the Kubernetes Event (src/k8s/speaker.ts duplicateOwner). */
export interface Conflict {
  readonly vip: string;
  readonly node: string;
  readonly mac: string;
  /** The other node, when the liveness channel knows the MAC; else undefined. */
  readonly otherNode: string | undefined;
  readonly otherMac: string;
  readonly resolution: 'defend' | 'defendedRecently' | 'yield';
}

export interface LivenessRuntimeOptions {
  readonly self: string;
  readonly key: Buffer;
  readonly port: number;
  readonly logger: Logger;
  readonly l2: GateL2;
  readonly link: (iface: string) => LinkInfo | undefined;
  /** The MACs of this node's interfaces. */
  readonly macs: () => readonly string[];
  readonly fullMeshUpTo?: number;
  readonly detector?: Partial<Omit<DetectorOptions, 'self'>>;
  readonly claims?: Partial<Omit<ClaimsOptions, 'self'>>;
  readonly openUdp?: OpenLivenessSocket;
  readonly openPacket?: OpenPacketTransport;
  /** Told of every conflict (Kubernetes mode turns it into an Event). */
  readonly onConflict?: (c: Conflict) => void;
  /** At most this long a released VIP is answered while the next owner has not announced it. */
  readonly handoffMs?: number;
}

export interface LivenessRuntime {
  /** Every VIP this node stands by for; returns what the engine answers for now and its problems. */
  setCandidates(entries: readonly GateEntry[]): { readonly owned: readonly OwnedVip[]; readonly problems: readonly SetOwnedProblem[] };
  setMembers(members: readonly Member[]): void;
  /** Tells the watchers this node is stopping (heartbeats with the leaving flag); every VIP is released
   * (answered until the next owner announces it, at most handoffMs). */
  leave(): Promise<void>;
  /** Resolves when no VIP is being handed off any more (every next owner announced, or timed out). */
  handedOff(): Promise<void>;
  families(): MetricFamily[];
  close(): void;
}

export function startLivenessRuntime(opts: LivenessRuntimeOptions): LivenessRuntime {
  const log = opts.logger;
  const self = opts.self;
  const now = (): number => performance.now();
  const detection = (opts.detector?.intervalMs ?? DEFAULT_DETECTOR.intervalMs) * (opts.detector?.deadAfter ?? DEFAULT_DETECTOR.deadAfter);
  const handoffMs = opts.handoffMs ?? HANDOFF_MAX_MS;
  const claims = createClaims({ self, ...DEFAULT_CLAIMS, startGraceMs: detection, handoffMs, ...opts.claims });
  const handoff = createHandoff({ handoffMs });
  let entries = new Map<string, GateEntry>();
  let members: readonly Member[] = [];
  let owned = new Set<string>();
  /** What the last evaluation owned, with its interfaces (released VIPs keep them). */
  let ownedInterfaces = new Map<string, readonly string[]>();
  /** VIPs lost in a conflict since the last evaluation: dropped at once, not handed off. */
  const yielded = new Set<string>();
  let leaving = false;
  let handedOffWaiters: (() => void)[] = [];
  let handoffs = 0;
  /** Defences against known members, waiting handoffMs (defendLater). */
  const defences = new Set<NodeJS.Timeout>();
  const left = new Set<string>();
  const conflicts: Record<string, number> = {};
  let probesSent = 0;
  let probesAnswered = 0;
  let takeovers = 0;
  let wake: NodeJS.Timeout | undefined;
  let closed = false;

  const driverOpts: LivenessDriverOptions = {
    self,
    key: opts.key,
    port: opts.port,
    logger: log,
    macs: opts.macs,
    onTransitions,
    onStall: () => {
      // Others may have taken over while we did not run: remind the LAN (they yield to us, claims.ts).
      for (const vip of owned) opts.l2.announceNow(vip);
    },
    ...(opts.detector === undefined ? {} : { detector: opts.detector }),
    ...(opts.openUdp === undefined ? {} : { open: opts.openUdp }),
  };
  const driver = startLivenessDriver(driverOpts);
  const observer = createObserver({
    logger: log,
    link: opts.link,
    watched: (vip) => entries.has(vip) || handoff.releasing().has(vip),
    onClaim,
    ...(opts.openPacket === undefined ? {} : { open: opts.openPacket }),
  });

  const view = {
    alive: (node: string) => driver.detector.state(node) !== 'dead',
    left: (node: string) => left.has(node),
  };

  function onTransitions(ts: readonly Transition[]): void {
    for (const t of ts) {
      // A node ahead back without having left (it was hung, cut off, or we missed its heartbeats) still
      // answers and will not announce again: its VIPs are dropped at once, as a lost conflict. One that
      // left (stopped with SIGTERM) and came back announces when it starts answering: handed off.
      if (t.to === 'alive' && !left.has(t.node)) {
        for (const vip of owned) if (entries.get(vip)?.ahead.includes(t.node) === true) yielded.add(vip);
      }
      if (t.to === 'dead' && t.reason === 'leaving') left.add(t.node);
      else left.delete(t.node);
    }
    const problems = evaluate();
    for (const p of problems) log.warn({ node: self, vip: p.vip, iface: p.iface, reason: p.message }, 'L2 engine refused an interface');
    // A member that comes back may have taken over our VIPs while we could not hear each other.
    for (const t of ts) {
      if (t.to !== 'alive') continue;
      for (const vip of owned) {
        const e = entries.get(vip);
        if (e !== undefined && !e.ahead.includes(t.node)) opts.l2.announceNow(vip);
      }
    }
  }

  function evaluate(): readonly SetOwnedProblem[] {
    if (closed) return [];
    const t = now();
    // Stopping: nothing is owned any more; what was is handed off below.
    const ev = leaving ? { owned: new Set<string>(), probe: [], wakeAt: undefined } : claims.evaluate(entries.values(), view, t);
    for (const vip of ev.probe) {
      const e = entries.get(vip);
      if (e === undefined) continue;
      probesSent += observer.probe(vip, e.interfaces);
      log.info({ node: self, vip, dead: e.ahead }, 'liveness: every node ahead of us is dead: probing the VIP before taking it over (RFC 5227 §2.1.1, RFC 4862 §5.4)');
    }
    for (const vip of ev.owned) {
      if (owned.has(vip)) continue;
      const e = entries.get(vip);
      if (e !== undefined && e.ahead.length > 0) {
        takeovers++;
        log.warn({ node: self, vip, dead: e.ahead }, 'liveness: taking over VIP (the nodes ahead are dead)');
      }
    }
    for (const vip of owned) {
      const e = entries.get(vip);
      if (!ev.owned.has(vip) && e !== undefined && e.ahead.length > 0) log.info({ node: self, vip, alive: e.ahead.filter((n) => view.alive(n)) }, 'liveness: handing VIP back');
    }
    owned = new Set(ev.owned);
    const h = handoff.step(ownedInterfaces, owned, yielded, t);
    yielded.clear();
    for (const vip of h.started) log.info({ node: self, vip, reason: leaving ? 'stopping' : 'no longer the owner' }, 'hand-off: answering for the VIP until the next owner announces it');
    for (const d of h.dropped) {
      if (d.reason === 'timeout') log.warn({ node: self, vip: d.vip, reason: `no other node announced it within ${handoffMs} ms` }, 'hand-off: stopped answering for the VIP');
      else log.info({ node: self, vip: d.vip, otherNode: macOwner(d.otherMac ?? '') ?? 'unknown', otherMac: d.otherMac, reason: 'it announced the VIP before our plan let it go' }, HANDED_OFF);
    }
    handoffs += h.dropped.filter((d) => d.reason !== 'timeout').length;
    ownedInterfaces = new Map();
    for (const vip of owned) {
      const e = entries.get(vip);
      if (e !== undefined) ownedInterfaces.set(vip, e.interfaces);
    }
    handoff.prune((vip) => entries.has(vip));
    if (wake !== undefined) clearTimeout(wake);
    const wakeAt = ev.wakeAt === undefined ? h.wakeAt : h.wakeAt === undefined ? ev.wakeAt : Math.min(ev.wakeAt, h.wakeAt);
    wake = wakeAt === undefined ? undefined : setTimeout(() => void evaluate(), Math.max(0, wakeAt - t) + 1);
    const problems = opts.l2.setOwned(ownedVips());
    if (h.releasing.size === 0) {
      const waiters = handedOffWaiters;
      handedOffWaiters = [];
      for (const w of waiters) w();
    }
    return problems;
  }

  /** Owned VIPs and those being handed off: what the engine answers for. */
  function ownedVips(): OwnedVip[] {
    const out: OwnedVip[] = [...ownedInterfaces].map(([vip, interfaces]) => ({ vip, interfaces }));
    for (const [vip, interfaces] of handoff.releasing()) if (!ownedInterfaces.has(vip)) out.push({ vip, interfaces });
    return out.sort((a, b) => (a.vip < b.vip ? -1 : a.vip > b.vip ? 1 : 0));
  }

  function macOwner(mac: string): string | undefined {
    for (const m of driver.members()) if (m.macs.includes(mac)) return m.node;
    return undefined;
  }

  function onClaim(c: ForeignClaim, iface: string): void {
    const e = entries.get(c.vip);
    const claimant = macOwner(c.mac);
    if (handoff.foreign(c.vip, c.mac, now())) {
      handoffs++;
      log.info({ node: self, vip: c.vip, iface, otherNode: claimant ?? 'unknown', otherMac: c.mac, kind: c.kind }, HANDED_OFF);
      evaluate();
      return;
    }
    const wasOwned = owned.has(c.vip);
    const r = claims.observed(e, { node: claimant, mac: c.mac, left: claimant !== undefined && left.has(claimant), announcement: c.kind === 'announcement' }, wasOwned, now());
    if (r === Resolution.ignore) return;
    const fields = { node: self, mac: opts.link(iface)?.mac, vip: c.vip, iface, otherNode: claimant ?? 'unknown', otherMac: c.mac, kind: c.kind, resolution: r };
    if (r === Resolution.heldElsewhere) {
      probesAnswered++;
      log.warn(fields, 'liveness: the VIP still answers on the LAN from a node we cannot hear (cut off from the speakers): not taking over');
      evaluate();
      return;
    }
    if (r === Resolution.yield && claimant !== undefined && e?.ahead.includes(claimant) === true) {
      // A node ahead of us in the election announced: the VIP going back to its owner (or to a node
      // whose plan moved it there first), a hand-off, not a duplicate owner.
      handoffs++;
      log.info({ ...fields, reason: 'it ranks before us' }, HANDED_OFF);
      yielded.add(c.vip);
      evaluate();
      return;
    }
    conflicts[r] = (conflicts[r] ?? 0) + 1;
    opts.onConflict?.({ vip: c.vip, node: self, mac: fields.mac ?? '', otherNode: claimant, otherMac: c.mac, resolution: r });
    log.warn(fields, `L2: another MAC answers for a VIP we answer for (RFC 5227 §2.4): ${r === Resolution.yield ? 'it ranks before us: we stop answering' : 'we rank before it: we keep the VIP'}`);
    if (r === Resolution.defend) {
      // Against a speaker we hear, the defence waits handoffMs: if our own plan is moving the VIP to it
      // (its plan change arrived first), we let go instead (handoff.ts) and the defence is not sent.
      if (claimant === undefined) opts.l2.announceNow(c.vip);
      else defendLater(c.vip);
    }
    if (r === Resolution.yield) {
      yielded.add(c.vip);
      evaluate();
    }
  }

  function defendLater(vip: string): void {
    const timer = setTimeout(() => {
      defences.delete(timer);
      if (!closed && owned.has(vip)) opts.l2.announceNow(vip);
    }, handoffMs);
    defences.add(timer);
  }

  function watchSet(): Map<string, string> {
    const byName = new Map(members.map((m) => [m.name, m.address]));
    const names = new Set<string>();
    if (members.length <= (opts.fullMeshUpTo ?? DEFAULT_FULL_MESH_UP_TO)) for (const m of members) names.add(m.name);
    else for (const e of entries.values()) for (const n of [...e.ahead, ...e.behind]) names.add(n);
    names.delete(self);
    const out = new Map<string, string>();
    for (const n of [...names].sort()) {
      const a = byName.get(n);
      if (a !== undefined) out.set(n, a);
    }
    return out;
  }

  return {
    setCandidates(list) {
      entries = new Map(list.map((e) => [e.vip, e]));
      driver.setMembers(watchSet());
      // The interfaces of released VIPs too: the next owner's announcement ends their hand-off.
      const watch = (): Set<string> => new Set([...list.flatMap((e) => e.interfaces), ...[...handoff.releasing().values(), ...ownedInterfaces.values()].flat()]);
      observer.setInterfaces(watch());
      const problems = evaluate();
      observer.setInterfaces(watch());
      return { owned: ownedVips(), problems };
    },
    setMembers(next) {
      members = next;
      driver.setMembers(watchSet());
    },
    leave: () => {
      claims.leaving();
      leaving = true;
      evaluate();
      return driver.leave(3, 20);
    },
    handedOff: () => (handoff.releasing().size === 0 ? Promise.resolve() : new Promise<void>((resolve) => handedOffWaiters.push(resolve))),
    families() {
      const c = driver.counters();
      const ms = [...driver.members()].sort((a, b) => (a.node < b.node ? -1 : 1));
      const transitions: Sample[] = Object.entries(c.transitions)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, value]) => {
          const [member = '', state = ''] = k.split('|');
          return { labels: { member, state }, value };
        });
      return [
        { name: 'berth_liveness_member_up', help: 'Watched speaker alive (1) or dead (0) on the liveness channel.', type: 'gauge', samples: ms.map((m) => ({ labels: { member: m.node }, value: m.state === 'alive' ? 1 : 0 })) },
        { name: 'berth_liveness_transitions_total', help: 'Liveness transitions of watched speakers, by the state entered.', type: 'counter', samples: transitions },
        { name: 'berth_liveness_heartbeats_sent_total', help: 'Heartbeats sent.', type: 'counter', samples: [{ value: c.sent }] },
        { name: 'berth_liveness_heartbeats_received_total', help: 'Heartbeats authenticated and accepted.', type: 'counter', samples: [{ value: c.received }] },
        { name: 'berth_liveness_auth_failures_total', help: 'Datagrams on the liveness port that failed authentication (dropped).', type: 'counter', samples: [{ value: c.authFailures }] },
        {
          name: 'berth_liveness_rejected_total',
          help: 'Authenticated heartbeats dropped, by reason (replay, stale, unknownMember, self).',
          type: 'counter',
          samples: Object.entries(c.rejected).sort(([a], [b]) => (a < b ? -1 : 1)).map(([reason, value]) => ({ labels: { reason }, value })),
        },
        { name: 'berth_liveness_local_stalls_total', help: 'Times this process did not run for longer than the detection time.', type: 'counter', samples: [{ value: c.localStalls }] },
        { name: 'berth_l2_handoffs_total', help: 'VIPs this node let go after the next owner announced them (hand-off before stop).', type: 'counter', samples: [{ value: handoffs }] },
        { name: 'berth_l2_takeovers_total', help: 'VIPs taken over because every node ahead in the election was dead.', type: 'counter', samples: [{ value: takeovers }] },
        { name: 'berth_l2_probes_total', help: 'RFC 5227 ARP probes sent before a takeover, and those answered (the VIP was still held).', type: 'counter', samples: [{ labels: { result: 'sent' }, value: probesSent }, { labels: { result: 'answered' }, value: probesAnswered }] },
        {
          name: 'berth_l2_duplicate_owner_total',
          help: 'Another MAC announced or answered for a VIP this node answers for, by resolution (defend, defendedRecently, yield).',
          type: 'counter',
          samples: Object.entries(conflicts).sort(([a], [b]) => (a < b ? -1 : 1)).map(([resolution, value]) => ({ labels: { resolution }, value })),
        },
      ];
    },
    close() {
      if (closed) return;
      closed = true;
      if (wake !== undefined) clearTimeout(wake);
      for (const d of defences) clearTimeout(d);
      for (const w of handedOffWaiters) w();
      handedOffWaiters = [];
      driver.close();
      observer.close();
    },
  };
}
