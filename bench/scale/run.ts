// Scale benchmark of the product path (issue 9 (a) and (c)): the real `berth speaker --manifests`
// process with N LoadBalancer Services in one MetalLB BGP pool, inside node1 of the netns lab (prefix
// bscl), against the lab router's FRR (static neighbour for node1, passive, `timers 3 9`), and
// `berth check` on the same manifests. For each size:
//   1. anchors: GoBGP and BIRD 2 push the same N /32s from node1 to the same router neighbour
//      (bench/common/bgp-senders.ts), open -> Established -> all N counted (`show bgp summary json`);
//   2. berth: speaker start (process spawn) -> Established -> all N counted, same polls;
//   3. steady state for --minutes, one change to services.yaml every --change-every-ms (rotating add,
//      delete, move between pools; bench/scale/churn.ts), the file replaced by a rename. Figures: session
//      resets at the router (connectionsDropped / connectionsEstablished deltas of `show bgp neighbor
//      json`), the largest gap between BGP segments from berth (tcpdump on the router's port; the
//      router's bgpTimerLastRead sampled as a second opinion), change (rename returned) -> the
//      router's RIB shows it (`show bgp ipv4 unicast P/32 json`, polled back to back), the speaker's
//      RSS (VmRSS every second, VmHWM at the end) and its own /metrics stall counters;
//   4. `berth check --manifests DIR` (its table to /dev/null): wall time and peak RSS (/usr/bin/time).
// Prints a table per size and writes every raw figure as JSON (--json FILE).
//
//   node --import tsx bench/scale/run.ts [--services 10000,100000] [--minutes 10] [--change-every-ms 1000]
//        [--anchors gobgp,bird] [--json FILE] [--from-source]
//   (root; FRR, bird2, gobgpd, tcpdump: scripts/install-deps.sh; `npm run build` first: the product runs
//   compiled from dist/ as bin/berth.mjs does after npm ci; --from-source runs it through tsx)
// Every run is bounded (a watchdog ends it after its budget) and removes its namespaces, processes and
// files on success, failure, SIGINT and SIGTERM (lab.destroy()).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { distIsFresh } from '../../scripts/build-dist.mjs';
import { createLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { benchTable } from '../bgp/table.ts';
import { NODE_ASN, ROOT, ROUTER, Vtysh, birdSender, gobgpSender, rssKiB, sleep, type Scenario, type Summary } from '../common/bgp-senders.ts';
import { flagValue } from '../common/args.ts';
import { configYaml } from './manifests.ts';
import { Churn, POOLS, type Change, type ChangeKind } from './churn.ts';
import { largestGap, pcapTimestamps } from './pcap.ts';

const ANCHORS = ['gobgp', 'bird'] as const;
type Anchor = (typeof ANCHORS)[number];
const HEALTH_PORT = 17480;
const HOLD = { keepalive: 3, hold: 9 } as const; // FRR's datacenter profile
const CONVERGE_TIMEOUT_MS = 600_000;
const DRAIN_TIMEOUT_MS = 60_000;

interface Args {
  readonly services: readonly number[];
  readonly minutes: number;
  readonly changeEveryMs: number;
  readonly anchors: readonly Anchor[];
  readonly json: string;
  readonly fromSource: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (k: string): string | undefined => flagValue(argv, k);
  const services = (get('services') ?? '10000,100000').split(',').map(Number);
  if (services.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--services: a comma-separated list of positive integers, got ${get('services') ?? ''}`);
  const anchors = (get('anchors') ?? ANCHORS.join(',')).split(',').filter((s) => s !== '');
  const bad = anchors.filter((s) => !(ANCHORS as readonly string[]).includes(s));
  if (bad.length > 0) throw new Error(`--anchors: unknown ${bad.join(', ')} (known: ${ANCHORS.join(', ')})`);
  const minutes = Number(get('minutes') ?? 10);
  const changeEveryMs = Number(get('change-every-ms') ?? 1000);
  if (!(minutes > 0) || !(changeEveryMs >= 50)) throw new Error('--minutes must be > 0 and --change-every-ms >= 50');
  return {
    services,
    minutes,
    changeEveryMs,
    anchors: anchors as Anchor[],
    json: get('json') ?? `scale-results-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    fromSource: argv.includes('--from-source'),
  };
}

const load = (): readonly number[] => loadavg().map((x) => Math.round(x * 100) / 100);

// ------------------------------------------------------------------------------------------- router

interface NeighborJson {
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
class RouterView {
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

// ------------------------------------------------------------------------------------------ anchors

interface AnchorResult {
  readonly sender: Anchor;
  readonly openToEstablishedMs: number;
  readonly establishedToAllMs: number;
  readonly rssKiB: number | undefined;
}

async function runAnchor(lab: Lab, node: LabHost, rv: RouterView, name: Anchor, count: number, fromSource: boolean): Promise<AnchorResult> {
  await rv.idle();
  const sc: Scenario = { family: 'ipv4', count, table: benchTable('ipv4', count), routerAddress: ROUTER.ipv4, nodeAddress: node.ipv4 };
  const feeder = { entry: fromSource || !distIsFresh() ? ['--import', 'tsx', 'bench/bgp/berth-node.ts'] : ['dist/bench/bgp/berth-node.js'] };
  const sender = name === 'gobgp' ? await gobgpSender(lab, node, sc, `s${count}`, feeder) : await birdSender(lab, node, sc, `s${count}`);
  try {
    await sleep(1000); // the sender quiet after loading, like bench/bgp
    const t0 = performance.now();
    await sender.open();
    const c = await rv.converge(count, name, () => undefined);
    return { sender: name, openToEstablishedMs: c.establishedAt - t0, establishedToAllMs: c.allAt - c.establishedAt, rssKiB: await rssKiB(sender.pid()) };
  } finally {
    await sender.stop();
  }
}

// ------------------------------------------------------------------------------------------ speaker

interface RssSample {
  readonly s: number;
  readonly kiB: number;
}

/** VmRSS every second from the start, and VmHWM (the kernel's peak) on demand. */
class RssSampler {
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

function startSpeaker(lab: Lab, node: LabHost, dir: string, fromSource: boolean): SpawnedProcess {
  const argv = [
    process.execPath,
    'bin/berth.mjs',
    'speaker',
    '--node',
    node.name,
    '--manifests',
    dir,
    '--health-port',
    String(HEALTH_PORT),
    '--log-level',
    'warn',
    '--graceful-restart-state',
    `${lab.workDir}/speaker-restart.json`,
  ];
  return lab.spawn(node, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(fromSource ? { BERTH_FROM_SOURCE: '1' } : {}) } });
}

const exited = (p: SpawnedProcess): string | undefined =>
  p.child.exitCode !== null || p.child.signalCode !== null ? `speaker exited (${String(p.child.exitCode ?? p.child.signalCode)}): ${p.output().stderr.slice(-2000)}` : undefined;

async function metricsOf(lab: Lab, node: LabHost): Promise<Record<string, number>> {
  const r = await lab.exec(node, ['curl', '-sS', '--max-time', '10', `http://127.0.0.1:${HEALTH_PORT}/metrics`]);
  const out: Record<string, number> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^(berth_event_loop_[a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] !== undefined) out[m[1]] = Number(m[2]);
  }
  if (Object.keys(out).length === 0) throw new Error(`speaker /metrics has no berth_event_loop_* samples: ${r.stdout.slice(0, 300)}`);
  return out;
}

/** services.yaml replaced whole (written aside, renamed over): the reader never sees half a file. */
async function writeServices(dir: string, yaml: string): Promise<void> {
  await writeFile(`${dir}/.services.yaml.tmp`, yaml);
  await rename(`${dir}/.services.yaml.tmp`, `${dir}/services.yaml`);
}

interface ChangeResult {
  readonly kind: ChangeKind;
  readonly service: number;
  /** rename returned -> the router's RIB showed the change (ms); undefined: never seen. */
  readonly ms: number | undefined;
  /** Never seen: what the router still showed wrong at the end (`+P` missing, `-P` still there). */
  readonly wrong?: readonly string[];
}

interface SteadyResult {
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

async function steadyState(lab: Lab, rv: RouterView, speaker: SpawnedProcess, churn: Churn, dir: string, a: Args): Promise<SteadyResult> {
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
      const change = churn.next();
      await writeServices(dir, churn.yaml());
      pending.push({ change, at: performance.now() });
    }
    running = false;
  })();

  const drainDeadline = (): number => (running ? Infinity : endAt + DRAIN_TIMEOUT_MS);
  while (running || (pending.length > 0 && performance.now() < drainDeadline())) {
    const dead = exited(speaker);
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

// -------------------------------------------------------------------------------------------- check

interface CheckResult {
  readonly exitCode: number | null;
  readonly wallS: number;
  readonly peakRssKiB: number;
}

/** `berth check --manifests DIR`, table to /dev/null, under /usr/bin/time (wall seconds, max RSS KiB). */
async function runCheck(dir: string, fromSource: boolean): Promise<CheckResult> {
  const child = spawn('/usr/bin/time', ['-f', 'BENCH-TIME %e %M %x', process.execPath, 'bin/berth.mjs', 'check', '--manifests', dir], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(fromSource ? { BERTH_FROM_SOURCE: '1' } : {}) },
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
  await new Promise((r) => child.once('close', r));
  clearTimeout(timer);
  const m = /BENCH-TIME (\S+) (\d+) (\d+)/.exec(err);
  if (m === null) throw new Error(`berth check: no /usr/bin/time line: ${err.slice(-1000)}`);
  return { exitCode: Number(m[3]), wallS: Number(m[1]), peakRssKiB: Number(m[2]) };
}

// --------------------------------------------------------------------------------------------- size

interface SizeResult {
  readonly services: number;
  readonly loadBefore: readonly number[];
  readonly loadAfter: readonly number[];
  readonly anchors: readonly AnchorResult[];
  readonly berth: {
    readonly startToEstablishedMs: number;
    readonly establishedToAllMs: number;
    readonly startToAllMs: number;
  };
  readonly steady: SteadyResult;
  readonly rss: { readonly samples: readonly RssSample[]; readonly peakKiB: number | undefined };
  readonly metrics: Record<string, number>;
  readonly check: CheckResult;
}

async function runSize(lab: Lab, node: LabHost, rv: RouterView, n: number, a: Args): Promise<SizeResult> {
  const loadBefore = load();
  const anchors: AnchorResult[] = [];
  for (const name of a.anchors) {
    const r = await runAnchor(lab, node, rv, name, n, a.fromSource);
    console.log(`  ${name}: open -> Established ${r.openToEstablishedMs.toFixed(0)} ms, Established -> ${n} at the router ${(r.establishedToAllMs / 1000).toFixed(3)} s`);
    anchors.push(r);
  }
  await rv.idle();
  const dir = `${lab.workDir}/manifests-${n}`;
  await mkdir(dir, { recursive: true });
  const churn = new Churn(n);
  await writeFile(`${dir}/config.yaml`, configYaml({ services: n, nodes: [node.name], peer: { address: ROUTER.ipv4, asn: ROUTER.asn }, myASN: NODE_ASN, pool: POOLS.scale, extraPools: { alt: POOLS.alt } }));
  await writeServices(dir, churn.yaml());
  const t0 = performance.now();
  const speaker = startSpeaker(lab, node, dir, a.fromSource);
  const rss = new RssSampler(speaker.pid, t0);
  try {
    const c = await rv.converge(n, 'berth speaker', () => exited(speaker));
    const berth = { startToEstablishedMs: c.establishedAt - t0, establishedToAllMs: c.allAt - c.establishedAt, startToAllMs: c.allAt - t0 };
    console.log(`  berth: start -> Established ${berth.startToEstablishedMs.toFixed(0)} ms, Established -> ${n} ${(berth.establishedToAllMs / 1000).toFixed(3)} s, start -> all ${(berth.startToAllMs / 1000).toFixed(3)} s`);
    console.log(`  steady state: ${a.minutes} min, a change every ${a.changeEveryMs} ms`);
    const steady = await steadyState(lab, rv, speaker, churn, dir, a);
    const metrics = await metricsOf(lab, node);
    const peakKiB = await rss.peakKiB();
    rss.stop();
    await speaker.kill(10_000);
    const check = await runCheck(dir, a.fromSource);
    return { services: n, loadBefore, loadAfter: load(), anchors, berth, steady, rss: { samples: rss.samples, peakKiB }, metrics, check };
  } finally {
    rss.stop();
    await speaker.kill(10_000);
    // The speaker's own log (warn and above; its last 256 KiB), kept beside the figures.
    await writeFile(`${a.json}.speaker-${n}.log`, speaker.output().stderr).catch(() => undefined);
  }
}

// ------------------------------------------------------------------------------------------- report

const quantile = (xs: readonly number[], q: number): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? NaN : (s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN);
};
const mib = (kiB: number | undefined): string => (kiB === undefined ? '?' : (kiB / 1024).toFixed(1));
const mb = (kiB: number | undefined): number => ((kiB ?? Infinity) * 1024) / 1e6;

