// A real kube-apiserver on a real etcd, for tests: no mocks.
//
//   const k = await startApiServer();
//   try { await k.kubectlOk(['apply', '-f', 'deploy/crds']); ... } finally { await k.stop(); }
//
// Per start: etcd on 127.0.0.1 (random free client and peer ports, a temp data dir), kube-apiserver on
// 127.0.0.1 with serving certificates from a throw-away CA, static tokens (an admin in system:masters and
// a less-privileged user for RBAC tests), RBAC authorization, service-account signing keys, and
// 198.51.100.0/24 (documentation range) as the service cluster IP range: the API server never sends traffic
// there (the lab, frr-lab/k8s-lab.ts, passes another range and a bind address its nodes reach: see
// StartApiServerOptions). Kubeconfigs are written for both users. No controller-manager or scheduler runs: objects are
// stored and validated, nothing reconciles them.
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { resolveAssets, type Assets } from './assets.ts';
import { createPki, type Pki } from './pki.ts';
import { freePort, ownDir, releaseDir, startProcess, stopProcess, sweepStale, tail, type Proc } from './process.ts';

export type User = 'admin' | 'limited';

export interface KubectlOptions {
  /** Written to kubectl's stdin (for `apply -f -`). */
  readonly stdin?: string;
  /** Whose kubeconfig to use; default admin. */
  readonly user?: User;
  /** A kubeconfig file to use instead (e.g. from serviceAccountKubeconfig()); wins over `user`. */
  readonly kubeconfig?: string;
  readonly timeoutMs?: number;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class KubectlError extends Error {
  override readonly name = 'KubectlError';
  readonly result: KubectlResult;
  constructor(args: readonly string[], result: KubectlResult) {
    super(`kubectl ${args.join(' ')} exited ${String(result.code)}: ${result.stderr.trim()}`);
    this.result = result;
  }
}

export class ApiServerStartError extends Error {
  override readonly name = 'ApiServerStartError';
}

/** The static identities in the token file. */
export const users = {
  admin: { name: 'berth-admin', groups: ['system:masters'] },
  /** Authenticated, in no group that RBAC grants anything: tests bind roles to it. */
  limited: { name: 'berth-limited', groups: ['berth:testers'] },
} as const;

export const serviceClusterIpRange = '198.51.100.0/24';

export interface ApiServer {
  /** https://127.0.0.1:PORT (or the bindAddress option) */
  readonly url: string;
  readonly port: number;
  readonly etcdUrl: string;
  /** PEM file of the CA that signed the serving certificate. */
  readonly caFile: string;
  /** Admin kubeconfig (system:masters), for the code under test and for kubectl. */
  readonly kubeconfigPath: string;
  /** Kubeconfig of the less-privileged user `users.limited`. */
  readonly limitedKubeconfigPath: string;
  readonly adminToken: string;
  readonly limitedToken: string;
  readonly assets: Assets;
  /** Temp dir holding certificates, kubeconfigs, logs, PID files and etcd's data. Removed by stop(). */
  readonly dir: string;
  readonly apiserverLogPath: string;
  readonly etcdLogPath: string;
  /** PID of the running kube-apiserver (changes on restart()); undefined once stopped. */
  apiserverPid(): number | undefined;
  /** Runs kubectl against this server; never throws on a non-zero exit. */
  kubectl(args: readonly string[], opts?: KubectlOptions): Promise<KubectlResult>;
  /** Runs kubectl and returns stdout; throws KubectlError (with stderr) on a non-zero exit. */
  kubectlOk(args: readonly string[], opts?: KubectlOptions): Promise<string>;
  /**
   * Writes a kubeconfig holding a real token of an existing ServiceAccount (TokenRequest API, one hour),
   * so code under test runs with exactly that account's RBAC; returns its path.
   */
  serviceAccountKubeconfig(namespace: string, name: string): Promise<string>;
  /** Stops kube-apiserver only and starts it again on the same etcd and port; resolves once /readyz is ok. */
  restart(): Promise<void>;
  /** Stops kube-apiserver and etcd (by PID) and removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface StartApiServerOptions {
  readonly readyTimeoutMs?: number;
  /** Extra kube-apiserver flags (`--flag=value`), appended last. */
  readonly extraApiserverArgs?: readonly string[];
  /** Extra etcd flags, appended last (bench/scale/k8s.ts raises --quota-backend-bytes for 100,000 Services). */
  readonly extraEtcdArgs?: readonly string[];
  /**
   * The address kube-apiserver binds and advertises (default 127.0.0.1), e.g. a lab's management bridge
   * so that nodes in other network namespaces reach it; it is added to the serving certificate. etcd stays
   * on 127.0.0.1.
   */
  readonly bindAddress?: string;
  /** --service-cluster-ip-range (default serviceClusterIpRange); the lab passes one its networks do not use. */
  readonly serviceClusterIpRange?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Probe {
  readonly status: number;
  readonly body: string;
}

function get(url: string, ca: string, token: string): Promise<Probe> {
  return new Promise((resolveGet) => {
    const req = request(url, { ca, headers: { authorization: `Bearer ${token}` }, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolveGet({ status: 0, body: err.message }));
    req.end();
  });
}

async function waitEtcd(proc: Proc, url: string, deadline: number): Promise<void> {
  let last = '';
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new ApiServerStartError(`etcd exited (${await proc.exited}):\n${tail(proc.logPath)}`);
    }
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
      last = await res.text();
      if (res.ok && last.includes('"health":"true"')) return;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(100);
  }
  throw new ApiServerStartError(`etcd not healthy in time (last: ${last}):\n${tail(proc.logPath)}`);
}

async function waitReady(proc: Proc, url: string, ca: string, token: string, deadline: number): Promise<void> {
  let last: Probe = { status: 0, body: 'no answer yet' };
  while (Date.now() < deadline) {
    if (proc.hasExited()) {
      throw new ApiServerStartError(`kube-apiserver exited (${await proc.exited}):\n${tail(proc.logPath)}`);
    }
    last = await get(`${url}/readyz`, ca, token);
    if (last.status === 200) return;
    await sleep(200);
  }
  throw new ApiServerStartError(
    `kube-apiserver not ready in time (last /readyz: ${String(last.status)} ${last.body.slice(0, 2000)}):\n` +
      tail(proc.logPath),
  );
}

function kubeconfig(url: string, caPem: string, user: string, token: string): string {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'berth-test', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: user, context: { cluster: 'berth-test', user, namespace: 'default' } }],
    'current-context': user,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function runKubectl(binary: string, kubeconfigPath: string, args: readonly string[], opts: KubectlOptions): Promise<KubectlResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(binary, ['--kubeconfig', kubeconfigPath, ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECONFIG: kubeconfigPath },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal !== null ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(opts.stdin ?? '');
  });
}

