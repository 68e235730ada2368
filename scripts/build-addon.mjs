#!/usr/bin/env node
// Builds the berth_sys N-API addon (src/sys/native, binding.gyp) with node-gyp. Run by `npm ci` /
// `npm install` as the package's "install" script, and by hand: `node scripts/build-addon.mjs`.
// Never downloads anything when the node headers are installed: beside node (<prefix>/include/node) or
// system-wide (Debian's nodejs package puts them in /usr/include/node), node-gyp is told so with --nodedir. N-API is ABI
// stable, so those headers serve any node >= 20.
import { existsSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function onPath(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, cmd))) return true;
  }
  return false;
}

const tools = [
  ['make', 'make'],
  ['g++', 'g++'],
  ['python3', 'python3'],
];
const missing = tools.filter(([cmd]) => !onPath(cmd)).map(([, pkg]) => pkg);
if (missing.length > 0) {
  console.error(
    `berth: cannot build the native addon (src/sys): missing build tools: ${missing.join(', ')}.\n` +
      `  Debian/Ubuntu: apt-get install ${missing.join(' ')}   (or run ./scripts/install-deps.sh as root)`,
  );
  process.exit(1);
}

// node-gyp: the one npm passes to lifecycle scripts, else a local install, else npm's bundled copy.
function findNodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const require = createRequire(import.meta.url);
  try {
    return require.resolve('node-gyp/bin/node-gyp.js');
  } catch {
    // not installed locally
  }
  const candidates = [];
  if (process.env.npm_execpath) candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push('/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
  candidates.push('/usr/share/nodejs/node-gyp/bin/node-gyp.js');
  return candidates.find((c) => existsSync(c));
}

const nodeGyp = findNodeGyp();
if (nodeGyp === undefined) {
  console.error('berth: cannot build the native addon (src/sys): node-gyp not found (it ships with npm).');
  process.exit(1);
}

const args = [nodeGyp, 'rebuild', '--loglevel=warn'];
// Headers beside the running node (official tarballs and the node:20 images: <prefix>/include/node), else
// Debian's system-wide ones.
const prefix = resolve(dirname(process.execPath), '..');
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
else if (existsSync('/usr/include/node/node_api.h')) args.push('--nodedir=/usr');
const res = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
if (res.status !== 0) {
  console.error('berth: building the native addon (src/sys) failed; see the compiler output above.');
  process.exit(res.status ?? 1);
}
