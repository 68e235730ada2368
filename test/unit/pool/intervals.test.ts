import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IntervalSet } from '../../../src/pool/intervals.ts';

function runs(s: IntervalSet): string {
  return [...s.runs()].map((r) => (r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`)).join(' ');
}

test('runs merge and split', () => {
  const s = new IntervalSet();
  const steps: readonly { op: 'add' | 'delete'; x: bigint; ret: boolean; want: string }[] = [
    { op: 'add', x: 5n, ret: true, want: '5' },
    { op: 'add', x: 5n, ret: false, want: '5' },
    { op: 'add', x: 7n, ret: true, want: '5 7' },
    { op: 'add', x: 6n, ret: true, want: '5-7' }, // joins both neighbours
    { op: 'add', x: 4n, ret: true, want: '4-7' }, // extends a run downwards
    { op: 'add', x: 8n, ret: true, want: '4-8' }, // and upwards
    { op: 'add', x: 1n, ret: true, want: '1 4-8' },
    { op: 'delete', x: 6n, ret: true, want: '1 4-5 7-8' }, // split
    { op: 'delete', x: 6n, ret: false, want: '1 4-5 7-8' },
    { op: 'delete', x: 4n, ret: true, want: '1 5 7-8' },
    { op: 'delete', x: 8n, ret: true, want: '1 5 7' },
    { op: 'delete', x: 1n, ret: true, want: '5 7' },
    { op: 'delete', x: 0n, ret: false, want: '5 7' },
  ];
  for (const st of steps) {
    assert.equal(st.op === 'add' ? s.add(st.x) : s.delete(st.x), st.ret, `${st.op} ${st.x}`);
    assert.equal(runs(s), st.want, `${st.op} ${st.x}`);
  }
  assert.equal(s.size, 2);
  assert.equal(s.nextAbsent(5n), 6n);
  assert.equal(s.nextAbsent(6n), 6n);
  assert.equal(s.nextAbsent(0n), 0n);
});

test('a long sequential fill stays one run; memory does not follow the address space', () => {
  const s = new IntervalSet();
  const base = 1n << 100n;
  for (let i = 0n; i < 5000n; i++) s.add(base + i);
  assert.equal(s.runCount, 1);
  assert.equal(s.nextAbsent(base), base + 5000n);
  // every other one removed: 2500 runs spread over many chunks, still answering correctly
  for (let i = 1n; i < 5000n; i += 2n) s.delete(base + i);
  assert.equal(s.runCount, 2500);
  assert.equal(s.nextAbsent(base + 2n), base + 3n);
  assert.equal(s.has(base + 4998n), true);
  assert.equal(s.has(base + 4999n), false);
});

test('property: behaves like a Set of integers', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 600n })), { maxLength: 1500 }),
      fc.array(fc.bigInt({ min: 0n, max: 620n }), { maxLength: 50 }),
      (ops, probes) => {
        const s = new IntervalSet();
        const model = new Set<bigint>();
        for (const [add, x] of ops) {
          if (add) assert.equal(s.add(x), !model.has(x));
          else assert.equal(s.delete(x), model.has(x));
          if (add) model.add(x);
          else model.delete(x);
        }
        assert.equal(s.size, model.size);
        // runs are sorted, disjoint, maximal, and cover exactly the model
        let prevHi: bigint | undefined;
        let covered = 0n;
        for (const r of s.runs()) {
          assert.ok(r.lo <= r.hi);
          if (prevHi !== undefined) assert.ok(r.lo > prevHi + 1n, 'runs must be disjoint and not adjacent');
          for (let x = r.lo; x <= r.hi; x++) assert.ok(model.has(x));
          covered += r.hi - r.lo + 1n;
          prevHi = r.hi;
        }
        assert.equal(covered, BigInt(model.size));
        for (const p of probes) {
          assert.equal(s.has(p), model.has(p));
          let want = p;
          while (model.has(want)) want++;
          assert.equal(s.nextAbsent(p), want);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('property: many runs across chunk boundaries', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 3000n })), { minLength: 2000, maxLength: 4000 }), (ops) => {
      const s = new IntervalSet();
      const model = new Set<bigint>();
      for (const [add, x] of ops) {
        assert.equal(add ? s.add(x) : s.delete(x), add ? !model.has(x) : model.has(x));
        if (add) model.add(x);
        else model.delete(x);
      }
      const flat: bigint[] = [];
      for (const r of s.runs()) for (let x = r.lo; x <= r.hi; x++) flat.push(x);
      assert.deepEqual(flat, [...model].sort((a, b) => (a < b ? -1 : 1)));
    }),
    { numRuns: 20 },
  );
});
