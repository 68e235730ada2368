// Builds planner inputs from YAML text through the real loader, compiler and allocator, so that the
// tests read like the manifests users write.
import { createHash } from 'node:crypto';
import { compile } from '../../../src/config/compile.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { allocateServices } from '../../../src/speaker/services.ts';
import { planNode, type NodePlan, type PlanOptions } from '../../../src/speaker/plan.ts';
import { planData } from '../../../src/speaker/snapshot-plan.ts';

export const NODES = ['node1', 'node2', 'node3'] as const;

export interface NodeExtra {
  labels?: Record<string, string>;
  ready?: boolean;
  annotations?: Record<string, string>;
  /** spec.unschedulable (cordoned). */
  unschedulable?: boolean;
  taints?: { key: string; effect: string }[];
}

export function node(name: string, ip: string, extra: NodeExtra = {}): string {
  const labels = { 'kubernetes.io/hostname': name, ...(extra.labels ?? {}) };
  return [
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${name}`,
    `  labels: ${JSON.stringify(labels)}`,
    ...(extra.annotations === undefined ? [] : [`  annotations: ${JSON.stringify(extra.annotations)}`]),
    ...(extra.unschedulable === undefined && extra.taints === undefined
      ? []
      : ['spec:', ...(extra.unschedulable === undefined ? [] : [`  unschedulable: ${String(extra.unschedulable)}`]), ...(extra.taints === undefined ? [] : [`  taints: ${JSON.stringify(extra.taints)}`])]),
    'status:',
    `  addresses: [{type: InternalIP, address: "${ip}"}]`,
    ...(extra.ready === undefined ? [] : [`  conditions: [{type: Ready, status: "${extra.ready ? 'True' : 'False'}"}]`]),
  ].join('\n');
}

export const threeNodes = (opts: Partial<Record<string, NodeExtra>> = {}): string =>
  NODES.map((n, i) => node(n, `192.0.2.${11 + i}`, opts[n] ?? {})).join('\n---\n');

export function service(name: string, extra: { ip?: string; annotations?: Record<string, string>; labels?: Record<string, string>; etp?: 'Local' | 'Cluster'; families?: string[]; policy?: string; statusIP?: string; port?: number } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    ...(extra.labels === undefined ? [] : [`  labels: ${JSON.stringify(extra.labels)}`]),
    ...(extra.annotations === undefined ? [] : [`  annotations: ${JSON.stringify(extra.annotations)}`]),
    'spec:',
    '  type: LoadBalancer',
    `  selector: {app: ${name}}`,
    `  ports: [{port: ${extra.port ?? 80}, protocol: TCP}]`,
    ...(extra.ip === undefined ? [] : [`  loadBalancerIP: "${extra.ip}"`]),
    ...(extra.etp === undefined ? [] : [`  externalTrafficPolicy: ${extra.etp}`]),
    ...(extra.families === undefined ? [] : [`  ipFamilies: ${JSON.stringify(extra.families)}`]),
    ...(extra.policy === undefined ? [] : [`  ipFamilyPolicy: ${extra.policy}`]),
    ...(extra.statusIP === undefined ? [] : ['status:', `  loadBalancer: {ingress: [{ip: "${extra.statusIP}"}]}`]),
  ].join('\n');
}

export function slice(svc: string, endpoints: readonly { node: string; ready?: boolean; serving?: boolean }[], name = `${svc}-abc`): string {
  return [
    'apiVersion: discovery.k8s.io/v1',
    'kind: EndpointSlice',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    `  labels: {kubernetes.io/service-name: ${svc}}`,
    'addressType: IPv4',
    `endpoints: ${JSON.stringify(
      endpoints.map((e, i) => ({
        addresses: [`10.0.0.${i + 1}`],
        nodeName: e.node,
        conditions: { ...(e.ready === undefined ? {} : { ready: e.ready }), ...(e.serving === undefined ? {} : { serving: e.serving }) },
      })),
    )}`,
  ].join('\n');
}

export interface Planned {
  readonly plans: ReadonlyMap<string, NodePlan>;
  readonly problems: readonly string[];
}

/** Plans every node of `nodes` from the same manifests. Throws when the manifests have problems (a test bug). */
export function planAll(docs: readonly string[], opts: { nodes?: readonly string[]; aliveNodes?: ReadonlySet<string>; options?: PlanOptions; allowProblems?: boolean } = {}): Planned {
  const loaded = parseManifests([{ path: 'test.yaml', text: docs.join('\n---\n') }]);
  const compiled = compile(loaded.snapshot);
  const svcs = allocateServices(compiled.config, loaded.snapshot.services, loaded.snapshot.namespaces);
  const problems = [...loaded.problems, ...compiled.problems, ...svcs.problems].map((p) => `${p.kind} ${p.name} ${p.field ?? ''}: ${p.message}`);
  if (problems.length > 0 && opts.allowProblems !== true) throw new Error(`fixture problems:\n${problems.join('\n')}`);
  const plans = new Map<string, NodePlan>();
  for (const n of opts.nodes ?? NODES) {
    plans.set(
      n,
      planNode({
        config: compiled.config,
        services: svcs.services,
        ...planData(loaded.snapshot),
        nodeName: n,
        ...(opts.aliveNodes === undefined ? {} : { aliveNodes: opts.aliveNodes }),
        ...(opts.options === undefined ? {} : { options: opts.options }),
      }),
    );
  }
  return { plans, problems };
}

export function get(p: Planned, n: string): NodePlan {
  const plan = p.plans.get(n);
  if (plan === undefined) throw new Error(`no plan for ${n}`);
  return plan;
}

/** Independent of src/l2: MetalLB's order, smallest sha256(node + "#" + ip) first. */
export function expectedWinner(nodes: readonly string[], ip: string): string {
  const ranked = [...nodes].sort((a, b) => Buffer.compare(createHash('sha256').update(`${a}#${ip}`).digest(), createHash('sha256').update(`${b}#${ip}`).digest()));
  const w = ranked[0];
  if (w === undefined) throw new Error('no nodes');
  return w;
}

export const l2Pool = (name = 'l2-pool', range = '203.0.113.0/28'): string =>
  ['apiVersion: metallb.io/v1beta1', 'kind: IPAddressPool', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', 'spec:', `  addresses: ["${range}"]`].join('\n');

export function l2Adv(name: string, spec: Record<string, unknown> = {}): string {
  return ['apiVersion: metallb.io/v1beta1', 'kind: L2Advertisement', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', `spec: ${JSON.stringify(spec)}`].join('\n');
}

export function bgpAdv(name: string, spec: Record<string, unknown> = {}): string {
  return ['apiVersion: metallb.io/v1beta1', 'kind: BGPAdvertisement', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', `spec: ${JSON.stringify(spec)}`].join('\n');
}

export function bgpPeer(name: string, spec: Record<string, unknown>): string {
  return ['apiVersion: metallb.io/v1beta2', 'kind: BGPPeer', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', `spec: ${JSON.stringify(spec)}`].join('\n');
}
