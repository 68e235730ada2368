// Coverage-guided fuzzing of every parser berth runs on input it does not control (test/fuzz/targets.ts).
// Each target runs for --inputs mutated inputs after its committed corpus, in worker threads (one per
// core by default) whose src/ is compiled with edge counters (test/fuzz/coverage.mjs). A worker that
// starts no new input for --hang-seconds is a hang: the input it was on is the finding.
//
//   node --import tsx bench/fuzz/run.ts [--inputs 1000000] [--targets a,b] [--workers 2] [--seed N]
//        [--save N] [--hang-seconds 10] [--findings DIR]
//
// Prints per target: inputs, seconds, inputs/s, edges reached (of the counters in the loaded src/
// modules), coverage features, corpus size and findings; each finding's input goes to --findings.
// --save N adds the N smallest new-coverage inputs of each target to test/fuzz/corpus/<target>/.
import { Worker } from 'node:worker_threads';
import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { TARGETS } from '../../test/fuzz/targets.ts';
import { saveToCorpus } from '../../test/fuzz/make-corpus.ts';
import type { WorkerJob } from './worker.ts';

interface Result {
  readonly target: string;
  readonly inputs: number;
  readonly seconds: number;
  readonly corpus: number;
  readonly edges: number;
  readonly features: number;
  readonly instrumentedEdges: number;
  readonly findings: readonly { readonly input: string; readonly error: string }[];
  readonly fresh: readonly string[];
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] as string) : fallback;
}
const inputs = Number(arg('inputs', '1000000'));
const workers = Number(arg('workers', '2'));
const seed = Number(arg('seed', String(Date.now() % 2 ** 31)));
const save = Number(arg('save', '0'));
const hangSeconds = Number(arg('hang-seconds', '10'));
const names = arg('targets', TARGETS.map((t) => t.name).join(',')).split(',');
const findingsDir = arg('findings', '');
for (const n of names) if (!TARGETS.some((t) => t.name === n)) throw new Error(`no fuzz target "${n}"; targets: ${TARGETS.map((t) => t.name).join(', ')}`);

