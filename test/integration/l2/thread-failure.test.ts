// A per-CPU answer thread that cannot start (src/l2/cpu-answerers.ts) must not take the speaker down:
// its CPU's requests stay with the main thread, ownership updates still settle, and the failure is
// reported. Runs thread-failure-driver.ts in a network namespace of its own (bthrf-<pid>).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('answer threads that fail to start leave their CPUs to the main thread, which answers', { timeout: 60_000 }, () => {
  const ns = `bthrf-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', ns]);
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const env = { ...process.env };
    delete env['NODE_TEST_CONTEXT']; // else the child node runs as a test-runner child
    const driver = fileURLToPath(new URL('./thread-failure-driver.ts', import.meta.url));
    const r = spawnSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', driver], { encoding: 'utf8', timeout: 40_000, env });
    assert.equal(r.status, 0, `driver: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as {
      states: { cpu: number; pinned: boolean; error?: string }[];
      perThread: { main: { arpReplies: number }; cpus: { arpReplies: number }[] };
      settledAfter: boolean;
    };
    assert.ok(out.states.length >= 1, r.stdout);
    for (const s of out.states) {
      assert.equal(s.pinned, false);
      assert.match(s.error ?? '', /could not start: .*cannot start \(test fixture\)/);
    }
    assert.equal(out.perThread.main.arpReplies, 5, 'every request answered by the main thread');
    assert.deepEqual(out.perThread.cpus.map((c) => c.arpReplies), out.perThread.cpus.map(() => 0));
    assert.equal(out.settledAfter, true, 'ownership updates still settle');
    assert.match(r.stderr, /answer thread could not start; this CPU's requests are answered on the main thread/);
  } finally {
    spawnSync('ip', ['netns', 'delete', ns]);
  }
});
