#!/usr/bin/env node
// Runs every *.test.ts below the folders given (default: test/) with node's test runner through tsx.
// Usage: node scripts/run-tests.mjs [DIR|FILE ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

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

const roots = process.argv.slice(2);
const files = [];
for (const r of roots.length > 0 ? roots : ['test']) collect(r, files);
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts files under ${roots.join(' ') || 'test'}`);
  process.exit(1);
}
const concurrency = process.env.BERTH_TEST_CONCURRENCY ?? '1';
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files],
  // Tests run the sources: a `berth` they spawn (bin/berth.mjs) skips a built dist/ too.
  { stdio: 'inherit', env: { ...process.env, BERTH_FROM_SOURCE: process.env.BERTH_FROM_SOURCE ?? '1' } },
);
process.exit(res.status ?? 1);