function report(r: SizeResult): string[] {
  const lines: string[] = [];
  const row = (k: string, v: string): number => lines.push(`  ${k.padEnd(44)} ${v}`);
  lines.push(`${r.services} Services (load average before ${r.loadBefore.join(' ')}, after ${r.loadAfter.join(' ')})`);
  for (const x of r.anchors) row(`${x.sender}: Established -> all at FRR`, `${(x.establishedToAllMs / 1000).toFixed(3)} s (open -> Established ${x.openToEstablishedMs.toFixed(0)} ms, RSS ${mib(x.rssKiB)} MiB)`);
  row('berth: Established -> all at FRR', `${(r.berth.establishedToAllMs / 1000).toFixed(3)} s`);
  row('berth: process start -> all at FRR', `${(r.berth.startToAllMs / 1000).toFixed(3)} s (start -> Established ${r.berth.startToEstablishedMs.toFixed(0)} ms)`);
  const s = r.steady;
  const seen = s.changes.filter((c) => c.ms !== undefined).map((c) => c.ms ?? NaN);
  row('steady state', `${s.seconds.toFixed(0)} s, ${s.changes.length} changes, ${s.unseen} never seen at the router`);
  const unseen = s.changes.filter((c) => c.ms === undefined);
  if (unseen.length > 0) {
    const first = unseen.slice(0, 3).map((c) => `${c.kind} ${c.service}: ${(c.wrong ?? []).join(' ')}`);
    row('  never seen (first 3; +P missing, -P still there)', first.join('; '));
  }
  row('session resets (connectionsDropped delta)', `${s.resets.connectionsDroppedDelta} (established delta ${s.resets.connectionsEstablishedDelta}, state ${s.resets.finalState})`);
  row('largest gap between BGP segments (capture)', `${s.capture.largestGapS.toFixed(3)} s at +${s.capture.atS.toFixed(1)} s (${s.capture.segments} segments; hold ${(s.negotiated.holdMs ?? NaN) / 1000} s, keepalive ${(s.negotiated.keepaliveMs ?? NaN) / 1000} s)`);
  row('largest bgpTimerLastRead at FRR (500 ms polls)', `${(s.routerLastReadMaxMs / 1000).toFixed(3)} s (${s.keepalivesRecvDelta} keepalives received)`);
  row('change -> router RIB p50 / p99 / max', `${quantile(seen, 0.5).toFixed(0)} / ${quantile(seen, 0.99).toFixed(0)} / ${Math.max(...seen).toFixed(0)} ms`);
  for (const k of ['add', 'delete', 'move'] as const) {
    const xs = s.changes.filter((c) => c.kind === k && c.ms !== undefined).map((c) => c.ms ?? NaN);
    row(`  ${k} (${xs.length})`, `p50 ${quantile(xs, 0.5).toFixed(0)} ms, p99 ${quantile(xs, 0.99).toFixed(0)} ms`);
  }
  const kib = r.rss.samples.map((x) => x.kiB);
  row('speaker RSS MiB min / max / last, peak (VmHWM)', `${mib(Math.min(...kib))} / ${mib(Math.max(...kib))} / ${mib(kib.at(-1))}, ${mib(r.rss.peakKiB)}`);
  const m = r.metrics;
  row('speaker /metrics stalls (>100 ms), lost', `${m['berth_event_loop_stalls_total'] ?? '?'}, ${(m['berth_event_loop_stall_seconds_total'] ?? NaN).toFixed(3)} s`);
  row('speaker loop delay p50 / p99 / max', ['0.5', '0.99', '1'].map((q) => `${((m[`berth_event_loop_delay_seconds{quantile="${q}"}`] ?? NaN) * 1000).toFixed(0)} ms`).join(' / '));
  row('berth check: wall, peak RSS, exit', `${r.check.wallS.toFixed(2)} s, ${mib(r.check.peakRssKiB)} MiB, ${String(r.check.exitCode)}`);
  const targets = [
    ['zero session resets', s.resets.connectionsDroppedDelta === 0 && s.resets.connectionsEstablishedDelta === 0 && s.resets.finalState === 'Established'],
    ['largest gap < hold time 9 s', s.capture.largestGapS < HOLD.hold],
    ...(r.services >= 100_000
      ? [
          ['speaker RSS < 300 MB (VmHWM)', mb(r.rss.peakKiB) < 300],
          ['berth check < 3 s', r.check.wallS < 3],
          ['berth check < 500 MB', mb(r.check.peakRssKiB) < 500],
        ]
      : []),
  ] as const;
  lines.push(`  targets: ${targets.map(([k, ok]) => `${k}: ${ok ? 'met' : 'MISSED'}`).join('; ')}`);
  return lines;
}