const dirPrefix = 'berth-k8s-run-';
const portInUse = /address already in use/;

/**
 * Starts etcd and kube-apiserver; see the file header. On failure everything started is stopped again.
 * A start that lost a race for its random ports (another process bound one first) is retried.
 */
export async function startApiServer(opts: StartApiServerOptions = {}): Promise<ApiServer> {
  const assets = resolveAssets();
  sweepStale(tmpdir(), dirPrefix);
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(assets, opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof ApiServerStartError) || !portInUse.test(err.message)) throw err;
    }
  }
}

async function startOnce(assets: Assets, opts: StartApiServerOptions): Promise<ApiServer> {
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const dir = await mkdtemp(join(tmpdir(), dirPrefix));
  ownDir(dir);
  let etcd: Proc | undefined;
  let apiserver: Proc | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (apiserver !== undefined) await stopProcess(apiserver);
    if (etcd !== undefined) await stopProcess(etcd);
    apiserver = undefined;
    await rm(dir, { recursive: true, force: true });
    releaseDir(dir);
  };

  try {
    const bind = opts.bindAddress ?? '127.0.0.1';
    const pki: Pki = await createPki(dir, bind === '127.0.0.1' ? [] : [bind]);
    const caPem = await readFile(pki.caCert, 'utf8');
    const adminToken = randomBytes(24).toString('hex');
    const limitedToken = randomBytes(24).toString('hex');
    const tokenFile = join(dir, 'tokens.csv');
    await writeFile(
      tokenFile,
      [
        `${adminToken},${users.admin.name},uid-admin,"${users.admin.groups.join(',')}"`,
        `${limitedToken},${users.limited.name},uid-limited,"${users.limited.groups.join(',')}"`,
        '',
      ].join('\n'),
      { mode: 0o600 },
    );

    const [clientPort, peerPort, port] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${String(clientPort)}`;
    const peerUrl = `http://127.0.0.1:${String(peerPort)}`;
    const url = `https://${bind.includes(':') ? `[${bind}]` : bind}:${String(port)}`;
    const dataDir = join(dir, 'etcd-data');
    await mkdir(dataDir, { mode: 0o700 });
    const etcdLogPath = join(dir, 'etcd.log');
    const apiserverLogPath = join(dir, 'kube-apiserver.log');

    etcd = startProcess({
      name: 'etcd',
      binary: assets.etcd,
      logPath: etcdLogPath,
      pidPath: join(dir, 'etcd.pid'),
      args: [
        '--name=berth-test',
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=berth-test=${peerUrl}`,
        '--unsafe-no-fsync=true',
        '--log-level=warn',
        ...(opts.extraEtcdArgs ?? []),
      ],
    });
    const deadline = Date.now() + readyTimeoutMs;
    await waitEtcd(etcd, etcdUrl, deadline);

    const apiserverArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${bind}`,
      `--advertise-address=${bind}`,
      `--secure-port=${String(port)}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--token-auth-file=${tokenFile}`,
      '--authorization-mode=RBAC',
      `--service-account-issuer=${url}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      `--service-cluster-ip-range=${opts.serviceClusterIpRange ?? serviceClusterIpRange}`,
      // The `kubernetes` Service's Endpoints would name a loopback address; nothing here routes to it.
      '--endpoint-reconciler-type=none',
      '--allow-privileged=true',
      '--profiling=false',
      '--v=1',
      ...(opts.extraApiserverArgs ?? []),
    ];
    const startApiserver = async (): Promise<void> => {
      apiserver = startProcess({
        name: 'kube-apiserver',
        binary: assets.kubeApiserver,
        logPath: apiserverLogPath,
        pidPath: join(dir, 'kube-apiserver.pid'),
        args: apiserverArgs,
      });
      await waitReady(apiserver, url, caPem, adminToken, Date.now() + readyTimeoutMs);
    };
    await startApiserver();

    const kubeconfigPath = join(dir, 'admin.kubeconfig');
    const limitedKubeconfigPath = join(dir, 'limited.kubeconfig');
    await writeFile(kubeconfigPath, kubeconfig(url, caPem, users.admin.name, adminToken), { mode: 0o600 });
    await writeFile(limitedKubeconfigPath, kubeconfig(url, caPem, users.limited.name, limitedToken), { mode: 0o600 });

    const kubectl = (args: readonly string[], o: KubectlOptions = {}): Promise<KubectlResult> =>
      runKubectl(assets.kubectl, o.kubeconfig ?? (o.user === 'limited' ? limitedKubeconfigPath : kubeconfigPath), args, o);
    const kubectlOk = async (args: readonly string[], o: KubectlOptions = {}): Promise<string> => {
      const res = await kubectl(args, o);
      if (res.code !== 0) throw new KubectlError(args, res);
      return res.stdout;
    };

    return {
      url,
      port,
      etcdUrl,
      caFile: pki.caCert,
      kubeconfigPath,
      limitedKubeconfigPath,
      adminToken,
      limitedToken,
      assets,
      dir,
      apiserverLogPath,
      etcdLogPath,
      apiserverPid: () => (apiserver !== undefined && !apiserver.hasExited() ? apiserver.pid : undefined),
      kubectl,
      kubectlOk,
      serviceAccountKubeconfig: async (namespace, name) => {
        const token = (await kubectlOk(['create', 'token', name, '-n', namespace, '--duration=1h'])).trim();
        const user = `system:serviceaccount:${namespace}:${name}`;
        const path = join(dir, `sa-${namespace}-${name}.kubeconfig`);
        await writeFile(path, kubeconfig(url, caPem, user, token), { mode: 0o600 });
        return path;
      },
      restart: async () => {
        if (stopped) throw new Error('restart() after stop()');
        if (apiserver !== undefined) await stopProcess(apiserver);
        await startApiserver();
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
