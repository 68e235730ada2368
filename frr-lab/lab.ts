// The lab: the berth test topology built from network namespaces, no Docker. See README.md and
// plan.ts for the picture. createLab() builds it, destroy() removes every namespace, process and FRR
// directory it made (idempotent), withLab() guarantees destroy, sweepLabs() removes what a crashed
// run with the same prefix left behind. Needs root, iproute2, and FRR when a router is wanted.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { mkdir, rm, chown, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { LabError, alive, killPid, run, sleep, type RunOptions, type RunResult } from './run.ts';
import { LAN, UPSTREAM, VIP_RANGES, planLab, planNamespaces, type HostPlan, type LabPlan } from './plan.ts';
import { FrrDaemon, checkFrrInstalled, frrPaths, startFrr, type FrrInstance } from './frr.ts';
import { routerConfig } from './router-config.ts';

export { LabError } from './run.ts';
export type { RunResult, RunOptions } from './run.ts';
export { LAN, UPSTREAM, VIP_RANGES, type HostPlan, type LabPlan } from './plan.ts';
export { routerConfig, type RouterConfigOptions } from './router-config.ts';
export { FrrDaemon, frrVersion, type FrrInstance } from './frr.ts';

export interface RouterOptions {
  /** The router's AS number (default 64512). */
  readonly asn?: number;
  /** Whole frr.conf; default routerConfig({ asn, ... }): dynamic eBGP/iBGP neighbours from the LAN. */
  readonly frrConfig?: string;
  /** Also start bfdd. */
  readonly bfd?: boolean;
  /** Peer AS the default config expects from the nodes (default 64513; 'internal' / 'external' allowed). */
  readonly nodeAsn?: number | 'internal' | 'external';
}

export interface LabOptions {
  /** Every name starts with it: namespaces '<prefix>-sw', '<prefix>-n1', ..., FRR instance '<prefix>-rt'. */
  readonly prefix: string;
  readonly nodes: number;
  readonly router?: RouterOptions | boolean;
  /** A client on the LAN (192.0.2.100). */
  readonly client?: boolean;
  /** A client behind the router (198.51.100.100): traffic to VIPs crosses the router. */
  readonly externalClient?: boolean;
  /** Remove leftovers of this prefix before building (default true). */
  readonly sweep?: boolean;
}

/** A host of the lab as tests see it. */
export type LabHost = HostPlan;

export interface LabRouter extends LabHost {
  readonly asn: number;
  readonly frr: FrrInstance;
  /** The FRR log file (all daemons). */
  readonly logFile: string;
  /** Replaces the running FRR configuration (only the difference is applied). */
  reload(config: string): Promise<void>;
  /** Router side of the upstream link, when there is an externalClient. */
  readonly upstream: { readonly iface: string; readonly ipv4: string; readonly ipv6: string } | undefined;
}

/** Where to run: a host object, a host name ('node1', 'router', 'client', 'externalClient', 'switch') or a namespace. */
export type LabTarget = LabHost | string;

export interface SpawnedProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /**
   * The last 256 KiB of what the process wrote to piped stdout/stderr. The lab always reads the
   * pipes (so a chatty process never blocks on a full pipe); callers may attach their own readers too.
   */
  output(): { readonly stdout: string; readonly stderr: string };
  /** SIGTERM, then SIGKILL after graceMs; resolves when gone. */
  kill(graceMs?: number): Promise<void>;
}

export interface Capture {
  readonly file: string;
  /** Stops tcpdump and waits for the file to be complete. */
  stop(): Promise<void>;
}

