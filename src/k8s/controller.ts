// `berth controller` against the API server: informers -> compile -> allocator -> Service status,
// pool status, ConfigurationState, Events. Level-triggered: every change only enqueues a key
//   svc:<ns>/<name>   converge one Service (MetalLB controller/service.go convergeBalancer)
//   config            recompile (last-good store), setPools (MetalLB internal/allocator SetPools), reprocess every Service
//   pools             write IPAddressPool / Eip status counters (coalesced)
//   configstate       write ConfigurationState "controller" and problem Events
// and reconcile(key) reads the caches. Only the Lease holder runs the queue (lease.ts); standbys keep
// their caches warm.
//
// Restart safety (DESIGN.md, MetalLB controller/service.go convergeBalancer, which restores IPs from Service status): when leadership starts, after every cache has listed,
// every Service that already has status IPs is replayed into a fresh allocator (src/config/assign.ts, the
// rule `berth check` and the manifest-mode speaker use too) before any
// Service key is processed, so no new allocation can take an IP that is in use.
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { compile, emptyStore, ObjectState, type CompileOptions, type CompileResult, type LastGoodStore } from '../config/compile.ts';
import { emptyConfig, type Config } from '../config/model.ts';
import { assignService, restoreStatusIPs } from '../config/assign.ts';
import type { Problem } from '../config/problems.ts';
import { translateService, type ServiceIntent, type ServiceOptions } from '../config/services.ts';
import { Allocator } from '../pool/allocator.ts';
import { FailureReason, formatIP, type IPAddress } from '../pool/types.ts';
import { createCache, watchedFields, type Cache, type SnapshotField } from './cache.ts';
import { createEventRecorder, EventReason, EventType, type EventRecorder, type InvolvedObject } from './events.ts';
import { createLeaderElector, type LeaderElector } from './lease.ts';
import { createQueue, ok, retry, type ReconcileResult, type WorkQueue } from './queue.ts';
import { PatchType, isConflict, isNotFound, type Rest } from './rest.ts';
import { Resources, collectionPath, objectPath } from './resources.ts';
import {
  ConditionType,
  configurationStateStatus,
  currentIngressIPs,
  describeProblem,
  eipStatusBody,
  jsonWithBigints,
  poolStatusBody,
  POOL_ANNOTATION,
  sameStatus,
  serviceStatusPatch,
} from './status.ts';
import { WatchEvent, type KubeObject } from './watch.ts';

export const CONTROLLER_COMPONENT = 'berth-controller';
export const FIELD_MANAGER = 'berth-controller';

export interface ControllerOptions {
  readonly rest: Rest;
  readonly logger: Logger;
  /** berth's namespace: Lease and ConfigurationState live here. */
  readonly namespace: string;
  /** Pod name (or host name + random suffix): the Lease holder identity. */
  readonly identity: string;
  readonly leaseName?: string;
  readonly lbClass?: string;
  /** --metallb-namespace, --openelb (src/config/compile.ts CompileOptions). */
  readonly dialects?: CompileOptions;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  /** Concurrent reconciles (status writes overlap; allocation itself is synchronous). Default 16. */
  readonly workers?: number;
  readonly watchTimeoutSeconds?: number;
  /** Called when leadership is lost after it was held (the controller stops writing and campaigns again). */
  readonly onLostLeadership?: () => void;
}

export interface ControllerStats {
  readonly statusWrites: number;
  readonly poolStatusWrites: number;
  readonly allocations: number;
}

export interface Controller {
  start(): void;
  /** Stops the queue, releases the Lease, stops the informers. */
  stop(): Promise<void>;
  isLeader(): boolean;
  /** Caches synced and, when leading, the initial replay done. */
  ready(): boolean;
  /** Queue empty and idle (tests, bench). */
  idle(): Promise<void>;
  stats(): ControllerStats;
}

