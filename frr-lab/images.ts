// The lab's container images, built locally (no registry is needed): the router (FRR from Debian, the same
// version as the host's), the node (berth + kube-proxy + tools) and the client (curl, arping, ndisc6, iproute2).
// Each Containerfile in images/ takes its base as a build argument: users with a registry build
// FROM debian:bookworm-slim; here the base is a debootstrap minbase bookworm imported as
// local/debian:bookworm-slim (scripts/debian-rootfs.sh). Every image carries the hash of its inputs in a
// label, and a build is skipped when the tagged image already has that hash.
import { createHash } from 'node:crypto';
import { cp, mkdtemp, readFile, readdir, rm, stat, copyFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsFresh } from '../scripts/build-dist.mjs';
import type { DockerEngine } from './docker.ts';
import { LabError, run } from './run.ts';

export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const IMAGES_DIR = fileURLToPath(new URL('images/', import.meta.url));
export const BASE_IMAGE = 'local/debian:bookworm-slim';
export const IMAGE = { router: 'berth-lab/router:latest', node: 'berth-lab/node:latest', client: 'berth-lab/client:latest' } as const;
export type ImageName = keyof typeof IMAGE;
const HASH_LABEL = 'dev.berth.lab.inputs';

export interface BuildReport {
  readonly image: string;
  readonly built: boolean;
  readonly seconds: number;
}

type Log = (line: string) => void;

