import { test } from 'node:test';
import assert from 'node:assert/strict';
import { serialRunner } from '../../../src/speaker/serial.ts';

test('serialRunner: calls during a pass coalesce into one more pass; errors are reported; stop drops the rest', async () => {
  let runs = 0;
  let active = 0;
  let maxActive = 0;
  const errors: string[] = [];
  let stopped = false;
  let release: () => void = () => undefined;
  const run = serialRunner(
    async () => {
      runs++;
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise<void>((r) => (release = r));
      active--;
      if (runs === 2) throw new Error('second pass failed');
    },
    { stopped: () => stopped, onError: (e) => errors.push(String(e)) },
  );
  const a = run();
  const b = run();
  const c = run();
  assert.equal(b, a, 'a call while running shares the running promise');
  assert.equal(c, a);
  release();
  await new Promise((r) => setImmediate(r));
  release();
  await a;
  assert.deepEqual([runs, maxActive], [2, 1]);
  assert.deepEqual(errors, ['Error: second pass failed']);
  const d = run();
  stopped = true;
  run();
  release();
  await d;
  assert.equal(runs, 3, 'the pass marked after stop is dropped');
  await run();
  assert.equal(runs, 3, 'nothing runs once stopped');
});
