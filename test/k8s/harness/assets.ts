// Where the Kubernetes test binaries come from.
//
// KUBEBUILDER_ASSETS (the envtest convention) wins: a folder holding `kube-apiserver` and `etcd`, and
// optionally `kubectl` (else the one on PATH, else the provisioned one). Without it, scripts/provision-k8s.sh builds them from the Go module proxy into a
// version-keyed cache outside the repository (a no-op once cached) and prints the folder.
import { accessSync, constants } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface Assets {
  readonly dir: string;
  readonly etcd: string;
  readonly kubeApiserver: string;
  readonly kubectl: string;
}

export class AssetsError extends Error {
  override readonly name = 'AssetsError';
}

const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const provisionScript = join(repoRoot, 'scripts/provision-k8s.sh');

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs the provisioning script (which builds once, then answers from its cache) and returns its folder. */
function provision(env: NodeJS.ProcessEnv): string {
  const res = spawnSync('bash', [provisionScript], {
    env: { ...env, KUBEBUILDER_ASSETS: '' },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  if (res.error !== undefined) throw new AssetsError(`cannot run ${provisionScript}: ${res.error.message}`);
  if (res.status !== 0) {
    throw new AssetsError(
      `${provisionScript} failed (exit ${String(res.status)}); its go error is above. ` +
        'Point KUBEBUILDER_ASSETS at a folder with kube-apiserver, etcd and kubectl to use your own binaries.',
    );
  }
  const dir = res.stdout.trim().split('\n').pop() ?? '';
  if (dir === '') throw new AssetsError(`${provisionScript} printed no folder`);
  return dir;
}

// Resolved folders, by the KUBEBUILDER_ASSETS value they came from ('' = provisioned).
const resolved = new Map<string, Assets>();

/**
 * Finds (or builds, the first time) etcd, kube-apiserver and kubectl. Throws AssetsError with the reason
 * when they cannot be had: a missing prerequisite is a failing test, never a skipped one.
 */
export function resolveAssets(env: NodeJS.ProcessEnv = process.env): Assets {
  const given = env['KUBEBUILDER_ASSETS'];
  const known = resolved.get(given ?? '');
  if (known !== undefined) return known;
  let dir: string;
  if (given !== undefined && given !== '') {
    for (const bin of ['kube-apiserver', 'etcd']) {
      if (!executable(join(given, bin))) {
        throw new AssetsError(`KUBEBUILDER_ASSETS=${given} has no executable ${bin}`);
      }
    }
    dir = given;
  } else {
    dir = provision(env);
  }
  const kubectlHere = join(dir, 'kubectl');
  let kubectl: string | undefined = executable(kubectlHere) ? kubectlHere : undefined;
  if (kubectl === undefined && given !== undefined && given !== '') {
    // The user's folder has no kubectl: the one on PATH, else the provisioned one (cached or built).
    kubectl = onPath('kubectl', env);
    if (kubectl === undefined) {
      const built = provision(env);
      if (executable(join(built, 'kubectl'))) kubectl = join(built, 'kubectl');
    }
  }
  if (kubectl === undefined) throw new AssetsError(`no kubectl in ${dir} nor on PATH`);
  for (const bin of [join(dir, 'etcd'), join(dir, 'kube-apiserver'), kubectl]) {
    if (!executable(bin)) throw new AssetsError(`${bin} is missing or not executable`);
  }
  const assets = { dir, etcd: join(dir, 'etcd'), kubeApiserver: join(dir, 'kube-apiserver'), kubectl };
  resolved.set(given ?? '', assets);
  return assets;
}
