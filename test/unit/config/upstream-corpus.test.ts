// The upstream corpus: real samples from MetalLB's and OpenELB's repositories and documentation
// (test/fixtures/upstream/<project>/, each with a `# SOURCE:` line) run through `berth check` with the
// verdict written in their header:
//
//   # EXPECT: valid | warnings | invalid      exit 0 with no problems / exit 0 with warnings only / exit 1
//   # PROBLEM: error|warning KIND [NS/]NAME FIELD   every problem, exactly (FIELD "-" when none)
//   # SERVICE: NS/NAME IPS MODES                 every LoadBalancer Service (IPS, MODES "-" when none)
//   # DIFFERS: ...                              where berth deliberately answers otherwise than upstream
//
// Each file goes through the same loadManifests + checkSnapshot as `berth check`; one run of the CLI over
// the whole corpus checks the exit status and that the CLI reports what the in-process check does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkSnapshot } from '../../../src/config/check.ts';
import { listManifestFiles, loadManifests } from '../../../src/config/manifests.ts';
import { isError } from '../../../src/config/problems.ts';

const CORPUS = fileURLToPath(new URL('../../fixtures/upstream', import.meta.url));
const BERTH = fileURLToPath(new URL('../../../bin/berth.mjs', import.meta.url));

interface Expectation {
  readonly verdict: string;
  readonly problems: readonly string[];
  readonly services: readonly string[];
}

function expectation(file: string): Expectation {
  const header = readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('# '));
  const value = (tag: string): string[] => header.filter((l) => l.startsWith(`# ${tag}: `)).map((l) => l.slice(tag.length + 4).trim());
  assert.equal(value('SOURCE').length, 1, `${file} names its SOURCE`);
  const [verdict] = value('EXPECT');
  assert.ok(verdict === 'valid' || verdict === 'warnings' || verdict === 'invalid', `${file} has an EXPECT verdict`);
  return { verdict, problems: value('PROBLEM').sort(), services: value('SERVICE').sort() };
}

const files = listManifestFiles(CORPUS);

test('the corpus holds samples of both projects', () => {
  const rel = files.map((f) => f.slice(CORPUS.length + 1));
  assert.ok(rel.filter((f) => f.startsWith('metallb/')).length >= 25, 'MetalLB samples');
  assert.ok(rel.filter((f) => f.startsWith('openelb/')).length >= 10, 'OpenELB samples');
});

test('every upstream sample gets its expected verdict, problems and Service results', () => {
  const failures: string[] = [];
  for (const file of files) {
    const want = expectation(file);
    const loaded = loadManifests(file);
    const { report } = checkSnapshot(loaded.snapshot, {}, loaded.problems);
    const errors = report.problems.filter(isError);
    const verdict = errors.length > 0 ? 'invalid' : report.problems.length > 0 ? 'warnings' : 'valid';
    const problems = report.problems.map((p) => `${p.severity ?? 'error'} ${p.kind} ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name} ${p.field ?? '-'}`).sort();
    const services = report.services.map((s) => `${s.namespace}/${s.name} ${s.ips.join(',') || '-'} ${s.modes.join('+') || '-'}`).sort();
    const got: Expectation = { verdict, problems, services };
    try {
      assert.deepEqual(got, want);
    } catch {
      failures.push(`${file.slice(CORPUS.length + 1)}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('berth check over the whole corpus: exit 1, and the same problems as the in-process check', () => {
  const r = spawnSync(process.execPath, [BERTH, 'check', '--manifests', CORPUS, '-o', 'json'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 1);
  const cli = (JSON.parse(r.stdout) as { problems: { kind: string; name: string; field?: string }[] }).problems.map((p) => `${p.kind} ${p.name} ${p.field ?? '-'}`);
  const loaded = loadManifests(CORPUS);
  const inProcess = checkSnapshot(loaded.snapshot, {}, loaded.problems).report.problems.map((p) => `${p.kind} ${p.name} ${p.field ?? '-'}`);
  assert.deepEqual(cli, inProcess);
  assert.ok(cli.length > 20);
});
