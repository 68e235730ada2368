// The answer threads from the compiled tree (what `berth` runs after `npm ci`: dist/, no tsx). Tests
// otherwise run the sources, where cpu-answerers.ts starts its threads through a tsx bootstrap; this
// compiles src/ like scripts/build-dist.mjs (into a scratch folder, so a stale dist/ cannot hide a
// break) and starts the threads from the .js files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('compiled answer threads start from dist-style .js files and pin themselves', { timeout: 120_000 }, () => {
  const out = join(root, `.test-dist-${process.pid}`);
  try {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.dist.json'), '--outDir', out], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `tsc: ${build.stdout}${build.stderr}`);
    symlinkSync('../build', join(out, 'build'));
    const script = `
      const m = await import(${JSON.stringify(join(out, 'src/l2/cpu-answerers.js'))});
      const a = m.createCpuAnswerers({ maxThreads: 2 });
      const states = await a.ready();
      await a.close();
      console.log(JSON.stringify(states));`;
    const file = join(out, 'start-threads.mjs');
    writeFileSync(file, script);
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT']; // else the child node runs as a test-runner child
    delete env['NODE_OPTIONS'];
    const r = spawnSync(process.execPath, [file], { cwd: root, encoding: 'utf8', timeout: 60_000, env });
    assert.equal(r.status, 0, `compiled threads: ${r.stderr}`);
    const states = JSON.parse(r.stdout.trim().split('\n').pop() ?? '[]') as { cpu: number; pinned: boolean }[];
    const n = Math.min(cpus().length, 2);
    assert.deepEqual(
      states.map((s) => ({ cpu: s.cpu, pinned: s.pinned })),
      Array.from({ length: n }, (_, cpu) => ({ cpu, pinned: cpus().length <= 2 })),
    );
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
