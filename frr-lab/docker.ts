// The lab's own Docker engine: Debian's dockerd started by hand (no systemd on these machines) with
// every path of its own, so it never meets another engine on the same host:
//   socket     unix:///run/berth-lab-docker/docker.sock    (DOCKER_HOST for docker and containerlab)
//   exec-root  /run/berth-lab-docker/exec                  pidfile /run/berth-lab-docker/dockerd.pid
//   data-root  /var/lib/berth-lab-docker                   (kept: the image cache survives a stop)
// No default bridge (`--bridge=none`: no docker0 to fight over, no private range); no iptables, no
// masquerading; the runc wrapper ../shared/tools/runc-nosysres (REAL-NODE.md) as the default runtime.
// The management network is the topology file's `mgmt:` block (documentation ranges only).
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LabError, alive, killPid, run, sleep, type RunOptions, type RunResult } from './run.ts';

export interface DockerEngineOptions {
  /** Directory for socket, pidfile, exec-root and log (default /run/berth-lab-docker). */
  readonly runDir?: string;
  /** Persistent data (images); default /var/lib/berth-lab-docker. */
  readonly dataRoot?: string;
  /** The runc wrapper; default ../shared/tools/runc-nosysres from the repository, when present. */
  readonly runtime?: string;
}

export interface DockerEngine {
  /** `unix://...`: what DOCKER_HOST must say. */
  readonly host: string;
  /** True when this call started dockerd (and so stop() stops it); false when one was running already. */
  readonly started: boolean;
  readonly pidFile: string;
  readonly logFile: string;
  /** Environment for docker / containerlab child processes. */
  env(): NodeJS.ProcessEnv;
  /** `docker ARGS` against this engine. */
  docker(args: readonly string[], opts?: RunOptions): Promise<RunResult>;
  /** Stops dockerd by its PID file (only when started by this call, unless force). */
  stop(opts?: { readonly force?: boolean }): Promise<void>;
}

export const DEFAULT_RUN_DIR = '/run/berth-lab-docker';
export const DEFAULT_DATA_ROOT = '/var/lib/berth-lab-docker';

const CAP_SYS_RESOURCE = 24;

/**
 * The runc wrapper for machines whose capability bounding set lacks CAP_SYS_RESOURCE (these VMs; see
 * ../shared/tools/README.md): $BERTH_LAB_RUNTIME, else `runc-nosysres` on PATH, else ../shared/tools/runc-nosysres
 * beside the repository. undefined: plain runc (fine where CAP_SYS_RESOURCE is there).
 */
export function defaultRuntime(): string | undefined {
  const env = process.env.BERTH_LAB_RUNTIME;
  if (env !== undefined && env !== '') return env;
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir !== '' && existsSync(`${dir}/runc-nosysres`)) return `${dir}/runc-nosysres`;
  }
  const p = fileURLToPath(new URL('../../shared/tools/runc-nosysres', import.meta.url));
  return existsSync(p) ? p : undefined;
}

/** True when this process may use CAP_SYS_RESOURCE (plain runc needs it for privileged containers). */
function hasSysResource(): boolean {
  const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith('CapBnd:'));
  return ((BigInt(`0x${line?.split(/\s+/)[1] ?? '0'}`) >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
}

function paths(o: DockerEngineOptions): { runDir: string; dataRoot: string; sock: string; pidFile: string; logFile: string; execRoot: string } {
  const runDir = o.runDir ?? DEFAULT_RUN_DIR;
  return {
    runDir,
    dataRoot: o.dataRoot ?? DEFAULT_DATA_ROOT,
    sock: `${runDir}/docker.sock`,
    pidFile: `${runDir}/dockerd.pid`,
    logFile: `${runDir}/dockerd.log`,
    execRoot: `${runDir}/exec`,
  };
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 && alive(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function answers(host: string): Promise<boolean> {
  const r = await run(['docker', '-H', host, 'version', '--format', '{{.Server.Version}}'], { check: false, timeoutMs: 10_000 }).catch(() => undefined);
  return r?.code === 0;
}

function engine(host: string, started: boolean, p: ReturnType<typeof paths>): DockerEngine {
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' });
  return {
    host,
    started,
    pidFile: p.pidFile,
    logFile: p.logFile,
    env,
    docker: (args, opts) => run(['env', `DOCKER_HOST=${host}`, 'DOCKER_BUILDKIT=0', 'docker', ...args], opts),
    async stop(o = {}) {
      if (!started && o.force !== true) return;
      const pid = readPid(p.pidFile);
      if (pid === undefined) return;
      // dockerd stops its containers' shims and its own containerd on SIGTERM; give it time.
      await killPid(pid, 30_000);
      if (alive(pid)) throw new LabError(`dockerd (pid ${pid}) did not stop`);
    },
  };
}

/** Runs the lab's dockerd, or reuses it when it already answers on its socket. */
export async function ensureDocker(o: DockerEngineOptions = {}): Promise<DockerEngine> {
  const p = paths(o);
  const host = `unix://${p.sock}`;
  if (readPid(p.pidFile) !== undefined && (await answers(host))) return engine(host, false, p);
  const cli = await run(['docker', '--version'], { check: false }).catch(() => undefined);
  if (cli?.code !== 0) throw new LabError('the docker CLI is missing: install Debian package docker.io (scripts/install-deps.sh)');
  const d = await run(['dockerd', '--version'], { check: false }).catch(() => undefined);
  if (d?.code !== 0) throw new LabError('dockerd is missing: install Debian package docker.io (scripts/install-deps.sh)');
  const runtime = o.runtime ?? defaultRuntime();
  if (runtime === undefined && !hasSysResource()) {
    throw new LabError(
      'this machine lacks CAP_SYS_RESOURCE, so plain runc cannot start privileged containers: set BERTH_LAB_RUNTIME to the runc wrapper runc-nosysres (../shared/tools/ on these machines) or put it on PATH',
    );
  }
  await mkdir(p.runDir, { recursive: true, mode: 0o700 });
  await mkdir(p.dataRoot, { recursive: true, mode: 0o710 });
  const args = [
    '-H', host,
    '--pidfile', p.pidFile,
    '--exec-root', p.execRoot,
    '--data-root', p.dataRoot,
    '--bridge=none',
    '--iptables=false',
    '--ip6tables=false',
    '--ip-masq=false',
    '--userland-proxy=false',
    '--log-level=warn',
    ...(runtime === undefined ? [] : ['--add-runtime', `nosysres=${runtime}`, '--default-runtime=nosysres']),
  ];
  const log = openSync(p.logFile, 'a');
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  const until = Date.now() + 60_000;
  while (Date.now() < until) {
    if (child.exitCode !== null) break;
    if (await answers(host)) return engine(host, true, p);
    await sleep(200);
  }
  const tail = existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8').slice(-2000) : '';
  if (child.pid !== undefined) await killPid(child.pid, 10_000);
  throw new LabError(`dockerd did not come up on ${host}:\n${tail}`);
}

/** The lab's dockerd if it is running (for teardown), else undefined. */
export async function runningDocker(o: DockerEngineOptions = {}): Promise<DockerEngine | undefined> {
  const p = paths(o);
  const host = `unix://${p.sock}`;
  if (readPid(p.pidFile) === undefined) return undefined;
  return engine(host, true, p);
}
