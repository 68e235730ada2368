// Which Services are berth's, and Service -> AllocationRequest (MetalLB docs, Usage: Service annotations,
// OpenELB docs and pkg/controllers/lb (Service annotations)). Pure.
//
// Ours:  type LoadBalancer, and
//   OpenELB dialect: annotation lb.kubesphere.io/v1alpha1 = porter | openelb;
//   MetalLB dialect: every other one with no spec.loadBalancerClass (or exactly the configured class).
//   A Service whose loadBalancerClass names another implementation is never ours, in either dialect.
//   OpenELB dialect off (ServiceOptions.openelb false, `--openelb off`): the OpenELB ones are not ours,
//   and the eip.* and protocol.* annotations below are not read on any Service.
// Requests (both dialects read every annotation; contradictions are problems):
//   IPs:  metallb.io/loadBalancerIPs (comma-separated, <= 2, one per family) | spec.loadBalancerIP |
//         eip.{openelb,porter}.kubesphere.io/v1alpha1. MetalLB: annotation + spec.loadBalancerIP is an error.
//   pool: metallb.io/address-pool | eip.{openelb,porter}.kubesphere.io/v1alpha2 (Eip name).
//   sharing key: metallb.io/allow-shared-ip. Protocol: protocol.{porter,openelb}.kubesphere.io/v1alpha1.
//   The metallb.universe.tf/* spellings are read when the metallb.io/* one is absent.

import type { V1Namespace, V1Service } from '@kubernetes/client-node';
import {
  IPFamilyPolicy,
  PortProtocol,
  parseIP,
  type AllocationRequest,
  type Dialect,
  type Family,
  type IPAddress,
  type Labels,
  type PoolProtocol,
  type ServicePort,
} from '../pool/types.ts';
import { makeProblem, Severity, type ObjectRef, type Problem } from './problems.ts';
import type { CompileOptions } from './compile.ts';
import { compareCommunities, formatCommunity, parseCommunity, wellKnownCommunity } from './community.ts';
import type { BgpCommunity } from './model.ts';
import { fitted } from './compact.ts';

export const Annotations = {
  loadBalancerIPs: 'metallb.io/loadBalancerIPs',
  addressPool: 'metallb.io/address-pool',
  allowSharedIP: 'metallb.io/allow-shared-ip',
  allocatedFromPool: 'metallb.io/ip-allocated-from-pool',
  openelb: 'lb.kubesphere.io/v1alpha1',
  eipPool: ['eip.openelb.kubesphere.io/v1alpha2', 'eip.porter.kubesphere.io/v1alpha2'],
  eipIP: ['eip.openelb.kubesphere.io/v1alpha1', 'eip.porter.kubesphere.io/v1alpha1'],
  protocol: ['protocol.openelb.kubesphere.io/v1alpha1', 'protocol.porter.kubesphere.io/v1alpha1'],
  /** berth's own: "local-endpoints" weights each node's BGP route by its serving endpoints (docs/steering.md). */
  weightedEcmp: 'berth.io/weighted-ecmp',
  /** berth's own: communities (AA:NN, large:G:L1:L2, well-known names), comma-separated, added to this Service's prefixes. */
  bgpCommunities: 'berth.io/bgp-communities',
  /** berth's own: LOCAL_PREF of this Service's prefixes toward iBGP peers (0..4294967295), over the BGPAdvertisement's. */
  bgpLocalPref: 'berth.io/bgp-local-pref',
} as const;

/** The one value of berth.io/weighted-ecmp. */
export const WEIGHTED_BY_LOCAL_ENDPOINTS = 'local-endpoints';

const DEPRECATED_PREFIX = 'metallb.universe.tf/';
const OPENELB_VALUES: readonly string[] = ['porter', 'openelb'];

export interface ServiceOptions extends CompileOptions {
  /** berth's loadBalancerClass (`--lb-class`); undefined = Services without a class only. */
  readonly loadBalancerClass?: string;
}

export const TrafficPolicy = { Cluster: 'Cluster', Local: 'Local' } as const;
export type TrafficPolicy = (typeof TrafficPolicy)[keyof typeof TrafficPolicy];

