// The parametric namespace lab (lab.ts) as plain data: namespace and interface names, MACs and addresses.
// Its addresses, MACs, interfaces and switch ports are READ from frr-lab/topology.clab.yml (the one
// description of the lab, which containerlab and netns.ts deploy): the router, node1, the client and the
// outside client as the file says; node N continues node1's pattern (host octet + N - 1, same MAC scheme,
// switch port nN). lab.ts turns a plan into namespaces. Everything is named after the caller's prefix so
// labs never collide.
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
import { readTopology, type Topology } from './topology.ts';

/** What topology.clab.yml's exec lines and links say about one interface of one node. */
export interface FileInterface {
  readonly iface: string;
  /** '' when the file leaves it random. */
  readonly mac: string;
  readonly ipv4: string;
  readonly v4Len: number;
  readonly ipv6: string;
  readonly v6Len: number;
  /** The port of the `lan` switch this interface is cabled to ('' when none). */
  readonly switchPort: string;
}

/** Reads `ip link set IF address MAC` and `ip addr add A/LEN dev IF` of a node's exec lines, and its link to the switch. */
export function fileInterface(t: Topology, node: string, iface: string): FileInterface {
  const n = t.nodes.find((x) => x.name === node);
  if (n === undefined) throw new LabError(`${t.file}: no node ${node}`);
  const line = (pred: (argv: readonly string[]) => boolean): readonly string[] => n.exec.find(pred) ?? [];
  const mac = line((a) => a.join(' ').startsWith(`ip link set ${iface} address `))[5] ?? '';
  const addr = (v6: boolean): [string, number] => {
    const a = line((x) => x[0] === 'ip' && x[1] === 'addr' && x[2] === 'add' && x[4] === 'dev' && x[5] === iface && (x[3] ?? '').includes(':') === v6)[3] ?? '';
    const [ip = '', len = ''] = a.split('/');
    return [ip, Number(len)];
  };
  const [ipv4, v4Len] = addr(false);
  const [ipv6, v6Len] = addr(true);
  if (ipv4 === '' || ipv6 === '') throw new LabError(`${t.file}: node ${node} does not give ${iface} an IPv4 and an IPv6 address in its exec lines`);
  const link = t.links.find(([a, b]) => (a.node === node && a.iface === iface) || (b.node === node && b.iface === iface));
  const other = link === undefined ? undefined : link[0].node === node ? link[1] : link[0];
  return { iface, mac, ipv4, v4Len, ipv6, v6Len, switchPort: other?.node === 'lan' ? other.iface : '' };
}

const FILE = readTopology();
const FILE_ROUTER_LAN = fileInterface(FILE, 'router', 'eth1');
const FILE_ROUTER_UP = fileInterface(FILE, 'router', 'eth2');
const FILE_NODE1 = fileInterface(FILE, 'node1', 'eth1');
const FILE_CLIENT = fileInterface(FILE, 'client', 'eth1');
const FILE_EXT = fileInterface(FILE, 'ext', 'eth1');
const v4Net = (ip: string): string => ip.split('.').slice(0, 3).join('.');
const v6Net = (ip: string): string => `${ip.slice(0, ip.lastIndexOf(':'))}:`;
const hostOctet = (ip: string): number => Number(ip.split('.')[3]);

export const LAN = { v4Prefix: v4Net(FILE_ROUTER_LAN.ipv4), v4Len: FILE_ROUTER_LAN.v4Len, v6Prefix: v6Net(FILE_ROUTER_LAN.ipv6), v6Len: FILE_ROUTER_LAN.v6Len } as const;
export const UPSTREAM = { v4Prefix: v4Net(FILE_ROUTER_UP.ipv4), v4Len: FILE_ROUTER_UP.v4Len, v6Prefix: v6Net(FILE_ROUTER_UP.ipv6), v6Len: FILE_ROUTER_UP.v6Len } as const;
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
  const fromFile = (name: string, role: HostRole, ns: string, f: FileInterface): HostPlan => {
    if (f.mac === '') throw new LabError(`${FILE.file}: ${name}'s ${f.iface} needs a fixed MAC (ip link set ${f.iface} address ...)`);
    return { name, role, ns, iface: f.iface, mac: f.mac, ipv4: f.ipv4, ipv6: f.ipv6, switchPort: f.switchPort };
  };
  // node N: node1's pattern continued (the file has node1..node3; the plan may have up to MAX_NODES).
  const first = hostOctet(FILE_NODE1.ipv4);
  if (FILE_NODE1.mac !== mac(1, first)) throw new LabError(`${FILE.file}: node1's MAC ${FILE_NODE1.mac} is not 02:b1:00:00:01:<host octet>, the pattern the plan continues`);
  const node = (i: number): HostPlan => {
    const octet = first + i;
    return {
      name: `node${i + 1}`,
      role: HostRole.node,
      ns: `${p}-n${i + 1}`,
      iface: FILE_NODE1.iface,
      mac: mac(1, octet),
      ipv4: `${LAN.v4Prefix}.${octet}`,
      ipv6: `${LAN.v6Prefix}${octet}`,
      switchPort: `n${i + 1}`,
    };
  };
  const nodes = Array.from({ length: o.nodes }, (_, i) => node(i));
  return {
    prefix: p,
    switchNs: `${p}-sw`,
    bridge: 'br0',
    nodes,
    router: o.router ? fromFile('router', HostRole.router, `${p}-rt`, FILE_ROUTER_LAN) : undefined,
    client: o.client ? fromFile('client', HostRole.client, `${p}-cl`, FILE_CLIENT) : undefined,
    externalClient: o.externalClient ? fromFile('externalClient', HostRole.externalClient, `${p}-ext`, FILE_EXT) : undefined,
    upstream: o.externalClient ? { routerIface: FILE_ROUTER_UP.iface, routerIpv4: FILE_ROUTER_UP.ipv4, routerIpv6: FILE_ROUTER_UP.ipv6 } : undefined,
    frrName: `${p}-rt`,
  };
}

/** Every namespace of a plan, switch first. */
export function planNamespaces(plan: LabPlan): readonly string[] {
  const hosts = [plan.router, ...plan.nodes, plan.client, plan.externalClient].filter((h): h is HostPlan => h !== undefined);
  return [plan.switchNs, ...hosts.map((h) => h.ns)];
}
