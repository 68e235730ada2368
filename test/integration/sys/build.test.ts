// The addon's build script (the package's install step) fails clearly when build tools are missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';

const script = fileURLToPath(new URL('../../../scripts/build-addon.mjs', import.meta.url));

test('build-addon names the missing tools and the Debian packages, and exits non-zero', () => {
  const r = spawnSync(process.execPath, [script], { env: { PATH: '/nonexistent' }, encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /missing build tools: make, g\+\+, python3/);
  assert.match(r.stderr, /apt-get install make g\+\+ python3/);
});

test('the package builds the addon on install', () => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts['install'], 'node scripts/build-addon.mjs');
});
