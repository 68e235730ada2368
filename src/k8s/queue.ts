// A keyed, de-duplicating work queue (STYLE.md §8, client-go's workqueue semantics):
// - add(key): a key waiting in the queue is not added twice; a key being processed is marked dirty and
//   queued again once its reconcile finishes (so a change during a reconcile is never lost, and one key
//   is never reconciled twice at the same time);
// - the reconciler returns Ok, Retry (per-key exponential backoff) or Error (logged, retried with backoff);
// - addAfter(key, ms) delays (coalescing timers: the earliest wins);
// - `workers` keys are reconciled concurrently.
// Reconcilers read the current state from the caches: the key says what to look at, not what happened.
import type { Logger } from '../log.ts';
import { backoffDelay, type BackoffOptions } from './watch.ts';

export const Outcome = { Ok: 'ok', Retry: 'retry', Error: 'error' } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export type ReconcileResult = { readonly outcome: typeof Outcome.Ok } | { readonly outcome: typeof Outcome.Retry; readonly reason: string } | { readonly outcome: typeof Outcome.Error; readonly reason: string };

export const ok: ReconcileResult = { outcome: Outcome.Ok };
export const retry = (reason: string): ReconcileResult => ({ outcome: Outcome.Retry, reason });

export type Reconcile = (key: string) => Promise<ReconcileResult>;

export interface QueueOptions {
  readonly reconcile: Reconcile;
  readonly logger: Logger;
  readonly workers?: number;
  readonly backoff?: BackoffOptions;
}

export interface WorkQueue {
  add(key: string): void;
  addAfter(key: string, ms: number): void;
  start(): void;
  /** Stops taking keys; resolves when running reconciles have finished. */
  stop(): Promise<void>;
  /** Resolves when nothing is queued, delayed or running. */
  idle(): Promise<void>;
  readonly length: number;
  /** Failures so far per key (reset by an Ok). */
  failures(key: string): number;
}

export const QUEUE_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 60_000 };

export function createQueue(opts: QueueOptions): WorkQueue {
  const log = opts.logger;
  const workers = opts.workers ?? 1;
  const backoff = opts.backoff ?? QUEUE_BACKOFF;
  const queue: string[] = [];
  let head = 0;
  const queued = new Set<string>();
  const processing = new Set<string>();
  const dirty = new Set<string>();
  const timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  const fails = new Map<string, number>();
  let running = 0;
  let started = false;
  let stopped = false;
  let idleWaiters: (() => void)[] = [];

  function checkIdle(): void {
    if (running === 0 && queue.length - head === 0 && timers.size === 0 && idleWaiters.length > 0) {
      const w = idleWaiters;
      idleWaiters = [];
      for (const f of w) f();
    }
  }

  function add(key: string): void {
    if (stopped) return;
    if (processing.has(key)) {
      dirty.add(key);
      return;
    }
    if (queued.has(key)) return;
    queued.add(key);
    queue.push(key);
    pump();
  }

  function addAfter(key: string, ms: number): void {
    if (stopped) return;
    if (ms <= 0) {
      add(key);
      return;
    }
    const at = Date.now() + ms;
    const existing = timers.get(key);
    if (existing !== undefined) {
      if (existing.at <= at) return;
      clearTimeout(existing.timer);
    }
    const timer = setTimeout(() => {
      timers.delete(key);
      add(key);
      checkIdle();
    }, ms);
    timers.set(key, { at, timer });
  }

  function take(): string | undefined {
    if (head >= queue.length) return undefined;
    const key = queue[head++];
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    return key;
  }

  function pump(): void {
    if (!started || stopped) return;
    while (running < workers) {
      const key = take();
      if (key === undefined) break;
      queued.delete(key);
      processing.add(key);
      running++;
      void work(key);
    }
  }

  async function work(key: string): Promise<void> {
    let result: ReconcileResult;
    try {
      result = await opts.reconcile(key);
    } catch (e) {
      result = { outcome: Outcome.Error, reason: e instanceof Error ? e.message : String(e) };
    }
    processing.delete(key);
    running--;
    if (result.outcome === Outcome.Ok) {
      fails.delete(key);
    } else {
      const n = (fails.get(key) ?? 0) + 1;
      fails.set(key, n);
      const delay = backoffDelay(n, backoff);
      const fields = { key, reason: result.reason, attempt: n, retryInMs: delay };
      if (result.outcome === Outcome.Error) log.warn(fields, 'reconcile failed');
      else log.debug(fields, 'reconcile will be retried');
      addAfter(key, delay);
    }
    if (dirty.delete(key)) add(key);
    pump();
    checkIdle();
  }

  return {
    add,
    addAfter,
    start() {
      started = true;
      pump();
    },
    async stop() {
      stopped = true;
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      while (running > 0) await new Promise((r) => setTimeout(r, 10));
    },
    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        checkIdle();
      });
    },
    get length() {
      return queue.length - head;
    },
    failures: (key) => fails.get(key) ?? 0,
  };
}
