// The router side of the scale benchmarks (bench/scale/run.ts: manifest mode; bench/scale/k8s.ts:
// Kubernetes mode): the lab router's view of node1 over one long-lived vtysh, the steady state (a
// change every second, each timed to the router's RIB; session resets; the largest gap between BGP
// messages from the node, from a capture on the router's port), RSS sampling and the speaker's
// /metrics stall counters.
import { readFile, writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { createLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { NODE_ASN, ROUTER, Vtysh, rssKiB, sleep, type Summary } from '../common/bgp-senders.ts';
import type { Change, ChangeKind } from './churn.ts';
import { largestGap, pcapTimestamps } from './pcap.ts';

export const HOLD = { keepalive: 3, hold: 9 } as const; // FRR's datacenter profile
const CONVERGE_TIMEOUT_MS = 600_000;
const DRAIN_TIMEOUT_MS = 60_000;

export interface NeighborJson {
  readonly bgpState?: string;
  readonly connectionsEstablished?: number;
  readonly connectionsDropped?: number;
  readonly bgpTimerLastRead?: number;
  readonly bgpTimerHoldTimeMsecs?: number;
  readonly bgpTimerKeepAliveIntervalMsecs?: number;
  readonly lastResetDueTo?: string;
  readonly messageStats?: { readonly keepalivesRecv?: number; readonly updatesRecv?: number };
}

/** The router's view of node1, over one long-lived vtysh. */
export class RouterView {
  readonly vty: Vtysh;
  readonly peer: string;
  constructor(vty: Vtysh, peer: string) {
    this.vty = vty;
    this.peer = peer;
  }
  async neighbor(): Promise<NeighborJson> {
    const j = await this.vty.json<Record<string, NeighborJson>>(`show bgp neighbors ${this.peer} json`);
    return j[this.peer] ?? {};
  }
  async summary(): Promise<{ state: string; pfxRcd: number; ribCount: number }> {
    const s = await this.vty.json<Summary>('show bgp summary json');
    const p = s.ipv4Unicast?.peers?.[this.peer];
    return { state: p?.state ?? 'none', pfxRcd: p?.pfxRcd ?? 0, ribCount: s.ipv4Unicast?.ribCount ?? 0 };
  }
  async has(prefix: string): Promise<boolean> {
    const j = await this.vty.json<{ readonly paths?: readonly unknown[] }>(`show bgp ipv4 unicast ${prefix} json`);
    return (j.paths?.length ?? 0) > 0;
  }
  /** What the RIB does not show of a change yet: `+P` missing, `-P` still there. One query at a
   * time: the vtysh answers in order on one pipe. */
  async wrong(c: Change): Promise<string[]> {
    const out: string[] = [];
    for (const x of c.present) if (!(await this.has(x))) out.push(`+${x}`);
    for (const x of c.absent) if (await this.has(x)) out.push(`-${x}`);
    return out;
  }
  /** Until the previous sender is gone (session down, RIB empty) and the passive neighbour listens
   * again (Active; after a reset FRR holds it Idle for a moment and refuses connections). Returns the
   * state it ended in: Active, or Idle when it did not leave Idle within 30 s. */
  async idle(): Promise<string> {
    const deadline = performance.now() + 300_000;
    let emptySince: number | undefined;
    for (;;) {
      const s = await this.summary();
      const now = performance.now();
      if (s.state !== 'Established' && s.pfxRcd === 0 && s.ribCount === 0) {
        emptySince ??= now;
        if (s.state === 'Active' || now - emptySince > 30_000) return s.state;
      }
      if (now > deadline) throw new Error(`router still holds the previous sender: ${JSON.stringify(s)}`);
      await sleep(100);
    }
  }
  /** From now: the first poll showing Established and the first counting `count` prefixes (ms, bench clock). */
  async converge(count: number, what: string, alive: () => string | undefined): Promise<{ establishedAt: number; allAt: number }> {
    const deadline = performance.now() + CONVERGE_TIMEOUT_MS;
    let establishedAt: number | undefined;
    let last: Awaited<ReturnType<RouterView['summary']>>;
    for (;;) {
      last = await this.summary();
      const now = performance.now();
      if (last.state === 'Established') {
        establishedAt ??= now;
        if (last.pfxRcd >= count) return { establishedAt, allAt: now };
      }
      const dead = alive();
      if (dead !== undefined) throw new Error(`${what}: ${dead} (router: ${JSON.stringify(last)})`);
      if (now > deadline) throw new Error(`${what}: timed out with ${last.pfxRcd}/${count} prefixes at the router (${last.state})`);
      await sleep(5);
    }
  }
}

export interface RssSample {
  readonly s: number;
  readonly kiB: number;
}

/** VmRSS every second from the start, and VmHWM (the kernel's peak) on demand. */
export class RssSampler {
  readonly samples: RssSample[] = [];
  readonly #timer: NodeJS.Timeout;
  readonly pid: number;
  constructor(pid: number, t0: number) {
    this.pid = pid;
    this.#timer = setInterval(() => {
      void rssKiB(pid).then((kiB) => {
        if (kiB !== undefined) this.samples.push({ s: (performance.now() - t0) / 1000, kiB });
      });
    }, 1000);
  }
  async peakKiB(): Promise<number | undefined> {
    const m = /VmHWM:\s*(\d+) kB/.exec(await readFile(`/proc/${this.pid}/status`, 'utf8').catch(() => ''));
    return m === null ? undefined : Number(m[1]);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

export const exited = (p: SpawnedProcess): string | undefined =>
  p.child.exitCode !== null || p.child.signalCode !== null ? `speaker exited (${String(p.child.exitCode ?? p.child.signalCode)}): ${p.output().stderr.slice(-2000)}` : undefined;

export async function metricsOf(lab: Lab, node: LabHost, port: number): Promise<Record<string, number>> {
  const r = await lab.exec(node, ['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${port}/metrics`]);
  const out: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(berth_event_loop_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new Error(`speaker /metrics has no berth_event_loop_* samples: ${r.stdout.slice(0, 300)}`);
  return out;
}


export interface ChangeResult {
  readonly kind: ChangeKind;
  readonly service: number;
  /** rename returned -> the router's RIB showed the change (ms); undefined: never seen. */
  readonly ms: number | undefined;
  /** Never seen: what the router still showed wrong at the end (`+P` missing, `-P` still there). */
  readonly wrong?: readonly string[];
}

export interface SteadyResult {
  readonly seconds: number;
  readonly changes: readonly ChangeResult[];
  readonly unseen: number;
  readonly resets: { readonly connectionsDroppedDelta: number; readonly connectionsEstablishedDelta: number; readonly lastResetDueTo: string | undefined; readonly finalState: string };
  /** Largest gap between BGP segments from berth at the router's port, and when (s after steady start). */
  readonly capture: { readonly segments: number; readonly largestGapS: number; readonly atS: number };
  /** Largest bgpTimerLastRead the router showed (sampled every 500 ms). */
  readonly routerLastReadMaxMs: number;
  readonly keepalivesRecvDelta: number;
  readonly negotiated: { readonly holdMs: number | undefined; readonly keepaliveMs: number | undefined };
}

export interface SteadyOptions {
  readonly minutes: number;
  readonly changeEveryMs: number;
  /** The next change of the rotation (bench/scale/churn.ts). */
  next(): Change;
  /** Makes the change where the product reads it (the manifest file, the API server); resolves once made. */
  apply(change: Change): Promise<void>;
  /** A reason when a process under test has died (the run stops), else undefined. */
  dead(): string | undefined;
}

/** One change every `changeEveryMs` for `minutes`, each timed from `apply` returning to the router's
 * RIB showing it; session resets, the largest gap between BGP messages from the node (capture) and the
 * router's bgpTimerLastRead over the same window. */
export async function steadyState(lab: Lab, rv: RouterView, a: SteadyOptions): Promise<SteadyResult> {
  const router = lab.router;
  if (router === undefined) throw new Error('lab without a router');
  const before = await rv.neighbor();
  // Segments that carry BGP octets from berth (TCP payload length > 0) to the router.
  const bpf = `src host ${rv.peer} and tcp dst port 179 and (((ip[2:2] - ((ip[0]&0xf)<<2)) - ((tcp[12]&0xf0)>>2)) != 0)`;
  const cap = await lab.tcpdump(router, router.iface, 'steady.pcap', ['-s', '96', bpf]);
  const wall0 = Date.now() / 1000;
  const t0 = performance.now();
  const endAt = t0 + a.minutes * 60_000;
  const pending: { change: Change; at: number }[] = [];
  const results: ChangeResult[] = [];
  let lastReadMax = 0;
  let nextNeighborPoll = t0;
  let running = true;

  const writer = (async () => {
    for (let k = 0; performance.now() < endAt; k++) {
      const due = t0 + k * a.changeEveryMs;
      if (due > performance.now()) await sleep(due - performance.now());
      if (performance.now() >= endAt) break;
      const change = a.next();
      await a.apply(change);
      pending.push({ change, at: performance.now() });
    }
    running = false;
  })();

  const drainDeadline = (): number => (running ? Infinity : endAt + DRAIN_TIMEOUT_MS);
  while (running || (pending.length > 0 && performance.now() < drainDeadline())) {
    const dead = a.dead();
    if (dead !== undefined) throw new Error(dead);
    for (const p of [...pending]) {
      if ((await rv.wrong(p.change)).length === 0) {
        results.push({ kind: p.change.kind, service: p.change.service, ms: performance.now() - p.at });
        pending.splice(pending.indexOf(p), 1);
      }
    }
    if (performance.now() >= nextNeighborPoll) {
      nextNeighborPoll += 500;
      lastReadMax = Math.max(lastReadMax, (await rv.neighbor()).bgpTimerLastRead ?? 0);
    }
    await sleep(5);
  }
  await writer;
  for (const p of pending) results.push({ kind: p.change.kind, service: p.change.service, ms: undefined, wrong: await rv.wrong(p.change) });
  const after = await rv.neighbor();
  const wall1 = Date.now() / 1000;
  await sleep(500); // the last segments reach the file (-U: per packet)
  await cap.stop();
  const ts = pcapTimestamps(await readFile(cap.file));
  const gap = largestGap(ts, wall0, wall1);
  return {
    seconds: (performance.now() - t0) / 1000,
    changes: results,
    unseen: pending.length,
    resets: {
      connectionsDroppedDelta: (after.connectionsDropped ?? 0) - (before.connectionsDropped ?? 0),
      connectionsEstablishedDelta: (after.connectionsEstablished ?? 0) - (before.connectionsEstablished ?? 0),
      lastResetDueTo: after.lastResetDueTo,
      finalState: after.bgpState ?? 'none',
    },
    capture: { segments: ts.filter((t) => t >= wall0 && t <= wall1).length, largestGapS: gap.seconds, atS: gap.at - wall0 },
    routerLastReadMaxMs: lastReadMax,
    keepalivesRecvDelta: (after.messageStats?.keepalivesRecv ?? 0) - (before.messageStats?.keepalivesRecv ?? 0),
    negotiated: { holdMs: after.bgpTimerHoldTimeMsecs, keepaliveMs: after.bgpTimerKeepAliveIntervalMsecs },
  };
}


export const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN);
};
export const mib = (kiB: number | undefined): string => (kiB === undefined ? '?' : (kiB / 1024).toFixed(1));
export const mb = (kiB: number | undefined): number => ((kiB ?? Infinity) * 1024) / 1e6;

export interface SizesRun<R> {
  /** Lab name prefix (namespaces, bridge, temp dir). */
  readonly prefix: string;
  readonly sizes: readonly number[];
  /** The whole run is ended (lab destroyed, exit 130) past this. */
  readonly budgetMs: number;
  /** Raw figures: { started, args, cpus, results } as JSON. */
  readonly json: string;
  readonly args: unknown;
  readonly runSize: (lab: Lab, node: LabHost, rv: RouterView, n: number) => Promise<R>;
  readonly report: (r: R) => string[];
}

/**
 * One netns lab (node1 and the FRR router, node1 configured on it as a static passive neighbour with
 * FRR's datacenter timers: a dynamic neighbour is deleted when its session drops, and with it the
 * counters that show resets), each size run in turn and reported; the lab is removed at the end, on
 * failure, SIGINT, SIGTERM and when the budget is over.
 */
export async function runSizes<R>(o: SizesRun<R>): Promise<void> {
  const started = new Date();
  const lab = await createLab({ prefix: o.prefix, nodes: 1, router: { asn: ROUTER.asn, nodeAsn: NODE_ASN } });
  let vty: Vtysh | undefined;
  const abort = (why: string): void => {
    console.error(`aborting: ${why}`);
    void vty?.close().catch(() => undefined);
    void lab.destroy().finally(() => process.exit(130));
  };
  const onSignal = (sig: NodeJS.Signals): void => abort(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => abort(`over the budget of ${(o.budgetMs / 60_000).toFixed(0)} min`), o.budgetMs);
  const results: R[] = [];
  try {
    const node = lab.nodes[0];
    if (node === undefined || lab.router === undefined) throw new Error('lab without node1 or router');
    await lab.vtysh(['configure terminal', `router bgp ${ROUTER.asn}`, `neighbor ${node.ipv4} peer-group NODES`, `neighbor ${node.ipv4} passive`, `neighbor ${node.ipv4} timers ${HOLD.keepalive} ${HOLD.hold}`]);
    const frr = (await lab.vtysh('show version')).split('\n')[0]?.trim() ?? '';
    console.log(`router: ${frr}; node1 ${node.ipv4} -> router ${ROUTER.ipv4}, neighbour timers ${HOLD.keepalive} ${HOLD.hold}`);
    vty = new Vtysh(lab);
    const rv = new RouterView(vty, node.ipv4);
    for (const n of o.sizes) {
      console.log(`\n== ${n} Services`);
      const r = await o.runSize(lab, node, rv, n);
      results.push(r);
      for (const l of o.report(r)) console.log(l);
    }
  } finally {
    clearTimeout(watchdog);
    await vty?.close().catch(() => undefined);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await lab.destroy();
    await writeFile(o.json, `${JSON.stringify({ started: started.toISOString(), args: o.args, cpus: (await readFile('/proc/cpuinfo', 'utf8')).match(/^processor/gm)?.length, results }, null, 1)}\n`);
    console.log(`\nraw figures: ${o.json}`);
  }
  console.log('\n== summary');
  for (const r of results) for (const l of o.report(r)) console.log(l);
}
