// Which of this node's interfaces answer for a VIP: pure functions over interface facts.
//
// The request comes from the configuration dialect that selected the VIP:
//   - MetalLB L2Advertisement.interfaces: 'all' when some matching advertisement lists none, else the
//     union of the names (MetalLB L2Advertisement interfaces). A name the node lacks is skipped; if none is left the VIP is
//     not announced here (MetalLB "announceFailed", no fallback to another node).
//   - OpenELB Eip.spec.interface: a NIC name or `can_reach:<IP>` (the NIC the route to <IP> leaves by,
//     never lo).
//   - An Eip without an interface (Porter 0.3 found the NIC itself): the NIC holding an address in the
//     Eip's subnet, else the default route's NIC, else the NIC holding the node's InternalIP.
//   - Neither configured: the NIC holding the node's InternalIP.
// For the OpenELB/Porter requests the node annotation layer2.porter.kubesphere.io/v1alpha1 (or
// layer2.openelb.kubesphere.io/v1alpha1) = <node IP> overrides: the NIC holding that IP (Porter 0.4
// docs "Specify the NIC Used for Porter"). The annotation is per node, so it wins over the pool-wide
// Eip name.
// Then, always: a bridge port or bond member is replaced by its master (metallb#316), and an interface
// is never used if it is loopback, down, NOARP, has no MAC, or its name matches an exclusion pattern.
import { prefixContains, canonicalIp, type MacAddress } from './addresses.ts';

export interface InterfaceAddress {
  readonly ip: string;
  readonly prefixLength: number;
}

export interface InterfaceFacts {
  readonly name: string;
  readonly index: number;
  /** Absent for interfaces without an Ethernet address (e.g. tun, wireguard). */
  readonly mac?: MacAddress;
  readonly up: boolean;
  readonly loopback: boolean;
  /** IFF_NOARP. */
  readonly noarp: boolean;
  /** Name of the bridge or bond this interface is enslaved to. */
  readonly master?: string;
  readonly addresses: readonly InterfaceAddress[];
}

/** A route as `ip route` shows it, for can_reach; connected subnets come from the addresses anyway. */
export interface RouteFact {
  readonly destination: string;
  readonly prefixLength: number;
  readonly dev: string;
  readonly metric?: number;
}

/** MetalLB's default excludel2 list plus a few more virtual-interface prefixes; configurable. */
export const DEFAULT_EXCLUDED_INTERFACES: readonly RegExp[] = [
  /^docker.*/,
  /^cbr.*/,
  /^dummy.*/,
  /^virbr.*/,
  /^lxcbr.*/,
  /^veth.*/,
  /^lo$/,
  /^cali.*/,
  /^tunl.*/,
  /^flannel.*/,
  /^kube-ipvs.*/,
  /^cni.*/,
  /^nodelocaldns.*/,
  /^lxc.*/,
  /^vxlan.*/,
  /^cilium.*/,
  /^weave.*/,
];

export const PORTER_NODE_ANNOTATIONS = ['layer2.porter.kubesphere.io/v1alpha1', 'layer2.openelb.kubesphere.io/v1alpha1'] as const;

export type InterfaceRequest =
  | { readonly kind: 'all' }
  | { readonly kind: 'names'; readonly names: readonly string[] }
  | { readonly kind: 'eip'; readonly spec: string }
  /**
   * An Eip without an interface. Porter 0.3 found the NIC itself: the one holding an address whose subnet
   * contains `inSubnet` (the Eip's first address), else the default route's NIC (SelectOptions
   * defaultRoute), else the NIC of the node InternalIP.
   */
  | { readonly kind: 'nodeDefault'; readonly inSubnet?: string };

