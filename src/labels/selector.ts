// Kubernetes label selectors (k8s.io/apimachinery/pkg/apis/meta/v1 LabelSelector) as plain data, and the one
// place where labels are matched against them. Pure: no Kubernetes client, no I/O. Shared by src/pool
// (namespace/service selectors), src/l2 (election node selectors), src/config and src/speaker.
//
// Semantics (metav1.LabelSelectorAsSelector):
// - every matchLabels pair and every matchExpressions requirement must hold (AND);
// - an empty selector matches every label set;
// - NotIn and DoesNotExist also hold when the key is absent;
// - only a label set's own keys are labels ("toString" is not a label of {}).
// Both parts are optional here, as in the API; src/pool/types.ts narrows this to the normalised form that
// src/config produces (both parts present, values always an array).

export const SelectorOperator = { In: 'In', NotIn: 'NotIn', Exists: 'Exists', DoesNotExist: 'DoesNotExist' } as const;
export type SelectorOperator = (typeof SelectorOperator)[keyof typeof SelectorOperator];

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: SelectorOperator;
  /** Non-empty for In/NotIn, empty or absent for Exists/DoesNotExist (src/config validates manifests). */
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

function labelOf(labels: Labels, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function requirementHolds(r: LabelSelectorRequirement, labels: Labels): boolean {
  const value = labelOf(labels, r.key);
  switch (r.operator) {
    case SelectorOperator.In:
      return value !== undefined && (r.values ?? []).includes(value);
    case SelectorOperator.NotIn:
      return value === undefined || !(r.values ?? []).includes(value);
    case SelectorOperator.Exists:
      return value !== undefined;
    case SelectorOperator.DoesNotExist:
      return value === undefined;
    default: {
      const never: never = r.operator;
      return never;
    }
  }
}

export function selectorMatches(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) {
    if (labelOf(labels, k) !== v) return false;
  }
  return (sel.matchExpressions ?? []).every((r) => requirementHolds(r, labels));
}

/**
 * A list of selectors as MetalLB's nodeSelectors / serviceSelectors read it: ORed, and the empty list is
 * "no restriction" (matches everything). Callers that need "empty matches nothing" use `.some()`.
 */
export function matchesAny(selectors: readonly LabelSelector[], labels: Labels): boolean {
  return selectors.length === 0 || selectors.some((s) => selectorMatches(s, labels));
}
