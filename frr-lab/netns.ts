// The namespace runner of topology.clab.yml: the same nodes, links, addresses and exec lines as
// containerlab deploys, built with `ip netns` (no Docker; the fast tests, machines without Docker).
//   node X          -> namespace '<prefix>-X'
//   link a:i -- b:j -> a veth pair, end i in a's namespace and j in b's, MTU 9500 and up (containerlab's defaults)
//   exec lines      -> `ip netns exec <ns> <line>`, in file order, once every link is up
//   the FRR node    -> (binds /etc/frr/frr.conf and /etc/frr/daemons) an FRR instance '<prefix>-<node>'
//                      with that config and those daemons, as the router image's entrypoint starts them
// Long-running processes (start()) are detached, with PID files and logs in /tmp/berth-lab/<prefix>/<host>/,
// so a lab left running (`npm run lab --runner netns --keep`) is torn down later from the names alone.
import { spawn } from 'node:child_process';
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
}

const workDirOf = (prefix: string): string => join(tmpdir(), 'berth-lab', prefix);

async function readPid(file: string): Promise<number | undefined> {
  const n = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  return Number.isInteger(n) && n > 0 && alive(n) ? n : undefined;
}

async function namespaces(prefix: string, t: Topology): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'])).stdout;
  const want = new Set(t.nodes.map((n) => `${prefix}-${n.name}`));
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => want.has(n));
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
  for (const ns of await namespaces(prefix, t)) {
    const pids = (await run(['ip', 'netns', 'pids', ns], { check: false })).stdout.split(/\s+/).map(Number).filter((n) => n > 0 && n !== process.pid);
    await Promise.all(pids.map((p) => killPid(p, 2000)));
    await run(['ip', 'netns', 'del', ns], { check: false });
  }
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

  const handle: LabHandle = {
    runner: 'netns',
    topology: t,
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
