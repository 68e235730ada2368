#!/usr/bin/env node
// Compiles src/ to dist/ (plain JavaScript) with tsc, so that `berth` (bin/berth.mjs) runs without the
// tsx loader: tsx costs ~30-45 MiB of RSS per process (its loader thread and esbuild;
// docs/bgp-benchmark.md "Memory"). Run by `npm ci` / `npm install` as the "prepare" script, and by hand.
// Never fails the install: without TypeScript (npm ci --omit=dev) or on a compile error it says so and
// leaves no dist/, and bin/berth.mjs runs the sources through tsx as before. Tests always run the
// sources. dist/.stamp records the sources it was built from; bin/berth.mjs uses dist/ only while
// every src/ file is as old as then (same files, none newer), so an edited tree never runs stale code.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/** Newest mtime and number of the .ts files under src/ (what dist/.stamp records). */
export function sourceStamp(dir = join(root, 'src')) {
  let newest = 0;
  let files = 0;
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) {
        files += 1;
        newest = Math.max(newest, statSync(p).mtimeMs);
      }
    }
  };
  walk(dir);
  return { newest, files };
}

/** dist/ was built from exactly the src/ .ts files there are now (none added, removed or newer). */
export function distIsFresh() {
  try {
    const stamp = JSON.parse(readFileSync(join(dist, '.stamp'), 'utf8'));
    const now = sourceStamp();
    return now.files === stamp.files && now.newest <= stamp.newest;
  } catch {
    return false;
  }
}

function main() {
  let tsc;
  try {
    tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
  } catch {
    console.error('berth: TypeScript is not installed (dev dependencies omitted): no dist/, `berth` runs the sources through tsx.');
    return;
  }
  rmSync(dist, { recursive: true, force: true });
  const before = sourceStamp();
  const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.dist.json')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0 || !existsSync(join(dist, 'src', 'cli', 'main.js'))) {
    rmSync(dist, { recursive: true, force: true });
    console.error('berth: compiling src/ to dist/ failed: `berth` runs the sources through tsx.');
    return;
  }
  // src/sys/native.ts loads ../../build/Release/berth_sys.node relative to itself.
  mkdirSync(dist, { recursive: true });
  symlinkSync('../build', join(dist, 'build'));
  writeFileSync(join(dist, '.stamp'), `${JSON.stringify(before)}\n`);
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