/** The controller reads these (RBAC: deploy/rbac/controller.yaml; no Nodes, Secrets, EndpointSlices). */
export const CONTROLLER_FIELDS: readonly SnapshotField[] = [
  'services',
  'namespaces',
  'ipAddressPools',
  'l2Advertisements',
  'bgpAdvertisements',
  'bgpPeers',
  'communities',
  'bfdProfiles',
  'eips',
  'bgpConfs',
  'openelbBgpPeers',
];

const CONFIG_FIELDS: ReadonlySet<SnapshotField> = new Set(CONTROLLER_FIELDS.filter((f) => f !== 'services' && f !== 'namespaces'));
const SVC = 'svc:';
const DEPRECATED_PREFIX = 'metallb.universe.tf/';
const KEY_CONFIG = 'config';
const KEY_POOLS = 'pools';
const KEY_CONFIGSTATE = 'configstate';
const POOL_STATUS_DELAY_MS = 300;

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export function createController(opts: ControllerOptions): Controller {
  const log = opts.logger;
  const rest = opts.rest;
  const svcOpts: ServiceOptions = { ...opts.dialects, ...(opts.lbClass === undefined ? {} : { loadBalancerClass: opts.lbClass }) };
  let store: LastGoodStore = emptyStore;
  let compiled: CompileResult | undefined;
  let config: Config = emptyConfig;
  let allocator: Allocator | undefined;
  let initialDone = false;
  let stopping = false;
  /** Services that could not get an IP: retried whenever an IP is freed. */
  const pending = new Set<string>();
  /** Objects that had problems at the last configstate write (their Events). */
  let lastProblemText = '';
  const counters = { statusWrites: 0, poolStatusWrites: 0, allocations: 0 };

  // Events wait while Service keys are queued (status first), and may pile up during a mass allocation.
  const events: EventRecorder = createEventRecorder({
    rest,
    logger: log,
    component: CONTROLLER_COMPONENT,
    instance: opts.identity,
    clusterScopedNamespace: opts.namespace,
    maxBacklog: 20_000,
    defer: () => queue.length > 0,
  });

  const cache: Cache = createCache({
    rest,
    logger: log,
    fields: watchedFields(CONTROLLER_FIELDS, svcOpts),
    ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
    onEvent: (field, type, key, obj, prev) => {
      if (field === 'services') queue.add(SVC + key);
      else if (field === 'namespaces') reprocessAll();
      else if (CONFIG_FIELDS.has(field)) {
        // Our own status writes on pools/Eips come back as events: only spec, labels and annotations
        // matter to compile().
        if (type !== WatchEvent.Modified || prev === undefined || configFace(prev) !== configFace(obj)) queue.add(KEY_CONFIG);
      }
    },
  });

  /** One queue per leadership term; a standby's queue takes nothing. */
  const inactive: WorkQueue = { add: () => undefined, addAfter: () => undefined, start: () => undefined, stop: () => Promise.resolve(), idle: () => Promise.resolve(), length: 0, failures: () => 0 };
  let queue: WorkQueue = inactive;

  const elector: LeaderElector = createLeaderElector({
    rest,
    logger: log,
    namespace: opts.namespace,
    name: opts.leaseName ?? 'berth-controller',
    identity: opts.identity,
    ...(opts.leaseDurationMs === undefined ? {} : { leaseDurationMs: opts.leaseDurationMs }),
    ...(opts.renewDeadlineMs === undefined ? {} : { renewDeadlineMs: opts.renewDeadlineMs }),
    ...(opts.retryPeriodMs === undefined ? {} : { retryPeriodMs: opts.retryPeriodMs }),
    onStartedLeading: () => {
      void startLeading().catch((e: unknown) => log.error({ reason: reasonOf(e) }, 'cannot start leading'));
    },
    onStoppedLeading: () => {
      // Stop writing at once. Campaign again; a new term rebuilds the allocator from Service status.
      const q = queue;
      queue = inactive;
      allocator = undefined;
      initialDone = false;
      void q.stop();
      opts.onLostLeadership?.();
    },
  });

  function reprocessAll(): void {
    if (!initialDone) return;
    for (const key of cache.reflector('services')?.keys() ?? []) queue.add(SVC + key);
  }

  function namespaces(): V1Namespace[] {
    return (cache.reflector('namespaces')?.list() ?? []) as V1Namespace[];
  }

  function recompile(): CompileResult {
    const result = compile(cache.snapshot(), store, svcOpts);
    store = result.store;
    compiled = result;
    config = result.config;
    return result;
  }

  async function startLeading(): Promise<void> {
    await cache.synced;
    if (stopping || !elector.isLeader()) return;
    const q = createQueue({ reconcile, logger: log, workers: opts.workers ?? 16 });
    queue = q;
    const result = recompile();
    const alloc = new Allocator(config.pools.map((p) => p.spec));
    // Replay every Service that already has status IPs, before anything new is allocated (assign.ts).
    const services = (cache.reflector('services')?.list() ?? []) as V1Service[];
    const ns = namespaces();
    const intents: ServiceIntent[] = [];
    for (const svc of services) {
      const t = translateService(svc, ns, svcOpts);
      if (t.kind === 'ours') intents.push(t.intent);
    }
    const restored = restoreStatusIPs(alloc, intents);
    const failed = [...restored.values()].filter((r) => !r.ok).length;
    allocator = alloc;
    initialDone = true;
    log.info({ services: services.length, restored: restored.size - failed, notRestored: failed, problems: result.problems.length }, 'leading: allocator rebuilt from Service status');
    queue.add(KEY_CONFIGSTATE);
    queue.add(KEY_POOLS);
    // Services with IPs first (they only confirm), then the rest.
    for (const key of restored.keys()) queue.add(SVC + key);
    for (const svc of services) queue.add(SVC + `${svc.metadata?.namespace ?? ''}/${svc.metadata?.name ?? ''}`);
    queue.start();
  }

  async function reconcile(key: string): Promise<ReconcileResult> {
    if (stopping || !elector.isLeader()) return ok;
    if (key.startsWith(SVC)) return reconcileService(key.slice(SVC.length));
    switch (key) {
      case KEY_CONFIG:
        return reconcileConfig();
      case KEY_POOLS:
        return writePoolStatus();
      case KEY_CONFIGSTATE:
        return writeConfigurationState();
      default:
        return ok;
    }
  }

  function reconcileConfig(): ReconcileResult {
    const before = jsonWithBigints(config.pools.map((p) => p.spec));
    const problemsBefore = compiled?.problems.length ?? 0;
    const result = recompile();
    const after = jsonWithBigints(config.pools.map((p) => p.spec));
    if (before !== after && allocator !== undefined) {
      const change = allocator.setPools(config.pools.map((p) => p.spec));
      for (const e of change.evicted) log.info({ service: e.service, reason: e.failure.message }, 'IP left the pools; re-allocating');
      for (const m of change.moved) log.info({ service: m.service, from: m.from, to: m.to }, 'IP now in another pool');
    }
    if (before !== after || result.problems.length > 0 || problemsBefore > 0) {
      reprocessAll();
      queue.addAfter(KEY_POOLS, POOL_STATUS_DELAY_MS);
    }
    queue.add(KEY_CONFIGSTATE);
    return ok;
  }

  function involved(svc: V1Service): InvolvedObject {
    return { apiVersion: 'v1', kind: 'Service', namespace: svc.metadata?.namespace ?? 'default', name: svc.metadata?.name ?? '', ...(svc.metadata?.uid === undefined ? {} : { uid: svc.metadata.uid }) };
  }

  function freed(): void {
    queue.addAfter(KEY_POOLS, POOL_STATUS_DELAY_MS);
    for (const p of pending) queue.add(SVC + p);
  }

  async function patchService(svc: V1Service, patch: Record<string, unknown>): Promise<ReconcileResult> {
    const ns = svc.metadata?.namespace ?? 'default';
    const name = svc.metadata?.name ?? '';
    // Optimistic concurrency: the patch applies only to the version we decided on (409 otherwise; the
    // newer version is on its way through the watch and re-enqueues the key).
    const rv = svc.metadata?.resourceVersion;
    const meta = (patch['metadata'] ?? {}) as Record<string, unknown>;
    const body = rv === undefined ? patch : { ...patch, metadata: { ...meta, resourceVersion: rv } };
    try {
      await rest.request('PATCH', `${objectPath(Resources.services, ns, name, 'status')}?fieldManager=${FIELD_MANAGER}`, { body, contentType: PatchType.Merge });
      counters.statusWrites++;
      log.debug({ service: `${ns}/${name}`, patch: JSON.stringify(patch) }, 'wrote Service status');
      return ok;
    } catch (e) {
      if (isNotFound(e)) return ok;
      if (isConflict(e)) return retry(`status of ${ns}/${name}: changed meanwhile`);
      return retry(`status of ${ns}/${name}: ${reasonOf(e)}`);
    }
  }

  async function reconcileService(key: string): Promise<ReconcileResult> {
    const alloc = allocator;
    if (alloc === undefined) return retry('allocator not ready');
    const svc = cache.get('services', key) as V1Service | undefined;
    if (svc === undefined) {
      pending.delete(key);
      if (alloc.release(key)) {
        log.info({ service: key }, 'Service deleted; IPs released');
        freed();
      }
      return ok;
    }
    const t = translateService(svc, namespaces(), svcOpts);
    if (t.kind !== 'ours') {
      pending.delete(key);
      const held = alloc.release(key);
      if (held) freed();
      if (t.kind === 'invalid') {
        const msg = t.problems.map(describeProblem).join('; ');
        events.record(involved(svc), EventType.Warning, EventReason.LoadBalancerFailed, msg);
      }
      // Clear what we wrote when the Service stops being ours (or was never valid); leave foreign status alone.
      const ours = held || svc.metadata?.annotations?.[POOL_ANNOTATION] !== undefined;
      if (!ours) return ok;
      if (held) log.info({ service: key, reason: t.kind === 'ignored' ? t.reason : 'invalid' }, 'Service no longer berth\'s; IPs released');
      const patch = serviceStatusPatch(svc, { ips: [], pool: undefined, eipLabel: false });
      return patch === undefined ? ok : patchService(svc, patch);
    }
    return convergeService(svc, t.intent, alloc);
  }

  async function convergeService(svc: V1Service, intent: ServiceIntent, alloc: Allocator): Promise<ReconcileResult> {
    const key = intent.request.service;
    const deprecated = Object.keys(svc.metadata?.annotations ?? {}).filter((a) => a.startsWith(DEPRECATED_PREFIX));
    if (deprecated.length > 0) {
      events.record(involved(svc), EventType.Warning, EventReason.DeprecatedAnnotation, `deprecated annotations ${deprecated.sort().join(', ')}: use the metallb.io/ spelling`);
    }
    const before = alloc.assignmentOf(key);
    // Status IPs the allocator does not know yet (written while we were not leading) are accepted first (assign.ts).
    const { restore, result: res } = assignService(alloc, config, intent);
    if (restore !== undefined && !restore.ok) {
      events.record(involved(svc), EventType.Normal, EventReason.ClearAssignment, `current IP ${JSON.stringify(intent.currentIPs.map(formatIP))} not allowed by config, will attempt for new IP assignment: ${restore.failure.message}`);
    }
    if (res.cleared !== undefined) {
      events.record(involved(svc), EventType.Normal, EventReason.ClearAssignment, `current IP ${JSON.stringify(intent.currentIPs.map(formatIP))} not allowed by config, will attempt for new IP assignment: ${res.cleared.message}`);
    }
    if (!res.ok) {
      pending.add(key);
      if (before !== undefined) freed();
      // MetalLB's reasons (MetalLB controller/service.go Service events): a bad request and a missing second cluster IP have their own.
      const reason =
        res.failure.reason === FailureReason.NotEnoughClusterIPs ? EventReason.NotEnoughClusterIPs : res.failure.reason === FailureReason.InvalidRequest ? EventReason.LoadBalancerFailed : EventReason.AllocationFailed;
      events.record(involved(svc), EventType.Warning, reason, `Failed to allocate IP for "${key}": ${res.failure.message}`);
      log.info({ service: key, reason: res.failure.message }, 'allocation failed');
      const patch = serviceStatusPatch(svc, { ips: [], pool: undefined, eipLabel: false });
      return patch === undefined ? ok : patchService(svc, patch);
    }
    pending.delete(key);
    const ips = res.assignment.ips.map(formatIP);
    const pool = config.pools.find((p) => p.spec.name === res.assignment.pool);
    const eipLabel = intent.request.dialect === 'openelb' || pool?.spec.dialect === 'openelb';
    const changed = before === undefined || !sameIPList(before.ips, res.assignment.ips) || before.pool !== res.assignment.pool;
    if (changed) {
      counters.allocations++;
      queue.addAfter(KEY_POOLS, POOL_STATUS_DELAY_MS);
      if (before !== undefined) freed();
    }
    if (res.additionalFailed !== undefined) events.record(involved(svc), EventType.Normal, EventReason.AdditionalAssignFailed, res.additionalFailed.message);
    const patch = serviceStatusPatch(svc, { ips, pool: res.assignment.pool, eipLabel });
    if (patch === undefined) return ok;
    const current = currentIngressIPs(svc);
    const result = await patchService(svc, patch);
    if (result.outcome === 'ok' && (current.length !== ips.length || current.some((ip, i) => ip !== ips[i]))) {
      events.record(involved(svc), EventType.Normal, EventReason.IPAllocated, `Assigned IP ${JSON.stringify(ips)}`);
      log.info({ service: key, vip: ips.join(','), pool: res.assignment.pool }, 'IP assigned');
    }
    return result;
  }

  async function writePoolStatus(): Promise<ReconcileResult> {
    const alloc = allocator;
    if (alloc === undefined) return ok;
    const failures: string[] = [];
    for (const pool of config.pools) {
      const name = pool.spec.name;
      const isEip = pool.source.kind === 'Eip';
      const res = isEip ? Resources.eips : Resources.ipAddressPools;
      const st = isEip ? alloc.eipStatus(name) : alloc.poolStatus(name);
      if (st === undefined) continue;
      const body = isEip ? eipStatusBody(st as NonNullable<ReturnType<Allocator['eipStatus']>>) : poolStatusBody(st as NonNullable<ReturnType<Allocator['poolStatus']>>);
      const cacheKey = pool.source.namespace === undefined ? pool.source.name : `${pool.source.namespace}/${pool.source.name}`;
      const obj = cache.get(isEip ? 'eips' : 'ipAddressPools', cacheKey) as (KubeObject & { status?: unknown }) | undefined;
      if (obj === undefined || sameStatus(obj.status, body)) continue;
      try {
        // A merge patch of `status` replaces `used` wholesale only for keys present: send nulls for keys gone.
        const full = isEip ? withRemovedKeys(body, obj.status) : body;
        await rest.request('PATCH', `${objectPath(res, pool.source.namespace, pool.source.name, 'status')}?fieldManager=${FIELD_MANAGER}`, {
          body: jsonWithBigints({ status: full }),
          contentType: PatchType.Merge,
        });
        counters.poolStatusWrites++;
      } catch (e) {
        if (!isNotFound(e)) failures.push(`${pool.source.kind} ${name}: ${reasonOf(e)}`);
      }
    }
    return failures.length === 0 ? ok : retry(failures.join('; '));
  }

  async function writeConfigurationState(): Promise<ReconcileResult> {
    const problems: readonly Problem[] = compiled?.problems ?? [];
    const stale = new Set((compiled?.statuses ?? []).filter((s) => s.state === ObjectState.Stale).map((s) => `${s.ref.kind}/${s.ref.namespace ?? ''}/${s.ref.name}`));
    const shown = problems.map((p) => (stale.has(`${p.kind}/${p.namespace ?? ''}/${p.name}`) ? { ...p, message: `${p.message} (the last valid version stays in force)` } : p));
    const text = shown.map(describeProblem).join('\n');
    if (text !== lastProblemText) {
      for (const p of shown) {
        const apiVersion = p.kind === 'Eip' || p.kind === 'BgpConf' || p.kind === 'BgpPeer' ? 'network.kubesphere.io/v1alpha2' : p.kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1';
        if (p.kind === 'File' || p.kind === 'Service') continue;
        events.record({ apiVersion, kind: p.kind, ...(p.namespace === undefined ? {} : { namespace: p.namespace }), name: p.name }, EventType.Warning, EventReason.ConfigurationError, describeProblem(p));
      }
      if (shown.length > 0) log.warn({ problems: shown.length, reason: text.slice(0, 2000) }, 'configuration problems');
    }
    const path = objectPath(Resources.configurationStates, opts.namespace, 'controller');
    try {
      let existing: { status?: unknown } | undefined;
      try {
        existing = await rest.request<{ status?: unknown }>('GET', path);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        existing = await rest.request<{ status?: unknown }>('POST', `${collectionPath(Resources.configurationStates, opts.namespace)}?fieldManager=${FIELD_MANAGER}`, {
          body: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'ConfigurationState',
            metadata: { name: 'controller', namespace: opts.namespace, labels: { 'metallb.io/component-type': 'controller', 'app.kubernetes.io/part-of': 'berth' } },
            spec: {},
          },
        });
      }
      const status = configurationStateStatus(ConditionType.Pool, shown, existing.status, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      if (!sameStatus(existing.status, { result: status.result, errorSummary: status.errorSummary, conditions: status.conditions })) {
        await rest.request('PATCH', `${path}/status?fieldManager=${FIELD_MANAGER}`, { body: { status }, contentType: PatchType.Merge });
      }
      lastProblemText = text;
      return ok;
    } catch (e) {
      return retry(`ConfigurationState: ${reasonOf(e)}`);
    }
  }

  return {
    start() {
      cache.start();
      elector.start();
    },
    async stop() {
      stopping = true;
      await queue.stop();
      await Promise.race([events.flush(), new Promise((r) => setTimeout(r, 2_000))]);
      await elector.release();
      cache.stop();
    },
    isLeader: () => elector.isLeader(),
    ready: () => (elector.isLeader() ? initialDone : true) && cacheSynced(),
    idle: () => queue.idle(),
    stats: () => ({ ...counters }),
  };

  function cacheSynced(): boolean {
    return CONTROLLER_FIELDS.every((f) => cache.reflector(f)?.hasSynced() === true);
  }
}

function configFace(o: KubeObject): string {
  const x = o as KubeObject & { spec?: unknown };
  return JSON.stringify([x.spec, x.metadata?.labels, x.metadata?.annotations, x.apiVersion]);
}

function sameIPList(a: readonly IPAddress[], b: readonly IPAddress[]): boolean {
  return a.length === b.length && a.every((ip, i) => ip.family === b[i]?.family && ip.value === b[i]?.value);
}

function withRemovedKeys(body: Record<string, unknown>, current: unknown): Record<string, unknown> {
  const used = body['used'] as Record<string, string> | undefined;
  const curUsed = (current as { used?: Record<string, unknown> } | undefined)?.used;
  if (used === undefined || curUsed === undefined) return body;
  const merged: Record<string, string | null> = { ...used };
  for (const k of Object.keys(curUsed)) if (!(k in used)) merged[k] = null;
  return { ...body, used: merged };
}