const execArgv: string[] = [];
// Node 20 does not give worker threads the parent's loader hooks: the thread registers tsx, then the
// coverage hooks (which run first, so src/ loads instrumented), then loads the worker module.
const WORKER_BOOT = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
  .then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('../../test/fuzz/coverage.mjs', import.meta.url).href)}); })
  .then(() => import(${JSON.stringify(new URL('./worker.ts', import.meta.url).href)}));`;
const queue = [...names];
const results: Result[] = [];
const hangs: { target: string; input: Buffer }[] = [];
console.log(`fuzz: ${names.length} targets x ${inputs.toLocaleString('en-US')} inputs, ${workers} workers, seed ${seed}`);
const started = Date.now();

function runWorker(): Promise<void> {
  return new Promise((done) => {
    const state = new SharedArrayBuffer(8);
    const inputBuf = new SharedArrayBuffer(70_000);
    const counts = new Int32Array(state);
    let w = new Worker(WORKER_BOOT, { eval: true, execArgv, workerData: { state, input: inputBuf } });
    let current: string | undefined;
    let last = -1;
    let jobStart = 0;
    let still = 0;
    const next = (): void => {
      current = queue.shift();
      if (current === undefined) {
        clearInterval(watch);
        void w.terminate().then(() => done());
        return;
      }
      const job: WorkerJob = { target: current, inputs, seed: seed + names.indexOf(current), save };
      last = Atomics.load(counts, 0);
      jobStart = last;
      still = 0;
      w.postMessage(job);
    };
    const attach = (): void => {
      w.on('message', (r: Result | { readonly progress: number; readonly target: string }) => {
        if ('progress' in r) {
          console.log(`  ${r.target}: ${r.progress.toLocaleString('en-US')} inputs so far`);
          return;
        }
        results.push(r);
        const rate = Math.round(r.inputs / r.seconds);
        console.log(`  ${r.target}: ${r.inputs.toLocaleString('en-US')} inputs in ${r.seconds.toFixed(1)} s (${rate.toLocaleString('en-US')}/s), ${r.findings.length} findings`);
        next();
      });
      w.on('error', (e) => {
        console.log(`  ${current ?? '?'}: worker failed: ${String(e)}`);
        results.push({ target: current ?? '?', inputs: 0, seconds: 0, corpus: 0, edges: 0, features: 0, instrumentedEdges: 0, findings: [{ input: '', error: `worker failed: ${String(e)}` }], fresh: [] });
        w = new Worker(WORKER_BOOT, { eval: true, execArgv, workerData: { state, input: inputBuf } });
        attach();
        next();
      });
    };
    const watch = setInterval(() => {
      if (current === undefined) return;
      const now = Atomics.load(counts, 0);
      if (now !== last) {
        last = now;
        still = 0;
        return;
      }
      // Before its first input the thread may still be loading (compiling src/ with counters).
      if (++still < (now === jobStart ? Math.max(hangSeconds, 120) : hangSeconds)) return;
      const n = Atomics.load(counts, 1);
      const input = Buffer.from(new Uint8Array(inputBuf).subarray(0, n));
      hangs.push({ target: current, input });
      console.log(`  ${current}: HANG (no new input for ${hangSeconds} s) on ${n} octets`);
      results.push({ target: current, inputs: now, seconds: 0, corpus: 0, edges: 0, features: 0, instrumentedEdges: 0, findings: [{ input: input.toString('hex'), error: 'hang' }], fresh: [] });
      void w.terminate();
      w = new Worker(WORKER_BOOT, { eval: true, execArgv, workerData: { state, input: inputBuf } });
      attach();
      next();
    }, 1000);
    attach();
    next();
  });
}

await Promise.all(Array.from({ length: Math.min(workers, names.length) }, () => runWorker()));

const rows = names.map((n) => results.find((r) => r.target === n)).filter((r): r is Result => r !== undefined);
const table = [
  ['TARGET', 'INPUTS', 'SECONDS', 'INPUTS/S', 'EDGES', 'OF', 'FEATURES', 'CORPUS', 'FINDINGS'],
  ...rows.map((r) => [r.target, r.inputs.toLocaleString('en-US'), r.seconds.toFixed(1), r.seconds > 0 ? Math.round(r.inputs / r.seconds).toLocaleString('en-US') : '-', String(r.edges), String(r.instrumentedEdges), String(r.features), String(r.corpus), String(r.findings.length)]),
];
const widths = table[0]?.map((_, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
console.log('');
for (const row of table) console.log(row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  '));
const total = rows.reduce((s, r) => s + r.findings.length, 0);
console.log(`\n${rows.reduce((s, r) => s + r.inputs, 0).toLocaleString('en-US')} inputs in ${((Date.now() - started) / 1000).toFixed(0)} s wall, ${total} findings`);

if (total > 0) {
  const dir = findingsDir !== '' ? findingsDir : mkdtempSync(join(tmpdir(), 'bfz-findings-'));
  mkdirSync(dir, { recursive: true });
  for (const r of rows) {
    for (const f of r.findings) {
      const input = Buffer.from(f.input, 'hex');
      const file = join(dir, `${r.target}-${createHash('sha1').update(input).digest('hex').slice(0, 12)}`);
      writeFileSync(file, input);
      console.log(`\n${r.target}: ${file} (${input.length} octets)\n  ${f.error.split('\n').join('\n  ')}`);
    }
  }
}
if (save > 0) {
  for (const r of rows) if (r.fresh.length > 0) console.log(`saved ${saveToCorpus(r.target, r.fresh.map((h) => Buffer.from(h, 'hex')))} inputs to the ${r.target} corpus`);
}
process.exitCode = total > 0 ? 1 : 0;
