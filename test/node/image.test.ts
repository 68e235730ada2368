// The container image as built by `npm run image` (here daemonless with buildah on the local base): what it
// contains and what it does not. The real-node tests (deploy.test.ts, helm.test.ts) run it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildBerthImage } from './harness/images.ts';
import { requireCommands, run, runOk } from './harness/host.ts';

const ref = 'localhost/berth:image-test';
const chroot = existsSync('/usr/sbin/chroot') ? '/usr/sbin/chroot' : 'chroot';
let dir = '';
let ctr = '';
let root = '';
let inspect: { OCIv1: { config: { User?: string; Entrypoint?: string[]; Labels?: Record<string, string> } }; Manifest: string } | undefined;

function walk(d: string, out: string[] = []): string[] {
  for (const e of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

describe('the berth image', { timeout: 1_800_000 }, () => {
  before(() => {
    if (process.getuid?.() !== 0) throw new Error('the image test must run as root (buildah storage)');
    requireCommands([['buildah', 'buildah']]);
    dir = mkdtempSync(join(tmpdir(), 'berth-image-test-'));
    buildBerthImage(dir, ref);
    inspect = JSON.parse(runOk('buildah', ['inspect', '--type', 'image', ref])) as typeof inspect;
    ctr = runOk('buildah', ['from', ref]).trim();
    root = runOk('buildah', ['mount', ctr]).trim();
  });

  after(() => {
    if (ctr !== '') {
      run('buildah', ['umount', ctr]);
      run('buildah', ['rm', ctr]);
    }
    run('buildah', ['rmi', ref]);
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  test('runs `berth` as UID 65532 by default, with version labels and OCI annotations', () => {
    const config = inspect?.OCIv1.config;
    assert.equal(config?.User, '65532:65532');
    assert.deepEqual(config?.Entrypoint, ['/usr/local/bin/berth']);
    const version = (JSON.parse(readFileSync(join(root, 'app/package.json'), 'utf8')) as { version: string }).version;
    assert.equal(config?.Labels?.['org.opencontainers.image.version'], version);
    assert.equal(config?.Labels?.['io.berth.version'], version);
    const annotations = (JSON.parse(inspect?.Manifest ?? '{}') as { annotations?: Record<string, string> }).annotations ?? {};
    for (const k of ['title', 'version', 'revision', 'created', 'source', 'licenses']) assert.ok(annotations[`org.opencontainers.image.${k}`], k);
    assert.equal(annotations['org.opencontainers.image.version'], version);
  });

  test('holds compiled dist/ and production dependencies only: no TypeScript, no tsx, no shell, no file capabilities', () => {
    assert.ok(existsSync(join(root, 'app/dist/src/cli/main.js')));
    assert.ok(existsSync(join(root, 'app/dist/build/Release/berth_sys.node')));
    assert.equal(existsSync(join(root, 'app/src')), false);
    for (const p of ['tsx', 'esbuild', 'typescript', 'node-addon-api', 'eslint']) assert.equal(existsSync(join(root, 'app/node_modules', p)), false, p);
    for (const sh of ['bin/sh', 'bin/bash', 'usr/bin/sh', 'usr/bin/bash', 'bin/busybox']) assert.equal(existsSync(join(root, sh)), false, sh);
    const files = walk(root);
    assert.deepEqual(files.filter((f) => /\.(ts|mts|cts|map)$/.test(f)), []);
    // No executable carries file capabilities (they would stop the controller from exec'ing it).
    const caps = run('getcap', ['-r', root]);
    if (caps.code === 0) assert.equal(caps.stdout.trim(), '');
    const size = files.reduce((n, f) => n + statSync(f).size, 0);
    assert.ok(size < 150e6, `${String(size)} bytes`);
  });

  test('the CLI, the addon and a worker thread run from dist as UID 65532, with nothing but the image', () => {
    const help = run(chroot, ['--userspec=65532:65532', root, '/usr/local/bin/berth', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /usage: berth <command>/);
    const script = [
      "const n = await import('/app/dist/src/sys/native.js');",
      "if (typeof n.loadAddon().PacketSocket !== 'function') throw new Error('addon');",
      "const t = await import('/app/dist/src/threads.js');",
      "const w = t.startModuleWorker(t.siblingModule('file:///app/dist/src/speaker/plan-thread.js', 'plan-worker'), {}, 'probe');",
      "w.on('error', (e) => { console.log('worker error ' + e.message); process.exit(1); });",
      "w.on('online', () => { console.log('worker online'); process.exit(0); });",
    ].join('\n');
    const r = run(chroot, ['--userspec=65532:65532', root, '/usr/local/bin/node', '--input-type=module', '-e', script], { env: { PATH: '/usr/local/bin:/usr/bin' } });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /worker online/);
    const ip = run(chroot, ['--userspec=65532:65532', root, '/usr/bin/ip', '-V']);
    assert.equal(ip.code, 0, ip.stderr);
  });
});
