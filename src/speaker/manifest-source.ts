// The standalone speaker's loop: read the manifests (file or folder), plan, apply; again on every
// change (fs.watch, debounced) and periodically as a fallback for changes a watch misses (network
// file systems, editors that replace folders). Reconciles never overlap: a change during one runs
// another right after it. A re-read of files whose identity, size and times did not change costs a
// stat each and plans nothing; a changed file re-parses only its changed documents
// (config/manifests.ts createManifestReader). In `berth speaker` this loop runs on the planner thread
// (plan-thread.ts), away from the engines' timers.
//
// Unreadable snapshots keep the previous plan in force (agent.keep): the path is gone or unreadable,
// no manifest file is left, or some file does not parse as YAML (a half-written file must not
// withdraw everything it held). Objects that parse but are invalid are config's business: their last
// valid version stays in force (last-good store).
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { statSync } from 'node:fs';
import type { Logger } from '../log.ts';
import type { LastGoodStore } from '../config/compile.ts';
import type { Config } from '../config/model.ts';
import { createManifestReader, type ManifestReader, type ManifestResult, type ReadResult } from '../config/manifests.ts';
import type { Problem } from '../config/problems.ts';
import type { ServiceOptions } from '../config/services.ts';
import type { Agent } from './agent.ts';
import { createSnapshotPlanMemo, planSnapshot } from './snapshot-plan.ts';
import { serialRunner } from './serial.ts';
import type { PlanOptions } from './plan.ts';

export const DEFAULT_DEBOUNCE_MS = 200;
export const DEFAULT_RESYNC_MS = 10_000;

export interface ManifestSpeakerOptions {
  readonly path: string;
  readonly nodeName: string;
  readonly agent: Agent;
  readonly logger: Logger;
  readonly serviceOptions?: ServiceOptions;
  readonly planOptions?: PlanOptions;
  readonly debounceMs?: number;
  /** Periodic re-read; 0 turns it off. */
  readonly resyncMs?: number;
  /** Called with each newly compiled configuration, before its plan is applied. */
  readonly onConfig?: (config: Config) => void;
  /** Watch the path for changes (default true). */
  readonly watch?: boolean;
  /** Injected for tests (every call counts as a change); default: a reader that skips unchanged files
   * and re-parses only changed documents (createManifestReader). */
  readonly load?: (path: string) => ManifestResult;
}

export interface ManifestSpeaker {
  /** Reads, plans and applies once, then starts watching. */
  start(): Promise<void>;
  /** One read-plan-apply now (queued behind a running one). */
  reconcile(): Promise<void>;
  stop(): void;
}

export function createManifestSpeaker(opts: ManifestSpeakerOptions): ManifestSpeaker {
  const log = opts.logger;
  const load = opts.load;
  const reader: ManifestReader = load === undefined ? createManifestReader(opts.path) : { read: () => ({ changed: true, result: load(opts.path) }) };
  let store: LastGoodStore | undefined;
  // Unchanged Services and config are not translated, compiled or planned again.
  const memo = createSnapshotPlanMemo();
  let lastProblems = '';
  let stopped = false;
  let debounce: NodeJS.Timeout | undefined;
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let topWatcher: FSWatcher | undefined;

  function unreadable(loaded: ManifestResult): string | undefined {
    const fileProblems = loaded.problems.filter((p) => p.kind === 'File');
    if (fileProblems.length > 0) return `cannot parse ${fileProblems.map((p) => `${p.name}: ${p.message}`).join('; ')}`;
    return undefined;
  }

  function logProblems(problems: readonly Problem[]): void {
    const text = problems.map((p) => `${p.kind}/${p.namespace ?? ''}/${p.name} ${p.field ?? ''}: ${p.message}`).join('\n');
    if (text === lastProblems) return;
    lastProblems = text;
    for (const p of problems) log.warn({ object: `${p.kind} ${p.namespace === undefined ? '' : `${p.namespace}/`}${p.name}`, field: p.field, reason: p.message }, 'configuration problem');
  }

  async function once(): Promise<void> {
    let read: ReadResult;
    try {
      read = reader.read();
    } catch (e) {
      opts.agent.keep(`cannot read ${opts.path}: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
    // Files unchanged since the last read: the plan in force stands (resync costs a stat per file).
    if (!read.changed) return;
    const loaded = read.result;
    const bad = unreadable(loaded);
    if (bad !== undefined) {
      opts.agent.keep(bad);
      return;
    }
    const result = planSnapshot({ snapshot: loaded.snapshot, nodeName: opts.nodeName, ...(store === undefined ? {} : { store }), ...(opts.serviceOptions === undefined ? {} : { serviceOptions: opts.serviceOptions }), ...(opts.planOptions === undefined ? {} : { planOptions: opts.planOptions }) }, memo);
    store = result.store;
    opts.onConfig?.(result.config);
    logProblems([...loaded.problems, ...result.problems]);
    await opts.agent.apply(result.plan);
  }

  const reconcile = serialRunner(once, {
    stopped: () => stopped,
    onError: (e) => log.error({ node: opts.nodeName, reason: e instanceof Error ? e.message : String(e) }, 'reconcile failed; retrying on the next change or resync'),
  });

  function onChange(): void {
    if (stopped) return;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      void reconcile();
    }, opts.debounceMs ?? DEFAULT_DEBOUNCE_MS);
  }

  function startWatch(): void {
    try {
      const isDir = statSync(opts.path).isDirectory();
      const target = isDir ? opts.path : dirname(opts.path);
      const name = basename(opts.path);
      watcher = watch(target, { recursive: isDir, persistent: false }, (_event, file) => {
        if (!isDir && file !== null && file !== name) return;
        onChange();
      });
      watcher.on('error', (e) => {
        log.warn({ reason: e.message }, 'manifest watch failed; relying on the periodic re-read');
        watcher?.close();
        watcher = undefined;
      });
      // Node 20's recursive watch on Linux follows each file's inode: after a file is replaced by
      // rename (write + rename, how config tools write), later replacements of it raise no event
      // and only the periodic re-read saw them. A plain watch of the folder itself sees every
      // rename into it, so top-level files are always noticed at once.
      if (isDir) {
        topWatcher = watch(target, { persistent: false }, () => {
          onChange();
        });
        topWatcher.on('error', () => {
          topWatcher?.close();
          topWatcher = undefined;
        });
      }
    } catch (e) {
      log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'cannot watch the manifests; relying on the periodic re-read');
    }
  }

  return {
    async start() {
      await reconcile();
      if (opts.watch !== false) startWatch();
      const every = opts.resyncMs ?? DEFAULT_RESYNC_MS;
      if (every > 0) {
        timer = setInterval(() => void reconcile(), every);
      }
    },
    reconcile,
    stop() {
      stopped = true;
      if (debounce !== undefined) clearTimeout(debounce);
      if (timer !== undefined) clearInterval(timer);
      watcher?.close();
      topWatcher?.close();
    },
  };
}
