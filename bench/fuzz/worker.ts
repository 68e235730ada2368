// One fuzzing thread of bench/fuzz/run.ts: runs the targets it is sent, one at a time, with coverage
// (it is started with --import test/fuzz/coverage.mjs). Before each input it copies the input into the
// shared buffer and bumps the shared input count, so the main thread can name the input of a hang.
import { parentPort, workerData } from 'node:worker_threads';
import { fuzz, type FuzzStats } from '../../test/fuzz/engine.ts';
import { committedCorpus, targetNamed } from '../../test/fuzz/targets.ts';

export interface WorkerJob {
  readonly target: string;
  readonly inputs: number;
  readonly seed: number;
  readonly save: number;
}

const shared = workerData as { readonly state: SharedArrayBuffer; readonly input: SharedArrayBuffer };
const state = new Int32Array(shared.state); // [0] inputs started, [1] length of the input in `input`
const input = new Uint8Array(shared.input);

// A process warning is output that bypasses berth's logger (e.g. a YAML library warning on stderr):
// a finding, filed against the input that ran last before it was emitted.
let warnings: { error: string; input: string }[] = [];
let lastInput: Buffer = Buffer.alloc(0);
process.on('warning', (w) => warnings.push({ error: `process warning: ${w.name}: ${w.message}`, input: lastInput.toString('hex') }));

parentPort?.on('message', (job: WorkerJob) => {
  const target = targetNamed(job.target);
  const corpus = committedCorpus(job.target);
  warnings = [];
  const stats = fuzz(target, {
    inputs: job.inputs,
    seed: job.seed,
    corpus,
    progressEvery: 100_000,
    onProgress: (done) => parentPort?.postMessage({ progress: done, target: job.target }),
    onInput: (b) => {
      const n = Math.min(b.length, input.length);
      input.set(b.subarray(0, n));
      Atomics.store(state, 1, n);
      Atomics.add(state, 0, 1);
      lastInput = b;
    },
  });
  // Warnings are emitted on the next tick: let them arrive before reporting.
  setImmediate(() => report(job, stats));
});

function report(job: WorkerJob, stats: FuzzStats): void {
  const findings = [...stats.findings.map((f) => ({ error: f.error, input: f.input.toString('hex') })), ...warnings.slice(0, 5)];
  parentPort?.postMessage({ ...stats, findings, fresh: stats.fresh.slice(0, job.save).map((b) => b.toString('hex')) });
}
