// The document splitter and the fast/slow parse paths (src/config/yaml-documents.ts): the same values
// and lines as the `yaml` library, errors with positions, the cache reused across reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineCounter, parseAllDocuments } from 'yaml';
import { readDocuments, splitDocuments, type ChunkCache } from '../../../src/config/yaml-documents.ts';

/** What the `yaml` library reads: value and first content line of each document. */
function reference(text: string): { value: unknown; line: number }[] {
  const lineCounter = new LineCounter();
  return parseAllDocuments(text, { lineCounter }).map((d) => ({ value: d.toJS(), line: lineCounter.linePos(d.contents?.range?.[0] ?? d.range[0]).line }));
}

test('cuts at document markers only: `---` alone, with a comment or inline content; not inside a word', () => {
  const text = 'a: 1\n---\nb: 2\n--- # two\nc: 3\n--- {d: 4}\n---\n---x: 5\n';
  const chunks = splitDocuments(text);
  assert.deepEqual(chunks.map((c) => c.line), [1, 2, 4, 6, 7]);
  assert.equal(chunks.map((c) => c.text).join(''), text);
  const docs = readDocuments(text);
  assert.deepEqual(docs, [
    { ok: true, value: { a: 1 }, line: 1 },
    { ok: true, value: { b: 2 }, line: 3 },
    { ok: true, value: { c: 3 }, line: 5 },
    { ok: true, value: { d: 4 }, line: 6 },
    { ok: true, value: { '---x': 5 }, line: 8 },
  ]);
  assert.deepEqual(docs.map((d) => (d.ok ? { value: d.value, line: d.line } : d)), reference(text));
});

test('a directive belongs to the document after it', () => {
  const text = '%YAML 1.2\n---\na: 1\n';
  assert.equal(splitDocuments(text).length, 1);
  assert.deepEqual(readDocuments(text), [{ ok: true, value: { a: 1 }, line: 3 }]);
});

test('block scalars keep their text; a marker line ends them (YAML 1.2 §9.1.2)', () => {
  const text = 'k: |\n  line one\n  --- not a marker (indented)\n---\nz: 1\n';
  const docs = readDocuments(text);
  assert.deepEqual(docs, [
    { ok: true, value: { k: 'line one\n--- not a marker (indented)\n' }, line: 1 },
    { ok: true, value: { z: 1 }, line: 5 },
  ]);
});

test('core schema like the yaml library: dates and yes/no stay strings, no merge keys', () => {
  const text = 'd: 2024-01-02\ny: yes\nn: null\ni: 0x10\nf: 1.5\nb: true\n';
  const [doc] = readDocuments(text);
  assert.deepEqual(doc, { ok: true, value: reference(text)[0]?.value, line: 1 });
  assert.deepEqual(doc?.ok === true ? doc.value : undefined, { d: '2024-01-02', y: 'yes', n: null, i: 16, f: 1.5, b: true });
});

test('errors carry the line and column in the file; other documents still parse', () => {
  const text = 'a: 1\n---\nb: [1, 2\n---\nc: 3\n';
  const docs = readDocuments(text);
  assert.equal(docs[0]?.ok, true);
  const bad = docs.find((d) => !d.ok);
  assert.ok(bad !== undefined && !bad.ok);
  assert.ok(bad.line >= 3, `error line ${bad.line} is in the second document`);
  assert.match(bad.message, /YAML error/);
  assert.deepEqual(docs.at(-1), { ok: true, value: { c: 3 }, line: 5 });
});

test('duplicate keys are an error, as with the yaml library (uniqueKeys)', () => {
  const docs = readDocuments('a: 1\na: 2\n');
  assert.equal(docs.length, 1);
  assert.equal(docs[0]?.ok, false);
});

test('anchors take the slow path, whose alias limit stops an alias bomb', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 8; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(10).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
  const docs = readDocuments(`${bomb.join('\n')}\n`);
  assert.equal(docs.length, 1);
  assert.equal(docs[0]?.ok, false);
  // A harmless anchor still works.
  assert.deepEqual(readDocuments('a: &x 1\nb: *x\n'), [{ ok: true, value: { a: 1, b: 1 }, line: 1 }]);
});

test('a second read with the cache parses only changed documents (unchanged values are the same objects)', () => {
  const text = 'a: {x: 1}\n---\nb: {y: 2}\n';
  const first: ChunkCache = new Map();
  const one = readDocuments(text, undefined, first);
  const second: ChunkCache = new Map();
  const two = readDocuments(text.replace('y: 2', 'y: 3'), first, second);
  assert.ok(one[0]?.ok && two[0]?.ok);
  assert.equal(two[0].value, one[0].value, 'the unchanged document is reused, not parsed');
  assert.deepEqual(two[1], { ok: true, value: { b: { y: 3 } }, line: 3 });
  assert.equal(second.size, 2);
});

test('property: values and lines agree with the yaml library on generated manifests', () => {
  const scalar = fc.oneof(fc.integer(), fc.boolean(), fc.constantFrom('text', 'yes', '2024-01-02', '10.0.0.0/8', '"quoted"', 'a b', ''));
  const doc = fc.dictionary(fc.stringMatching(/^[a-z][a-zA-Z]{0,6}$/), fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(fc.stringMatching(/^[a-z]{1,5}$/), scalar, { maxKeys: 3 })), { minKeys: 1, maxKeys: 5 });
  const render = (v: unknown, indent: string): string => {
    if (Array.isArray(v)) return v.length === 0 ? ' []' : `\n${v.map((x) => `${indent}- ${JSON.stringify(x)}`).join('\n')}`;
    if (typeof v === 'object' && v !== null) {
      const entries = Object.entries(v);
      return entries.length === 0 ? ' {}' : `\n${entries.map(([k, x]) => `${indent}  ${k}:${render(x, `${indent}  `)}`).join('\n')}`;
    }
    return ` ${JSON.stringify(v)}`;
  };
  fc.assert(
    fc.property(fc.array(fc.tuple(doc, fc.constantFrom('', '# comment\n', '\n')), { minLength: 1, maxLength: 5 }), (docs) => {
      const text = docs.map(([d, pre]) => `${pre}${Object.entries(d).map(([k, v]) => `${k}:${render(v, '')}`).join('\n')}\n`).join('---\n');
      const ours = readDocuments(text);
      const theirs = reference(text);
      assert.deepEqual(ours.map((d) => (d.ok ? { value: d.value, line: d.line } : d)), theirs);
    }),
    { numRuns: 300 },
  );
});

// Regression from fuzzing (test/fuzz target "manifests", docs/fuzzing.md): the `yaml` library printed a
// warning to stderr ("Keys with collection values will be stringified", "Unresolved tag") and went on
// with a key like "[object Object]" or the tag dropped. Both are errors with a line now, and nothing is
// printed.
test('an unresolved tag and a list used as a key are YAML errors with their lines, never a printed warning', async () => {
  const warnings: string[] = [];
  const onWarning = (w: Error): void => {
    warnings.push(w.message);
  };
  process.on('warning', onWarning);
  try {
    const docs = readDocuments('kind: Service\nmetadata: !foo {name: a}\n[x, y]: 2\n');
    assert.deepEqual(
      docs.map((d) => (d.ok ? d : { line: d.line, message: d.message })),
      [
        { line: 2, message: 'YAML error: Unresolved tag: !foo' },
        { line: 3, message: 'YAML error: a mapping key is a list or a mapping; keys must be plain text' },
      ],
    );
    await new Promise((r) => setImmediate(r)); // process warnings are emitted on the next tick
    assert.deepEqual(warnings, []);
  } finally {
    process.off('warning', onWarning);
  }
});
