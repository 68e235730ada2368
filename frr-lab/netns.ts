// The namespace runner of topology.clab.yml: the same nodes, links, addresses and exec lines as
// containerlab deploys, built with `ip netns` (no Docker; the fast tests, machines without Docker).
//   node X          -> namespace '<prefix>-X'
//   link a:i -- b:j -> a veth pair, end i in a's namespace and j in b's, MTU 9500 and up (containerlab's defaults)
//   exec lines      -> `ip netns exec <ns> <line>`, in file order, once every link is up
//   the FRR node    -> (binds /etc/frr/frr.conf and /etc/frr/daemons) an FRR instance '<prefix>-<node>'
//                      with that config and those daemons, as the router image's entrypoint starts them
// Long-running processes (start()) are detached, with PID files and logs in /tmp/berth-lab/<prefix>/<host>/,
// so a lab left running (`npm run lab --runner netns --keep`) is torn down later from the names alone.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { chown, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { FrrDaemon, checkFrrInstalled, frrPaths, startFrr, type FrrInstance } from './frr.ts';
import { PREFIX_PATTERN } from './plan.ts';
import { LabError, alive, killPid, run } from './run.ts';
import { frrNode, readTopology, type LabHandle, type Topology } from './topology.ts';

export const LINK_MTU = 9500;
const REPO_ROOT = new URL('..', import.meta.url).pathname;

export interface NetnsOptions {
  /** Namespace prefix (PREFIX_PATTERN); every name this lab makes starts with '<prefix>-'. */
  readonly prefix: string;
  readonly topology?: Topology;
  /**
   * A management network like containerlab's (`mgmt:`), for a lab whose nodes talk to something on the host
   * (the Kubernetes API server of frr-lab/k8s-lab.ts): a host bridge '<prefix>-mgmt' holding the subnet's first
   * address (the gateway) and an eth0 in every node with the next addresses, in file order. Documentation
   * range only (the caller picks one no other lab uses). Default: none.
   */
  readonly mgmtIpv4Subnet?: string;
}

