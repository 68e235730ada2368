#!/usr/bin/env node
// Runs every *.test.ts below the folders given (default: test/) with node's test runner through tsx.
// Usage: node scripts/run-tests.mjs [--shuffle[=SEED]] [--each] [DIR|FILE ...]
//   --shuffle[=SEED]  files in a seeded random order, and inside each file its top-level tests and the
//                     tests of each describe() (scripts/test-shuffle.mjs); the seed is printed, pass it
//                     back to repeat the order. Without SEED a random one is drawn.
//   --each            each file in its own `node --test` run, one after the other, as if run alone;
//                     prints one line per file and a summary, fails if any file failed.
import { readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { shuffled } from './test-order.mjs';

function collect(path, out) {
  const st = statSync(path);
  if (st.isFile()) {
    if (path.endsWith('.test.ts')) out.push(path);
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    collect(join(path, name), out);
  }
}

function usage(message) {
  console.error(`run-tests: ${message}\nusage: node scripts/run-tests.mjs [--shuffle[=SEED]] [--each] [DIR|FILE ...]`);
  process.exit(2);
}

let seed;
let each = false;
const roots = [];
for (const arg of process.argv.slice(2)) {
  if (arg === '--shuffle') seed = randomInt(2 ** 32);
  else if (arg.startsWith('--shuffle=')) {
    const text = arg.slice('--shuffle='.length);
    if (!/^\d+$/.test(text) || Number(text) >= 2 ** 32) usage(`--shuffle=SEED: SEED must be an integer 0..4294967295, got ${JSON.stringify(text)}`);
    seed = Number(text);
  } else if (arg === '--each') each = true;
  else if (arg.startsWith('--')) usage(`unknown option ${arg}`);
  else roots.push(arg);
}

// Paths given are relative to where this is run from; the tests run from the clone's root (some read
// examples/ or spawn bin/berth.mjs by relative path), wherever the clone is and wherever this is run from.
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
let files = [];
for (const r of roots.length > 0 ? roots : [join(repoRoot, 'test')]) collect(resolve(r), files);
files = files.map((f) => relative(repoRoot, f));
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${roots.join(' ') || 'test'}`);
  process.exit(1);
}
const preload = [];
const env = { ...process.env, BERTH_FROM_SOURCE: process.env.BERTH_FROM_SOURCE ?? '1' };
if (seed !== undefined) {
  files = shuffled(files, seed);
  preload.push('--import', fileURLToPath(new URL('test-shuffle.mjs', import.meta.url)));
  env.BERTH_TEST_SHUFFLE_SEED = String(seed);
  console.log(`run-tests: shuffled with seed ${seed} (repeat: --shuffle=${seed}); file order:\n  ${files.join('\n  ')}`);
}
const concurrency = process.env.BERTH_TEST_CONCURRENCY ?? '1';

/** One `node --test` run over `list`. Tests run the sources: a `berth` they spawn (bin/berth.mjs) skips a built dist/ too. */
function runNodeTest(list) {
  const res = spawnSync(
    process.execPath,
    ['--import', 'tsx', ...preload, '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...list],
    { stdio: 'inherit', env, cwd: repoRoot },
  );
  return res.status ?? 1;
}

if (!each) process.exit(runNodeTest(files));
const failed = [];
for (const file of files) {
  const t0 = Date.now();
  const status = runNodeTest([file]);
  console.log(`run-tests: ${status === 0 ? 'pass' : 'FAIL'} ${file} (${((Date.now() - t0) / 1000).toFixed(1)} s, alone)`);
  if (status !== 0) failed.push(file);
}
console.log(`run-tests: ${files.length - failed.length}/${files.length} files passed alone${seed === undefined ? '' : ` (seed ${seed})`}`);
for (const f of failed) console.log(`  FAIL ${f}`);
process.exit(failed.length === 0 ? 0 : 1);
