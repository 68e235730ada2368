// `berth speaker` against the API server: informers -> Snapshot -> compile (last-good store) ->
// the controller's IPs from Service status -> planNode (src/speaker) -> the node agent (engines).
// Then what the node does is written back: ServiceL2Status / ServiceBGPStatus (MetalLB api/v1beta1/servicel2status_types.go; api/v1beta1/servicebgpstatus_types.go),
// `nodeAssigned` Events (MetalLB speaker/main.go), ConfigurationState `speaker-<node>` (MetalLB api/v1beta1/configurationstate_types.go).
//
// Level-triggered: any change schedules one reconcile (debounced); reconciles never overlap and a change
// during one schedules another. Status objects are reconciled the same way: the wanted set is computed
// from the plan and compared with this node's objects (a reflector filtered by the metallb.io/node label).
// They are written by a serial runner of their own, from the last applied plan: a fresh node with
// 100,000 Services has 100,000 ServiceBGPStatus objects to create, which takes minutes of API calls,
// and the next plan (what the router sees) must not wait for that (docs/scale.md, Kubernetes mode).
//
// API server unreachable: the caches keep the last state they listed (a reflector only replaces its
// store after a successful relist), so the plan, and what is announced, stays as it was; nothing is
// withdrawn until the API server says so. Status writes fail and are retried on the next reconcile.
//
// Node liveness comes from the Node objects (Ready, NetworkUnavailable): berth runs no memberlist.
import type { V1EndpointSlice, V1Node, V1Service } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { compile, emptyStore, type LastGoodStore } from '../config/compile.ts';
import type { Problem } from '../config/problems.ts';
import type { ServiceOptions } from '../config/services.ts';
import type { Agent, ApplyResult } from '../speaker/agent.ts';
import { planNode, type NodePlan, type PlanOptions } from '../speaker/plan.ts';
import type { Conflict } from '../liveness/runtime.ts';
import { servicesWithStatusIPs } from '../speaker/services.ts';
import { createSnapshotPlanMemo, planData } from '../speaker/snapshot-plan.ts';
import { createCache, watchedFields, type Cache, type SnapshotField } from './cache.ts';
import { createEventRecorder, EventReason, EventType, type EventRecorder } from './events.ts';
import { PatchType, isNotFound, type Rest } from './rest.ts';
import { emptySnapshot, type BgpConf } from '../config/snapshot.ts';
import { BGPCONF_NAME } from '../config/openelb/bgpconf.ts';
import { Resources, collectionPath, objectPath, type Resource } from './resources.ts';
import { ConditionType, configurationStateStatus, sameStatus } from './status.ts';
import { createReflector, type KubeObject, type Reflector } from './watch.ts';
import { serialRunner } from '../speaker/serial.ts';

export const SPEAKER_COMPONENT = 'berth-speaker';
const FIELD_MANAGER = 'berth-speaker';
export const NODE_LABEL = 'metallb.io/node';
export const SERVICE_NAME_LABEL = 'metallb.io/service-name';
export const SERVICE_NAMESPACE_LABEL = 'metallb.io/service-namespace';