export interface Lab {
  readonly prefix: string;
  readonly plan: LabPlan;
  /** Scratch directory of this lab (logs, captures); removed by destroy(). */
  readonly workDir: string;
  readonly nodes: readonly LabHost[];
  readonly router: LabRouter | undefined;
  readonly client: LabHost | undefined;
  readonly externalClient: LabHost | undefined;
  /** Every namespace the lab made. */
  readonly namespaces: readonly string[];
  /** Namespace of a target. */
  nsOf(target: LabTarget): string;
  /** Runs argv inside the target's namespace; throws LabError on non-zero exit unless check: false. */
  exec(target: LabTarget, argv: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Starts a long-running process inside the namespace; killed by PID on destroy(). */
  spawn(target: LabTarget, argv: readonly string[], opts?: SpawnOptions): SpawnedProcess;
  /**
   * Starts another FRR instance inside a host's namespace (a second-opinion peer on a node, say),
   * named '<prefix>-<host name>' unless `name` is given (it must start with '<prefix>-' so
   * sweepLabs finds it). Stopped by destroy().
   */
  startFrr(target: LabTarget, opts: { readonly config: string; readonly daemons?: readonly FrrDaemon[]; readonly name?: string }): Promise<FrrInstance>;
  /** vtysh on the router's FRR instance. */
  vtysh(commands: string | readonly string[]): Promise<string>;
  vtyshJson<T = unknown>(command: string): Promise<T>;
  /** Kernel FIB of the namespace (`ip -j route show`; family 6 for IPv6). */
  routes(target: LabTarget, opts?: { readonly family?: 4 | 6; readonly table?: string }): Promise<readonly KernelRoute[]>;
  /** Neighbour table (`ip -j neigh show`). */
  neigh(target: LabTarget, opts?: { readonly family?: 4 | 6; readonly dev?: string }): Promise<readonly KernelNeighbour[]>;
  /** Starts tcpdump on iface writing a pcap to file (relative names land in workDir). */
  tcpdump(target: LabTarget, iface: string, file: string, filter?: readonly string[]): Promise<Capture>;
  /** Removes everything the lab made. Idempotent; safe after a partial build. */
  destroy(): Promise<void>;
}

/** One entry of `ip -j route show` (fields iproute2 prints; more may be present). */
export interface KernelRoute {
  readonly dst: string;
  readonly gateway?: string;
  readonly dev?: string;
  readonly protocol?: string;
  readonly scope?: string;
  readonly prefsrc?: string;
  readonly type?: string;
  readonly metric?: number;
  readonly flags?: readonly string[];
  readonly nexthops?: readonly { readonly gateway?: string; readonly dev?: string; readonly weight?: number; readonly flags?: readonly string[] }[];
}

/** One entry of `ip -j neigh show`. */
export interface KernelNeighbour {
  readonly dst: string;
  readonly dev: string;
  readonly lladdr?: string;
  readonly state?: readonly string[];
  readonly router?: null;
}

const WORK_ROOT = `${tmpdir()}/berth-lab`;
const SPAWN_OUTPUT_TAIL = 256 * 1024;

async function checkPrerequisites(needFrr: boolean, daemons: readonly FrrDaemon[]): Promise<void> {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (network namespaces): run the integration tests as root');
  }
  const ip = await run(['ip', '-V'], { check: false }).catch(() => undefined);
  if (ip?.code !== 0) throw new LabError('iproute2 (`ip`) not found: install Debian package iproute2 (scripts/install-deps.sh)');
  if (needFrr) await checkFrrInstalled(daemons);
}

