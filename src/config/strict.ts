// Field checks that do not depend on any other object, run on every custom resource before its validator:
//
//   unknown fields  the API server refuses them (kubectl's default strict field validation), so a
//                   misspelt `autoassign: false` must not pass silently here either. The known names come
//                   from deploy/crds (crds/schemas.generated.ts); a typo gets "did you mean ...?".
//   unimplemented   fields the CRDs accept (MetalLB and OpenELB manifests carry them) but berth does not
//                   implement. Where running the object without them would do something else than the
//                   user asked (an OpenELB replacePeerAs berth would not apply) the field refuses the object; where only a
//                   detail differs (a GoBGP timer berth does not use) it is a warning and the object stays.
//                   docs/config.md lists every field of every kind with its state (fields-doc.test.ts
//                   keeps the two in step).
//
// Both return problems; compile() refuses an object with any error among them.

import { CRD_SCHEMAS } from './crds/schemas.generated.ts';
import type { FieldSchema } from './crds/schema.ts';
import { makeProblem, makeWarning, type ObjectRef, type Problem } from './problems.ts';
import { isRecord } from './read.ts';

/** Top-level keys every object may carry besides what its schema lists. */
const OBJECT_KEYS: readonly string[] = ['apiVersion', 'kind', 'metadata', 'spec', 'status'];

/**
 * Porter v1alpha1 BgpConf and BgpPeer, which deploy/crds does not serve (OpenELB api/v1alpha1
 * bgpconf_types.go, bgppeer_types.go) but `berth check` and the manifest speaker read: the v1alpha2 fields (berth reads those
 * spellings too) plus v1alpha1's own.
 */
function porterV1alpha1(kind: string, extra: Readonly<Record<string, FieldSchema>>): FieldSchema | undefined {
  const v2 = CRD_SCHEMAS[`network.kubesphere.io/v1alpha2/${kind}`];
  const spec = v2?.properties?.['spec'];
  if (v2 === undefined || spec === undefined) return undefined;
  return { properties: { ...v2.properties, spec: { properties: { ...spec.properties, ...extra } } } };
}

const PORTER_V1ALPHA1: Readonly<Record<string, FieldSchema | undefined>> = {
  'network.kubesphere.io/v1alpha1/BgpConf': porterV1alpha1('BgpConf', { routerID: {}, port: {} }),
  'network.kubesphere.io/v1alpha1/BgpPeer': porterV1alpha1('BgpPeer', {
    config: { properties: { peerAs: {}, neighborAddress: {} } },
    addPaths: { open: true },
    usingPortForward: {},
  }),
};

/** Unknown fields of `raw` (a custom resource), each with the nearest known name when there is one. */
export function unknownFieldProblems(raw: unknown, ref: ObjectRef): Problem[] {
  if (!isRecord(raw) || typeof raw['apiVersion'] !== 'string') return [];
  const key = `${raw['apiVersion']}/${String(raw['kind'])}`;
  const schema = CRD_SCHEMAS[key] ?? PORTER_V1ALPHA1[key];
  if (schema === undefined) return [];
  const out: Problem[] = [];
  for (const key of Object.keys(raw)) {
    if (!OBJECT_KEYS.includes(key)) out.push(unknownField(ref, key, key, OBJECT_KEYS, String(raw['apiVersion'])));
  }
  for (const key of ['spec', 'status']) {
    const sub = schema.properties?.[key];
    if (raw[key] !== undefined && sub !== undefined) walk(raw[key], sub, key, ref, String(raw['apiVersion']), out);
  }
  return out;
}

function walk(v: unknown, schema: FieldSchema, path: string, ref: ObjectRef, apiVersion: string, out: Problem[]): void {
  if (schema.open === true) return;
  if (Array.isArray(v)) {
    if (schema.items !== undefined) v.forEach((item: unknown, i) => walk(item, schema.items as FieldSchema, `${path}[${i}]`, ref, apiVersion, out));
    return;
  }
  if (!isRecord(v)) return;
  if (schema.values !== undefined) {
    for (const [k, x] of Object.entries(v)) walk(x, schema.values, `${path}.${k}`, ref, apiVersion, out);
    return;
  }
  const props = schema.properties;
  if (props === undefined) return; // an open object (metadata)
  for (const [k, x] of Object.entries(v)) {
    const sub = props[k];
    if (sub === undefined) out.push(unknownField(ref, `${path}.${k}`, k, Object.keys(props), apiVersion));
    else walk(x, sub, `${path}.${k}`, ref, apiVersion, out);
  }
}