export const SPEAKER_FIELDS: readonly SnapshotField[] = [
  'services',
  'endpointSlices',
  'nodes',
  'namespaces',
  'secrets',
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

export interface KubeSpeakerOptions {
  readonly rest: Rest;
  readonly logger: Logger;
  readonly nodeName: string;
  /** berth's namespace: Secrets, status objects and ConfigurationState live here. */
  readonly namespace: string;
  readonly agent: Agent;
  readonly serviceOptions?: ServiceOptions;
  /** The speaker Pod, owner of the status objects (garbage-collected with it). */
  readonly pod?: { readonly name: string; readonly uid: string };
  readonly debounceMs?: number;
  /** Periodic reconcile as a safety net (default 60 s; 0 = off). */
  readonly resyncMs?: number;
  readonly watchTimeoutSeconds?: number;
  /** Extra planNode options (l2Window when liveness is on). */
  readonly planOptions?: PlanOptions;
  /** Called before each plan (the planner thread's BERTH_PLAN_STALL_MS stand-in for a slow plan). */
  readonly beforePlan?: () => void;
}

export interface KubeSpeaker {
  start(): Promise<void>;
  stop(): void;
  /** One reconcile now (queued behind a running one). */
  reconcile(): Promise<void>;
  ready(): boolean;
  /** The plan in force (last applied). */
  readonly plan: NodePlan | undefined;
  /** A duplicate owner of a VIP (src/liveness/runtime.ts): a Warning Event on each Service behind it. */
  duplicateOwner(c: Conflict): void;
}

interface StatusObject extends KubeObject {
  readonly status?: { readonly node?: string; readonly serviceName?: string; readonly serviceNamespace?: string; readonly interfaces?: readonly { name: string }[]; readonly peers?: readonly string[] };
}

interface WantedStatus {
  readonly serviceNamespace: string;
  readonly serviceName: string;
  readonly status: Record<string, unknown>;
}

const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Status objects created, patched or deleted at once (the controller runs 16 reconciles at once). */
const STATUS_WRITES_IN_FLIGHT = 8;

/** `work` on every item, at most `limit` at once; the first failure rejects once all started ones settled. */
async function inParallel<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { readonly e: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < items.length && failure === undefined) {
      const item = items[next++] as T;
      try {
        await work(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure.e;
}

export function createKubeSpeaker(opts: KubeSpeakerOptions): KubeSpeaker {
  const log = opts.logger;
  const rest = opts.rest;
  const node = opts.nodeName;
  let store: LastGoodStore = emptyStore;
  // Unchanged Services (the informers keep unchanged objects) are not translated or planned again.
  const memo = createSnapshotPlanMemo();
  let plan: NodePlan | undefined;
  let stopped = false;
  /** Every informer has listed once (start()). */
  let synced = false;
  let debounce: NodeJS.Timeout | undefined;
  let resync: NodeJS.Timeout | undefined;
  let lastProblems: string | undefined;
  /** service key -> protocols announced at the last reconcile (nodeAssigned is sent on change). */
  let announced = new Map<string, string>();

  const events: EventRecorder = createEventRecorder({ rest, logger: log, component: SPEAKER_COMPONENT, instance: node, clusterScopedNamespace: opts.namespace });

  const cache: Cache = createCache({
    rest,
    logger: log,
    fields: watchedFields(SPEAKER_FIELDS, opts.serviceOptions ?? {}),
    namespaces: { secrets: opts.namespace },
    ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
    onEvent: () => schedule(),
  });
  const ownStatus = (res: Resource): Reflector<StatusObject> =>
    createReflector<StatusObject>({ rest, resource: res, logger: log, namespace: opts.namespace, labelSelector: `${NODE_LABEL}=${node}`, onEvent: (type) => type === 'DELETED' && schedule(), ...(opts.watchTimeoutSeconds === undefined ? {} : { watchTimeoutSeconds: opts.watchTimeoutSeconds }) });
  const l2Statuses = ownStatus(Resources.serviceL2Statuses);
  const bgpStatuses = ownStatus(Resources.serviceBGPStatuses);

  function schedule(): void {
    if (stopped) return;
    if (debounce !== undefined) clearTimeout(debounce);
    debounce = setTimeout(() => {
      debounce = undefined;
      void reconcile();
    }, opts.debounceMs ?? 100);
  }

  const reconcile = serialRunner(once, {
    stopped: () => stopped,
    onError: (e) => log.error({ node, reason: reasonOf(e) }, 'reconcile failed; retrying on the next change or resync'),
  });

  /** What the last applied plan has to write; taken by the status runner (a newer plan replaces it). */
  let toWrite: { readonly plan: NodePlan; readonly result: ApplyResult; readonly services: readonly V1Service[]; readonly problems: readonly Problem[] } | undefined;
  const writeStatus = serialRunner(
    async () => {
      const w = toWrite;
      toWrite = undefined;
      if (w === undefined) return;
      await Promise.all([writeStatuses(w.plan, w.result, w.services), writeConfigurationState(w.problems)]);
    },
    { stopped: () => stopped, onError: (e) => log.warn({ node, reason: reasonOf(e) }, 'cannot write status; retrying on the next reconcile') },
  );

  async function once(): Promise<void> {
    opts.beforePlan?.();
    const snapshot = cache.snapshot();
    const compiled = memo.compile(snapshot, store, opts.serviceOptions);
    store = compiled.store;
    const svcs = servicesWithStatusIPs(snapshot.services, snapshot.namespaces, opts.serviceOptions ?? {}, memo.translations);
    const next = planNode({
      memo: memo.plans,
      config: compiled.config,
      services: svcs.services,
      ...planData({ nodes: snapshot.nodes as readonly V1Node[], endpointSlices: snapshot.endpointSlices as readonly V1EndpointSlice[] }, memo),
      nodeName: node,
      // Kubernetes semantics: a Service without EndpointSlices has no endpoints.
      options: { ...opts.planOptions, withoutEndpointSlices: 'noEndpoints' },
    });
    const result = await opts.agent.apply(next);
    plan = next;
    toWrite = { plan: next, result, services: snapshot.services as readonly V1Service[], problems: [...compiled.problems, ...svcs.problems] };
    void writeStatus();
  }

  function wantedStatuses(p: NodePlan, result: ApplyResult): { l2: Map<string, WantedStatus>; bgp: Map<string, WantedStatus> } {
    const l2 = new Map<string, WantedStatus>();
    const bgp = new Map<string, WantedStatus>();
    const ifacesByVip = new Map(result.owned.map((o) => [o.vip, o.interfaces]));
    for (const s of p.services) {
      const slash = s.service.indexOf('/');
      const serviceNamespace = s.service.slice(0, slash);
      const serviceName = s.service.slice(slash + 1);
      if (s.l2?.announced === true) {
        // MetalLB fills interfaces only when the advertisement restricts them (MetalLB api/v1beta1/servicel2status_types.go).
        const restricted = s.l2.interfaces.some((r) => r.kind !== 'all');
        const names = restricted ? [...new Set(s.ips.flatMap((ip) => ifacesByVip.get(ip) ?? []))].sort() : [];
        l2.set(s.service, { serviceNamespace, serviceName, status: { node, serviceName, serviceNamespace, interfaces: names.map((name) => ({ name })) } });
      }
      if (s.bgp?.announced === true) {
        bgp.set(s.service, { serviceNamespace, serviceName, status: { node, serviceName, serviceNamespace, peers: [...s.bgp.peers].sort() } });
      }
    }
    return { l2, bgp };
  }

  async function syncKind(res: Resource, prefix: string, reflector: Reflector<StatusObject>, wanted: Map<string, WantedStatus>): Promise<void> {
    const existing = new Map<string, StatusObject>();
    const stale: StatusObject[] = [];
    for (const o of reflector.list()) {
      const key = `${o.status?.serviceNamespace ?? o.metadata?.labels?.[SERVICE_NAMESPACE_LABEL] ?? ''}/${o.status?.serviceName ?? o.metadata?.labels?.[SERVICE_NAME_LABEL] ?? ''}`;
      if (existing.has(key) || !wanted.has(key)) stale.push(o);
      else existing.set(key, o);
    }
    await inParallel(stale, STATUS_WRITES_IN_FLIGHT, (o) => del(res, o));
    const todo = [...wanted].filter(([key, w]) => {
      const cur = existing.get(key);
      return cur === undefined || !sameStatus(cur.status, w.status);
    });
    await inParallel(todo, STATUS_WRITES_IN_FLIGHT, async ([key, w]) => {
      const cur = existing.get(key);
      let name = cur?.metadata?.name;
      if (cur === undefined) {
        const created = await rest.request<StatusObject>('POST', `${collectionPath(res, opts.namespace)}?fieldManager=${FIELD_MANAGER}`, {
          body: {
            apiVersion: `${res.group}/${res.version}`,
            kind: res.kind,
            metadata: {
              generateName: prefix,
              namespace: opts.namespace,
              labels: { [NODE_LABEL]: node, [SERVICE_NAME_LABEL]: w.serviceName, [SERVICE_NAMESPACE_LABEL]: w.serviceNamespace, 'app.kubernetes.io/part-of': 'berth' },
              ...(opts.pod === undefined ? {} : { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: opts.pod.name, uid: opts.pod.uid }] }),
            },
            spec: {},
          },
        });
        name = created.metadata?.name;
      }
      if (name === undefined) return;
      await rest.request('PATCH', `${objectPath(res, opts.namespace, name, 'status')}?fieldManager=${FIELD_MANAGER}`, { body: { status: w.status }, contentType: PatchType.Merge });
    });
  }

  async function del(res: Resource, o: StatusObject): Promise<void> {
    const name = o.metadata?.name;
    if (name === undefined) return;
    try {
      await rest.request('DELETE', objectPath(res, opts.namespace, name));
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
  }

  async function writeStatuses(p: NodePlan, result: ApplyResult, services: readonly V1Service[]): Promise<void> {
    const { l2, bgp } = wantedStatuses(p, result);
    // nodeAssigned: when this node starts announcing a Service, or its protocols change.
    const now = new Map<string, string>();
    for (const key of new Set([...l2.keys(), ...bgp.keys()])) now.set(key, [l2.has(key) ? 'layer2' : '', bgp.has(key) ? 'bgp' : ''].filter((x) => x !== '').join(','));
    const byKey = new Map(services.map((s) => [`${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`, s]));
    for (const [key, protocols] of now) {
      if (announced.get(key) === protocols) continue;
      const svc = byKey.get(key);
      if (svc === undefined) continue;
      for (const proto of protocols.split(',')) {
        events.record(
          { apiVersion: 'v1', kind: 'Service', namespace: svc.metadata?.namespace ?? 'default', name: svc.metadata?.name ?? '', ...(svc.metadata?.uid === undefined ? {} : { uid: svc.metadata.uid }) },
          EventType.Normal,
          EventReason.NodeAssigned,
          `announcing from node "${node}" with protocol "${proto}"`,
        );
      }
    }
    for (const u of result.unresolved) {
      const svcKey = p.services.find((s) => s.ips.includes(u.vip))?.service;
      const svc = svcKey === undefined ? undefined : byKey.get(svcKey);
      if (svc !== undefined) {
        events.record({ apiVersion: 'v1', kind: 'Service', namespace: svc.metadata?.namespace ?? 'default', name: svc.metadata?.name ?? '' }, EventType.Warning, EventReason.AnnounceFailed, `cannot announce ${u.vip} from node "${node}": ${u.reason}`);
      }
    }
    announced = now;
    if (!l2Statuses.hasSynced() || !bgpStatuses.hasSynced()) return;
    try {
      await syncKind(Resources.serviceL2Statuses, 'l2-', l2Statuses, l2);
      await syncKind(Resources.serviceBGPStatuses, 'bgp-', bgpStatuses, bgp);
    } catch (e) {
      log.warn({ node, reason: reasonOf(e) }, 'cannot write the status objects; retrying on the next reconcile');
      schedule();
    }
  }

  async function writeConfigurationState(problems: readonly Problem[]): Promise<void> {
    const text = problems.map((p) => `${p.kind}/${p.namespace ?? ''}/${p.name} ${p.field ?? ''}: ${p.message}`).join('\n');
    if (text === lastProblems) return;
    const name = `speaker-${node}`;
    const path = objectPath(Resources.configurationStates, opts.namespace, name);
    try {
      let existing: { status?: unknown } | undefined;
      try {
        existing = await rest.request<{ status?: unknown }>('GET', path);
      } catch (e) {
        if (!isNotFound(e)) throw e;
        existing = await rest.request<{ status?: unknown }>('POST', collectionPath(Resources.configurationStates, opts.namespace), {
          body: {
            apiVersion: 'metallb.io/v1beta1',
            kind: 'ConfigurationState',
            metadata: {
              name,
              namespace: opts.namespace,
              labels: { 'metallb.io/component-type': 'speaker', 'metallb.io/node-name': node, 'app.kubernetes.io/part-of': 'berth' },
              ...(opts.pod === undefined ? {} : { ownerReferences: [{ apiVersion: 'v1', kind: 'Pod', name: opts.pod.name, uid: opts.pod.uid }] }),
            },
            spec: {},
          },
        });
      }
      const status = configurationStateStatus(ConditionType.Config, problems, existing.status, new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      await rest.request('PATCH', `${path}/status?fieldManager=${FIELD_MANAGER}`, { body: { status }, contentType: PatchType.Merge });
      lastProblems = text;
      if (problems.length > 0) log.warn({ node, problems: problems.length, reason: text.slice(0, 2000) }, 'configuration problems');
    } catch (e) {
      log.warn({ node, reason: reasonOf(e) }, 'cannot write ConfigurationState');
    }
  }

  return {
    async start() {
      cache.start();
      l2Statuses.start();
      bgpStatuses.start();
      await cache.synced;
      await Promise.all([l2Statuses.synced, bgpStatuses.synced]);
      synced = true;
      await reconcile();
      const every = opts.resyncMs ?? 60_000;
      if (every > 0) {
        resync = setInterval(() => void reconcile(), every);
        resync.unref();
      }
    },
    stop() {
      stopped = true;
      if (debounce !== undefined) clearTimeout(debounce);
      if (resync !== undefined) clearInterval(resync);
      cache.stop();
      l2Statuses.stop();
      bgpStatuses.stop();
    },
    reconcile,
    // Ready once every informer has listed (a change may plan earlier, from part of the cluster): a
    // resource that cannot be listed, such as OpenELB's without its CRDs and without --openelb off, keeps
    // the speaker unready.
    ready: () => synced && plan !== undefined,
    get plan() {
      return plan;
    },
    duplicateOwner(c) {
      const other = c.otherNode === undefined ? `an unknown host (${c.otherMac})` : `node "${c.otherNode}" (${c.otherMac})`;
      const outcome =
        c.resolution === 'yield' ? `node "${node}" stopped answering: the other ranks first` : c.resolution === 'defend' ? `node "${node}" keeps it and announced it again` : `node "${node}" keeps it (it announced it again less than 10 s ago)`;
      const message = `another MAC answers for ${c.vip}: node "${node}" (${c.mac}) and ${other}; ${outcome} (docs/liveness.md)`;
      for (const s of plan?.services ?? []) {
        if (!s.ips.includes(c.vip)) continue;
        const slash = s.service.indexOf('/');
        events.record({ apiVersion: 'v1', kind: 'Service', namespace: s.service.slice(0, slash), name: s.service.slice(slash + 1) }, EventType.Warning, EventReason.DuplicateOwner, message);
      }
    },
  };
}

/**
 * OpenELB BgpConf `default` spec.listenPort (OpenELB api/v1alpha2/bgpconf_types.go), read once at start as in the
 * manifest mode: the listener cannot move while sessions run. Unreadable or absent: no listener.
 */
export async function bgpConfListenPort(rest: Rest, log: Logger): Promise<number | undefined> {
  try {
    const obj = await rest.request<BgpConf>('GET', objectPath(Resources.bgpConfs, undefined, BGPCONF_NAME), { timeoutMs: 10_000 });
    const port = compile({ ...emptySnapshot, bgpConfs: [obj] }).config.bgpSpeaker?.listenPort;
    return port !== undefined && port > 0 ? port : undefined;
  } catch (e) {
    if (!isNotFound(e)) log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'cannot read BgpConf default; not listening for BGP connections');
    return undefined;
  }
}
