// The answer threads from the compiled tree (what `berth` runs after `npm ci`: dist/, no tsx). Tests
// otherwise run the sources, where cpu-answerers.ts starts its threads through a tsx bootstrap; this
// compiles src/ like scripts/build-dist.mjs (into a scratch folder, so a stale dist/ cannot hide a
// break), and in a network namespace of its own (bcthr-<pid>) opens a port on the loopback interface
// (which starts the threads), sends ARP requests for an owned address there, and expects a pinned
// thread started from the .js files to have answered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KERNEL_ARP_REQUEST } from '../../unit/l2/vectors.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('compiled answer threads start from dist-style .js files, pin themselves and answer', { timeout: 120_000 }, () => {
  const out = join(root, `.test-dist-${process.pid}`);
  const ns = `bcthr-${process.pid}`;
  try {
    const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
    const build = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.dist.json'), '--outDir', out], { cwd: root, encoding: 'utf8' });
    assert.equal(build.status, 0, `tsc: ${build.stdout}${build.stderr}`);
    symlinkSync('../build', join(out, 'build'));
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    // 192.0.2.11 is the request's target; the pool answers it from the loopback "MAC" 00:..:00.
    const script = `
      const { createCpuAnswerers } = await import(${JSON.stringify(join(out, 'src/l2/cpu-answerers.js'))});
      const { openSendSocket } = await import(${JSON.stringify(join(out, 'src/sys/index.js'))});
      const pool = createCpuAnswerers({});
      const vip = '192.0.2.11';
      pool.openPort('4|lo', 'lo', 4, '00:00:00:00:00:00', (ip) => ip === vip);
      await pool.setVips('4|lo', [vip]);
      const sender = openSendSocket('lo');
      const deadline = Date.now() + 20000;
      let states = [];
      while (Date.now() < deadline) {
        sender.send(Buffer.from(${JSON.stringify(KERNEL_ARP_REQUEST.toString('hex'))}, 'hex'));
        await new Promise((r) => setTimeout(r, 100));
        states = await pool.threads();
        if (states.length > 0 && pool.perThread().cpus.some((c) => c.arpReplies > 0)) break;
      }
      console.log(JSON.stringify({ states, byThreads: pool.perThread().cpus.reduce((n, c) => n + c.arpReplies, 0) }));
      sender.close();
      await pool.close();`;
    const file = join(out, 'start-threads.mjs');
    writeFileSync(file, script);
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT']; // else the child node runs as a test-runner child
    delete env['NODE_OPTIONS'];
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, file], { cwd: root, encoding: 'utf8', timeout: 60_000, env });
    assert.equal(r.status, 0, `compiled threads: ${r.stderr}`);
    const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { states: { cpu: number; pinned: boolean }[]; byThreads: number };
    assert.ok(res.states.length >= 1, `a thread started: ${r.stdout}`);
    for (const s of res.states) assert.equal(s.pinned, true, `thread of CPU ${s.cpu} pinned`);
    assert.ok(res.byThreads >= 1, `a thread answered: ${r.stdout}`);
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
    rmSync(out, { recursive: true, force: true });
  }
});