function unknownField(ref: ObjectRef, field: string, key: string, known: readonly string[], apiVersion: string): Problem {
  const near = nearestName(key, known);
  const hint = near === undefined ? `known fields here: ${known.join(', ')}` : `did you mean ${near}?`;
  return makeProblem(ref, field, `unknown field "${key}" (the API server refuses it for ${apiVersion} ${ref.kind}): ${hint}`);
}

/** The known name a typo most likely meant: same letters in another case, else edit distance ≤ 2. */
export function nearestName(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const sameCase = known.find((k) => k.toLowerCase() === lower);
  if (sameCase !== undefined) return sameCase;
  let best: { name: string; d: number } | undefined;
  for (const k of known) {
    const d = editDistance(lower, k.toLowerCase());
    if (d <= Math.min(2, Math.floor(k.length / 3)) && (best === undefined || d < best.d)) best = { name: k, d };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const sub = (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, sub));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** An accepted field berth does not implement: where it is and why it matters. */
export interface UnimplementedField {
  /** `group/Kind`, or `group/version/Kind` for one version only. */
  readonly kind: string;
  /** Dotted path below the object; `[]` walks every list item. */
  readonly path: string;
  readonly message: string;
  /** A warning leaves the object in force (the field changes nothing on the wire). */
  readonly warning?: true;
  /** Values that ask for what berth does anyway (not reported). */
  readonly matchesBerth?: (value: unknown) => boolean;
}

/** GoBGP's IPv4/IPv6 unicast, enabled: the families berth negotiates (RFC 4760) for the pools it announces. */
function unicastFamily(v: unknown): boolean {
  const family = isRecord(v) && isRecord(v['family']) ? v['family'] : undefined;
  return isRecord(v) && v['enabled'] !== false && (family?.['afi'] === 'AFI_IP' || family?.['afi'] === 'AFI_IP6') && family['safi'] === 'SAFI_UNICAST';
}

/** Every field the CRDs (or the older served shapes) accept that berth does not act on. */
export const UNIMPLEMENTED_FIELDS: readonly UnimplementedField[] = [
  {
    kind: 'metallb.io/BGPPeer',
    path: 'spec.disableMP',
    message: 'disableMP is deprecated in MetalLB and has no effect in berth (each address family is negotiated by Multiprotocol Extensions, RFC 4760)',
    warning: true,
  },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.neighborInterface', message: 'unnumbered BGP (neighborInterface) is not implemented yet: set conf.neighborAddress instead' },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.removePrivateAs', message: 'removePrivateAs is not implemented: the AS_PATH berth sends is only its own ASN; remove it' },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.replacePeerAs', message: 'replacePeerAs is not implemented: remove it' },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.transport.remoteAddress', message: 'transport.remoteAddress is not implemented: the session goes to conf.neighborAddress; remove it' },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.usingPortForward', message: "Porter's port forwarding of 179 (usingPortForward) is not implemented: berth listens on the BgpConf port itself; remove it" },
  { kind: 'network.kubesphere.io/BgpConf', path: 'spec.listenAddresses', message: 'listenAddresses is not implemented: berth would listen on every address; remove it' },
  // Warnings: the session and the announcements are what the user asked for; a detail differs.
  ...['spec.afiSafis[].addPaths', 'spec.addPaths'].map(
    (path): UnimplementedField => ({
      kind: 'network.kubesphere.io/BgpPeer',
      path,
      message:
        'ADD-PATH (RFC 7911) is not implemented: each node runs its own session and announces itself as next hop, so the router gets its ECMP paths from the sessions (peer with every node), not from sendMax',
      warning: true,
    }),
  ),
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.ebgpMultihop.multihopTtl', message: 'multihopTtl is not implemented: berth sends eBGP multihop sessions with TTL 255', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.peerGroup', message: 'GoBGP peer groups do not exist in berth: peerGroup has no effect', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.peerType', message: 'peerType has no effect: internal or external follows from the ASNs', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.allowOwnAs', message: 'allowOwnAs has no effect: berth does not install received routes', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.routeFlapDamping', message: 'routeFlapDamping has no effect: berth does not install received routes', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.conf.sendCommunity', message: 'sendCommunity has no effect: berth sends the communities of the BGPAdvertisements', warning: true },
  {
    kind: 'network.kubesphere.io/BgpPeer',
    path: 'spec.afiSafis[].config',
    message: 'only IPv4 and IPv6 unicast exist in berth, negotiated (RFC 4760) for the pools it announces: this family setting has no effect',
    warning: true,
    matchesBerth: unicastFamily,
  },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.afiSafis[].mpGracefulRestart', message: 'per-family graceful restart has no effect: gracefulRestart.enabled covers every family', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.transport.mtuDiscovery', message: 'mtuDiscovery has no effect: the kernel default applies', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.transport.tcpMss', message: 'tcpMss has no effect: the kernel default applies', warning: true },
  { kind: 'network.kubesphere.io/BgpPeer', path: 'spec.timers.config.minimumAdvertisementInterval', message: 'minimumAdvertisementInterval has no effect: berth sends an UPDATE as soon as an announcement changes', warning: true },
  ...['restartTime', 'helperOnly', 'deferralTime', 'notificationEnabled', 'longlivedEnabled', 'staleRoutesTime', 'peerRestartTime', 'peerRestarting', 'localRestarting', 'mode'].flatMap(
    (f): UnimplementedField[] =>
      ['network.kubesphere.io/BgpPeer', 'network.kubesphere.io/BgpConf'].map((kind) => ({
        kind,
        path: `spec.gracefulRestart.${f}`,
        message: `gracefulRestart.${f} has no effect: only gracefulRestart.enabled is read (RFC 4724 with berth's own timers)`,
        warning: true as const,
      })),
  ),
  { kind: 'network.kubesphere.io/BgpConf', path: 'spec.useMultiplePaths', message: 'useMultiplePaths (ECMP on received routes) has no effect: berth does not install received routes', warning: true },
  { kind: 'network.kubesphere.io/BgpConf', path: 'spec.families', message: 'families has no effect: berth negotiates IPv4 and IPv6 unicast (RFC 4760) for the pools it announces', warning: true },
];

