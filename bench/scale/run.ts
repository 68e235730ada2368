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
//        [--anchors gobgp,bird] [--json FILE] [--from-source] [--prefix bscl]
//   (root; FRR, bird2, gobgpd, tcpdump: scripts/install-deps.sh; `npm run build` first: the product runs
//   compiled from dist/ as bin/berth.mjs does after npm ci; --from-source runs it through tsx)
// Every run is bounded (a watchdog ends it after its budget) and removes its namespaces, processes and
// files on success, failure, SIGINT and SIGTERM (lab.destroy()).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { distIsFresh } from '../../scripts/build-dist.mjs';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import { benchTable } from '../bgp/table.ts';
import { NODE_ASN, ROOT, ROUTER, birdSender, gobgpSender, rssKiB, sleep, type Scenario } from '../common/bgp-senders.ts';
import { flagValue } from '../common/args.ts';
import { configYaml } from './manifests.ts';
import { Churn, POOLS } from './churn.ts';
import { HOLD, RssSampler, exited, mb, metricsOf, mib, quantile, runSizes, steadyState, type RouterView, type RssSample, type SteadyResult } from './steady.ts';

const ANCHORS = ['gobgp', 'bird'] as const;
type Anchor = (typeof ANCHORS)[number];
const HEALTH_PORT = 17480;

interface Args {
  readonly services: readonly number[];
  readonly minutes: number;
  readonly changeEveryMs: number;
  readonly anchors: readonly Anchor[];
  readonly json: string;
  readonly fromSource: boolean;
  readonly prefix: string;
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
    prefix: labPrefix(get('prefix') ?? 'bscl'),
  };
}

/** The lab's name prefix (namespaces, bridge, temp dir): short, so that `PREFIX-sw` and the veth
 * names derived from it stay within the kernel's 15 characters. */
function labPrefix(p: string): string {
  if (!/^[a-z][a-z0-9]{1,5}$/.test(p)) throw new Error(`--prefix: 2-6 lower-case letters or digits starting with a letter, got ${p}`);
  return p;
}

const load = (): readonly number[] => loadavg().map((x) => Math.round(x * 100) / 100);

// ------------------------------------------------------------------------------------------- router


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

/** services.yaml replaced whole (written aside, renamed over): the reader never sees half a file. */
async function writeServices(dir: string, yaml: string): Promise<void> {
  await writeFile(`${dir}/.services.yaml.tmp`, yaml);
  await rename(`${dir}/.services.yaml.tmp`, `${dir}/services.yaml`);
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
    const steady = await steadyState(lab, rv, { minutes: a.minutes, changeEveryMs: a.changeEveryMs, next: () => churn.next(), apply: () => writeServices(dir, churn.yaml()), dead: () => exited(speaker) });
    const metrics = await metricsOf(lab, node, HEALTH_PORT);
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
  console.log(`berth scale benchmark ${new Date().toISOString()}: sizes ${a.services.join(', ')}; ${a.minutes} min steady state, a change every ${a.changeEveryMs} ms; anchors ${a.anchors.join(', ') || 'none'}; product ${a.fromSource ? 'sources through tsx' : 'compiled dist/'}; budget ${(budgetMs / 60_000).toFixed(0)} min`);
  await runSizes({ prefix: a.prefix, sizes: a.services, budgetMs, json: a.json, args: a, runSize: (lab, node, rv, n) => runSize(lab, node, rv, n, a), report });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
