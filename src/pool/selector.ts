// Kubernetes label selector matching (metav1.LabelSelector semantics): every matchLabels pair and
// every matchExpressions requirement must hold; an empty selector matches everything.
import type { LabelSelector, LabelSelectorRequirement, Labels } from './types.ts';

function requirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = has ? labels[req.key] : undefined;
  switch (req.operator) {
    case 'In':
      return value !== undefined && req.values.includes(value);
    case 'NotIn':
      // Kubernetes: NotIn also matches when the key is absent.
      return value === undefined || !req.values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default: {
      const never: never = req.operator;
      return never;
    }
  }
}

export function selectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels)) {
    if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  }
  return selector.matchExpressions.every((r) => requirementHolds(r, labels));
}

/** True when at least one selector matches (OR), false for an empty list. */
export function anySelectorMatches(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.some((s) => selectorMatches(s, labels));
}

