// One FRR instance of its own (`-N <name>`) inside a lab namespace: config in /etc/frr/<name>/,
// sockets and PID files in /var/run/frr/<name>/, a log file in the lab's work directory. The system
// FRR (if Debian started one) is never touched: every path and socket here is per instance.
import { chown, mkdir, readFile, rm, writeFile, access } from 'node:fs/promises';
import { constants } from 'node:fs';
import { LabError, killPid, run, sleep, alive } from './run.ts';

export const FRR_BIN_DIR = '/usr/lib/frr';
export const FrrDaemon = { zebra: 'zebra', bgpd: 'bgpd', bfdd: 'bfdd', staticd: 'staticd' } as const;
export type FrrDaemon = (typeof FrrDaemon)[keyof typeof FrrDaemon];

export interface FrrOptions {
  /** Instance name, the -N argument. */
  readonly name: string;
  /** Network namespace the daemons run in. */
  readonly ns: string;
  /** Whole frr.conf text. */
  readonly config: string;
  /** zebra is always started first; default ['zebra', 'bgpd']. */
  readonly daemons?: readonly FrrDaemon[];
  /** Directory (writable by user frr) for the log file. */
  readonly logDir: string;
}

export interface FrrInstance {
  readonly name: string;
  readonly ns: string;
  readonly confDir: string;
  readonly runDir: string;
  /** FRR's log (every daemon): `log file` is forced to this path. */
  readonly logFile: string;
  readonly daemons: readonly FrrDaemon[];
  /** PIDs of the running daemons (from their PID files). */
  pids(): Promise<ReadonlyMap<FrrDaemon, number>>;
  /** Runs vtysh commands (each one a -c); returns stdout. Throws LabError when vtysh fails. */
  vtysh(commands: string | readonly string[]): Promise<string>;
  /** Runs one `show ... json` command and parses it. */
  vtyshJson<T = unknown>(command: string): Promise<T>;
  /** Replaces the configuration (frr-reload.py: only the difference is applied). */
  reload(config: string): Promise<void>;
  /** The configuration last written. */
  readonly config: string;
  /** Kills the daemons by PID and removes the instance's config and run directories. Idempotent. */
  stop(): Promise<void>;
}

/** The installed FRR version, e.g. '8.4.4' (from `bgpd --version`), for tests that depend on a feature. */
export async function frrVersion(): Promise<string> {
  const r = await run([`${FRR_BIN_DIR}/bgpd`, '--version'], { check: false }).catch(() => undefined);
  const m = /version\s+(\S+)/.exec(r?.stdout ?? '');
  if (r?.code !== 0 || m?.[1] === undefined) throw new LabError(`cannot read the FRR version from ${FRR_BIN_DIR}/bgpd --version: install Debian package frr`);
  return m[1];
}

export function frrPaths(name: string): { confDir: string; runDir: string } {
  return { confDir: `/etc/frr/${name}`, runDir: `/var/run/frr/${name}` };
}