// --------------------------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!a.fromSource && !distIsFresh()) throw new Error('dist/ is missing or older than src/: run `npm run build` first (or pass --from-source to run the sources through tsx)');
  const budgetMs = a.services.length * (a.minutes * 60_000 + 20 * 60_000);
  const started = new Date();
  console.log(`berth scale benchmark ${started.toISOString()}: sizes ${a.services.join(', ')}; ${a.minutes} min steady state, a change every ${a.changeEveryMs} ms; anchors ${a.anchors.join(', ') || 'none'}; product ${a.fromSource ? 'sources through tsx' : 'compiled dist/'}; budget ${(budgetMs / 60_000).toFixed(0)} min`);
  const lab = await createLab({ prefix: 'bscl', nodes: 1, router: { asn: ROUTER.asn, nodeAsn: NODE_ASN } });
  let vty: Vtysh | undefined;
  const abort = (why: string): void => {
    console.error(`aborting: ${why}`);
    void vty?.close().catch(() => undefined);
    void lab.destroy().finally(() => process.exit(130));
  };
  const onSignal = (sig: NodeJS.Signals): void => abort(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const watchdog = setTimeout(() => abort(`over the budget of ${(budgetMs / 60_000).toFixed(0)} min`), budgetMs);
  const results: SizeResult[] = [];
  try {
    const node = lab.nodes[0];
    const router = lab.router;
    if (node === undefined || router === undefined) throw new Error('lab without node1 or router');
    // A static neighbour (its counters survive a reset, unlike a dynamic one), passive (the router
    // never dials node1), FRR's datacenter timers written out.
    await lab.vtysh(['configure terminal', `router bgp ${ROUTER.asn}`, `neighbor ${node.ipv4} peer-group NODES`, `neighbor ${node.ipv4} passive`, `neighbor ${node.ipv4} timers ${HOLD.keepalive} ${HOLD.hold}`]);
    const frr = (await lab.vtysh('show version')).split('\n')[0]?.trim() ?? '';
    console.log(`router: ${frr}; node1 ${node.ipv4} -> router ${ROUTER.ipv4}, neighbour timers ${HOLD.keepalive} ${HOLD.hold}`);
    vty = new Vtysh(lab);
    const rv = new RouterView(vty, node.ipv4);
    for (const n of a.services) {
      console.log(`\n== ${n} Services`);
      const r = await runSize(lab, node, rv, n, a);
      results.push(r);
      for (const l of report(r)) console.log(l);
    }
  } finally {
    clearTimeout(watchdog);
    await vty?.close().catch(() => undefined);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await lab.destroy();
    await writeFile(a.json, `${JSON.stringify({ started: started.toISOString(), args: a, cpus: (await readFile('/proc/cpuinfo', 'utf8')).match(/^processor/gm)?.length, results }, null, 1)}\n`);
    console.log(`\nraw figures: ${a.json}`);
  }
  console.log('\n== summary');
  for (const r of results) for (const l of report(r)) console.log(l);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
