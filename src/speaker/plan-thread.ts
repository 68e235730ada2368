// The planner thread: where `berth speaker` reads (manifests, or the API server's watches), compiles,
// plans and writes status, so that nothing it does can delay the engines' timers (docs/scale.md
// "Timers are never starved").
//
//   main thread     BGP sessions (keepalives, hold timers), the L2 engine (announcement refresh), the
//                   health / metrics server, signals. Applies plan *changes* (plan-delta.ts): work
//                   proportional to what changed.
//   planner thread  the manifest loop (manifest-source.ts: stat, parse changed documents, compile,
//                   allocate, plan) or the Kubernetes speaker (src/k8s/speaker.ts: informers, plan,
//                   ServiceL2Status/ServiceBGPStatus, Events), the per-Service logs. A full plan of
//                   100,000 Services takes seconds of CPU here and none on the main thread.
//
// Messages (structured clone over the worker's port):
//   planner -> main   hello {listenPort}      once, after the first read (the BGP listener's port)
//                     apply {id, delta}       main answers applied {id, result} or failed {id, reason}
//                     keep {reason}           the snapshot is unusable: the plan in force stays
//                     started                 the first reconcile is done
//                     ready {ready}           readiness changed (Kubernetes: caches synced)
//                     fatal {reason}          the loop cannot run; the process stops
//   main -> planner   applied / failed, reconcile, stop, conflict (a duplicate owner: Kubernetes Event)
import type { Worker } from 'node:worker_threads';
import type { Logger } from '../log.ts';
import type { ServiceOptions } from '../config/services.ts';
import { siblingModule, startModuleWorker } from '../threads.ts';
import type { Agent, ApplyResult } from './agent.ts';
import type { PlanDelta } from './plan-delta.ts';
import type { Conflict } from '../liveness/runtime.ts';

/** What the planner thread runs (its workerData). */
export type PlanThreadData = ManifestPlanData | KubePlanData;

export interface ManifestPlanData {
  readonly kind: 'manifests';
  readonly path: string;
  readonly nodeName: string;
  readonly logLevel: string;
  readonly serviceOptions?: ServiceOptions;
  readonly debounceMs?: number;
  readonly resyncMs?: number;
  /** Diagnostics and tests: each plan after the first spins this long first (a stand-in for a slow plan). */
  readonly stallMs?: number;
  /** plan.ts PlanOptions.l2Window (liveness on: the VIPs this node stands by for are planned too). */
  readonly l2Window?: number;
}

/** The Kubernetes mode (src/k8s/speaker.ts): informers, plan and status writes all run on the planner. */
export interface KubePlanData {
  readonly kind: 'kubernetes';
  readonly nodeName: string;
  readonly namespace: string;
  readonly kubeconfig?: string;
  readonly logLevel: string;
  readonly serviceOptions?: ServiceOptions;
  readonly pod?: { readonly name: string; readonly uid: string };
  /** --listen-port; else the OpenELB BgpConf's, read at start. */
  readonly listenPort?: number;
  /** plan.ts PlanOptions.l2Window (liveness on). */
  readonly l2Window?: number;
  /** Diagnostics and tests (BERTH_PLAN_STALL_MS): each plan after the first spins this long first. */
  readonly stallMs?: number;
}

export type ToMain =
  | { readonly op: 'hello'; readonly listenPort: number | undefined }
  | { readonly op: 'apply'; readonly id: number; readonly delta: PlanDelta }
  | { readonly op: 'keep'; readonly reason: string }
  | { readonly op: 'started' }
  | { readonly op: 'ready'; readonly ready: boolean }
  | { readonly op: 'stall'; readonly phase: 'begin' | 'end' }
  | { readonly op: 'fatal'; readonly reason: string };

