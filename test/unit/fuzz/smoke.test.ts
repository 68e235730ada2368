// Smoke run of every fuzz target (test/fuzz/targets.ts): its committed corpus, then a bounded number of
// mutated inputs with a fixed seed (no coverage feedback here: that is bench/fuzz). Each must end in a
// value or the parser's typed error, with every invariant holding, and print nothing of its own (a
// process warning is output that bypasses the logger). bench/fuzz runs the long version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { fuzz } from '../../fuzz/engine.ts';
import { committedCorpus, TARGETS } from '../../fuzz/targets.ts';

const MUTATED = 3000;

for (const target of TARGETS) {
  test(`fuzz smoke: ${target.name} (corpus + ${MUTATED} mutated inputs)`, async () => {
    const corpus = committedCorpus(target.name);
    assert.ok(corpus.length > 0, `the ${target.name} corpus is empty`);
    const warnings: string[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(`${w.name}: ${w.message}`);
    };
    process.on('warning', onWarning);
    try {
      const stats = fuzz(target, { inputs: MUTATED, seed: 14, corpus });
      assert.deepEqual(
        stats.findings.map((f) => `${f.error}\n  input: ${f.input.toString('hex')}`),
        [],
      );
      assert.equal(stats.inputs, MUTATED);
      await tick(); // process warnings are emitted on the next tick
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
}
