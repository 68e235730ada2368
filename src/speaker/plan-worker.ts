// The planner thread's entry (plan-thread.ts): runs the manifest loop (manifest-source.ts) or the
// Kubernetes speaker (src/k8s/speaker.ts) with an agent that sends each plan's change to the main
// thread and waits for the engines' answer.
import { parentPort, workerData } from 'node:worker_threads';
import type { Level } from 'pino';
import { createLogger } from '../log.ts';
import { createManifestSpeaker } from './manifest-source.ts';
import { createPlanDiffer, emptyDelta } from './plan-delta.ts';
import { logServiceChanges, type Agent, type ApplyResult, type ServiceStates } from './agent.ts';
import type { KubePlanData, ManifestPlanData, PlanThreadData, ToMain, ToPlanner } from './plan-thread.ts';
import { bgpConfListenPort, createKubeSpeaker } from '../k8s/speaker.ts';
import { createRest } from '../k8s/rest.ts';
import { loadConnection } from '../k8s/kubeconfig.ts';
import type { Conflict } from '../liveness/runtime.ts';

const port = parentPort;
if (port === null) throw new Error('plan-worker.ts runs as a worker thread (src/speaker/plan-thread.ts)');
const data = workerData as PlanThreadData;
const log = createLogger({ level: data.logLevel as Level | 'silent', name: 'speaker' });
const post = (m: ToMain): void => port.postMessage(m);

let helloSent = false;
function hello(listenPort: number | undefined): void {
  if (helloSent) return;
  helloSent = true;
  post({ op: 'hello', listenPort });
}

const pending = new Map<number, { resolve: (r: ApplyResult) => void; reject: (e: Error) => void }>();
let nextId = 1;
let differ = createPlanDiffer();
// Not the last plan (100,000 Service plans): one state string per Service, for the change logs.
let serviceStates: ServiceStates | undefined;
let lastResult: ApplyResult | undefined;

const agent: Agent = {
  // The plan stays with the manifest source only while it is applied.
  current: undefined,
  apply(plan) {
    const delta = differ.diff(plan);
    serviceStates = logServiceChanges(log, serviceStates, plan);
    // Nothing changed for the engines: nothing to send.
    if (emptyDelta(delta) && lastResult !== undefined) return Promise.resolve(lastResult);
    return send(delta);
  },
  applyDelta: (delta) => send(delta),
  keep(reason) {
    hello(undefined);
    post({ op: 'keep', reason });
  },
  close: () => Promise.resolve(),
};

function send(delta: Parameters<Agent['applyDelta']>[0]): Promise<ApplyResult> {
  const id = nextId++;
  return new Promise<ApplyResult>((resolve, reject) => {
    pending.set(id, { resolve, reject });
    post({ op: 'apply', id, delta });
  }).then((r) => (lastResult = r), (e: unknown) => {
    lastResult = undefined;
    throw e;
  }).catch((e: unknown) => {
    // The engines did not take it: start over with a whole plan next time.
    differ = createPlanDiffer();
    serviceStates = undefined;
    throw e;
  });
}

let reconciles = 0;
function stall(ms: number | undefined): void {
  if (ms === undefined || ms <= 0 || reconciles++ === 0) return;
  post({ op: 'stall', phase: 'begin' });
  log.warn({ node: data.nodeName, reason: `BERTH_PLAN_STALL_MS=${ms}` }, 'planner: stalling on purpose before this plan');
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // A stand-in for a slow synchronous plan.
  }
  post({ op: 'stall', phase: 'end' });
  log.warn({ node: data.nodeName }, 'planner: stall over');
}

interface Source {
  start(): Promise<void>;
  reconcile(): Promise<void>;
  stop(): void;
  /** Kubernetes: a Warning Event; manifests: nothing more than the main thread's log line. */
  conflict?(c: Conflict): void;
}

async function manifestSource(d: ManifestPlanData): Promise<Source> {
  return createManifestSpeaker({
    path: d.path,
    nodeName: d.nodeName,
    agent,
    logger: log,
    ...(d.serviceOptions === undefined ? {} : { serviceOptions: d.serviceOptions }),
    ...(d.debounceMs === undefined ? {} : { debounceMs: d.debounceMs }),
    ...(d.resyncMs === undefined ? {} : { resyncMs: d.resyncMs }),
    ...(d.l2Window === undefined ? {} : { planOptions: { l2Window: d.l2Window } }),
    onConfig: (config) => {
      const listen = config.bgpSpeaker?.listenPort;
      hello(listen !== undefined && listen > 0 ? listen : undefined);
      stall(d.stallMs);
    },
  });
}

async function kubeSource(d: KubePlanData): Promise<Source> {
  const rest = createRest(await loadConnection({ kubeconfig: d.kubeconfig }));
  // The OpenELB BgpConf is not read with that dialect off (--openelb off).
  hello(d.listenPort ?? (d.serviceOptions?.openelb === false ? undefined : await bgpConfListenPort(rest, log)));
  const speaker = createKubeSpeaker({
    rest,
    logger: log,
    nodeName: d.nodeName,
    namespace: d.namespace,
    agent,
    ...(d.serviceOptions === undefined ? {} : { serviceOptions: d.serviceOptions }),
    ...(d.pod === undefined ? {} : { pod: d.pod }),
    ...(d.l2Window === undefined ? {} : { planOptions: { l2Window: d.l2Window } }),
    beforePlan: () => stall(d.stallMs),
  });
  // Readiness travels to the main thread's health server when it changes.
  let ready = false;
  const readiness = setInterval(() => {
    if (speaker.ready() === ready) return;
    ready = speaker.ready();
    post({ op: 'ready', ready });
  }, READY_POLL_MS);
  return {
    start: () => speaker.start(),
    reconcile: () => speaker.reconcile(),
    conflict: (c) => speaker.duplicateOwner(c),
    stop() {
      clearInterval(readiness);
      speaker.stop();
      rest.close();
    },
  };
}

const READY_POLL_MS = 250;

let source: Source | undefined;
let stopped = false;

port.on('message', (m: ToPlanner) => {
  switch (m.op) {
    case 'applied':
      pending.get(m.id)?.resolve(m.result);
      pending.delete(m.id);
      return;
    case 'failed':
      pending.get(m.id)?.reject(new Error(m.reason));
      pending.delete(m.id);
      return;
    case 'reconcile':
      void source?.reconcile();
      return;
    case 'conflict':
      source?.conflict?.(m.conflict);
      return;
    case 'stop':
      stopped = true;
      source?.stop();
      port.close();
      return;
  }
});

(data.kind === 'manifests' ? manifestSource(data) : kubeSource(data))
  .then(async (s) => {
    source = s;
    if (stopped) {
      s.stop();
      return;
    }
    await s.start();
    post({ op: 'started' });
    if (data.kind === 'manifests') post({ op: 'ready', ready: true });
  })
  .catch((e: unknown) => post({ op: 'fatal', reason: e instanceof Error ? e.message : String(e) }));
