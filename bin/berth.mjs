#!/usr/bin/env node
// berth's command line. The sources are TypeScript. When dist/ holds them compiled (scripts/build-dist.mjs,
// run by `npm ci` / `npm install` as "prepare") and no src/ file changed since, that plain JavaScript
// runs: no tsx loader, ~30-45 MiB less RSS per process (docs/bgp-benchmark.md "Memory"). Otherwise, or
// with BERTH_FROM_SOURCE=1, the sources run through tsx, so `npx berth` works with no build step.
// A tree without src/ (the container image: compiled dist/ and production dependencies only, no tsx)
// runs dist/ as it is.
import { existsSync } from 'node:fs';

const root = new URL('../', import.meta.url);
let main;
if (!existsSync(new URL('src/', root)) && existsSync(new URL('dist/src/cli/main.js', root))) {
  ({ main } = await import('../dist/src/cli/main.js'));
} else {
  const { distIsFresh } = await import('../scripts/build-dist.mjs');
  if (process.env.BERTH_FROM_SOURCE !== '1' && distIsFresh()) {
    ({ main } = await import('../dist/src/cli/main.js'));
  } else {
    const { register } = await import('tsx/esm/api');
    register();
    ({ main } = await import('../src/cli/main.ts'));
  }
}
process.exitCode = await main(process.argv.slice(2));
