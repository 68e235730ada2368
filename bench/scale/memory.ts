// Memory of the product path at scale (issue 9, "memory proportional to the data"), without a router:
// the real `berth speaker --manifests DIR` with N LoadBalancer Services in one BGP pool, alone in a
// network namespace (`bm2-n1`, loopback only: its BGPPeer is unreachable, so no session and no
// Adj-RIB-Out, only the reader, planner thread, engines and health server), then one change every
// --change-every-ms for --seconds (the churn of bench/scale/churn.ts: add, delete, move between pools,
// services.yaml replaced by a rename), then --rest-seconds with nothing changing. Then
// `berth check --manifests DIR` under /usr/bin/time -v.
// Prints and (--json FILE) writes: the speaker's VmRSS every second (min / max / at rest), its VmHWM
// (the kernel's peak), the time from spawn to /readyz (first plan applied), and check's wall time and
// maximum resident set size.
//
//   npm run build     # the product runs compiled from dist/, as bin/berth.mjs runs it after npm ci
//   sudo node --import tsx bench/scale/memory.ts [--services 100000] [--seconds 40] [--change-every-ms 1000]
//        [--rest-seconds 10] [--json FILE] [--from-source] [--no-check]
//
// Root (ip netns). Removes its namespace, temporary folder and processes on success, failure, SIGINT
// and SIGTERM. The speaker is killed by its PID.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { distIsFresh } from '../../scripts/build-dist.mjs';
import { ROOT, rssKiB, sleep } from '../common/bgp-senders.ts';
import { flagValue } from '../common/args.ts';
import { configYaml } from './manifests.ts';
import { Churn, POOLS } from './churn.ts';

const NETNS = 'bm2-n1';
const HEALTH_PORT = 17480;
const READY_TIMEOUT_MS = 300_000;

interface Args {
  readonly services: number;
  readonly seconds: number;
  readonly changeEveryMs: number;
  readonly restSeconds: number;
  readonly json: string | undefined;
  readonly fromSource: boolean;
  readonly check: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const num = (k: string, d: number): number => {
    const v = Number(flagValue(argv, k) ?? d);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${k}: a non-negative number, got ${flagValue(argv, k) ?? ''}`);
    return v;
  };
  return {
    services: num('services', 100_000),
    seconds: num('seconds', 40),
    changeEveryMs: num('change-every-ms', 1000),
    restSeconds: num('rest-seconds', 10),
    json: flagValue(argv, 'json'),
    fromSource: argv.includes('--from-source'),
    check: !argv.includes('--no-check'),
  };
}

const mib = (kib: number | undefined): string => (kib === undefined ? '?' : `${(kib / 1024).toFixed(0)} MiB`);

function netns(...args: string[]): void {
  const r = spawnSync('ip', ['netns', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip netns ${args.join(' ')}: ${r.stderr.trim()}`);
}

function removeNetns(): void {
  spawnSync('ip', ['netns', 'del', NETNS], { stdio: 'ignore' });
}

async function writeServices(dir: string, yaml: string): Promise<void> {
  await writeFile(join(dir, '.services.yaml.tmp'), yaml);
  await rename(join(dir, '.services.yaml.tmp'), join(dir, 'services.yaml'));
}

