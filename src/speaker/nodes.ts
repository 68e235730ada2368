// Node facts the planner reads, from Kubernetes-shaped V1Node objects (informers or manifests): the
// adapter at the planner's boundary (plan.ts takes NodeFacts, plain data). Pure.
//
// Readiness: the Ready condition decides; a Node without a Ready condition counts as Ready, because
// manifests written for `berth speaker --manifests` usually carry no status (a kubelet-registered Node
// always has one). NetworkUnavailable=True takes a node out, as in MetalLB (MetalLB speaker/layer2_controller.go ShouldAnnounce).
import type { V1Node } from '@kubernetes/client-node';
import type { Labels } from '../labels/selector.ts';
import { ipFamilyOf } from '../net/ip.ts';

/** OpenELB node label choosing the BgpConf asPerRack entry (OpenELB api/v1alpha2/bgpconf_types.go). */
export const RACK_LABEL = 'openelb.kubesphere.io/rack';

export interface NodeFacts {
  readonly name: string;
  readonly labels: Labels;
  readonly annotations: Labels;
  readonly ready: boolean;
  readonly networkUnavailable: boolean;
  readonly taints: readonly { readonly key: string; readonly effect: string }[];
  /** spec.unschedulable: cordoned (`kubectl cordon`, or `kubectl drain`, which cordons first). */
  readonly unschedulable: boolean;
  /** status.addresses of type InternalIP, in order. */
  readonly internalIPs: readonly string[];
}

export function nodeFacts(n: V1Node): NodeFacts {
  const conditions = n.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  const netUnavailable = conditions.find((c) => c.type === 'NetworkUnavailable');
  return {
    name: n.metadata?.name ?? '',
    labels: n.metadata?.labels ?? {},
    annotations: n.metadata?.annotations ?? {},
    ready: ready === undefined || ready.status === 'True',
    networkUnavailable: netUnavailable?.status === 'True',
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, effect: t.effect })),
    unschedulable: n.spec?.unschedulable === true,
    internalIPs: (n.status?.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
  };
}

/**
 * nodeFacts of each Node; with `memo`, an unchanged Node object (informers and the manifest reader keep
 * them) keeps its facts object, so the planner's memo (plan.ts createPlanMemo) sees the same nodes.
 */
export function nodeFactsOf(nodes: readonly V1Node[], memo?: WeakMap<V1Node, NodeFacts>): NodeFacts[] {
  return nodes.map((n) => {
    const hit = memo?.get(n);
    if (hit !== undefined) return hit;
    const f = nodeFacts(n);
    memo?.set(n, f);
    return f;
  });
}

/** The node's first IPv4 InternalIP: its default BGP Identifier (RFC 4271 §4.2 wants 4 octets). */
export function firstIPv4(node: NodeFacts): string | undefined {
  return node.internalIPs.find((ip) => ipFamilyOf(ip) === 4);
}
