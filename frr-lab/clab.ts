// The containerlab runner of topology.clab.yml: the lab's own dockerd (docker.ts), the locally built images
// (images.ts), then `containerlab deploy`. containerlab comes from PATH, else ../shared/tools/containerlab.sh
// (builds it once from source); with neither the deploy fails with a message that says so.
// Lab name and management network come from BERTH_LAB_* variables (defaults in the topology file), so a test
// lab and a person's `npm run lab` run side by side.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDocker, runningDocker, type DockerEngine } from './docker.ts';
import { ensureImages, type BuildReport } from './images.ts';
import { LabError, run } from './run.ts';
import { readTopology, TOPOLOGY_FILE, type LabHandle } from './topology.ts';

export interface ClabOptions {
  /** BERTH_LAB_NAME, BERTH_LAB_MGMT_BRIDGE, BERTH_LAB_MGMT_V4, BERTH_LAB_MGMT_V6 (unset: the file's defaults). */
  readonly vars?: Readonly<Record<string, string>>;
  readonly log?: (line: string) => void;
}

export interface ClabLab extends LabHandle {
  readonly engine: DockerEngine;
  readonly images: readonly BuildReport[];
  /** Container name of a node. */
  container(host: string): string;
}

/** The containerlab binary: PATH, else ../shared/tools/containerlab.sh (or the binary it built and cached); LabError when none. */
export async function findContainerlab(): Promise<string> {
  const w = await run(['sh', '-c', 'command -v containerlab'], { check: false });
  if (w.code === 0 && w.stdout.trim() !== '') return w.stdout.trim();
  const script = fileURLToPath(new URL('../../shared/tools/containerlab.sh', import.meta.url));
  if (!existsSync(script)) {
    // A clone elsewhere on a machine where containerlab.sh already built it: its cache.
    const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'berth-tools');
    const built = (await readdir(cache).catch(() => [] as string[])).filter((d) => d.startsWith('containerlab-')).sort().map((d) => join(cache, d, 'containerlab'));
    const found = built.reverse().find((p) => existsSync(p));
    if (found !== undefined) return found;
    throw new LabError(`containerlab is not on PATH and ${script} does not exist: install containerlab (https://containerlab.dev) to run the containerlab lab`);
  }
  const r = await run([script], { check: false, timeoutMs: 900_000 });
  const path = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !existsSync(path)) throw new LabError(`${script} could not build containerlab:\n${r.stderr.slice(-2000)}`);
  return path;
}

/** The tests' lab: its own name and management network, so it runs beside a person's `npm run lab` (defaults: berth, 203.0.113.240/28). */
export const TEST_LAB_VARS = {
  BERTH_LAB_NAME: 'berthtest',
  BERTH_LAB_MGMT_BRIDGE: 'br-berthtest',
  BERTH_LAB_MGMT_V4: '203.0.113.224/28',
  BERTH_LAB_MGMT_V6: '2001:db8:cafe:1::/64',
} as const;

const LABDIR_BASE = join(tmpdir(), 'berth-lab', 'clab');

function clabEnv(engine: DockerEngine, vars: Readonly<Record<string, string>>): NodeJS.ProcessEnv {
  return { ...engine.env(), ...vars, CLAB_LABDIR_BASE: LABDIR_BASE, CLAB_VERSION_CHECK: 'disable' };
}

async function clab(bin: string, env: NodeJS.ProcessEnv, args: readonly string[]): Promise<string> {
  const r = await run(['env', ...Object.entries(env).filter(([k]) => k.startsWith('BERTH_LAB_') || k.startsWith('CLAB_') || k.startsWith('DOCKER_')).map(([k, v]) => `${k}=${v ?? ''}`), bin, ...args], {
    check: false,
    timeoutMs: 600_000,
  });
  if (r.code !== 0) throw new LabError(`containerlab ${args.join(' ')}: exit ${String(r.code)}:\n${(r.stderr + r.stdout).slice(-4000)}`);
  return r.stdout + r.stderr;
}

/** Tears down a containerlab lab of these vars: containers, the management network, the lab folder. Leaves dockerd running. */
export async function destroyClab(o: ClabOptions = {}): Promise<void> {
  const engine = await runningDocker();
  if (engine === undefined) return;
  const vars = o.vars ?? {};
  const t = readTopology(TOPOLOGY_FILE, { ...process.env, ...vars });
  const bin = await findContainerlab();
  await clab(bin, clabEnv(engine, vars), ['destroy', '-t', TOPOLOGY_FILE, '--cleanup']).catch(() => undefined);
  // containerlab removes the management network with the last container; make sure (a bridge left behind is a host interface).
  const nets = await engine.docker(['network', 'ls', '--format', '{{.Name}}'], { check: false });
  if (nets.stdout.split('\n').includes(t.mgmt.network)) await engine.docker(['network', 'rm', t.mgmt.network], { check: false });
  await rm(join(LABDIR_BASE, `clab-${t.name}`), { recursive: true, force: true });
}

