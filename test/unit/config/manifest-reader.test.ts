// createManifestReader (src/config/manifests.ts): a re-read of unchanged files plans nothing; a changed
// document is parsed again and only it; files added and removed are seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManifestReader } from '../../../src/config/manifests.ts';

const svc = (name: string, ip: string): string => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}}\nspec: {type: LoadBalancer, loadBalancerIP: ${ip}}\n`;

test('unchanged files are not read again; a changed file re-parses only its changed documents', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reader-'));
  try {
    const file = join(dir, 'services.yaml');
    writeFileSync(file, [svc('a', '203.0.113.1'), svc('b', '203.0.113.2')].join('---\n'));
    const reader = createManifestReader(dir);
    const first = reader.read();
    assert.ok(first.changed);
    assert.equal(first.result.snapshot.services.length, 2);
    assert.deepEqual(reader.read(), { changed: false }, 'same files: nothing read');

    // Atomic replace (write + rename) with b changed: a's parsed object is reused.
    writeFileSync(`${file}.tmp`, [svc('a', '203.0.113.1'), svc('b', '203.0.113.9')].join('---\n'));
    renameSync(`${file}.tmp`, file);
    const second = reader.read();
    assert.ok(second.changed);
    const [a1, b1] = first.result.snapshot.services;
    const [a2, b2] = second.result.snapshot.services;
    assert.equal(a2?.spec, a1?.spec, 'the unchanged document was not parsed again');
    assert.notEqual(b2?.spec, b1?.spec);
    assert.equal(b2?.spec?.loadBalancerIP, '203.0.113.9');
    assert.equal([...second.result.origins.entries()].find(([k]) => k.endsWith('/b'))?.[1].line, 6, 'lines are the file\'s');

    // A new file and a removed one are changes too.
    writeFileSync(join(dir, 'more.yaml'), svc('c', '203.0.113.3'));
    const third = reader.read();
    assert.ok(third.changed);
    assert.deepEqual(third.result.snapshot.services.map((s) => s.metadata?.name), ['c', 'a', 'b']);
    unlinkSync(join(dir, 'more.yaml'));
    const fourth = reader.read();
    assert.ok(fourth.changed);
    assert.equal(fourth.result.snapshot.services.length, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a YAML error in one document is reported with its line; the others are read', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-reader-'));
  try {
    writeFileSync(join(dir, 'x.yaml'), [svc('a', '203.0.113.1'), 'apiVersion: v1\nkind: Service\nmetadata: {name: [b\n'].join('---\n'));
    const r = createManifestReader(dir).read();
    assert.ok(r.changed);
    assert.equal(r.result.snapshot.services.length, 1);
    const p = r.result.problems.find((x) => x.kind === 'File');
    const m = /^line (\d+), column \d+: YAML error/.exec(p?.message ?? '');
    assert.ok(m !== null && Number(m[1]) >= 6, `the error is placed in the second document: ${p?.message ?? 'none'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
