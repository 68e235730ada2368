#!/usr/bin/env node
// berth's command line. The sources are TypeScript, loaded through tsx so that `npx berth` works
// right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