/** Deploys the topology with containerlab (starting dockerd and building images as needed). */
export async function deployClab(o: ClabOptions = {}): Promise<ClabLab> {
  const log = o.log ?? (() => undefined);
  const vars = o.vars ?? {};
  const bin = await findContainerlab();
  const engine = await ensureDocker();
  const images = await ensureImages(engine, log);
  const t = readTopology(TOPOLOGY_FILE, { ...process.env, ...vars });
  const env = clabEnv(engine, vars);
  await mkdir(LABDIR_BASE, { recursive: true });
  await destroyClab(o);
  const container = (host: string): string => {
    if (!t.nodes.some((n) => n.name === host)) throw new LabError(`no node ${JSON.stringify(host)} in ${t.file}`);
    return `clab-${t.name}-${host}`;
  };
  const dockerExec = (host: string, argv: readonly string[], opts?: Parameters<DockerEngine['docker']>[1], flags: readonly string[] = []): ReturnType<DockerEngine['docker']> =>
    engine.docker(['exec', ...flags, container(host), ...argv], opts);
  let destroyed: Promise<void> | undefined;
  let mgmtGateway: string | undefined;
  const lab: ClabLab = {
    runner: 'containerlab',
    topology: t,
    get mgmtGateway() {
      return mgmtGateway;
    },
    engine,
    images,
    container,
    exec: (host, argv, opts) => dockerExec(host, argv, opts, opts?.input === undefined ? [] : ['-i']),
    async start(host, name, argv) {
      await dockerExec(host, ['mkdir', '-p', '/var/log/berth-lab', '/run/berth-lab']);
      await dockerExec(
        host,
        ['sh', '-c', 'p=$1; l=$2; shift 2; echo $$ > "$p"; exec "$@" > "$l" 2>&1', 'sh', `/run/berth-lab/${name}.pid`, `/var/log/berth-lab/${name}.log`, ...argv],
        {},
        ['-d'],
      );
    },
    async stop(host, name) {
      await dockerExec(host, ['sh', '-c', 'p=$(cat "$1" 2>/dev/null) && kill "$p" && while kill -0 "$p" 2>/dev/null; do sleep 0.1; done; rm -f "$1"', 'sh', `/run/berth-lab/${name}.pid`], { check: false });
    },
    async log(host, name) {
      return (await dockerExec(host, ['cat', `/var/log/berth-lab/${name}.log`], { check: false })).stdout;
    },
    async writeFile(host, path, text) {
      await dockerExec(host, ['sh', '-c', 'mkdir -p "$(dirname "$1")" && t="$(dirname "$1")/.$(basename "$1").tmp" && cat > "$t" && mv "$t" "$1"', 'sh', path], { input: text }, ['-i']);
    },
    async removeFile(host, path) {
      await dockerExec(host, ['rm', '-f', path]);
    },
    dataDir: () => '/var/lib/berth-lab',
    node: () => ['/usr/local/bin/node'],
    berth: () => ['/usr/local/bin/node', '/opt/berth/bin/berth.mjs'],
    kubeProxy: () => ['/usr/local/bin/kube-proxy'],
    async addNetns(host, name) {
      await dockerExec(host, ['ip', 'netns', 'add', name]);
      return name;
    },
    async removeNetns(host, netns) {
      await dockerExec(host, ['sh', '-c', 'for p in $(ip netns pids "$1"); do kill -9 "$p"; done; ip netns del "$1"', 'sh', netns]);
    },
    async killHost(host) {
      await engine.docker(['kill', container(host)]);
    },
    async vtysh(commands) {
      const list = typeof commands === 'string' ? [commands] : commands;
      return (await dockerExec('router', ['vtysh', ...list.flatMap((c) => ['-c', c])], { timeoutMs: 20_000 })).stdout;
    },
    vtyshHint: `DOCKER_HOST=${engine.host} docker exec -it ${container('router')} vtysh`,
    destroy() {
      destroyed ??= destroyClab(o);
      return destroyed;
    },
  };
  try {
    log(`containerlab deploy -t ${TOPOLOGY_FILE} (lab ${t.name})`);
    await clab(bin, env, ['deploy', '-t', TOPOLOGY_FILE, '--reconfigure']);
    // The host's address on the management bridge (the mgmt network's gateway, which dockerd puts there).
    const br = JSON.parse((await run(['ip', '-j', '-4', 'addr', 'show', 'dev', t.mgmt.bridge], { check: false })).stdout || '[]') as { addr_info?: { local?: string }[] }[];
    mgmtGateway = br[0]?.addr_info?.[0]?.local;
  } catch (err) {
    await lab.destroy().catch(() => undefined);
    throw err;
  }
  return lab;
}