/** Problems for the unimplemented fields `raw` sets to something other than an empty or false value. */
export function unimplementedFieldProblems(raw: unknown, ref: ObjectRef): Problem[] {
  if (!isRecord(raw) || typeof raw['apiVersion'] !== 'string') return [];
  const apiVersion = raw['apiVersion'];
  const slash = apiVersion.lastIndexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const kinds = [`${group}/${ref.kind}`, `${apiVersion}/${ref.kind}`];
  const out: Problem[] = [];
  for (const f of UNIMPLEMENTED_FIELDS) {
    if (!kinds.includes(f.kind)) continue;
    for (const { path, value } of valuesAt(raw, f.path)) {
      if (!isSet(value) || f.matchesBerth?.(value) === true) continue;
      out.push(f.warning === true ? makeWarning(ref, path, f.message) : makeProblem(ref, path, f.message));
    }
  }
  return out;
}

/** Values at a dotted path, expanding `[]` over list items, with the concrete path of each. */
function valuesAt(root: unknown, path: string): { path: string; value: unknown }[] {
  let cur: { path: string; value: unknown }[] = [{ path: '', value: root }];
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    const key = list ? part.slice(0, -2) : part;
    const next: { path: string; value: unknown }[] = [];
    for (const c of cur) {
      if (!isRecord(c.value) || c.value[key] === undefined) continue;
      const p = c.path === '' ? key : `${c.path}.${key}`;
      const v = c.value[key];
      if (list && Array.isArray(v)) v.forEach((item: unknown, i) => next.push({ path: `${p}[${i}]`, value: item }));
      else if (!list) next.push({ path: p, value: v });
    }
    cur = next;
  }
  return cur;
}

/** False for the values that mean "not used": null, "", false, 0, and lists/maps holding only those. */
function isSet(v: unknown): boolean {
  if (v === undefined || v === null || v === '' || v === false || v === 0) return false;
  if (Array.isArray(v)) return v.some(isSet);
  if (isRecord(v)) return Object.values(v).some(isSet);
  return true;
}
