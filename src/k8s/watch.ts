// A reflector: list + watch of one resource into an in-memory store, that never gives up.
//
//   list (resourceVersion from the answer) -> watch ?resourceVersion=RV&allowWatchBookmarks=true
//     &timeoutSeconds=T -> apply ADDED/MODIFIED/DELETED/BOOKMARK -> watch again from the last RV
//
// What client-node's informer gets wrong and this does not (kubernetes-client/javascript #795, #364, #1933):
// - any error (connection refused, reset, TLS, 5xx, a stream that ends) is retried with capped exponential
//   backoff and jitter, forever, until stop(); the backoff resets after a healthy watch;
// - 410 Gone / ERROR Expired on watch means the resourceVersion is too old: relist, replace the store,
//   and report the difference (objects that vanished while we were away are deleted, not leaked);
// - every watch is bounded server-side (timeoutSeconds, randomised) and client-side (a watch that sends
//   nothing, not even a bookmark, for longer than T + grace is torn down), so a silent stall cannot last;
// - relists after an outage are spread by jitter, so a fleet of speakers does not hammer a restarted
//   API server.
// The store is keyed by `namespace/name` (or `name`). Handlers see (type, key, object, previous).
import type { Logger } from '../log.ts';
import { ApiError, isGone, type Rest } from './rest.ts';
import { collectionPath, type Resource } from './resources.ts';

export const WatchEvent = { Added: 'ADDED', Modified: 'MODIFIED', Deleted: 'DELETED' } as const;
export type WatchEvent = (typeof WatchEvent)[keyof typeof WatchEvent];

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly uid?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  };
}

export type Handler<T> = (type: WatchEvent, key: string, obj: T, previous: T | undefined) => void;

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export interface ReflectorOptions<T> {
  readonly rest: Rest;
  readonly resource: Resource;
  readonly logger: Logger;
  /** Only this namespace (namespaced resources); undefined = all. */
  readonly namespace?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Server-side watch timeout (a random value in [T, 2T) is used per watch). Default 300 s. */
  readonly watchTimeoutSeconds?: number;
  readonly backoff?: BackoffOptions;
  /** How long past its timeout a silent watch is tolerated before it is cut (default 15 s). */
  readonly stallGraceMs?: number;
  readonly onEvent?: Handler<T>;
  /** Transforms each object before it is stored (e.g. drop managedFields). Default: drop managedFields. */
  readonly transform?: (obj: T) => T;
}

export interface Reflector<T> {
  start(): void;
  stop(): void;
  /** Resolves after the first successful list (the store is then complete). */
  readonly synced: Promise<void>;
  hasSynced(): boolean;
  get(key: string): T | undefined;
  list(): T[];
  keys(): string[];
  /** Consecutive failures since the last successful list/watch (0 = healthy). */
  failures(): number;
  /** Number of full lists done (the first one included): tests read relists from it. */
  lists(): number;
  /** Drops the current watch (it is resumed from its resourceVersion after the usual backoff). */
  reconnect(reason: string): void;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 200, maxMs: 30_000 };
const STALL_GRACE_MS = 15_000;

export function objectKeyOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/** Delay before retry `attempt` (1-based): initial * 2^(attempt-1), capped, with +-50% jitter. */
export function backoffDelay(attempt: number, b: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(base * (0.5 + random()));
}

function dropManagedFields<T>(obj: T): T {
  const o = obj as { metadata?: { managedFields?: unknown } };
  if (o.metadata?.managedFields !== undefined) delete o.metadata.managedFields;
  return obj;
}

interface ListAnswer<T> {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly T[];
}

interface WatchLine<T> {
  readonly type?: string;
  readonly object?: T & { readonly code?: number; readonly reason?: string; readonly message?: string };
}

const sleep = (ms: number, signal: { stopped: boolean; wake?: () => void }): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

