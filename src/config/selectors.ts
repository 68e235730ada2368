// Kubernetes label selectors (metav1.LabelSelector) in manifests: read and validate the raw form (with
// problems) and normalise it to the pool contract's LabelSelector. Matching is not done here: it is
// selectorMatches / matchesAny in src/labels/selector.ts (a list is ORed, the empty list = no restriction).

import { SelectorOperator, type LabelSelector, type LabelSelectorRequirement, type Labels } from '../pool/types.ts';
import { readList, readRecord, readString, readStringList, readStringMap, type Report } from './read.ts';

const OPERATORS: readonly string[] = Object.values(SelectorOperator);

/** Reads one selector; undefined (after reporting) when it is malformed. */
export function readSelector(v: unknown, field: string, report: Report): LabelSelector | undefined {
  const rec = readRecord(v, field, report);
  if (rec === undefined) return undefined;
  let ok = true;
  const fail: Report = (f, m) => {
    ok = false;
    report(f, m);
  };
  const matchLabels = readStringMap(rec['matchLabels'], `${field}.matchLabels`, fail) ?? {};
  const matchExpressions: LabelSelectorRequirement[] = [];
  readList(rec['matchExpressions'], `${field}.matchExpressions`, fail).forEach((raw, i) => {
    const f = `${field}.matchExpressions[${i}]`;
    const e = readRecord(raw, f, fail);
    if (e === undefined) return;
    const key = readString(e['key'], `${f}.key`, fail);
    const operator = readString(e['operator'], `${f}.operator`, fail);
    // The API server's selector validation (and MetalLB's webhook) refuse a value listed twice.
    const values = readStringList(e['values'], `${f}.values`, fail, { unique: true });
    if (key === undefined || key === '') {
      fail(`${f}.key`, 'a label key is required');
      return;
    }
    if (operator === undefined || !OPERATORS.includes(operator)) {
      fail(`${f}.operator`, `must be one of ${OPERATORS.join(', ')}, got ${operator === undefined ? 'nothing' : `"${operator}"`}`);
      return;
    }
    const op = operator as SelectorOperator;
    if ((op === SelectorOperator.In || op === SelectorOperator.NotIn) && values.length === 0) {
      fail(`${f}.values`, `operator ${op} needs at least one value`);
      return;
    }
    if ((op === SelectorOperator.Exists || op === SelectorOperator.DoesNotExist) && values.length > 0) {
      fail(`${f}.values`, `operator ${op} takes no values: remove them`);
      return;
    }
    matchExpressions.push({ key, operator: op, values });
  });
  return ok ? { matchLabels, matchExpressions } : undefined;
}

/** Reads a list of selectors, rejecting duplicates as MetalLB's webhooks do. */
export function readSelectorList(v: unknown, field: string, report: Report): LabelSelector[] {
  const out: LabelSelector[] = [];
  const seen = new Set<string>();
  readList(v, field, report).forEach((raw, i) => {
    const sel = readSelector(raw, `${field}[${i}]`, report);
    if (sel === undefined) return;
    const key = canonicalSelector(sel);
    if (seen.has(key)) {
      report(`${field}[${i}]`, 'duplicate selector: remove it');
      return;
    }
    seen.add(key);
    out.push(sel);
  });
  return out;
}

/** A matchLabels-only selector from a plain map (OpenELB Eip namespaceSelector). */
export function selectorFromLabels(labels: Labels): LabelSelector {
  return { matchLabels: labels, matchExpressions: [] };
}

export function canonicalSelector(sel: LabelSelector): string {
  const labels = Object.entries(sel.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = sel.matchExpressions
    .map((e) => `${e.key} ${e.operator} ${[...e.values].sort().join(',')}`)
    .sort();
  return JSON.stringify([labels, exprs]);
}
