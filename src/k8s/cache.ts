// The informer set: one reflector per Snapshot field a component needs, and snapshot(), which turns the
// stores into the same Snapshot the manifest reader builds (src/config/snapshot.ts), so compile(),
// allocation and planning run unchanged on either source.
import type { Logger } from '../log.ts';
import { emptySnapshot, type Snapshot } from '../config/snapshot.ts';
import { OPENELB_FIELDS, type CompileOptions } from '../config/compile.ts';
import type { Rest } from './rest.ts';
import { SnapshotResources } from './resources.ts';
import { createReflector, type BackoffOptions, type KubeObject, type Reflector, type WatchEvent } from './watch.ts';

export type SnapshotField = keyof Snapshot;

/** The fields a process watches: without the OpenELB ones when that dialect is off (their CRDs may be absent). */
export function watchedFields(fields: readonly SnapshotField[], options: CompileOptions): readonly SnapshotField[] {
  const openelb: readonly SnapshotField[] = OPENELB_FIELDS;
  return options.openelb === false ? fields.filter((f) => !openelb.includes(f)) : fields;
}

export type CacheHandler = (field: SnapshotField, type: WatchEvent, key: string, obj: KubeObject, previous: KubeObject | undefined) => void;

export interface CacheOptions {
  readonly rest: Rest;
  readonly logger: Logger;
  readonly fields: readonly SnapshotField[];
  /** Per-field namespace restriction (e.g. secrets: the berth namespace only). */
  readonly namespaces?: Partial<Record<SnapshotField, string>>;
  readonly fieldSelectors?: Partial<Record<SnapshotField, string>>;
  readonly onEvent?: CacheHandler;
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: BackoffOptions;
}

export interface Cache {
  start(): void;
  stop(): void;
  /** Resolves when every reflector has listed once. */
  readonly synced: Promise<void>;
  snapshot(): Snapshot;
  get<F extends SnapshotField>(field: F, key: string): Snapshot[F][number] | undefined;
  reflector(field: SnapshotField): Reflector<KubeObject> | undefined;
  /** True when some reflector is failing (API server unreachable). */
  degraded(): boolean;
}

export function createCache(opts: CacheOptions): Cache {
  const reflectors = new Map<SnapshotField, Reflector<KubeObject>>();
  for (const field of opts.fields) {
    const ns = opts.namespaces?.[field];
    const fs = opts.fieldSelectors?.[field];
    reflectors.set(
      field,
      createReflector<KubeObject>({
        rest: opts.rest,
        resource: SnapshotResources[field],
        logger: opts.logger,
        ...(ns === undefined ? {} : { namespace: ns }),
        ...(fs === undefined ? {} : { fieldSelector: fs }),
        ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
        ...(opts.backoff === undefined ? {} : { backoff: opts.backoff }),
        onEvent: (type, key, obj, prev) => opts.onEvent?.(field, type, key, obj, prev),
      }),
    );
  }
  // Another request found the API server unreachable: a watch that still looks open may be a dead
  // stream of a server that is going away. Drop them; they resume from their resourceVersion.
  opts.rest.onUnreachable((reason) => {
    for (const r of reflectors.values()) r.reconnect(reason);
  });
  const synced = Promise.all([...reflectors.values()].map((r) => r.synced)).then(() => undefined);
  return {
    start() {
      for (const r of reflectors.values()) r.start();
    },
    stop() {
      for (const r of reflectors.values()) r.stop();
    },
    synced,
    snapshot() {
      const out: Record<string, unknown> = { ...emptySnapshot };
      for (const [field, r] of reflectors) out[field] = r.list();
      return out as unknown as Snapshot;
    },
    get(field, key) {
      return reflectors.get(field)?.get(key) as Snapshot[typeof field][number] | undefined;
    },
    reflector: (field) => reflectors.get(field),
    degraded: () => [...reflectors.values()].some((r) => r.failures() > 0),
  };
}