async function readyz(): Promise<boolean> {
  const r = spawnSync('ip', ['netns', 'exec', NETNS, 'curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '2', `http://127.0.0.1:${HEALTH_PORT}/readyz`], { encoding: 'utf8' });
  return r.stdout.trim() === '200';
}

async function peakKiB(pid: number): Promise<number | undefined> {
  const m = /VmHWM:\s*(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  return m === null ? undefined : Number(m[1]);
}

interface CheckFigures {
  readonly exitCode: number;
  readonly wallS: number;
  readonly maxRssKiB: number;
}

function runCheck(dir: string, fromSource: boolean): CheckFigures {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, 'bin/berth.mjs', 'check', '--manifests', dir], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...(fromSource ? { BERTH_FROM_SOURCE: '1' } : {}) },
    timeout: 300_000,
  });
  const field = (name: string): string | undefined => new RegExp(`${name}: (.+)`).exec(r.stderr)?.[1]?.trim();
  const wall = field('Elapsed \\(wall clock\\) time \\(h:mm:ss or m:ss\\)');
  const rss = field('Maximum resident set size \\(kbytes\\)');
  if (wall === undefined || rss === undefined) throw new Error(`berth check: no /usr/bin/time -v figures: ${r.stderr.slice(-1000)}`);
  const wallS = wall.split(':').reduce((acc, part) => acc * 60 + Number(part), 0);
  return { exitCode: r.status ?? -1, wallS, maxRssKiB: Number(rss) };
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  if (!a.fromSource && !distIsFresh()) throw new Error('dist/ is missing or older than src/: run `npm run build` (or pass --from-source)');
  const work = await mkdtemp(join(tmpdir(), 'bm2-scale-'));
  const dir = join(work, 'manifests');
  await mkdir(dir);
  let child: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child?.once('exit', r)), sleep(10_000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    removeNetns();
    await rm(work, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    removeNetns();
    netns('add', NETNS);
    netns('exec', NETNS, 'ip', 'link', 'set', 'lo', 'up');
    const churn = new Churn(a.services);
    await writeFile(join(dir, 'config.yaml'), configYaml({ services: a.services, nodes: ['node1'], peer: { address: '192.0.2.1', asn: 64512 }, myASN: 64513, pool: POOLS.scale, extraPools: { alt: POOLS.alt } }));
    await writeServices(dir, churn.yaml());
    console.log(`memory: ${a.services} Services, ${a.seconds} s of one change every ${a.changeEveryMs} ms, ${a.restSeconds} s at rest; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);

    const t0 = performance.now();
    child = spawn('ip', ['netns', 'exec', NETNS, process.execPath, 'bin/berth.mjs', 'speaker', '--node', 'node1', '--manifests', dir, '--health-port', String(HEALTH_PORT), '--log-level', 'warn', '--graceful-restart-state', join(work, 'restart.json')], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...(a.fromSource ? { BERTH_FROM_SOURCE: '1' } : {}) },
    });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-64_000);
    });
    // `ip netns exec` execs node: the child's PID is the speaker's.
    const pid = child.pid;
    if (pid === undefined) throw new Error('the speaker did not start');
    const samples: { s: number; kiB: number; phase: string }[] = [];
    let phase = 'start';
    const sampler = setInterval(() => {
      void rssKiB(pid).then((kiB) => {
        if (kiB !== undefined) samples.push({ s: (performance.now() - t0) / 1000, kiB, phase });
      });
    }, 1000);
    try {
      const dead = (): boolean => child?.exitCode !== null || child.signalCode !== null;
      while (!(await readyz())) {
        if (dead()) throw new Error(`the speaker exited: ${stderr.slice(-2000)}`);
        if (performance.now() - t0 > READY_TIMEOUT_MS) throw new Error('the speaker was not ready in 300 s');
        await sleep(200);
      }
      const readyS = (performance.now() - t0) / 1000;
      console.log(`  spawn -> ready (first plan applied): ${readyS.toFixed(2)} s, RSS ${mib(await rssKiB(pid))}`);
      phase = 'churn';
      const churnEnd = performance.now() + a.seconds * 1000;
      let changes = 0;
      while (performance.now() < churnEnd) {
        const next = performance.now() + a.changeEveryMs;
        churn.next();
        await writeServices(dir, churn.yaml());
        changes++;
        if (dead()) throw new Error(`the speaker exited: ${stderr.slice(-2000)}`);
        await sleep(Math.max(0, next - performance.now()));
      }
      phase = 'rest';
      await sleep(a.restSeconds * 1000);
      if (dead()) throw new Error(`the speaker exited: ${stderr.slice(-2000)}`);
      const peak = await peakKiB(pid);
      clearInterval(sampler);
      const of = (p: string): number[] => samples.filter((x) => x.phase === p).map((x) => x.kiB);
      const churnKiB = of('churn');
      const restKiB = of('rest');
      console.log(`  ${changes} changes; RSS during churn min / max ${mib(Math.min(...churnKiB))} / ${mib(Math.max(...churnKiB))}; at rest (last) ${mib(restKiB.at(-1))}; peak (VmHWM) ${mib(peak)}`);
      console.log(`  RSS every 5 s (MiB): ${samples.filter((_, i) => i % 5 === 0).map((x) => (x.kiB / 1024).toFixed(0)).join(', ')}`);
      if (stderr.trim() !== '') console.log(`  speaker log (warn and above), last lines:\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
      child.kill('SIGTERM');
      await Promise.race([new Promise((r) => child?.once('exit', r)), sleep(10_000)]);
      const check = a.check ? runCheck(dir, a.fromSource) : undefined;
      if (check !== undefined) console.log(`  berth check: ${check.wallS.toFixed(2)} s wall, max RSS ${mib(check.maxRssKiB)}, exit ${check.exitCode}`);
      console.log(`  load after: ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
      if (a.json !== undefined) {
        await writeFile(a.json, `${JSON.stringify({ args: a, readyS, changes, peakKiB: peak, samples, check, load: loadavg() }, null, 1)}\n`);
      }
    } finally {
      clearInterval(sampler);
    }
  } finally {
    await cleanup();
  }
}

await main();
