#!/usr/bin/env node
// berth's command line. The sources are TypeScript. When dist/ holds them compiled (scripts/build-dist.mjs,
// run by `npm ci` / `npm install` as "prepare") and no src/ file changed since, that plain JavaScript
// runs: no tsx loader, ~30-45 MiB less RSS per process (docs/bgp-benchmark.md "Memory"). Otherwise, or
// with BERTH_FROM_SOURCE=1, the sources run through tsx, so `npx berth` works with no build step.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** dist/ was built from exactly the src/ .ts files there are now (none added, removed or newer). */
function distIsFresh() {
  try {
    const stamp = JSON.parse(readFileSync(join(root, 'dist', '.stamp'), 'utf8'));
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
    walk(join(root, 'src'));
    return files === stamp.files && newest <= stamp.newest;
  } catch {
    return false;
  }
}

let main;
if (process.env.BERTH_FROM_SOURCE !== '1' && distIsFresh()) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
