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
}

/** Stable identity of an object across snapshots: `Kind/namespace/name` (namespace empty if cluster-scoped). */
export type ObjectKey = string;

export function objectKey(ref: ObjectRef): ObjectKey {
  return `${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

export function describeRef(ref: ObjectRef): string {
  return ref.namespace === undefined ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}

/** Builds problems for one object; `report(field, message)` records, `problems` lists them. */
export interface ProblemSink {
  readonly ref: ObjectRef;
  report(field: string | undefined, message: string): void;
  readonly problems: readonly Problem[];
}

export function problemSink(ref: ObjectRef): ProblemSink {
  const problems: Problem[] = [];
  return {
    ref,
    problems,
    report(field, message) {
      problems.push(makeProblem(ref, field, message));
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

/** Problems sorted for stable output: by kind, namespace, name, field. */
export function sortProblems(problems: readonly Problem[]): Problem[] {
  const key = (p: Problem): string => `${p.kind}\u0000${p.namespace ?? ''}\u0000${p.name}\u0000${p.field ?? ''}`;
  return [...problems].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}