export interface ServiceIntent {
  readonly ref: ObjectRef;
  readonly request: AllocationRequest;
  /** Protocol annotation (layer2|bgp), undefined when absent: dispatch then asks the pool. */
  readonly protocol: PoolProtocol | undefined;
  readonly externalTrafficPolicy: TrafficPolicy;
  /** status.loadBalancer.ingress[].ip, parsed: replayed into the allocator before new allocations. */
  readonly currentIPs: readonly IPAddress[];
  /** Labels, for advertisement serviceSelectors. */
  readonly labels: Labels;
  /** berth.io/weighted-ecmp: local-endpoints (externalTrafficPolicy Local only): BGP routes carry the
   * node's serving endpoint count as link bandwidth, for weighted ECMP at the router. */
  readonly weightedEcmp?: boolean;
  /** berth.io/bgp-communities and berth.io/bgp-local-pref: added to every BGP prefix of this Service. */
  readonly bgp?: ServiceBgpAttributes;
}

export interface ServiceBgpAttributes {
  /** Sorted (compareCommunities), unique. */
  readonly communities: readonly BgpCommunity[];
  readonly localPref?: number;
}

export type ServiceTranslation =
  | { readonly kind: 'ignored'; readonly ref: ObjectRef; readonly reason: string }
  | { readonly kind: 'invalid'; readonly ref: ObjectRef; readonly problems: readonly Problem[] }
  | { readonly kind: 'ours'; readonly intent: ServiceIntent };

export function serviceRef(svc: V1Service): ObjectRef {
  return { kind: 'Service', namespace: svc.metadata?.namespace ?? 'default', name: svc.metadata?.name ?? '' };
}

/** A metallb.io/* annotation, falling back to the deprecated metallb.universe.tf/* spelling. */
function metallbAnnotation(ann: Labels, key: string): { value: string | undefined; field: string } {
  const v = ann[key];
  if (v !== undefined) return { value: v, field: key };
  const old = DEPRECATED_PREFIX + key.slice(key.indexOf('/') + 1);
  return { value: ann[old], field: old };
}

function firstOf(ann: Labels, keys: readonly string[]): { value: string | undefined; field: string } {
  for (const k of keys) if (ann[k] !== undefined) return { value: ann[k], field: k };
  return { value: undefined, field: keys[0] ?? '' };
}

export function serviceDialect(svc: V1Service): Dialect {
  const v = svc.metadata?.annotations?.[Annotations.openelb];
  return v !== undefined && OPENELB_VALUES.includes(v) ? 'openelb' : 'metallb';
}

