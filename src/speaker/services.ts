// The Services a speaker plans for, with their IPs. Pure.
//
// Manifest mode (no controller writes status): the same function as `berth check` (src/config/check.ts)
// and the controller, src/config/assign.ts assignAll, so that `berth check` shows exactly what the
// speakers announce. A fresh allocator per snapshot:
//   1. replay every IP already in status.loadBalancer.ingress (restart safety);
//   2. allocate the others in `namespace/name` order (Porter's Eip fallback included).
// Every node's speaker reads the same manifests and so computes the same IPs, with no shared state.
// An IP that is not pinned (status, loadBalancerIPs, spec.loadBalancerIP) can therefore move when
// Services are added or removed; pin IPs that clients depend on.
//
// Kubernetes mode: `servicesWithStatusIPs` takes the controller's IPs from status as they are.
import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import { assignAll } from '../config/assign.ts';
import type { Config } from '../config/model.ts';
import { sharedIPAttributeConflicts, translateService, type ServiceIntent, type ServiceOptions, type ServiceTranslation } from '../config/services.ts';
import type { Problem } from '../config/problems.ts';
import { formatIP } from '../pool/types.ts';
import type { PlanService } from './plan.ts';

export interface SpeakerServices {
  readonly services: readonly PlanService[];
  /** Problems of Services that are invalid (not announced), and warnings (shared IPs asking for different LOCAL_PREFs). */
  readonly problems: readonly Problem[];
}

/**
 * Translations of Service objects kept from one plan to the next: an unchanged Service (the same
 * object: the manifest reader and the informers keep unchanged objects) keeps its intent object, so
 * the planner can reuse its plan (plan.ts createPlanMemo). Dropped when the Namespaces or options
 * change (a translation reads the Service's Namespace labels).
 */
export interface TranslationMemo {
  namespaces: readonly V1Namespace[];
  options: string;
  byService: WeakMap<V1Service, ServiceTranslation>;
}

export function createTranslationMemo(): TranslationMemo {
  return { namespaces: [], options: '', byService: new WeakMap() };
}

function ours(services: readonly V1Service[], namespaces: readonly V1Namespace[], opts: ServiceOptions, memo?: TranslationMemo): { intents: ServiceIntent[]; problems: Problem[] } {
  const intents: ServiceIntent[] = [];
  const problems: Problem[] = [];
  if (memo !== undefined) {
    const options = JSON.stringify(opts);
    if (options !== memo.options || memo.namespaces.length !== namespaces.length || memo.namespaces.some((n, i) => n !== namespaces[i])) {
      memo.byService = new WeakMap();
      memo.options = options;
      memo.namespaces = namespaces;
    }
  }
  for (const s of services) {
    let t = memo?.byService.get(s);
    if (t === undefined) {
      t = translateService(s, namespaces, opts);
      memo?.byService.set(s, t);
    }
    if (t.kind === 'ours') intents.push(t.intent);
    else if (t.kind === 'invalid') problems.push(...t.problems);
  }
  return { intents, problems };
}

/** Manifest mode: replay status IPs, allocate the rest (see the file header). */
export function allocateServices(config: Config, services: readonly V1Service[], namespaces: readonly V1Namespace[], opts: ServiceOptions = {}, memo?: TranslationMemo): SpeakerServices {
  const { intents, problems } = ours(services, namespaces, opts, memo);
  const assigned = assignAll(config, intents);
  const out: PlanService[] = intents.map((intent) => {
    const res = assigned.get(intent.request.service)?.result;
    if (res === undefined || !res.ok) return { intent, ips: [], pendingReason: res === undefined ? 'not allocated' : res.failure.message };
    return { intent, ips: res.assignment.ips.map(formatIP), pool: res.assignment.pool };
  });
  return { services: out, problems: [...problems, ...sharedIPAttributeConflicts(out)] };
}

/** Kubernetes mode: the IPs the controller wrote to status; the pool is looked up by the planner. */
export function servicesWithStatusIPs(services: readonly V1Service[], namespaces: readonly V1Namespace[], opts: ServiceOptions = {}, memo?: TranslationMemo): SpeakerServices {
  const { intents, problems } = ours(services, namespaces, opts, memo);
  const out: PlanService[] = intents.map((intent) => ({
    intent,
    ips: intent.currentIPs.map(formatIP),
    ...(intent.currentIPs.length === 0 ? { pendingReason: 'no IP in status.loadBalancer.ingress yet' } : {}),
  }));
  return { services: out, problems: [...problems, ...sharedIPAttributeConflicts(out)] };
}