async function frrIds(): Promise<{ uid: number; gid: number }> {
  const uid = await run(['id', '-u', 'frr'], { check: false });
  const gid = await run(['id', '-g', 'frr'], { check: false });
  if (uid.code !== 0 || gid.code !== 0) throw new LabError('user frr does not exist: install Debian package frr');
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

export async function checkFrrInstalled(daemons: readonly FrrDaemon[]): Promise<void> {
  for (const d of daemons) {
    try {
      await access(`${FRR_BIN_DIR}/${d}`, constants.X_OK);
    } catch {
      throw new LabError(`${FRR_BIN_DIR}/${d} not found: install Debian package frr (scripts/install-deps.sh)`);
    }
  }
  const v = await run(['vtysh', '--help'], { check: false }).catch(() => undefined);
  if (v?.code !== 0) throw new LabError('vtysh not found: install Debian package frr (scripts/install-deps.sh)');
}

/** Forces our log file into the config: replaces any `log file` line, or adds one after the first line. */
function withLogFile(config: string, logFile: string): string {
  const lines = config.split('\n').filter((l) => !/^\s*log file\b/.test(l));
  return [`log file ${logFile}`, ...lines].join('\n').replace(/\n*$/, '\n');
}

export async function startFrr(o: FrrOptions): Promise<FrrInstance> {
  const daemons: FrrDaemon[] = [FrrDaemon.zebra, ...(o.daemons ?? [FrrDaemon.bgpd]).filter((d) => d !== FrrDaemon.zebra)];
  await checkFrrInstalled(daemons);
  const { confDir, runDir } = frrPaths(o.name);
  const logFile = `${o.logDir}/frr-${o.name}.log`;
  const ids = await frrIds();
  for (const dir of [confDir, runDir]) {
    await mkdir(dir, { recursive: true, mode: 0o755 });
    await chown(dir, ids.uid, ids.gid);
  }
  let config = withLogFile(o.config, logFile);
  const writeConfig = async (text: string): Promise<void> => {
    await writeFile(`${confDir}/frr.conf`, text, { mode: 0o640 });
    await chown(`${confDir}/frr.conf`, ids.uid, ids.gid);
  };
  await writeConfig(config);
  await writeFile(`${confDir}/vtysh.conf`, 'service integrated-vtysh-config\n', { mode: 0o640 });
  await chown(`${confDir}/vtysh.conf`, ids.uid, ids.gid);
  // Informational (frrinit.sh reads it); the lab starts the daemons itself.
  await writeFile(`${confDir}/daemons`, daemons.map((d) => `${d}=yes`).join('\n') + '\n');
  await writeFile(logFile, '', { flag: 'a' });
  await chown(logFile, ids.uid, ids.gid);

  let stopped = false;
  const pidFile = (d: FrrDaemon): string => `${runDir}/${d}.pid`;
  const readPid = async (d: FrrDaemon): Promise<number | undefined> => {
    try {
      const n = Number((await readFile(pidFile(d), 'utf8')).trim());
      return Number.isInteger(n) && n > 0 ? n : undefined;
    } catch {
      return undefined;
    }
  };
  const vtyshArgs = (commands: readonly string[]): string[] => ['vtysh', '-N', o.name, ...commands.flatMap((c) => ['-c', c])];

  const instance: FrrInstance = {
    name: o.name,
    ns: o.ns,
    confDir,
    runDir,
    logFile,
    daemons,
    get config() {
      return config;
    },
    async pids() {
      const m = new Map<FrrDaemon, number>();
      for (const d of daemons) {
        const pid = await readPid(d);
        if (pid !== undefined) m.set(d, pid);
      }
      return m;
    },
    async vtysh(commands) {
      const list = typeof commands === 'string' ? [commands] : commands;
      const r = await run(vtyshArgs(list), { check: false, timeoutMs: 20_000 });
      if (r.code !== 0) throw new LabError(`vtysh -N ${o.name} ${list.join(' ; ')}: exit ${String(r.code)}: ${(r.stderr + r.stdout).trim()}`);
      return r.stdout;
    },
    async vtyshJson<T = unknown>(command: string): Promise<T> {
      const out = await instance.vtysh(command);
      try {
        return JSON.parse(out) as T;
      } catch {
        throw new LabError(`vtysh -N ${o.name} -c '${command}' did not print JSON: ${out.slice(0, 300)}`);
      }
    },
    async reload(text) {
      const next = withLogFile(text, logFile);
      const file = `${confDir}/frr.conf.new`;
      await writeFile(file, next, { mode: 0o640 });
      const r = await run(
        [`${FRR_BIN_DIR}/frr-reload.py`, '--reload', '--stdout', '-N', o.name, '--confdir', confDir, '--rundir', runDir, file],
        { check: false, timeoutMs: 60_000 },
      );
      if (r.code !== 0) throw new LabError(`frr-reload.py -N ${o.name}: exit ${String(r.code)}: ${(r.stderr + r.stdout).trim().slice(-2000)}`);
      await rm(file, { force: true });
      config = next;
      await writeConfig(config);
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const d of [...daemons].reverse()) {
        const pid = await readPid(d);
        if (pid !== undefined) await killPid(pid);
      }
      await rm(confDir, { recursive: true, force: true });
      await rm(runDir, { recursive: true, force: true });
    },
  };

  try {
    for (const d of daemons) {
      const args = [`${FRR_BIN_DIR}/${d}`, '-N', o.name, '-d', '-f', `${confDir}/frr.conf`, '-i', pidFile(d), '-P', '0'];
      await run(['ip', 'netns', 'exec', o.ns, ...args]);
      await waitFor(async () => {
        const pid = await readPid(d);
        return pid !== undefined && alive(pid);
      }, `${d} -N ${o.name} to write its PID file`);
    }
    await waitFor(async () => (await run(vtyshArgs(['show version']), { check: false })).code === 0, `vtysh -N ${o.name} to answer`);
  } catch (err) {
    const log = await readFile(logFile, 'utf8').catch(() => '');
    await instance.stop();
    throw new LabError(`FRR instance ${o.name} did not start: ${(err as Error).message}\n${log.slice(-2000)}`);
  }
  return instance;
}

async function waitFor(cond: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await cond()) return;
    await sleep(50);
  }
  throw new LabError(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
