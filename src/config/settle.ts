// The last-good rule: an invalid object never takes effect and never takes the rest down. Its last valid
// version stays in force, or it is absent if it was never valid.
//
// settle() runs one kind's objects through `attempt` against the objects already accepted (so
// cross-object rules such as pool overlap are checked incrementally). Objects unchanged since the last
// compile go first: they are in force, and a newcomer that conflicts with them is the one rejected.
// When the current version of an object fails, its last valid version is tried in the current context.

import { describeRef, isError, makeProblem, objectKey, type ObjectKey, type ObjectRef, type Problem } from './problems.ts';

/** The raw object versions in force after a compile, keyed by objectKey. Feed it to the next compile. */
export interface LastGoodStore {
  readonly objects: ReadonlyMap<ObjectKey, unknown>;
}

export const emptyStore: LastGoodStore = { objects: new Map() };

export const ObjectState = {
  /** The current version is valid and in force. */
  Valid: 'valid',
  /** The current version is invalid; the last valid version stays in force. */
  Stale: 'stale',
  /** Invalid and nothing in force (never valid, or the last valid version no longer fits either). */
  Invalid: 'invalid',
} as const;
export type ObjectState = (typeof ObjectState)[keyof typeof ObjectState];

export interface ObjectStatus {
  readonly ref: ObjectRef;
  readonly state: ObjectState;
}

export interface Attempt<O> {
  /** undefined when the version is rejected. */
  readonly value: O | undefined;
  /** With a value: warnings only (the object is in force). Without: at least one error. */
  readonly problems: readonly Problem[];
}

/** Mutable accumulator threaded through one compile (local to compile(): no module state). */
export interface SettleState {
  readonly previous: LastGoodStore;
  readonly next: Map<ObjectKey, unknown>;
  readonly problems: Problem[];
  readonly statuses: ObjectStatus[];
}

export function newSettleState(previous: LastGoodStore): SettleState {
  return { previous, next: new Map(), problems: [], statuses: [] };
}

export interface SettleItem<R> {
  readonly raw: R;
  readonly ref: ObjectRef;
}

/**
 * Accepts the valid objects among `items`, in a deterministic order, each checked against those
 * accepted before it. `attempt(raw, previousRaw, accepted)` validates one version.
 */
export function settle<R, O>(
  state: SettleState,
  items: readonly SettleItem<R>[],
  attempt: (raw: R, previousRaw: R | undefined, accepted: readonly O[]) => Attempt<O>,
  accepted: O[] = [],
): O[] {
  // One object per key: a snapshot never holds two (the manifest loader reports duplicates); keep the last.
  const byKey = new Map<ObjectKey, SettleItem<R>>();
  for (const it of items) byKey.set(objectKey(it.ref), it);
  const withPrev = [...byKey.values()].map((it, index) => {
    const key = objectKey(it.ref);
    const prev = state.previous.objects.get(key) as R | undefined;
    return { ...it, key, prev, index, created: creationTimestamp(it.raw), unchanged: prev !== undefined && sameObject(prev, it.raw) };
  });
  // In force first; then older objects before newer ones (the later one is the one that conflicts);
  // then the order given (manifest order; informer callers sort by key).
  withPrev.sort((a, b) => {
    if (a.unchanged !== b.unchanged) return a.unchanged ? -1 : 1;
    if (a.created !== b.created) return a.created < b.created ? -1 : 1;
    return a.index - b.index;
  });
  for (const it of withPrev) {
    const cur = attempt(it.raw, it.prev, accepted);
    if (cur.value !== undefined) {
      accepted.push(cur.value);
      state.next.set(it.key, it.raw);
      state.problems.push(...cur.problems); // warnings: the object is in force
      state.statuses.push({ ref: it.ref, state: ObjectState.Valid });
      continue;
    }
    if (it.prev !== undefined && !it.unchanged) {
      const old = attempt(it.prev, it.prev, accepted);
      if (old.value !== undefined) {
        accepted.push(old.value);
        state.next.set(it.key, it.prev);
        state.problems.push(...annotate(cur.problems, it.ref, 'the last valid version stays in force'), ...old.problems);
        state.statuses.push({ ref: it.ref, state: ObjectState.Stale });
        continue;
      }
    }
    const why = it.prev === undefined ? 'the object has no effect until fixed' : 'the object has no effect until fixed (its last valid version does not fit the current configuration either)';
    state.problems.push(...annotate(cur.problems, it.ref, why));
    state.statuses.push({ ref: it.ref, state: ObjectState.Invalid });
  }
  return accepted;
}

function annotate(problems: readonly Problem[], ref: ObjectRef, consequence: string): Problem[] {
  const list = problems.some(isError) ? problems : [...problems, makeProblem(ref, undefined, `${describeRef(ref)} is invalid`)];
  return list.map((p) => (isError(p) ? { ...p, message: `${p.message}; ${consequence}` } : p));
}

/** metadata.creationTimestamp as sortable text ("" when absent); Date values are accepted too. */
function creationTimestamp(o: unknown): string {
  if (typeof o !== 'object' || o === null) return '';
  const meta = (o as Readonly<Record<string, unknown>>)['metadata'];
  if (typeof meta !== 'object' || meta === null) return '';
  const t = (meta as Readonly<Record<string, unknown>>)['creationTimestamp'];
  if (t instanceof Date) return t.toISOString();
  return typeof t === 'string' ? t : '';
}

/** Two versions are the same when apiVersion, labels, annotations and spec are equal. */
export function sameObject(a: unknown, b: unknown): boolean {
  return stableJSON(significant(a)) === stableJSON(significant(b));
}

function significant(o: unknown): unknown {
  if (typeof o !== 'object' || o === null) return o;
  const r = o as Readonly<Record<string, unknown>>;
  const meta = (typeof r['metadata'] === 'object' && r['metadata'] !== null ? r['metadata'] : {}) as Readonly<Record<string, unknown>>;
  return { apiVersion: r['apiVersion'], labels: meta['labels'], annotations: meta['annotations'], spec: r['spec'] };
}

export function stableJSON(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJSON).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJSON(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