export type ToPlanner =
  | { readonly op: 'applied'; readonly id: number; readonly result: ApplyResult }
  | { readonly op: 'failed'; readonly id: number; readonly reason: string }
  | { readonly op: 'reconcile' }
  | { readonly op: 'conflict'; readonly conflict: Conflict }
  | { readonly op: 'stop' };

export interface PlanThreadOptions {
  readonly data: PlanThreadData;
  readonly logger: Logger;
  /** Told once when the planner thread fails (it cannot be restarted in place). */
  readonly onFatal: (reason: string) => void;
  /** Tests: observe every message from the planner. */
  readonly onMessage?: (m: ToMain) => void;
  /** Tests: another entry module. */
  readonly entry?: URL;
}

export interface PlanThread {
  /** The BGP listen port the manifests configure (OpenELB BgpConf), known after the first read. */
  readonly hello: Promise<number | undefined>;
  /** Hands the engines' agent over; plan changes that arrived before wait for it. */
  attach(agent: Agent): void;
  /** Resolves after the first reconcile was applied. */
  readonly started: Promise<void>;
  /** The planner's readiness (manifests: the first plan applied; Kubernetes: the caches synced and a
   * plan applied). */
  ready(): boolean;
  /** Asks for one reconcile now. */
  reconcile(): void;
  /** A duplicate owner seen by the liveness gate (Kubernetes mode records an Event). */
  conflict(c: Conflict): void;
  /** Stops the planner (no more plan changes are applied). */
  stop(): Promise<void>;
}

export function startPlanThread(opts: PlanThreadOptions): PlanThread {
  const log = opts.logger;
  const worker: Worker = startModuleWorker(opts.entry ?? siblingModule(import.meta.url, 'plan-worker'), opts.data, 'berth-planner');
  let agentReady: (a: Agent) => void = () => undefined;
  const agent = new Promise<Agent>((r) => (agentReady = r));
  let helloDone: (p: number | undefined) => void = () => undefined;
  const hello = new Promise<number | undefined>((r) => (helloDone = r));
  let startedDone: () => void = () => undefined;
  const started = new Promise<void>((r) => (startedDone = r));
  let stopping = false;
  let failed = false;
  let ready = false;
  const post = (m: ToPlanner): void => {
    if (!stopping) worker.postMessage(m);
  };
  const fatal = (reason: string): void => {
    if (failed || stopping) return;
    failed = true;
    helloDone(undefined);
    opts.onFatal(reason);
  };

  worker.on('message', (m: ToMain) => {
    opts.onMessage?.(m);
    switch (m.op) {
      case 'hello':
        helloDone(m.listenPort);
        return;
      case 'apply':
        void agent
          .then((a) => a.applyDelta(m.delta))
          .then(
            (result) => post({ op: 'applied', id: m.id, result }),
            (e: unknown) => post({ op: 'failed', id: m.id, reason: e instanceof Error ? e.message : String(e) }),
          );
        return;
      case 'keep':
        void agent.then((a) => a.keep(m.reason));
        return;
      case 'started':
        startedDone();
        return;
      case 'ready':
        ready = m.ready;
        return;
      case 'stall':
        return;
      case 'fatal':
        fatal(m.reason);
        return;
      default: {
        const never: never = m;
        log.warn({ reason: JSON.stringify(never) }, 'planner thread: unknown message');
      }
    }
  });
  worker.on('error', (e) => {
    log.fatal({ reason: e.message }, 'planner thread crashed');
    fatal(`planner thread crashed: ${e.message}`);
  });
  worker.on('exit', (code) => {
    if (!stopping) fatal(`planner thread exited (code ${code})`);
  });

  return {
    hello,
    started,
    attach: (a) => agentReady(a),
    ready: () => ready,
    reconcile: () => post({ op: 'reconcile' }),
    conflict: (conflict) => post({ op: 'conflict', conflict }),
    async stop() {
      if (stopping) return;
      post({ op: 'stop' });
      stopping = true;
      await worker.terminate();
    },
  };
}
