// Where a Service's endpoints serve, from EndpointSlices (discovery.k8s.io/v1). Pure.
//
// A slice belongs to the Service named by its kubernetes.io/service-name label, in the slice's own
// namespace. An endpoint can serve when it is ready (or its readiness is unknown) or, while
// terminating, still serving: MetalLB's EndpointCanServe (MetalLB speaker/layer2_controller.go ShouldAnnounce).
import type { V1EndpointSlice } from '@kubernetes/client-node';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface ServiceEndpoints {
  /** Number of EndpointSlices naming the Service. */
  readonly slices: number;
  /** Nodes hosting at least one serving endpoint. */
  readonly servingNodes: ReadonlySet<string>;
  /** Serving endpoints per node (the keys are servingNodes); weighted ECMP announces these counts. */
  readonly servingPerNode?: ReadonlyMap<string, number>;
  /** Some endpoint can serve, with or without a nodeName. */
  readonly anyServing: boolean;
}

type Endpoint = NonNullable<V1EndpointSlice['endpoints']>[number];

export function endpointCanServe(e: Endpoint): boolean {
  if (e.addresses.length === 0) return false;
  const c = e.conditions;
  return c?.ready !== false || c.serving === true;
}

/** Endpoint facts per Service key `namespace/name`. Services without slices are absent. */
export function endpointsByService(slices: readonly V1EndpointSlice[]): ReadonlyMap<string, ServiceEndpoints> {
  const acc = new Map<string, { slices: number; servingNodes: Set<string>; servingPerNode: Map<string, number>; anyServing: boolean }>();
  for (const s of slices) {
    const svc = s.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (svc === undefined || svc === '') continue;
    const key = `${s.metadata?.namespace ?? 'default'}/${svc}`;
    const cur = acc.get(key) ?? { slices: 0, servingNodes: new Set<string>(), servingPerNode: new Map<string, number>(), anyServing: false };
    cur.slices += 1;
    for (const e of s.endpoints ?? []) {
      if (!endpointCanServe(e)) continue;
      cur.anyServing = true;
      if (e.nodeName === undefined || e.nodeName === '') continue;
      cur.servingNodes.add(e.nodeName);
      cur.servingPerNode.set(e.nodeName, (cur.servingPerNode.get(e.nodeName) ?? 0) + 1);
    }
    acc.set(key, cur);
  }
  return acc;
}