/** The n-th address of an IPv4 subnet (a.b.c.d/len), checked to be inside it. */
export function nthAddress(subnet: string, n: number): string {
  const [base = '', len = ''] = subnet.split('/');
  const octets = base.split('.').map(Number);
  const bits = Number(len);
  if (octets.length !== 4 || octets.some((o) => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(bits) || bits < 8 || bits > 30) {
    throw new LabError(`management subnet ${JSON.stringify(subnet)}: want a.b.c.d/8..30`);
  }
  const size = 2 ** (32 - bits);
  const start = (((octets[0] ?? 0) << 24) | ((octets[1] ?? 0) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0)) >>> 0;
  const first = start - (start % size);
  if (n < 1 || n >= size - 1) throw new LabError(`management subnet ${subnet} has no host address number ${String(n)}`);
  const v = first + n;
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join('.');
}

const workDirOf = (prefix: string): string => join(tmpdir(), 'berth-lab', prefix);

async function readPid(file: string): Promise<number | undefined> {
  const n = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(n) && n > 0 && alive(n) ? n : undefined;
}

/** The lab's namespaces: its nodes' and any other made under '<prefix>-' (the pods of frr-lab/k8s-lab.ts). */
async function namespaces(prefix: string): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

const mgmtBridgeOf = (prefix: string): string => `${prefix}-mgmt`;

/** Stops every process in a namespace (SIGTERM, SIGKILL after graceMs; 0: SIGKILL at once) and deletes it. */
async function killNamespace(ns: string, graceMs = 2000): Promise<void> {
  const pids = (await run(['ip', 'netns', 'pids', ns], { check: false })).stdout.split(/\s+/).map(Number).filter((n) => n > 0 && n !== process.pid);
  if (graceMs === 0) {
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  await Promise.all(pids.map((p) => killPid(p, graceMs)));
  await run(['ip', 'netns', 'del', ns], { check: false });
}

/** kube-proxy as scripts/provision-node.sh provides it (built once from source, cached; prints its folder). */
function kubeProxyPath(): string {
  const r = spawnSync(join(REPO_ROOT, 'scripts', 'provision-node.sh'), { encoding: 'utf8', timeout: 1_800_000, stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || dir === '') throw new LabError(`scripts/provision-node.sh could not provide kube-proxy (exit ${String(r.status)})`);
  return join(dir, 'kube-proxy');
}

/** Removes what a netns lab with this prefix made (processes by PID file and by namespace, FRR, namespaces, files). */
export async function destroyNetnsLab(prefix: string, t: Topology = readTopology()): Promise<void> {
  if (!PREFIX_PATTERN.test(prefix)) throw new LabError(`prefix ${JSON.stringify(prefix)} must match ${String(PREFIX_PATTERN)}`);
  const work = workDirOf(prefix);
  for (const host of await readdir(work).catch(() => [] as string[])) {
    for (const f of (await readdir(join(work, host)).catch(() => [] as string[])).filter((x) => x.endsWith('.pid'))) {
      const pid = await readPid(join(work, host, f));
      if (pid !== undefined) await killPid(pid, 3000);
    }
  }
  const fn = frrNode(t);
  if (fn !== undefined) {
    const { runDir, confDir } = frrPaths(`${prefix}-${fn.node.name}`);
    for (const f of (await readdir(runDir).catch(() => [] as string[])).filter((x) => x.endsWith('.pid'))) {
      const pid = await readPid(join(runDir, f));
      const comm = pid === undefined ? '' : (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();
      if (pid !== undefined && Object.values(FrrDaemon).some((d) => d === comm)) await killPid(pid);
    }
    await rm(runDir, { recursive: true, force: true });
    await rm(confDir, { recursive: true, force: true });
  }
  // Pods first (their namespaces hold processes started inside a node's), then the nodes.
  const all = await namespaces(prefix);
  const nodeNs = new Set(t.nodes.map((n) => `${prefix}-${n.name}`));
  for (const ns of [...all.filter((n) => !nodeNs.has(n)), ...all.filter((n) => nodeNs.has(n))]) await killNamespace(ns);
  if ((await run(['ip', 'link', 'show', mgmtBridgeOf(prefix)], { check: false })).code === 0) await run(['ip', 'link', 'del', mgmtBridgeOf(prefix)]);
  await rm(work, { recursive: true, force: true });
}

/** Builds the topology with network namespaces. */
export async function deployNetns(o: NetnsOptions): Promise<LabHandle> {
  const t = o.topology ?? readTopology();
  const prefix = o.prefix;
  if (!PREFIX_PATTERN.test(prefix)) throw new LabError(`prefix ${JSON.stringify(prefix)} must match ${String(PREFIX_PATTERN)}`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) throw new LabError('the netns lab needs root (network namespaces)');
  const fn = frrNode(t);
  if (fn !== undefined) await checkFrrInstalled(fn.daemons.filter((d): d is FrrDaemon => Object.values(FrrDaemon).some((x) => x === d)));
  await destroyNetnsLab(prefix, t);
  const work = workDirOf(prefix);
  const nsOf = (host: string): string => {
    if (!t.nodes.some((n) => n.name === host)) throw new LabError(`no node ${JSON.stringify(host)} in ${t.file}`);
    return `${prefix}-${host}`;
  };
  const hostDir = (host: string): string => join(work, host);
  let frr: FrrInstance | undefined;
  let destroyed: Promise<void> | undefined;
  /** The namespaces addNetns made, by host. */
  const owned = new Map<string, string[]>();

  const mgmtGateway = o.mgmtIpv4Subnet === undefined ? undefined : nthAddress(o.mgmtIpv4Subnet, 1);
  const handle: LabHandle = {
    runner: 'netns',
    topology: t,
    mgmtGateway,
    exec: (host, argv, opts) => run(['ip', 'netns', 'exec', nsOf(host), ...argv], opts),
    async start(host, name, argv) {
      await mkdir(hostDir(host), { recursive: true });
      const log = openSync(join(hostDir(host), `${name}.log`), 'w');
      const child = spawn('ip', ['netns', 'exec', nsOf(host), ...argv], { detached: true, stdio: ['ignore', log, log], cwd: REPO_ROOT });
      closeSync(log);
      if (child.pid === undefined) throw new LabError(`cannot start ${argv.join(' ')} in ${host}`);
      child.unref();
      await writeFile(join(hostDir(host), `${name}.pid`), `${child.pid}\n`);
    },
    async stop(host, name) {
      const pid = await readPid(join(hostDir(host), `${name}.pid`));
      if (pid !== undefined) await killPid(pid, 5000);
      await rm(join(hostDir(host), `${name}.pid`), { force: true });
    },
    log: (host, name) => readFile(join(hostDir(host), `${name}.log`), 'utf8').catch(() => ''),
    async writeFile(_host, path, text) {
      await mkdir(dirname(path), { recursive: true });
      const tmp = join(dirname(path), `.${basename(path)}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, path);
    },
    async removeFile(_host, path) {
      await rm(path, { force: true });
    },
    dataDir: (host) => join(hostDir(host), 'data'),
    node: () => [process.execPath],
    berth: () => [process.execPath, join(REPO_ROOT, 'bin', 'berth.mjs')],
    kubeProxy: () => [kubeProxyPath()],
    async addNetns(host, name) {
      const ns = `${nsOf(host)}-${name}`;
      await run(['ip', 'netns', 'add', ns]);
      owned.set(host, [...(owned.get(host) ?? []), ns]);
      return ns;
    },
    async removeNetns(host, ns) {
      await killNamespace(ns);
      owned.set(host, (owned.get(host) ?? []).filter((x) => x !== ns));
    },
    async killHost(host) {
      // As a container killed: every process at once, then the namespace and its links (the switch port) gone.
      for (const ns of [nsOf(host), ...(owned.get(host) ?? [])]) await killNamespace(ns, 0);
      owned.delete(host);
    },
    vtysh(commands) {
      if (frr === undefined) return Promise.reject(new LabError('this topology has no FRR router'));
      return frr.vtysh(commands);
    },
    get vtyshHint() {
      return fn === undefined ? '' : `vtysh -N ${prefix}-${fn.node.name}`;
    },
    destroy() {
      destroyed ??= (async () => {
        if (frr !== undefined) await frr.stop();
        await destroyNetnsLab(prefix, t);
      })();
      return destroyed;
    },
  };

  try {
    await mkdir(work, { recursive: true, mode: 0o755 });
    for (const n of t.nodes) {
      const ns = nsOf(n.name);
      await run(['ip', 'netns', 'add', ns]);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    for (const [a, b] of t.links) {
      await run(['ip', 'link', 'add', a.iface, 'netns', nsOf(a.node), 'mtu', String(LINK_MTU), 'type', 'veth', 'peer', 'name', b.iface, 'netns', nsOf(b.node), 'mtu', String(LINK_MTU)]);
      await run(['ip', '-n', nsOf(a.node), 'link', 'set', a.iface, 'up']);
      await run(['ip', '-n', nsOf(b.node), 'link', 'set', b.iface, 'up']);
    }
    if (o.mgmtIpv4Subnet !== undefined && mgmtGateway !== undefined) {
      const br = mgmtBridgeOf(prefix);
      const len = o.mgmtIpv4Subnet.split('/')[1] ?? '';
      await run(['ip', 'link', 'add', br, 'type', 'bridge']);
      await run(['ip', 'addr', 'add', `${mgmtGateway}/${len}`, 'dev', br]);
      await run(['ip', 'link', 'set', br, 'up']);
      for (const [i, n] of t.nodes.entries()) {
        const hostEnd = `${prefix}m${String(i)}`;
        await run(['ip', 'link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nsOf(n.name)]);
        await run(['ip', 'link', 'set', hostEnd, 'master', br, 'up']);
        await run(['ip', '-n', nsOf(n.name), 'addr', 'add', `${nthAddress(o.mgmtIpv4Subnet, i + 2)}/${len}`, 'dev', 'eth0']);
        await run(['ip', '-n', nsOf(n.name), 'link', 'set', 'eth0', 'up']);
      }
    }
    for (const n of t.nodes) for (const line of n.exec) await handle.exec(n.name, line);
    if (fn !== undefined) {
      const ids = await run(['id', '-u', 'frr']);
      await chown(work, Number(ids.stdout.trim()), 0);
      frr = await startFrr({
        name: `${prefix}-${fn.node.name}`,
        ns: nsOf(fn.node.name),
        config: fn.config,
        daemons: fn.daemons.filter((d): d is FrrDaemon => Object.values(FrrDaemon).some((x) => x === d)),
        logDir: work,
      });
    }
  } catch (err) {
    await handle.destroy().catch(() => undefined);
    throw err;
  }
  return handle;
}
