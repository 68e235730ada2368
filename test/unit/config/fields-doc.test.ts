// docs/config.md "Every field of every kind" cannot drift from deploy/crds or src/config/strict.ts: every
// spec field the CRDs accept (two levels deep) has a row, and every field strict.ts refuses or warns
// about is marked so in its row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CRD_SCHEMAS } from '../../../src/config/crds/schemas.generated.ts';
import type { FieldSchema } from '../../../src/config/crds/schema.ts';
import { UNIMPLEMENTED_FIELDS } from '../../../src/config/strict.ts';

interface Row {
  readonly kinds: readonly string[];
  readonly fields: readonly string[];
  readonly state: string;
}

function tableRows(): Row[] {
  const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
  const start = doc.indexOf('## Every field of every kind');
  assert.ok(start >= 0, 'docs/config.md has the field table');
  const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| kind') && !l.startsWith('|---'))
    .map((l) => {
      const [kinds = '', fields = '', state = ''] = l.slice(2, -2).split(' | ');
      return { kinds: kinds.split(', ').map((k) => k.trim()), fields: [...fields.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''), state: state.trim() };
    });
}

function specPaths(spec: FieldSchema | undefined, prefix = '', depth = 1): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(spec?.properties ?? {})) {
    out.push(prefix + k);
    const inner = v.items ?? v;
    const selector = inner.properties?.['matchLabels'] !== undefined && inner.properties['matchExpressions'] !== undefined;
    if (depth > 0 && !selector) out.push(...specPaths(inner, `${prefix}${k}.`, depth - 1));
  }
  return out;
}

const STATUS_KINDS = ['ConfigurationState', 'ServiceL2Status', 'ServiceBGPStatus'];

test('every spec field of every served CRD version has a row', () => {
  const rows = tableRows();
  const missing: string[] = [];
  for (const [key, schema] of Object.entries(CRD_SCHEMAS)) {
    const kind = key.split('/').at(-1) ?? '';
    if (STATUS_KINDS.includes(kind)) continue;
    for (const path of specPaths(schema.properties?.['spec'])) {
      if (!rows.some((r) => r.kinds.includes(kind) && r.fields.includes(path))) missing.push(`${kind} ${path}`);
    }
  }
  assert.deepEqual(missing, []);
});

test('every refused or warned field of strict.ts is marked so in the table', () => {
  const rows = tableRows();
  for (const f of UNIMPLEMENTED_FIELDS) {
    const kind = f.kind.split('/').at(-1) ?? '';
    const field = f.path.replace(/^spec\./, '').replace(/\[\]/g, '');
    const row = rows.find((r) => r.kinds.some((k) => k === kind || k.startsWith(`${kind} (`)) && r.fields.includes(field));
    assert.ok(row !== undefined, `${kind} ${field} has a row`);
    assert.ok(row.state.startsWith(f.warning === true ? 'warning' : 'refused'), `${kind} ${field}: "${row.state}"`);
  }
});