async function imageLabel(engine: DockerEngine, image: string): Promise<string | undefined> {
  const r = await engine.docker(['image', 'inspect', '--format', `{{index .Config.Labels "${HASH_LABEL}"}}`, image], { check: false });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

async function imageId(engine: DockerEngine, image: string): Promise<string | undefined> {
  const r = await engine.docker(['image', 'inspect', '--format', '{{.Id}}', image], { check: false });
  return r.code === 0 ? r.stdout.trim() : undefined;
}

/** Imports the debootstrap rootfs as local/debian:bookworm-slim unless it is there. */
export async function ensureBaseImage(engine: DockerEngine, log: Log): Promise<string> {
  const have = await imageId(engine, BASE_IMAGE);
  if (have !== undefined) return have;
  log(`importing ${BASE_IMAGE} (scripts/debian-rootfs.sh: debootstrap minbase bookworm, cached)`);
  const tar = (await run([join(REPO_ROOT, 'scripts', 'debian-rootfs.sh')], { timeoutMs: 600_000 })).stdout.trim();
  await engine.docker(['import', tar, BASE_IMAGE], { timeoutMs: 300_000 });
  const id = await imageId(engine, BASE_IMAGE);
  if (id === undefined) throw new LabError(`docker import of ${tar} did not give ${BASE_IMAGE}`);
  return id;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const e of (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

async function hashFiles(h: ReturnType<typeof createHash>, files: readonly string[]): Promise<void> {
  for (const f of files) {
    h.update(relative(REPO_ROOT, f));
    h.update('\0');
    h.update(await readFile(f));
    h.update('\0');
  }
}

/** The installed FRR's Debian version (the router image installs the same), e.g. 8.4.4-1.1~deb12u2. */
export async function hostFrrPackageVersion(): Promise<string> {
  const r = await run(['dpkg-query', '-W', '-f', '${Version}', 'frr'], { check: false });
  if (r.code !== 0 || r.stdout.trim() === '') throw new LabError('Debian package frr is not installed (scripts/install-deps.sh): the router image pins its version');
  return r.stdout.trim();
}

/** Production node_modules entries (top level, scoped ones as scope/name), from npm's own view. */
async function productionModules(): Promise<string[]> {
  const r = await run(['npm', 'ls', '--omit=dev', '--parseable', '--all'], { check: false, timeoutMs: 120_000 });
  const set = new Set<string>();
  for (const line of r.stdout.split('\n')) {
    const rel = relative(REPO_ROOT, line.trim());
    const parts = rel.split('/');
    if (parts[0] !== 'node_modules' || parts[1] === undefined) continue;
    set.add(parts[1].startsWith('@') ? `node_modules/${parts[1]}/${parts[2] ?? ''}` : `node_modules/${parts[1]}`);
  }
  if (set.size === 0) throw new LabError('npm ls --omit=dev listed no node_modules: run npm ci first');
  return [...set].sort();
}

const ADDON = 'build/Release/berth_sys.node';



async function nodeInputs(): Promise<string[]> {
  const files = [
    ...(await filesUnder(join(REPO_ROOT, 'src'))),
    ...(await filesUnder(join(REPO_ROOT, 'bin'))),
    join(REPO_ROOT, 'scripts', 'build-dist.mjs'),
    join(REPO_ROOT, 'package.json'),
    join(REPO_ROOT, 'package-lock.json'),
  ];
  try {
    await stat(join(REPO_ROOT, ADDON));
  } catch {
    throw new LabError(`${ADDON} is missing: run npm ci (it builds berth's addon)`);
  }
  return [...files, join(REPO_ROOT, ADDON)];
}

async function stageNode(dir: string, nodeBinary: string, kubeProxy: string): Promise<void> {
  await copyFile(nodeBinary, join(dir, 'node'));
  await copyFile(kubeProxy, join(dir, 'kube-proxy'));
  const b = join(dir, 'berth');
  // Timestamps kept: bin/berth.mjs runs dist/ (compiled, no tsx loader, faster start) only while it is newer than src/.
  for (const rel of ['src', 'bin']) await cp(join(REPO_ROOT, rel), join(b, rel), { recursive: true, preserveTimestamps: true });
  if (distIsFresh()) await cp(join(REPO_ROOT, 'dist'), join(b, 'dist'), { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
  await mkdir(join(b, 'scripts'), { recursive: true });
  await mkdir(join(b, 'build', 'Release'), { recursive: true });
  for (const rel of ['scripts/build-dist.mjs', 'package.json', 'package-lock.json', ADDON]) await copyFile(join(REPO_ROOT, rel), join(b, rel));
  for (const m of await productionModules()) await cp(join(REPO_ROOT, m), join(b, m), { recursive: true, verbatimSymlinks: true });
}

/** Builds one image unless the tag already holds these inputs. */
async function buildOne(engine: DockerEngine, name: ImageName, baseId: string, log: Log): Promise<BuildReport> {
  const t0 = Date.now();
  const containerfile = join(IMAGES_DIR, `${name}.Containerfile`);
  const h = createHash('sha256');
  h.update(`base ${baseId}\n`);
  const args: string[] = [];
  let inputs: string[] = [containerfile];
  let nodeBinary = '';
  let kubeProxy = '';
  if (name === 'router') {
    const v = await hostFrrPackageVersion();
    args.push('--build-arg', `FRR_VERSION=${v}`);
    inputs.push(join(IMAGES_DIR, 'router-start.sh'));
  } else if (name === 'node') {
    nodeBinary = (await run([join(REPO_ROOT, 'scripts', 'node-binary.sh')], { timeoutMs: 300_000 })).stdout.trim();
    h.update(`node ${(await run([nodeBinary, '--version'])).stdout.trim()}\n`);
    // kube-proxy of the same Kubernetes release as the tests' API server (scripts/provision-node.sh, cached).
    kubeProxy = join((await run([join(REPO_ROOT, 'scripts', 'provision-node.sh')], { timeoutMs: 1_800_000 })).stdout.trim(), 'kube-proxy');
    inputs = [...inputs, ...(await nodeInputs()), kubeProxy];
    h.update(`dist ${String(distIsFresh())} (dist/build a relative link)\n`);
  }
  h.update(args.join(' '));
  await hashFiles(h, inputs);
  const key = h.digest('hex').slice(0, 16);
  const image = IMAGE[name];
  if ((await imageLabel(engine, image)) === key) return { image, built: false, seconds: (Date.now() - t0) / 1000 };
  log(`building ${image} (inputs ${key})`);
  let context = IMAGES_DIR;
  let scratch: string | undefined;
  if (name === 'node') {
    scratch = await mkdtemp(join(tmpdir(), 'berth-lab-node-image-'));
    await stageNode(scratch, nodeBinary, kubeProxy);
    context = scratch;
  }
  try {
    const r = await engine.docker(
      ['build', '--network', 'host', '-q', '-f', containerfile, '--build-arg', `BASE=${BASE_IMAGE}`, ...args, '--label', `${HASH_LABEL}=${key}`, '-t', image, context],
      { check: false, timeoutMs: 900_000 },
    );
    if (r.code !== 0) throw new LabError(`docker build ${image} failed:\n${(r.stderr + r.stdout).slice(-3000)}`);
  } finally {
    if (scratch !== undefined) await rm(scratch, { recursive: true, force: true });
  }
  return { image, built: true, seconds: (Date.now() - t0) / 1000 };
}

/** The base and the three lab images; each built only when its inputs changed. */
export async function ensureImages(engine: DockerEngine, log: Log = () => undefined): Promise<readonly BuildReport[]> {
  const baseId = await ensureBaseImage(engine, log);
  const out: BuildReport[] = [];
  for (const name of ['router', 'client', 'node'] as const) out.push(await buildOne(engine, name, baseId, log));
  return out;
}
