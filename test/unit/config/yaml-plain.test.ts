// The plain-subset reader (src/config/yaml-plain.ts) against js-yaml's core schema, which it stands in
// for: whenever it answers, the answer is js-yaml's value; it answers for the documents the scale
// benchmark generates and for plain documents of the fixtures; it declines everything outside the subset.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { load, CORE_SCHEMA } from 'js-yaml';
import { readPlainDocument } from '../../../src/config/yaml-plain.ts';
import { splitDocuments } from '../../../src/config/yaml-documents.ts';
import { serviceDoc } from '../../../bench/scale/manifests.ts';
import { configYaml } from '../../../bench/scale/manifests.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));

/** js-yaml's value, or `throws`. */
function jsYaml(text: string): unknown {
  try {
    return { value: load(text, { schema: CORE_SCHEMA }) };
  } catch {
    return 'throws';
  }
}

function agrees(text: string): void {
  const plain = readPlainDocument(text);
  if (plain === undefined) return;
  assert.deepStrictEqual({ value: plain }, jsYaml(text), `the plain reader and js-yaml differ on:\n${text}`);
}

test('answers for the scale benchmark documents, with js-yaml value', () => {
  for (const text of [serviceDoc(7), serviceDoc(8, { ip: '198.18.0.8', pool: 'alt' }), ...splitDocuments(configYaml({ services: 1, nodes: ['n1'], peer: { address: '192.0.2.1', asn: 64512 }, myASN: 64513, pool: '198.18.0.0/15' })).map((c) => c.text).filter((t) => !t.includes('"True"'))]) {
    const plain = readPlainDocument(text);
    assert.notEqual(plain, undefined, `declined:\n${text}`);
    assert.deepStrictEqual({ value: plain }, jsYaml(text));
  }
});

test('resolves plain scalars as js-yaml does: null, bool, int, float, strings that look like numbers', () => {
  const text = 'a: null\nb: True\nc: 0x1F\nd: 0o17\ne: .inf\nf: -.inf\ng: 1e5\nh: +12\ni: 012\nj: 1_000\nk: 2001:db8::1\nl: 12:30\nm: -x\nn: .\no: "x"\n';
  assert.equal(readPlainDocument(text), undefined, 'a quoted value is outside the subset');
  const plainText = text.replace('o: "x"\n', '');
  const v = readPlainDocument(plainText);
  assert.deepStrictEqual({ value: v }, jsYaml(plainText));
  assert.deepStrictEqual(v, { a: null, b: true, c: 31, d: 15, e: Infinity, f: -Infinity, g: 100000, h: 12, i: 12, j: '1_000', k: '2001:db8::1', l: '12:30', m: '-x', n: '.' });
});

test('nested mappings, sequences at and under the key, dash-line mappings, empty values, comments', () => {
  const text = '# head\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  labels:\n    app: web\n\n  # inside\nspec:\n  ports:\n  - port: 80\n    protocol: TCP\n  - name:\n    port: 81\n  ips:\n    - 192.0.2.1\n    - 192.0.2.2\n  none:\nstatus:\n';
  const v = readPlainDocument(text);
  assert.notEqual(v, undefined);
  assert.deepStrictEqual({ value: v }, jsYaml(text));
});

test('declines what is outside the subset', () => {
  const outside = [
    'a: [1, 2]\n', // flow sequence
    'a: {b: 1}\n', // flow mapping
    'a: b # comment\n', // comment after content
    'a: &x 1\nb: *x\n', // anchor and alias
    'a: !!str 1\n', // tag
    'a: |\n  text\n', // block scalar
    'a: one\n  two\n', // multi-line plain scalar
    'a:\n\tb: 1\n', // tab
    'a: 1\na: 2\n', // duplicate key (js-yaml refuses it)
    'true: 1\n', // key that resolves to a bool
    '__proto__: 1\n', // prototype key
    'a b: 1\n', // key with a space
    'a:b\n', // no pair at all
    '%YAML 1.2\n---\na: 1\n', // directive
    '--- a\n', // content on the marker line
    'a: 1\n...\n', // document end
    '- - 1\n', // nested dash
    'a:\n  - 1\n  b: 2\n', // mapping line after a sequence at the same level
    '  a: 1\n', // indented first line
    'a: x:\n', // value ending in a colon
    '',
  ];
  for (const text of outside) assert.equal(readPlainDocument(text), undefined, `accepted:\n${text}`);
});

test('every document of the fixtures it answers for: the value js-yaml gives', () => {
  let answered = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(name)) {
        for (const chunk of splitDocuments(readFileSync(full, 'utf8'))) {
          agrees(chunk.text);
          if (readPlainDocument(chunk.text) !== undefined) answered++;
        }
      }
    }
  };
  walk(FIXTURES);
  assert.ok(answered > 10, `only ${answered} fixture documents were in the subset`);
});

test('property: on line-shaped random documents it either declines or gives js-yaml value', () => {
  const key = fc.constantFrom('a', 'b', 'spec', 'metadata', 'true', 'null', 'x.y/z', '_k', 'a b', '-', '__proto__');
  const value = fc.constantFrom('', ' 1', ' -1', ' 0x10', ' .5', ' .nan', ' TRUE', ' ~', ' x', ' x:', ' x: y', ' 192.0.2.1', ' 2001:db8::1', ' "q"', " 'q'", ' [1]', ' {}', ' a#b', ' a #b', ' |', ' &a x', ' *a', ' !x', ' -', ' - x', ' =', ' +', ' ?');
  const line = fc.tuple(fc.constantFrom('', ' ', '  ', '    ', '\t'), fc.constantFrom('', '- ', '-'), key, fc.constantFrom(':', ''), value).map(([i, d, k, c, v]) => `${i}${d}${k}${c}${v}`);
  const extra = fc.constantFrom('# c', '---', '', '  # c', '...');
  fc.assert(
    fc.property(fc.array(fc.oneof({ weight: 6, arbitrary: line }, { weight: 1, arbitrary: extra }), { minLength: 1, maxLength: 8 }), (lines) => {
      agrees(`${lines.join('\n')}\n`);
    }),
    { numRuns: 3000 },
  );
});
