// What berth writes on objects, computed purely from the current object and the wanted state: the
// controller compares, and sends a merge patch only when something differs.
//
// Service (one PATCH on the status subresource; for core Services it also carries metadata):
//   status.loadBalancer.ingress = [{ip}...]                       (MetalLB controller/service.go convergeBalancer)
//   metadata.annotations["metallb.io/ip-allocated-from-pool"] = pool
//   metadata.labels["eip.openelb.kubesphere.io/v1alpha2"] = Eip    (OpenELB Services / Eip pools;
//                                                                  OpenELB docs and pkg/controllers/lb (Service annotations))
// IPAddressPool.status counters; Eip.status; ConfigurationState.status (MetalLB api/v1beta1/configurationstate_types.go).
import type { V1Service } from '@kubernetes/client-node';
import { Annotations } from '../config/services.ts';
import type { EipStatus, IPAddressPoolStatus } from '../pool/types.ts';
import { isError, Severity, type Problem } from '../config/problems.ts';

export const EIP_LABEL = 'eip.openelb.kubesphere.io/v1alpha2';
export const POOL_ANNOTATION = Annotations.allocatedFromPool;

export interface WantedServiceStatus {
  readonly ips: readonly string[];
  /** undefined: no assignment (annotation removed). */
  readonly pool: string | undefined;
  /** Set the OpenELB Eip label (OpenELB Service or Eip pool). */
  readonly eipLabel: boolean;
}

export function currentIngressIPs(svc: V1Service): string[] {
  const ingress = svc.status?.loadBalancer?.ingress;
  if (!Array.isArray(ingress)) return [];
  return ingress.map((i) => i.ip).filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** The merge patch that makes `svc` show `want`, or undefined when it already does. */
export function serviceStatusPatch(svc: V1Service, want: WantedServiceStatus): Record<string, unknown> | undefined {
  const ips = currentIngressIPs(svc);
  const ann = svc.metadata?.annotations ?? {};
  const labels = svc.metadata?.labels ?? {};
  const wantLabel = want.eipLabel && want.pool !== undefined ? want.pool : undefined;
  const sameIPs = ips.length === want.ips.length && ips.every((ip, i) => ip === want.ips[i]);
  const samePool = ann[POOL_ANNOTATION] === want.pool;
  const sameLabel = labels[EIP_LABEL] === wantLabel;
  if (sameIPs && samePool && sameLabel) return undefined;
  const metadata: Record<string, unknown> = {};
  if (!samePool) metadata['annotations'] = { [POOL_ANNOTATION]: want.pool ?? null };
  if (!sameLabel) metadata['labels'] = { [EIP_LABEL]: wantLabel ?? null };
  return {
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(sameIPs ? {} : { status: { loadBalancer: { ingress: want.ips.length === 0 ? null : want.ips.map((ip) => ({ ip })) } } }),
  };
}

const BIG = '@berth-bigint@';
const BIG_RE = /"@berth-bigint@(-?\d+)"/g;

/** JSON with bigints written as integers (int64 counters must not pass through a double). */
export function jsonWithBigints(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${BIG}${x.toString()}` : x)).replace(BIG_RE, '$1');
}

export function poolStatusBody(s: IPAddressPoolStatus): Record<string, unknown> {
  return { assignedIPv4: s.assignedIPv4, assignedIPv6: s.assignedIPv6, availableIPv4: s.availableIPv4, availableIPv6: s.availableIPv6 };
}

export function eipStatusBody(s: EipStatus): Record<string, unknown> {
  return { occupied: s.occupied, usage: s.usage, poolSize: s.poolSize, used: s.used, firstIP: s.firstIP, lastIP: s.lastIP, v4: s.v4, ready: s.ready };
}

/** Same values, whatever the number representation (the API server returns int64 as JSON numbers). */
export function sameStatus(current: unknown, wanted: Record<string, unknown>): boolean {
  if (typeof current !== 'object' || current === null) return false;
  const cur = current as Record<string, unknown>;
  return Object.entries(wanted).every(([k, v]) => {
    const c = cur[k];
    // int64 above 2^53 comes back from JSON.parse rounded: compare as doubles then.
    if (typeof v === 'bigint') return typeof c === 'number' ? c === Number(v) : typeof c === 'string' && c === v.toString();
    if (typeof v === 'object' && v !== null) return JSON.stringify(sortKeys(c)) === JSON.stringify(sortKeys(v));
    return c === v;
  });
}

function sortKeys(v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)));
}

export const ConfigResult = { Valid: 'Valid', Invalid: 'Invalid', Unknown: 'Unknown' } as const;
export type ConfigResult = (typeof ConfigResult)[keyof typeof ConfigResult];

export const ConditionType = { Pool: 'poolReconcilerValid', Config: 'configReconcilerValid' } as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export interface ConfigurationStateStatus {
  readonly result: ConfigResult;
  readonly errorSummary: string;
  readonly conditions: readonly {
    readonly type: ConditionType;
    readonly status: 'True' | 'False';
    readonly reason: 'Reconciled' | 'ConfigurationError';
    readonly message: string;
    readonly lastTransitionTime: string;
  }[];
}

export function describeProblem(p: Problem): string {
  const where = p.namespace === undefined ? `${p.kind} ${p.name}` : `${p.kind} ${p.namespace}/${p.name}`;
  return `${p.severity === Severity.Warning ? 'warning: ' : ''}${where}${p.field === undefined ? '' : ` ${p.field}`}: ${p.message}`;
}

/**
 * ConfigurationState.status for the problems of one compile. `previous` keeps lastTransitionTime when the
 * condition's status did not change (metav1.Condition rule).
 */
export function configurationStateStatus(type: ConditionType, problems: readonly Problem[], previous: unknown, now: string): ConfigurationStateStatus {
  // Warnings (severity warning) are listed in the summary but leave the configuration valid.
  const valid = !problems.some(isError);
  const summary = problems.map(describeProblem).join('\n').slice(0, 32_000);
  const prevCond = prevCondition(previous, type);
  const status = valid ? 'True' : 'False';
  return {
    result: valid ? ConfigResult.Valid : ConfigResult.Invalid,
    errorSummary: summary,
    conditions: [
      {
        type,
        status,
        reason: valid ? 'Reconciled' : 'ConfigurationError',
        message: valid ? 'configuration valid' : summary.slice(0, 32_000),
        lastTransitionTime: prevCond?.status === status && typeof prevCond.lastTransitionTime === 'string' ? prevCond.lastTransitionTime : now,
      },
    ],
  };
}

function prevCondition(previous: unknown, type: string): { status?: unknown; lastTransitionTime?: unknown } | undefined {
  const conds = (previous as { conditions?: unknown } | undefined)?.conditions;
  if (!Array.isArray(conds)) return undefined;
  return (conds as { type?: unknown; status?: unknown; lastTransitionTime?: unknown }[]).find((c) => c.type === type);
}