/** Removes namespaces, processes and FRR directories left by an earlier run with this prefix (and only it). */
export async function sweepLabs(prefix: string): Promise<readonly string[]> {
  planLab({ prefix, nodes: 0, router: false, client: false, externalClient: false }); // validates the prefix
  const removed: string[] = [];
  // FRR daemons first: they may outlive a deleted namespace, so find them by their PID files. Every
  // instance of this lab is named '<prefix>-...'.
  const frrDirs = (await readdir('/var/run/frr').catch(() => [] as string[])).filter((n) => n.startsWith(`${prefix}-`));
  for (const name of frrDirs) {
    const { runDir } = frrPaths(name);
    const pidFiles = await readdir(runDir).catch(() => [] as string[]);
    for (const f of pidFiles.filter((n) => n.endsWith('.pid'))) {
      const pid = Number((await readFile(`${runDir}/${f}`, 'utf8').catch(() => '')).trim());
      const comm = Number.isInteger(pid) && pid > 0 ? (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() : '';
      if (comm !== '' && Object.values(FrrDaemon).some((d) => d === comm)) await killPid(pid);
    }
  }
  const list = await run(['ip', 'netns', 'list']);
  const mine = list.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`) && /^[a-z0-9]+-(sw|rt|cl|ext|n\d+)$/.test(n));
  for (const ns of mine) {
    await killNamespaceProcesses(ns);
    await run(['ip', 'netns', 'del', ns], { check: false });
    removed.push(ns);
  }
  const confDirs = (await readdir('/etc/frr').catch(() => [] as string[])).filter((n) => n.startsWith(`${prefix}-`));
  for (const name of new Set([...frrDirs, ...confDirs])) {
    const { confDir, runDir } = frrPaths(name);
    await rm(confDir, { recursive: true, force: true });
    await rm(runDir, { recursive: true, force: true });
  }
  await rm(`${WORK_ROOT}/${prefix}`, { recursive: true, force: true });
  return removed;
}

/** Kills every process inside one of the lab's namespaces (by PID, from `ip netns pids`). */
async function killNamespaceProcesses(ns: string): Promise<void> {
  const r = await run(['ip', 'netns', 'pids', ns], { check: false });
  const pids = r.stdout
    .split(/\s+/)
    .map(Number)
    .filter((n) => Number.isInteger(n) && n > 0 && n !== process.pid);
  await Promise.all(pids.map((p) => killPid(p, 2000)));
}

export async function createLab(opts: LabOptions): Promise<Lab> {
  const routerOpts: RouterOptions | undefined = opts.router === true ? {} : opts.router === false ? undefined : opts.router;
  const plan = planLab({
    prefix: opts.prefix,
    nodes: opts.nodes,
    router: routerOpts !== undefined,
    client: opts.client ?? false,
    externalClient: opts.externalClient ?? false,
  });
  const daemons: FrrDaemon[] = [FrrDaemon.zebra, FrrDaemon.bgpd, ...(routerOpts?.bfd === true ? [FrrDaemon.bfdd] : [])];
  await checkPrerequisites(routerOpts !== undefined, daemons);
  if (opts.sweep ?? true) await sweepLabs(plan.prefix);

  const workDir = `${WORK_ROOT}/${plan.prefix}`;
  const made: string[] = [];
  const spawned = new Set<SpawnedProcess>();
  const extraFrr: FrrInstance[] = [];
  let frr: FrrInstance | undefined;
  let router: LabRouter | undefined;
  let destroyed: Promise<void> | undefined;

  const hosts = [plan.router, ...plan.nodes, plan.client, plan.externalClient].filter((h): h is HostPlan => h !== undefined);
  const nsOf = (target: LabTarget): string => {
    if (typeof target !== 'string') return target.ns;
    if (target === 'switch') return plan.switchNs;
    const h = hosts.find((x) => x.name === target || x.ns === target);
    if (h !== undefined) return h.ns;
    if (target === plan.switchNs) return target;
    throw new LabError(`lab ${plan.prefix}: no host or namespace ${JSON.stringify(target)}`);
  };
  const exec = (target: LabTarget, argv: readonly string[], o?: RunOptions): Promise<RunResult> =>
    run(['ip', 'netns', 'exec', nsOf(target), ...argv], o);

  const destroy = (): Promise<void> => {
    destroyed ??= (async () => {
      const errors: string[] = [];
      await Promise.all([...spawned].map((p) => p.kill(2000)));
      for (const f of extraFrr) await f.stop().catch((e: unknown) => errors.push(String(e)));
      if (frr !== undefined) await frr.stop().catch((e: unknown) => errors.push(String(e)));
      for (const ns of [...made].reverse()) {
        await killNamespaceProcesses(ns).catch((e: unknown) => errors.push(String(e)));
        const r = await run(['ip', 'netns', 'del', ns], { check: false });
        if (r.code !== 0 && !/No such file/.test(r.stderr)) errors.push(`ip netns del ${ns}: ${r.stderr.trim()}`);
      }
      await rm(workDir, { recursive: true, force: true });
      if (errors.length > 0) throw new LabError(`lab ${plan.prefix}: destroy incomplete: ${errors.join('; ')}`);
    })();
    return destroyed;
  };

  const lab: Lab = {
    prefix: plan.prefix,
    plan,
    workDir,
    nodes: plan.nodes,
    get router() {
      return router;
    },
    client: plan.client,
    externalClient: plan.externalClient,
    namespaces: made,
    nsOf,
    exec,
    spawn(target, argv, o) {
      const [cmd, ...args] = ['ip', 'netns', 'exec', nsOf(target), ...argv];
      const child = spawn(cmd ?? 'ip', args, { stdio: ['ignore', 'pipe', 'pipe'], ...o });
      if (child.pid === undefined) throw new LabError(`spawn ${argv.join(' ')} failed`);
      const pid = child.pid;
      const tail = { stdout: '', stderr: '' };
      for (const stream of ['stdout', 'stderr'] as const) {
        child[stream]?.on('data', (d: Buffer | string) => {
          tail[stream] = (tail[stream] + d.toString()).slice(-SPAWN_OUTPUT_TAIL);
        });
      }
      const p: SpawnedProcess = {
        child,
        pid,
        output: () => ({ ...tail }),
        async kill(graceMs = 3000) {
          if (child.exitCode === null && child.signalCode === null) await killPid(pid, graceMs);
          spawned.delete(p);
        },
      };
      child.once('exit', () => spawned.delete(p));
      spawned.add(p);
      return p;
    },
    async startFrr(target, o) {
      const ns = nsOf(target);
      const hostName = typeof target === 'string' ? (hosts.find((h) => h.ns === ns)?.name ?? target) : target.name;
      const name = o.name ?? `${plan.prefix}-${hostName}`;
      if (!name.startsWith(`${plan.prefix}-`) || !/^[A-Za-z0-9-]+$/.test(name)) {
        throw new LabError(`FRR instance name ${JSON.stringify(name)} must start with '${plan.prefix}-' (letters, digits, dashes)`);
      }
      if (extraFrr.some((f) => f.name === name) || name === plan.frrName) throw new LabError(`FRR instance ${name} already exists`);
      const ids = await run(['id', '-u', 'frr']);
      await chown(workDir, Number(ids.stdout.trim()), 0).catch(() => undefined);
      const f = await startFrr({ name, ns, config: o.config, logDir: workDir, ...(o.daemons === undefined ? {} : { daemons: o.daemons }) });
      extraFrr.push(f);
      return f;
    },
    vtysh(commands) {
      if (frr === undefined) return Promise.reject(new LabError(`lab ${plan.prefix} has no router`));
      return frr.vtysh(commands);
    },
    vtyshJson<T = unknown>(command: string): Promise<T> {
      if (frr === undefined) return Promise.reject(new LabError(`lab ${plan.prefix} has no router`));
      return frr.vtyshJson<T>(command);
    },
    async routes(target, o = {}) {
      const argv = ['ip', '-j', ...(o.family === 6 ? ['-6'] : ['-4']), 'route', 'show', ...(o.table === undefined ? [] : ['table', o.table])];
      return JSON.parse((await exec(target, argv)).stdout || '[]') as KernelRoute[];
    },
    async neigh(target, o = {}) {
      const argv = ['ip', '-j', ...(o.family === 6 ? ['-6'] : o.family === 4 ? ['-4'] : []), 'neigh', 'show', ...(o.dev === undefined ? [] : ['dev', o.dev])];
      return JSON.parse((await exec(target, argv)).stdout || '[]') as KernelNeighbour[];
    },
    async tcpdump(target, iface, file, filter = []) {
      const path = file.startsWith('/') ? file : `${workDir}/${file}`;
      const p = lab.spawn(target, ['tcpdump', '-i', iface, '-n', '-U', '--immediate-mode', '-Z', 'root', '-w', path, ...filter]);
      let err = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new LabError(`tcpdump on ${iface} did not start: ${err}`)), 10_000);
        p.child.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('listening on')) {
            clearTimeout(timer);
            resolve();
          }
        });
        p.child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new LabError(`tcpdump on ${iface} exited (${String(code)}): ${err.trim()} (Debian package tcpdump)`));
        });
      });
      return { file: path, stop: () => p.kill(3000) };
    },
    destroy,
  };

  try {
    await mkdir(workDir, { recursive: true, mode: 0o755 });
    const addNs = async (ns: string): Promise<void> => {
      await run(['ip', 'netns', 'add', ns]);
      made.push(ns);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      // No DAD on the lab's links (tests must not wait for it); set before any interface appears.
      for (const scope of ['all', 'default']) {
        await run(['ip', 'netns', 'exec', ns, 'sysctl', '-qw', `net.ipv6.conf.${scope}.accept_dad=0`]);
      }
    };
    for (const ns of planNamespaces(plan)) await addNs(ns);

    // The LAN: a bridge in the switch namespace, no addresses of its own, no multicast snooping
    // (NDP multicast must reach every port), no STP delay.
    const sw = plan.switchNs;
    await run(['ip', 'netns', 'exec', sw, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
    await run(['ip', '-n', sw, 'link', 'add', plan.bridge, 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0', 'mcast_snooping', '0']);
    await run(['ip', '-n', sw, 'link', 'set', plan.bridge, 'up']);

    const addr = async (ns: string, dev: string, cidr: string, v6: boolean): Promise<void> => {
      await run(['ip', '-n', ns, 'addr', 'add', cidr, 'dev', dev, ...(v6 ? ['nodad'] : [])]);
    };
    for (const h of hosts) {
      if (h.switchPort === '') continue;
      await run(['ip', '-n', sw, 'link', 'add', h.switchPort, 'type', 'veth', 'peer', 'name', h.iface, 'netns', h.ns]);
      await run(['ip', '-n', sw, 'link', 'set', h.switchPort, 'master', plan.bridge, 'up']);
      await run(['ip', '-n', h.ns, 'link', 'set', h.iface, 'address', h.mac, 'up']);
      await addr(h.ns, h.iface, `${h.ipv4}/${LAN.v4Len}`, false);
      await addr(h.ns, h.iface, `${h.ipv6}/${LAN.v6Len}`, true);
    }

    const r = plan.router;
    if (r !== undefined) {
      for (const s of [
        'net.ipv4.ip_forward=1',
        'net.ipv6.conf.all.forwarding=1',
        'net.ipv4.fib_multipath_hash_policy=1', // L4 hash: flows to one VIP spread over the ECMP next hops
        'net.ipv6.fib_multipath_hash_policy=1',
      ]) {
        await run(['ip', 'netns', 'exec', r.ns, 'sysctl', '-qw', s]);
      }
      const routeVia = async (h: HostPlan, v4: string, v6: string): Promise<void> => {
        await run(['ip', '-n', h.ns, 'route', 'add', 'default', 'via', v4]);
        await run(['ip', '-n', h.ns, '-6', 'route', 'add', 'default', 'via', v6]);
      };
      for (const h of [...plan.nodes, ...(plan.client === undefined ? [] : [plan.client])]) await routeVia(h, r.ipv4, r.ipv6);
      const x = plan.externalClient;
      const up = plan.upstream;
      if (x !== undefined && up !== undefined) {
        await run(['ip', '-n', r.ns, 'link', 'add', up.routerIface, 'type', 'veth', 'peer', 'name', x.iface, 'netns', x.ns]);
        await run(['ip', '-n', r.ns, 'link', 'set', up.routerIface, 'up']);
        await run(['ip', '-n', x.ns, 'link', 'set', x.iface, 'address', x.mac, 'up']);
        await addr(r.ns, up.routerIface, `${up.routerIpv4}/${UPSTREAM.v4Len}`, false);
        await addr(r.ns, up.routerIface, `${up.routerIpv6}/${UPSTREAM.v6Len}`, true);
        await addr(x.ns, x.iface, `${x.ipv4}/${UPSTREAM.v4Len}`, false);
        await addr(x.ns, x.iface, `${x.ipv6}/${UPSTREAM.v6Len}`, true);
        await routeVia(x, up.routerIpv4, up.routerIpv6);
      }
    } else if (plan.client !== undefined) {
      // No router: VIPs are on the LAN (Layer 2 mode), so the client resolves them with ARP/NDP.
      await run(['ip', '-n', plan.client.ns, 'route', 'add', VIP_RANGES.v4, 'dev', plan.client.iface]);
      await run(['ip', '-n', plan.client.ns, '-6', 'route', 'add', VIP_RANGES.v6, 'dev', plan.client.iface]);
    }

    if (r !== undefined && routerOpts !== undefined) {
      const asn = routerOpts.asn ?? 64512;
      const ids = await run(['id', '-u', 'frr']);
      await chown(workDir, Number(ids.stdout.trim()), 0).catch(() => undefined);
      const config =
        routerOpts.frrConfig ??
        routerConfig({ asn, routerId: r.ipv4, nodes: plan.nodes, nodeAsn: routerOpts.nodeAsn ?? 64513, bfd: routerOpts.bfd ?? false });
      const instance = await startFrr({ name: plan.frrName, ns: r.ns, config, daemons, logDir: workDir });
      frr = instance;
      const up = plan.upstream;
      router = {
        ...r,
        asn,
        frr: instance,
        logFile: instance.logFile,
        reload: (c) => instance.reload(c),
        upstream: up === undefined ? undefined : { iface: up.routerIface, ipv4: up.routerIpv4, ipv6: up.routerIpv6 },
      };
    }
    await waitLinksUp(lab, hosts);
  } catch (err) {
    await destroy().catch(() => undefined);
    throw err;
  }
  return lab;
}

/** Veth carrier comes up asynchronously; wait until every host's LAN interface has it. */
async function waitLinksUp(lab: Lab, hosts: readonly HostPlan[]): Promise<void> {
  const until = Date.now() + 10_000;
  for (const h of hosts) {
    for (;;) {
      const r = await lab.exec(h, ['cat', `/sys/class/net/${h.iface}/carrier`], { check: false });
      if (r.stdout.trim() === '1') break;
      if (Date.now() > until) throw new LabError(`lab ${lab.prefix}: ${h.name} ${h.iface} has no carrier`);
      await sleep(20);
    }
  }
}

/** Builds a lab, runs fn, and destroys the lab whatever fn does. */
export async function withLab<T>(opts: LabOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await createLab(opts);
  try {
    return await fn(lab);
  } finally {
    await lab.destroy();
  }
}

export { alive };