export interface NodeAddressing {
  readonly internalIPs: readonly string[];
  /** Node annotations; only the two Porter/OpenELB layer2 keys are read. */
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface SelectOptions {
  /** Replaces DEFAULT_EXCLUDED_INTERFACES. */
  readonly exclude?: readonly RegExp[];
  readonly routes?: readonly RouteFact[];
  /** The interface of the node's default route (for an Eip without an interface). */
  readonly defaultRoute?: string;
}

export const SkipReason = {
  notFound: 'notFound',
  loopback: 'loopback',
  down: 'down',
  noarp: 'noarp',
  noMac: 'noMac',
  excluded: 'excluded',
  masterMissing: 'masterMissing',
} as const;
export type SkipReason = (typeof SkipReason)[keyof typeof SkipReason];

export const SelectProblem = {
  /** Nothing left to answer on: do not announce on this node. */
  noInterface: 'noInterface',
  badEipInterface: 'badEipInterface',
  /** can_reach:<IP> or the annotation / InternalIP address is not on (or routed via) any interface. */
  unresolved: 'unresolved',
} as const;
export type SelectProblem = (typeof SelectProblem)[keyof typeof SelectProblem];

export interface InterfaceSelection {
  /** Interface names to answer on, sorted; empty iff `problem` is set. */
  readonly interfaces: readonly string[];
  readonly skipped: readonly { readonly iface: string; readonly reason: SkipReason }[];
  readonly problem?: { readonly reason: SelectProblem; readonly message: string };
}

export type EipInterface = { readonly kind: 'name'; readonly name: string } | { readonly kind: 'canReach'; readonly ip: string };

/** Eip.spec.interface: a NIC name or can_reach:<IP>; any other "x:y" form is rejected (as OpenELB). */
export function parseEipInterface(spec: string): EipInterface | { readonly kind: 'invalid'; readonly message: string } {
  const s = spec.trim();
  if (s === '') return { kind: 'invalid', message: 'empty interface' };
  const colon = s.indexOf(':');
  if (colon < 0) return { kind: 'name', name: s };
  const prefix = s.slice(0, colon);
  const rest = s.slice(colon + 1);
  if (prefix !== 'can_reach') return { kind: 'invalid', message: `unsupported interface form ${JSON.stringify(s)}: only can_reach:<IP>` };
  try {
    return { kind: 'canReach', ip: canonicalIp(rest) };
  } catch {
    return { kind: 'invalid', message: `can_reach needs an IP address, got ${JSON.stringify(rest)}` };
  }
}

/** The Porter/OpenELB node annotation value (porter spelling first), if any. */
export function nodeAnnotationIp(annotations: Readonly<Record<string, string>> | undefined): string | undefined {
  for (const key of PORTER_NODE_ANNOTATIONS) {
    const v = annotations?.[key]?.trim();
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** The interface holding address `ip`. */
export function interfaceHolding(facts: readonly InterfaceFacts[], ip: string): InterfaceFacts | undefined {
  let want: string;
  try {
    want = canonicalIp(ip);
  } catch {
    return undefined;
  }
  return facts.find((f) => f.addresses.some((a) => safeCanonical(a.ip) === want));
}

/** The interface holding an address whose subnet contains `ip` (longest prefix first). */
export function interfaceWithSubnetOf(facts: readonly InterfaceFacts[], ip: string): InterfaceFacts | undefined {
  if (safeCanonical(ip) === undefined) return undefined;
  const hits = facts.flatMap((f) => f.addresses.filter((a) => safeCanonical(a.ip) !== undefined && prefixContains(a.ip, a.prefixLength, ip)).map((a) => ({ f, len: a.prefixLength })));
  hits.sort((a, b) => b.len - a.len);
  return hits[0]?.f;
}

function safeCanonical(ip: string): string | undefined {
  try {
    return canonicalIp(ip);
  } catch {
    return undefined;
  }
}

/** Longest-prefix match over connected subnets and the given routes; undefined if nothing matches. */
export function interfaceReaching(facts: readonly InterfaceFacts[], routes: readonly RouteFact[], ip: string): string | undefined {
  const candidates: { dev: string; len: number; metric: number }[] = [];
  for (const f of facts) {
    for (const a of f.addresses) {
      if (safeCanonical(a.ip) !== undefined && prefixContains(a.ip, a.prefixLength, ip)) {
        candidates.push({ dev: f.name, len: a.prefixLength, metric: 0 });
      }
    }
  }
  for (const r of routes) {
    if (safeCanonical(r.destination) !== undefined && prefixContains(r.destination, r.prefixLength, ip)) {
      candidates.push({ dev: r.dev, len: r.prefixLength, metric: r.metric ?? 0 });
    }
  }
  candidates.sort((a, b) => b.len - a.len || a.metric - b.metric);
  return candidates[0]?.dev;
}

function skipReason(f: InterfaceFacts, exclude: readonly RegExp[]): SkipReason | undefined {
  if (f.loopback) return SkipReason.loopback;
  if (exclude.some((re) => re.test(f.name))) return SkipReason.excluded;
  if (!f.up) return SkipReason.down;
  if (f.noarp) return SkipReason.noarp;
  if (f.mac === undefined) return SkipReason.noMac;
  return undefined;
}

export function selectInterfaces(
  request: InterfaceRequest,
  facts: readonly InterfaceFacts[],
  node: NodeAddressing,
  opts: SelectOptions = {},
): InterfaceSelection {
  const exclude = opts.exclude ?? DEFAULT_EXCLUDED_INTERFACES;
  const byName = new Map(facts.map((f) => [f.name, f]));
  const skipped: { iface: string; reason: SkipReason }[] = [];
  const fail = (reason: SelectProblem, message: string): InterfaceSelection => ({ interfaces: [], skipped, problem: { reason, message } });

  // 1. Names wanted before filtering.
  let wanted: string[];
  const annotated = request.kind === 'eip' || request.kind === 'nodeDefault' ? nodeAnnotationIp(node.annotations) : undefined;
  if (annotated !== undefined) {
    const f = interfaceHolding(facts, annotated);
    if (f === undefined) return fail(SelectProblem.unresolved, `no interface holds the annotated node IP ${annotated}`);
    wanted = [f.name];
  } else {
    switch (request.kind) {
      case 'all':
        // Enslaved interfaces are reached through their master, which is itself in the list.
        wanted = facts.filter((f) => f.master === undefined).map((f) => f.name);
        break;
      case 'names':
        wanted = [...new Set(request.names)];
        break;
      case 'eip': {
        const parsed = parseEipInterface(request.spec);
        if (parsed.kind === 'invalid') return fail(SelectProblem.badEipInterface, parsed.message);
        if (parsed.kind === 'name') {
          wanted = [parsed.name];
        } else {
          const dev = interfaceReaching(facts, opts.routes ?? [], parsed.ip);
          if (dev === undefined) return fail(SelectProblem.unresolved, `no route to ${parsed.ip}`);
          // OpenELB ParseInterface: a can_reach that resolves to lo is an error.
          if (byName.get(dev)?.loopback === true) return fail(SelectProblem.unresolved, `can_reach:${parsed.ip} resolves to loopback`);
          wanted = [dev];
        }
        break;
      }
      case 'nodeDefault': {
        const inSubnet = request.inSubnet === undefined ? undefined : interfaceWithSubnetOf(facts, request.inSubnet);
        if (inSubnet !== undefined) {
          wanted = [inSubnet.name];
          break;
        }
        if (opts.defaultRoute !== undefined && byName.has(opts.defaultRoute)) {
          wanted = [opts.defaultRoute];
          break;
        }
        const f = node.internalIPs.map((ip) => interfaceHolding(facts, ip)).find((x) => x !== undefined);
        if (f === undefined) return fail(SelectProblem.unresolved, `no interface holds the node InternalIP (${node.internalIPs.join(', ')}) and there is no default route`);
        wanted = [f.name];
        break;
      }
      default: {
        const never: never = request;
        return never;
      }
    }
  }

  // 2. Resolve masters and filter.
  const out = new Set<string>();
  for (const name of wanted) {
    let f = byName.get(name);
    if (f === undefined) {
      skipped.push({ iface: name, reason: SkipReason.notFound });
      continue;
    }
    if (f.master !== undefined) {
      // metallb#316: a bridge port / bond member never answers itself; its master does.
      const m = byName.get(f.master);
      if (m === undefined) {
        skipped.push({ iface: name, reason: SkipReason.masterMissing });
        continue;
      }
      f = m;
    }
    const reason = skipReason(f, exclude);
    if (reason !== undefined) {
      skipped.push({ iface: f.name, reason });
      continue;
    }
    out.add(f.name);
  }
  const interfaces = [...out].sort();
  if (interfaces.length === 0) {
    return fail(SelectProblem.noInterface, `none of ${JSON.stringify(wanted)} can answer ARP/NDP on this node`);
  }
  return { interfaces, skipped };
}