/** Canonical `k=v,...` of a selector map (sorted keys): the sharing backend key for ETP=Local. */
export function canonicalLabels(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k] ?? ''}`)
    .join(',');
}

/** A value in a message: "missing" for an absent field, else its JSON text. */
function gotText(v: unknown): string {
  return v === undefined ? 'nothing (the field is missing)' : (JSON.stringify(v) ?? String(v));
}

function listOf(v: unknown): readonly unknown[] {
  return Array.isArray(v) ? v : [];
}

/** One shared object for the Services without labels or annotations (translations are kept per Service). */
const NO_STRINGS: Labels = Object.freeze({});

function stringMap(v: unknown, field: string, report: (field: string, message: string) => void): Labels {
  if (v === undefined || v === null) return NO_STRINGS;
  if (typeof v !== 'object' || Array.isArray(v)) {
    report(field, 'must be a mapping of strings');
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
    if (typeof x === 'string') out[k] = x;
    else report(`${field}["${k}"]`, `must be a string, got ${JSON.stringify(x)}: quote it in YAML`);
  }
  return out;
}

function familyOf(text: string): Family | undefined {
  const ip = parseIP(text);
  return ip.ok ? ip.value.family : undefined;
}

export function translateService(svc: V1Service, namespaces: readonly V1Namespace[], opts: ServiceOptions = {}): ServiceTranslation {
  const ref = serviceRef(svc);
  const spec = svc.spec;
  if (spec?.type !== 'LoadBalancer') return { kind: 'ignored', ref, reason: `type ${spec?.type ?? 'ClusterIP'}, not LoadBalancer` };
  const cls = spec.loadBalancerClass;
  if (cls !== undefined && cls !== opts.loadBalancerClass) {
    return { kind: 'ignored', ref, reason: `loadBalancerClass "${cls}" belongs to another implementation` };
  }
  const problems: Problem[] = [];
  const report = (field: string, message: string): void => {
    problems.push(makeProblem(ref, field, message));
  };
  // Manifests are not schema-checked: annotation and label values must be strings (quote them in YAML).
  const ann = stringMap(svc.metadata?.annotations, 'metadata.annotations', report);
  const labels = stringMap(svc.metadata?.labels, 'metadata.labels', report);
  const dialect = serviceDialect(svc);
  // OpenELB off (--openelb off): its Services are OpenELB's, and no OpenELB annotation is read on the others.
  const openelb = opts.openelb !== false;
  if (!openelb && dialect === 'openelb') {
    return { kind: 'ignored', ref, reason: `annotation ${Annotations.openelb} hands it to OpenELB, and berth runs with the OpenELB dialect off (--openelb off)` };
  }
  if (cls === undefined && opts.loadBalancerClass !== undefined && dialect === 'metallb') {
    return { kind: 'ignored', ref, reason: `no loadBalancerClass; berth runs with class "${opts.loadBalancerClass}"` };
  }
  // Requested IPs.
  const lbIPs = metallbAnnotation(ann, Annotations.loadBalancerIPs);
  const eipIP = firstOf(ann, openelb ? Annotations.eipIP : []);
  const rawSpecIP: unknown = spec.loadBalancerIP;
  if (rawSpecIP !== undefined && rawSpecIP !== null && typeof rawSpecIP !== 'string') report('spec.loadBalancerIP', 'must be a string');
  const specIP = typeof rawSpecIP === 'string' && rawSpecIP !== '' ? rawSpecIP : undefined;
  let ipTexts: string[] = [];
  let ipField = 'spec.loadBalancerIP';
  if (lbIPs.value !== undefined) {
    ipTexts = lbIPs.value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    ipField = `metadata.annotations["${lbIPs.field}"]`;
    if (specIP !== undefined) report(ipField, `service can not have both ${lbIPs.field} and spec.loadBalancerIP: keep the annotation`);
    if (eipIP.value !== undefined) report(`metadata.annotations["${eipIP.field}"]`, `service can not have both ${lbIPs.field} and ${eipIP.field}: keep one`);
  } else if (eipIP.value !== undefined) {
    ipTexts = [eipIP.value.trim()];
    ipField = `metadata.annotations["${eipIP.field}"]`;
    if (specIP !== undefined && specIP.trim() !== eipIP.value.trim()) {
      report(ipField, `${eipIP.field} (${eipIP.value}) and spec.loadBalancerIP (${specIP}) disagree, and OpenELB versions differ on which wins: keep one`);
    }
  } else if (specIP !== undefined) {
    ipTexts = [specIP.trim()];
  }
  const requestedIPs: IPAddress[] = [];
  for (const t of ipTexts) {
    const ip = parseIP(t);
    if (!ip.ok) report(ipField, `${ip.error.message}: write an IPv4 or IPv6 address`);
    else requestedIPs.push(ip.value);
  }
  if (requestedIPs.length > 2) report(ipField, `at most 2 IPs (one IPv4 and one IPv6), got ${requestedIPs.length}`);
  if (requestedIPs.length === 2 && requestedIPs[0]?.family === requestedIPs[1]?.family) report(ipField, 'two IPs must be one IPv4 and one IPv6');

  // Pool.
  const pool = metallbAnnotation(ann, Annotations.addressPool);
  const eipPool = firstOf(ann, openelb ? Annotations.eipPool : []);
  if (pool.value !== undefined && eipPool.value !== undefined && pool.value !== eipPool.value) {
    report(`metadata.annotations["${eipPool.field}"]`, `${pool.field} ("${pool.value}") and ${eipPool.field} ("${eipPool.value}") name different pools: keep one`);
  }
  const requestedPool = pool.value ?? eipPool.value;

  // Protocol.
  const proto = firstOf(ann, openelb ? Annotations.protocol : []);
  let protocol: PoolProtocol | undefined;
  if (proto.value !== undefined) {
    if (proto.value === 'layer2' || proto.value === 'bgp') protocol = proto.value;
    else if (proto.value === 'vip') report(`metadata.annotations["${proto.field}"]`, 'vip (keepalived) mode is not supported by berth: use layer2');
    else report(`metadata.annotations["${proto.field}"]`, `must be layer2 or bgp, got "${proto.value}"`);
  }

  // Families: the cluster IPs when set (the API server's answer), else what the spec asks for
  // (manifests that were never applied have no cluster IP).
  const policyText = spec.ipFamilyPolicy ?? IPFamilyPolicy.SingleStack;
  const policies: readonly string[] = Object.values(IPFamilyPolicy);
  if (typeof policyText !== 'string' || !policies.includes(policyText)) report('spec.ipFamilyPolicy', `must be one of ${policies.join(', ')}, got ${gotText(policyText)}`);
  const ipFamilyPolicy = policyText as IPFamilyPolicy;
  const clusterIPs = listOf(spec.clusterIPs ?? (spec.clusterIP === undefined ? [] : [spec.clusterIP])).filter((c): c is string => typeof c === 'string' && c !== '' && c !== 'None');
  // The API server accepts exactly IPv4 and IPv6, each once (MetalLB's docs write `ipv4`, which it refuses).
  listOf(spec.ipFamilies).forEach((f, i, all) => {
    if (f !== 'IPv4' && f !== 'IPv6') {
      const hint = typeof f === 'string' && (f.toLowerCase() === 'ipv4' || f.toLowerCase() === 'ipv6') ? `: write ${f.toLowerCase() === 'ipv4' ? 'IPv4' : 'IPv6'}` : '';
      report(`spec.ipFamilies[${i}]`, `must be IPv4 or IPv6, got ${gotText(f)}${hint}`);
    } else if (all.indexOf(f) !== i) report(`spec.ipFamilies[${i}]`, `${f} is listed twice: remove one`);
  });
  let ipFamilies: Family[] = clusterIPs.map(familyOf).filter((f): f is Family => f !== undefined);
  if (clusterIPs.length === 0) {
    const asked = listOf(spec.ipFamilies).map((f) => (f === 'IPv6' ? 'ipv6' : f === 'IPv4' ? 'ipv4' : undefined)).filter((f): f is Family => f !== undefined);
    if (asked.length > 0) ipFamilies = ipFamilyPolicy === IPFamilyPolicy.SingleStack ? asked.slice(0, 1) : asked;
    else ipFamilies = ipFamilyPolicy === IPFamilyPolicy.SingleStack ? ['ipv4'] : ['ipv4', 'ipv6'];
  }

  // Ports and traffic policy.
  const ports: ServicePort[] = [];
  const protocols: readonly string[] = Object.values(PortProtocol);
  listOf(spec.ports).forEach((raw, i) => {
    const p = (typeof raw === 'object' && raw !== null ? raw : {}) as { readonly protocol?: unknown; readonly port?: unknown };
    const proto = p.protocol ?? PortProtocol.TCP;
    if (typeof proto !== 'string' || !protocols.includes(proto)) report(`spec.ports[${i}].protocol`, `must be TCP, UDP or SCTP, got ${gotText(proto)}`);
    else if (typeof p.port !== 'number' || !Number.isInteger(p.port) || p.port < 1 || p.port > 65535) report(`spec.ports[${i}].port`, p.port === undefined ? 'missing: set a port number 1..65535' : `must be a port number 1..65535, got ${gotText(p.port)}`);
    else ports.push({ protocol: proto as PortProtocol, port: p.port });
  });
  const etpText = spec.externalTrafficPolicy ?? TrafficPolicy.Cluster;
  const etp = etpText === 'Local' ? TrafficPolicy.Local : etpText === 'Cluster' ? TrafficPolicy.Cluster : undefined;
  if (etp === undefined) report('spec.externalTrafficPolicy', `must be Cluster or Local, got ${gotText(etpText)}`);
  const weighted = ann[Annotations.weightedEcmp];
  const weightedField = `metadata.annotations["${Annotations.weightedEcmp}"]`;
  if (weighted !== undefined && weighted !== WEIGHTED_BY_LOCAL_ENDPOINTS) report(weightedField, `must be "${WEIGHTED_BY_LOCAL_ENDPOINTS}", got "${weighted}"`);
  else if (weighted !== undefined && etp === TrafficPolicy.Cluster) {
    // With Cluster every node forwards to every endpoint: equal shares are right, a weight would skew them.
    report(weightedField, 'has effect only with spec.externalTrafficPolicy Local (with Cluster every node reaches every endpoint): set Local or remove the annotation');
  }

  const bgp = serviceBgpAttributes(ann, report);

  const selector = stringMap(spec.selector, 'spec.selector', report);
  if (problems.length > 0 || etp === undefined) return { kind: 'invalid', ref, problems };

  const nsName = ref.namespace ?? 'default';
  const ns = namespaces.find((n) => n.metadata?.name === nsName);
  // The API server labels every Namespace with its own name (kubernetes.io/metadata.name).
  const namespaceLabels: Labels = { 'kubernetes.io/metadata.name': nsName, ...(ns?.metadata?.labels ?? {}) };
  const sharing = metallbAnnotation(ann, Annotations.allowSharedIP).value;
  const currentIPs: IPAddress[] = [];
  for (const ing of listOf(svc.status?.loadBalancer?.ingress)) {
    const text: unknown = typeof ing === 'object' && ing !== null ? (ing as { readonly ip?: unknown }).ip : undefined;
    if (typeof text !== 'string') continue;
    const ip = parseIP(text);
    if (ip.ok) currentIPs.push(ip.value);
  }
  const request: AllocationRequest = {
    service: `${nsName}/${ref.name}`,
    namespace: nsName,
    namespaceLabels,
    serviceLabels: labels,
    // Exact-length arrays: translations are kept per Service for as long as it is unchanged.
    ipFamilies: fitted(ipFamilies),
    ipFamilyPolicy,
    requestedIPs: fitted(requestedIPs),
    requestedPool: requestedPool === undefined || requestedPool === '' ? undefined : requestedPool,
    protocol,
    sharingKey: sharing === undefined || sharing === '' ? undefined : sharing,
    backendKey: etp === TrafficPolicy.Local ? canonicalLabels(selector) : '',
    ports: fitted(ports),
    dialect,
  };
  return { kind: 'ours', intent: { ref, request, protocol, externalTrafficPolicy: etp, currentIPs: fitted(currentIPs), labels, ...(weighted !== undefined ? { weightedEcmp: true } : {}), ...(bgp !== undefined ? { bgp } : {}) } };
}

/** berth.io/bgp-communities and berth.io/bgp-local-pref (docs/steering.md); undefined when neither is set. */
function serviceBgpAttributes(ann: Labels, report: (field: string, message: string) => void): ServiceBgpAttributes | undefined {
  const text = ann[Annotations.bgpCommunities];
  const lpText = ann[Annotations.bgpLocalPref];
  if (text === undefined && lpText === undefined) return undefined;
  const communities: BgpCommunity[] = [];
  const field = `metadata.annotations["${Annotations.bgpCommunities}"]`;
  for (const item of (text ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '')) {
    const known = wellKnownCommunity(item);
    // Community aliases are names of MetalLB Community objects, which a Service cannot see.
    const c = known !== undefined ? { ok: true as const, value: known } : parseCommunity(item, { advice: ' (Community aliases are read in BGPAdvertisements only: write the value)' });
    if (!c.ok) {
      report(field, c.message);
      continue;
    }
    if (!communities.some((x) => compareCommunities(x, c.value) === 0)) communities.push(c.value);
  }
  communities.sort(compareCommunities);
  let localPref: number | undefined;
  if (lpText !== undefined) {
    const n = /^[0-9]{1,10}$/.test(lpText.trim()) ? Number(lpText.trim()) : NaN;
    if (Number.isInteger(n) && n <= 0xffff_ffff) localPref = n;
    else report(`metadata.annotations["${Annotations.bgpLocalPref}"]`, `must be an integer 0..4294967295, got "${lpText}"`);
  }
  return { communities, ...(localPref !== undefined ? { localPref } : {}) };
}

/**
 * Services that share an IP but ask for different per-Service LOCAL_PREFs (berth.io/bgp-local-pref):
 * one prefix carries one LOCAL_PREF, so the largest is sent (deterministic, whatever the order the
 * Services arrive in) and each other Service gets a warning naming the one that won. Communities of
 * all of them are sent (unioned), which is no conflict.
 */
export function sharedIPAttributeConflicts(services: readonly { readonly intent: ServiceIntent; readonly ips: readonly string[] }[]): Problem[] {
  const byIP = new Map<string, { intent: ServiceIntent; localPref: number }[]>();
  for (const s of services) {
    const lp = s.intent.bgp?.localPref;
    if (lp === undefined) continue;
    for (const ip of s.ips) {
      const list = byIP.get(ip) ?? [];
      list.push({ intent: s.intent, localPref: lp });
      byIP.set(ip, list);
    }
  }
  const problems: Problem[] = [];
  for (const [ip, list] of byIP) {
    if (list.length < 2 || list.every((x) => x.localPref === list[0]?.localPref)) continue;
    const sorted = [...list].sort((a, b) => b.localPref - a.localPref || (a.intent.request.service < b.intent.request.service ? -1 : 1));
    const win = sorted[0];
    if (win === undefined) continue;
    for (const lose of sorted.slice(1)) {
      if (lose.localPref === win.localPref) continue;
      problems.push({
        ...makeProblem(lose.intent.ref, `metadata.annotations["${Annotations.bgpLocalPref}"]`, `${lose.localPref} is not sent: ${ip} is shared with ${win.intent.request.service}, whose ${win.localPref} is larger (one prefix has one LOCAL_PREF; the largest wins)`),
        severity: Severity.Warning,
      });
    }
  }
  return problems;
}

/** The per-Service attributes as `berth check` shows them. */
export function describeServiceBgp(a: ServiceBgpAttributes | undefined): string {
  if (a === undefined) return '';
  return [
    ...(a.localPref !== undefined ? [`service local-pref ${a.localPref}`] : []),
    ...(a.communities.length > 0 ? [`service communities ${a.communities.map(formatCommunity).join(' ')}`] : []),
  ].join('; ');
}
