// frr-lab/topology.clab.yml as data, and what both runners share: reading the file (with containerlab's
// ${VAR:=default} expansion), and the handle a running lab gives its users whatever built it. The
// containerlab runner is clab.ts, the namespace runner netns.ts.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { LabError, type RunOptions, type RunResult } from './run.ts';

export const TOPOLOGY_FILE = fileURLToPath(new URL('topology.clab.yml', import.meta.url));

export interface Endpoint {
  readonly node: string;
  readonly iface: string;
}

export interface TopologyNode {
  readonly name: string;
  readonly kind: string;
  readonly image: string;
  /** host:container[:mode], host paths resolved against the topology file's folder. */
  readonly binds: readonly { readonly host: string; readonly container: string }[];
  /** Commands run once the links are up, each a single command (split on blanks, no shell). */
  readonly exec: readonly (readonly string[])[];
}

export interface Topology {
  readonly file: string;
  readonly name: string;
  readonly mgmt: { readonly network: string; readonly bridge: string; readonly ipv4Subnet: string; readonly ipv6Subnet: string };
  readonly nodes: readonly TopologyNode[];
  readonly links: readonly (readonly [Endpoint, Endpoint])[];
}

/**
 * containerlab's expansion (hellt/envsubst, restricted): ${VAR} and ${VAR:=default} (which also sets VAR for
 * later uses, as envsubst does); a variable that is unset and has no default is left as written.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string | undefined>>): string {
  const vars = new Map<string, string>();
  for (const [k, v] of Object.entries(env)) if (v !== undefined) vars.set(k, v);
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::=([^}]*))?\}/g, (whole, name: string, def: string | undefined) => {
    const v = vars.get(name);
    if (v !== undefined && v !== '') return v;
    if (def === undefined) return whole;
    vars.set(name, def);
    return def;
  });
}

interface RawNode {
  kind?: string;
  image?: string;
  binds?: string[];
  exec?: string[];
}

export function readTopology(file: string = TOPOLOGY_FILE, env: Readonly<Record<string, string | undefined>> = process.env): Topology {
  const raw = parse(expandEnv(readFileSync(file, 'utf8'), env)) as {
    name?: string;
    mgmt?: { network?: string; bridge?: string; 'ipv4-subnet'?: string; 'ipv6-subnet'?: string };
    topology?: { defaults?: RawNode; nodes?: Record<string, RawNode | null>; links?: { endpoints?: string[] }[] };
  };
  const t = raw.topology;
  if (typeof raw.name !== 'string' || t?.nodes === undefined) throw new LabError(`${file}: no name or no topology.nodes`);
  const dir = dirname(file);
  const defaults = t.defaults ?? {};
  const nodes: TopologyNode[] = Object.entries(t.nodes).map(([name, n]) => ({
    name,
    kind: n?.kind ?? defaults.kind ?? 'linux',
    image: n?.image ?? defaults.image ?? '',
    binds: (n?.binds ?? []).map((b) => {
      const [host = '', container = ''] = b.split(':');
      return { host: resolve(dir, host), container };
    }),
    exec: (n?.exec ?? []).map((line: unknown) => {
      if (typeof line !== 'string') throw new LabError(`${file}: node ${name}: an exec line is ${JSON.stringify(line)}, not a command`);
      if (/["'`$|;&<>\\]/.test(line)) throw new LabError(`${file}: node ${name}: exec line must be one plain command (no shell): ${line}`);
      return line.trim().split(/\s+/);
    }),
  }));
  const endpoint = (s: string): Endpoint => {
    const [node = '', iface = ''] = s.split(':');
    if (!nodes.some((n) => n.name === node) || iface === '') throw new LabError(`${file}: bad link endpoint ${s}`);
    return { node, iface };
  };
  const links = (t.links ?? []).map((l): [Endpoint, Endpoint] => {
    const [a, b] = l.endpoints ?? [];
    if (a === undefined || b === undefined) throw new LabError(`${file}: a link needs two endpoints`);
    return [endpoint(a), endpoint(b)];
  });
  return {
    file,
    name: raw.name,
    mgmt: {
      network: raw.mgmt?.network ?? 'clab',
      bridge: raw.mgmt?.bridge ?? '',
      ipv4Subnet: raw.mgmt?.['ipv4-subnet'] ?? '',
      ipv6Subnet: raw.mgmt?.['ipv6-subnet'] ?? '',
    },
    nodes,
    links,
  };
}

/** The node that runs FRR: the one whose binds provide /etc/frr/frr.conf. */
export function frrNode(t: Topology): { node: TopologyNode; config: string; daemons: readonly string[] } | undefined {
  for (const node of t.nodes) {
    const conf = node.binds.find((b) => b.container === '/etc/frr/frr.conf');
    if (conf === undefined) continue;
    const d = node.binds.find((b) => b.container === '/etc/frr/daemons');
    const daemons = d === undefined ? ['zebra', 'bgpd'] : [...readFileSync(d.host, 'utf8').matchAll(/^(\w+)=yes\s*$/gm)].map((m) => m[1] ?? '');
    return { node, config: readFileSync(conf.host, 'utf8'), daemons };
  }
  return undefined;
}

/** A running lab, whichever runner built it. Host names are the topology's node names. */
export interface LabHandle {
  readonly runner: 'containerlab' | 'netns';
  readonly topology: Topology;
  /**
   * The host's address on the management network (containerlab's mgmt bridge; the netns runner's when asked
   * for one), where the nodes reach services the host runs; undefined when there is none.
   */
  readonly mgmtGateway: string | undefined;
  /** Runs argv inside the host; throws LabError on non-zero exit unless check: false. */
  exec(host: string, argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process in the host (output in log(host, name)); stopped by destroy(). */
  start(host: string, name: string, argv: readonly string[]): Promise<void>;
  /** Stops a process start() started (by its PID file). */
  stop(host: string, name: string): Promise<void>;
  /** What a start()ed process wrote so far. */
  log(host: string, name: string): Promise<string>;
  /** Writes a file as the host sees it (atomically: a hidden temporary file renamed over it). */
  writeFile(host: string, path: string, text: string): Promise<void>;
  removeFile(host: string, path: string): Promise<void>;
  /** A writable folder of the host's own. */
  dataDir(host: string): string;
  /** argv that runs `node` / `berth` in the host. */
  node(host: string): readonly string[];
  berth(host: string): readonly string[];
  /** argv that runs kube-proxy in the host. */
  kubeProxy(host: string): readonly string[];
  /**
   * Makes a network namespace belonging to the host (a pod of frr-lab/k8s-lab.ts) and returns the name by which
   * `ip netns exec NAME` and `ip link ... netns NAME` reach it from inside the host.
   */
  addNetns(host: string, name: string): Promise<string>;
  removeNetns(host: string, netns: string): Promise<void>;
  /** The host fails: every process in it killed at once (SIGKILL), its links gone. Not undone. */
  killHost(host: string): Promise<void>;
  /** vtysh on the FRR router. */
  vtysh(commands: string | readonly string[]): Promise<string>;
  /** How a person reaches the router's vtysh (printed by `npm run lab --keep`). */
  readonly vtyshHint: string;
  /** Removes everything the lab made. Idempotent. */
  destroy(): Promise<void>;
}
