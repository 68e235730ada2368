// A config problem names the object and the field and says what to do. Problems are data: compile()
// returns them, `berth check` prints them, the controller turns them into Events and status.

export interface ObjectRef {
  /** Kubernetes kind (IPAddressPool, Eip, BGPPeer, ...), or `File` for a manifest that did not parse. */
  readonly kind: string;
  /** Absent for cluster-scoped objects (Eip, BgpConf, BgpPeer, Node, Namespace). */
  readonly namespace?: string;
  readonly name: string;
}

export interface Problem extends ObjectRef {
  /** JSON-path-like location inside the object, e.g. `spec.addresses[1]`. */
  readonly field?: string;
  readonly message: string;
  /**
   * Absent: an error (the object, or this version of it, is refused). `warning`: the object is in force,
   * but part of what it says has no effect (e.g. an advertisement naming a pool that does not exist).
   */
  readonly severity?: typeof Severity.Warning;
}

export const Severity = { Warning: 'warning' } as const;

/** True for problems that refuse an object (everything but warnings). */
export function isError(p: Problem): boolean {
  return p.severity !== Severity.Warning;
}

/** Stable identity of an object across snapshots: `Kind/namespace/name` (namespace empty if cluster-scoped). */
export type ObjectKey = string;

export function objectKey(ref: ObjectRef): ObjectKey {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return ref.namespace === undefined ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/**
 * Builds problems for one object; `report(field, message)` records an error, `warn` a warning;
 * `problems` lists the errors, `warnings` the warnings.
 */
export interface ProblemSink {
  readonly ref: ObjectRef;
  report(field: string | undefined, message: string): void;
  warn(field: string | undefined, message: string): void;
  readonly problems: readonly Problem[];
  readonly warnings: readonly Problem[];
}

export function problemSink(ref: ObjectRef): ProblemSink {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  return {
    ref,
    problems,
    warnings,
    report(field, message) {
      problems.push(makeProblem(ref, field, message));
    },
    warn(field, message) {
      warnings.push(makeWarning(ref, field, message));
    },
  };
}

export function makeProblem(ref: ObjectRef, field: string | undefined, message: string): Problem {
  return {
    kind: ref.kind,
    ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
    name: ref.name,
    ...(field === undefined ? {} : { field }),
    message,
  };
}

export function makeWarning(ref: ObjectRef, field: string | undefined, message: string): Problem {
  return { ...makeProblem(ref, field, message), severity: Severity.Warning };
}

/** Problems sorted for stable output: by kind, namespace, name, field. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const key = (p: Problem): string => `${p.kind}\u0000${p.namespace ?? ''}\u0000${p.name}\u0000${p.field ?? ''}`;
  return [...problems].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
