// The lab topology as plain data: namespace and interface names, MACs and addresses. Pure; lab.ts
// turns a plan into namespaces. Everything is named after the caller's prefix so labs never collide.
//
//                 [prefix-ext] eth1 198.51.100.100 / 2001:db8:2::100      (externalClient)
//                       |
//                      eth2 198.51.100.1 / 2001:db8:2::1
//                 [prefix-rt] router (FRR zebra+bgpd[+bfdd], instance "prefix-rt")
//                      eth1 192.0.2.1 / 2001:db8:1::1
//                       |
//   [prefix-sw] bridge br0 (the LAN), ports rt, n1..nN, cl
//        |                 |                          |
//   [prefix-n1] eth1   ... [prefix-nN] eth1      [prefix-cl] eth1 192.0.2.100 / 2001:db8:1::100
//   192.0.2.11 / 2001:db8:1::11 ...
import { LabError } from './run.ts';

export const LAN = { v4Prefix: '192.0.2', v4Len: 24, v6Prefix: '2001:db8:1::', v6Len: 64 } as const;
export const UPSTREAM = { v4Prefix: '198.51.100', v4Len: 24, v6Prefix: '2001:db8:2::', v6Len: 64 } as const;
/** Where VIPs come from in tests. */
export const VIP_RANGES = { v4: '203.0.113.0/24', v6: '2001:db8:f00::/64' } as const;

export const HostRole = { node: 'node', router: 'router', client: 'client', externalClient: 'externalClient' } as const;
export type HostRole = (typeof HostRole)[keyof typeof HostRole];

export interface HostPlan {
  /** 'node1'.., 'router', 'client', 'externalClient'. */
  readonly name: string;
  readonly role: HostRole;
  readonly ns: string;
  /** The LAN interface inside the host's namespace. */
  readonly iface: string;
  readonly mac: string;
  readonly ipv4: string;
  readonly ipv6: string;
  /** The bridge port in the switch namespace this host is cabled to ('' for externalClient). */
  readonly switchPort: string;
}

export interface UpstreamPlan {
  /** Router side of the second link. */
  readonly routerIface: string;
  readonly routerIpv4: string;
  readonly routerIpv6: string;
}

export interface LabPlan {
  readonly prefix: string;
  readonly switchNs: string;
  readonly bridge: string;
  readonly nodes: readonly HostPlan[];
  readonly router: HostPlan | undefined;
  readonly client: HostPlan | undefined;
  readonly externalClient: HostPlan | undefined;
  readonly upstream: UpstreamPlan | undefined;
  /** FRR instance name (-N): config in /etc/frr/<name>/, sockets in /var/run/frr/<name>/. */
  readonly frrName: string;
}

export interface PlanOptions {
  readonly prefix: string;
  readonly nodes: number;
  readonly router: boolean;
  readonly client: boolean;
  readonly externalClient: boolean;
}

/** Prefixes are short so '<prefix>-ext' stays a readable namespace name and FRR paths stay short. */
export const PREFIX_PATTERN = /^[a-z][a-z0-9]{0,9}$/;
export const MAX_NODES = 50;

const mac = (net: number, host: number): string =>
  `02:b1:00:00:${net.toString(16).padStart(2, '0')}:${host.toString(16).padStart(2, '0')}`;

export function planLab(o: PlanOptions): LabPlan {
  if (!PREFIX_PATTERN.test(o.prefix)) {
    throw new LabError(`lab prefix ${JSON.stringify(o.prefix)} must match ${String(PREFIX_PATTERN)}`);
  }
  if (!Number.isInteger(o.nodes) || o.nodes < 0 || o.nodes > MAX_NODES) {
    throw new LabError(`lab nodes must be 0..${MAX_NODES}, got ${o.nodes}`);
  }
  if (o.externalClient && !o.router) throw new LabError('an externalClient needs the router');
  const p = o.prefix;
  const host = (name: string, role: HostRole, ns: string, port: string, octet: number): HostPlan => ({
    name,
    role,
    ns,
    iface: 'eth1',
    mac: mac(1, octet),
    ipv4: `${LAN.v4Prefix}.${octet}`,
    ipv6: `${LAN.v6Prefix}${octet}`,
    switchPort: port,
  });
  const nodes = Array.from({ length: o.nodes }, (_, i) => host(`node${i + 1}`, HostRole.node, `${p}-n${i + 1}`, `n${i + 1}`, 11 + i));
  return {
    prefix: p,
    switchNs: `${p}-sw`,
    bridge: 'br0',
    nodes,
    router: o.router ? host('router', HostRole.router, `${p}-rt`, 'rt', 1) : undefined,
    client: o.client ? host('client', HostRole.client, `${p}-cl`, 'cl', 100) : undefined,
    externalClient: o.externalClient
      ? {
          name: 'externalClient',
          role: HostRole.externalClient,
          ns: `${p}-ext`,
          iface: 'eth1',
          mac: mac(2, 100),
          ipv4: `${UPSTREAM.v4Prefix}.100`,
          ipv6: `${UPSTREAM.v6Prefix}100`,
          switchPort: '',
        }
      : undefined,
    upstream: o.externalClient
      ? { routerIface: 'eth2', routerIpv4: `${UPSTREAM.v4Prefix}.1`, routerIpv6: `${UPSTREAM.v6Prefix}1` }
      : undefined,
    frrName: `${p}-rt`,
  };
}

/** Every namespace of a plan, switch first. */
export function planNamespaces(plan: LabPlan): readonly string[] {
  const hosts = [plan.router, ...plan.nodes, plan.client, plan.externalClient].filter((h): h is HostPlan => h !== undefined);
  return [plan.switchNs, ...hosts.map((h) => h.ns)];
}