export function createReflector<T extends KubeObject>(opts: ReflectorOptions<T>): Reflector<T> {
  const log = opts.logger.child({ resource: opts.resource.plural });
  const store = new Map<string, T>();
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const timeoutS = opts.watchTimeoutSeconds ?? 300;
  const transform = opts.transform ?? dropManagedFields;
  const base = collectionPath(opts.resource, opts.namespace);
  const ctl: { stopped: boolean; wake?: () => void; close?: (() => void) | undefined } = { stopped: false };
  let synced = false;
  let failures = 0;
  let listCount = 0;
  let resolveSynced: () => void = () => undefined;
  const syncedP = new Promise<void>((r) => (resolveSynced = r));

  const query = (extra: Record<string, string>): string => {
    const q = new URLSearchParams();
    if (opts.labelSelector !== undefined) q.set('labelSelector', opts.labelSelector);
    if (opts.fieldSelector !== undefined) q.set('fieldSelector', opts.fieldSelector);
    for (const [k, v] of Object.entries(extra)) q.set(k, v);
    return q.toString();
  };

  const emit = (type: WatchEvent, key: string, obj: T, prev: T | undefined): void => {
    try {
      opts.onEvent?.(type, key, obj, prev);
    } catch (e) {
      log.error({ reason: e instanceof Error ? e.message : String(e) }, 'event handler threw');
    }
  };

  async function list(): Promise<string> {
    const fresh = new Map<string, T>();
    let rv = '';
    let cont: string | undefined;
    do {
      const page = await opts.rest.request<ListAnswer<T>>('GET', `${base}?${query({ limit: '500', ...(cont === undefined ? {} : { continue: cont }) })}`, { timeoutMs: 60_000 });
      for (const item of page.items ?? []) {
        const obj = transform(item);
        fresh.set(objectKeyOf(obj), obj);
      }
      rv = page.metadata?.resourceVersion ?? rv;
      cont = page.metadata?.continue;
      if (cont === '') cont = undefined;
    } while (cont !== undefined);
    // Replace: report adds, changes and the deletions that happened while we were not watching.
    for (const [key, old] of [...store]) {
      if (!fresh.has(key)) {
        store.delete(key);
        emit(WatchEvent.Deleted, key, old, old);
      }
    }
    for (const [key, obj] of fresh) {
      const old = store.get(key);
      store.set(key, obj);
      if (old === undefined) emit(WatchEvent.Added, key, obj, undefined);
      else if (old.metadata?.resourceVersion !== obj.metadata?.resourceVersion) emit(WatchEvent.Modified, key, obj, old);
    }
    listCount++;
    if (!synced) {
      synced = true;
      resolveSynced();
    }
    return rv;
  }

  /** Watches from `rv` until the stream ends; returns the last resourceVersion seen. Throws on errors. */
  async function watch(rv: string): Promise<string> {
    const t = timeoutS + Math.floor(Math.random() * timeoutS);
    const stream = await opts.rest.stream(`${base}?${query({ watch: '1', resourceVersion: rv, allowWatchBookmarks: 'true', timeoutSeconds: String(t) })}`);
    ctl.close = stream.close;
    // Client-side bound: the server must end the watch by T; if nothing arrives for T + grace, cut it.
    let lastSeen = Date.now();
    const guard = setInterval(() => {
      if (Date.now() - lastSeen > t * 1000 + (opts.stallGraceMs ?? STALL_GRACE_MS)) {
        log.warn({ reason: 'watch silent past its timeout' }, 'closing a stalled watch');
        stream.close();
      }
    }, Math.min(5_000, Math.max(100, Math.floor((opts.stallGraceMs ?? STALL_GRACE_MS) / 2))));
    guard.unref();
    let last = rv;
    let healthy = false;
    try {
      for await (const line of stream.lines) {
        lastSeen = Date.now();
        let ev: WatchLine<T>;
        try {
          ev = JSON.parse(line) as WatchLine<T>;
        } catch {
          throw new ApiError(0, undefined, `watch ${base}: unparseable line`);
        }
        const obj = ev.object;
        if (obj === undefined) continue;
        if (ev.type === 'ERROR') {
          throw new ApiError(obj.code ?? 500, obj.reason, `watch ${base}: ${obj.message ?? 'error'}`);
        }
        const newRv = obj.metadata?.resourceVersion;
        if (newRv !== undefined && newRv !== '') last = newRv;
        if (!healthy) {
          healthy = true;
          failures = 0;
        }
        if (ev.type === 'BOOKMARK') continue;
        const item = transform(obj as T);
        const key = objectKeyOf(item);
        const prev = store.get(key);
        if (ev.type === WatchEvent.Deleted) {
          store.delete(key);
          emit(WatchEvent.Deleted, key, item, prev);
        } else if (ev.type === WatchEvent.Added || ev.type === WatchEvent.Modified) {
          store.set(key, item);
          emit(prev === undefined ? WatchEvent.Added : WatchEvent.Modified, key, item, prev);
        }
      }
    } finally {
      clearInterval(guard);
      ctl.close = undefined;
    }
    return last;
  }

  async function run(): Promise<void> {
    let rv: string | undefined;
    while (!ctl.stopped) {
      try {
        if (rv === undefined) {
          rv = await list();
          failures = 0;
        }
        const began = Date.now();
        rv = await watch(rv);
        // A watch the server ends at once (shutting down, proxy in between) must not become a hot loop.
        if (Date.now() - began < 1_000 && !ctl.stopped) await sleep(backoffDelay(++failures, backoff), ctl);
      } catch (e) {
        if (ctl.stopped) break;
        if (isGone(e)) {
          log.info({ reason: e instanceof Error ? e.message : String(e) }, 'resourceVersion expired; relisting');
          rv = undefined;
          continue;
        }
        failures++;
        // Keep rv: watching again from it misses nothing, and is far cheaper for a restarted API server
        // than a relist; if it is too old by then, the server says 410 and we relist.
        const delay = backoffDelay(failures, backoff);
        log.warn({ reason: e instanceof Error ? e.message : String(e), attempt: failures, retryInMs: delay }, 'list/watch failed; retrying');
        await sleep(delay, ctl);
      }
    }
  }

  let started = false;
  return {
    start() {
      if (started) return;
      started = true;
      void run();
    },
    stop() {
      ctl.stopped = true;
      ctl.wake?.();
      ctl.close?.();
    },
    synced: syncedP,
    hasSynced: () => synced,
    get: (key) => store.get(key),
    list: () => [...store.values()],
    keys: () => [...store.keys()],
    failures: () => failures,
    lists: () => listCount,
    reconnect(reason) {
      if (ctl.close === undefined) return;
      log.info({ reason }, 'dropping the watch: the API server looked unreachable');
      ctl.close();
    },
  };
}
