// Kubernetes label selectors (metav1.LabelSelector): read and validate the raw form, normalise it to the
// pool contract's LabelSelector, and match labels against it. Semantics per
// k8s.io/apimachinery/pkg/apis/meta/v1: matchLabels and every matchExpression are ANDed; an empty
// selector matches everything. A list of selectors (nodeSelectors, serviceSelectors...) is ORed, and an
// empty list means "no restriction".

import { SelectorOperator, type LabelSelector, type LabelSelectorRequirement, type Labels } from '../pool/types.ts';
import { readList, readRecord, readString, readStringList, readStringMap, type Report } from './read.ts';

export type { LabelSelector, Labels } from '../pool/types.ts';

export const EVERYTHING: LabelSelector = { matchLabels: {}, matchExpressions: [] };

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
    const values = readStringList(e['values'], `${f}.values`, fail);
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

export function matchesSelector(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) {
    if (labels[k] !== v) return false;
  }
  for (const e of sel.matchExpressions) {
    const has = Object.hasOwn(labels, e.key);
    const value = labels[e.key];
    switch (e.operator) {
      case SelectorOperator.In:
        if (!has || value === undefined || !e.values.includes(value)) return false;
        break;
      case SelectorOperator.NotIn:
        if (has && value !== undefined && e.values.includes(value)) return false;
        break;
      case SelectorOperator.Exists:
        if (!has) return false;
        break;
      case SelectorOperator.DoesNotExist:
        if (has) return false;
        break;
      default: {
        const never: never = e.operator;
        throw new Error(`unknown selector operator ${String(never)}`);
      }
    }
  }
  return true;
}

/** OR over a list; the empty list matches everything. */
export function matchesAny(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.length === 0 || selectors.some((s) => matchesSelector(s, labels));
}

export function canonicalSelector(sel: LabelSelector): string {
  const labels = Object.entries(sel.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const exprs = sel.matchExpressions
    .map((e) => `${e.key} ${e.operator} ${[...e.values].sort().join(',')}`)
    .sort();
  return JSON.stringify([labels, exprs]);
}
