// Kubeconfig loading without @kubernetes/client-node's index (which loads every generated API module:
// about a second and 130 MB of RSS per process). Covers what berth runs with: the in-cluster service
// account (token re-read on every refresh, as it rotates), and kubeconfig files with a token, token
// file, client certificate or basic auth, CA data or file, and insecure-skip-tls-verify. A user entry
// with `exec` or `auth-provider` is delegated to client-node's KubeConfig, loaded only then.
//
// Lookup order (loadConnection): --kubeconfig; else in-cluster (KUBERNETES_SERVICE_HOST/PORT); else
// $KUBECONFIG (first file of the list); else ~/.kube/config.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse } from 'yaml';

/** Server URL plus a function that yields fresh TLS/auth request options. */
export interface Connection {
  readonly server: string;
  /** Called again every refresh period (rotated tokens). */
  options(): Promise<RequestOptions>;
}

export class KubeConfigError extends Error {
  override readonly name = 'KubeConfigError';
}

export interface KubeConfigSource {
  readonly kubeconfig?: string | undefined;
  readonly env?: NodeJS.ProcessEnv;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

interface Named<T> {
  readonly name?: string;
  readonly cluster?: T;
  readonly user?: T;
  readonly context?: T;
}
interface ClusterEntry {
  readonly server?: string;
  readonly 'certificate-authority'?: string;
  readonly 'certificate-authority-data'?: string;
  readonly 'insecure-skip-tls-verify'?: boolean;
  readonly 'tls-server-name'?: string;
}
interface UserEntry {
  readonly token?: string;
  readonly tokenFile?: string;
  readonly 'client-certificate'?: string;
  readonly 'client-certificate-data'?: string;
  readonly 'client-key'?: string;
  readonly 'client-key-data'?: string;
  readonly username?: string;
  readonly password?: string;
  readonly exec?: unknown;
  readonly 'auth-provider'?: unknown;
}
interface ContextEntry {
  readonly cluster?: string;
  readonly user?: string;
}
interface KubeConfigFile {
  readonly clusters?: readonly Named<ClusterEntry>[];
  readonly users?: readonly Named<UserEntry>[];
  readonly contexts?: readonly Named<ContextEntry>[];
  readonly 'current-context'?: string;
}

export function loadConnection(src: KubeConfigSource = {}): Promise<Connection> {
  const env = src.env ?? process.env;
  if (src.kubeconfig !== undefined && src.kubeconfig !== '') return fromFile(src.kubeconfig);
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (host !== undefined && host !== '' && port !== undefined && port !== '') return Promise.resolve(inCluster(host, port));
  const list = env['KUBECONFIG'];
  const first = list?.split(':').find((p) => p !== '');
  return fromFile(first ?? join(homedir(), '.kube', 'config'));
}

function inCluster(host: string, port: string): Connection {
  const ca = readFileSync(join(SA_DIR, 'ca.crt'));
  const h = host.includes(':') ? `[${host}]` : host;
  return {
    server: `https://${h}:${port}`,
    options: () => Promise.resolve({ ca, headers: { authorization: `Bearer ${readFileSync(join(SA_DIR, 'token'), 'utf8').trim()}` } }),
  };
}

async function fromFile(path: string): Promise<Connection> {
  let doc: KubeConfigFile;
  try {
    doc = parse(readFileSync(path, 'utf8')) as KubeConfigFile;
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const ctxName = doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === ctxName)?.context ?? (doc.contexts?.length === 1 ? doc.contexts[0]?.context : undefined);
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster ?? (doc.clusters?.length === 1 ? doc.clusters[0]?.cluster : undefined);
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user ?? (doc.users?.length === 1 ? doc.users[0]?.user : undefined) ?? {};
  if (cluster?.server === undefined) throw new KubeConfigError(`kubeconfig ${path}: no cluster server for context "${ctxName ?? ''}"`);
  if (user.exec !== undefined || user['auth-provider'] !== undefined) return viaClientNode(path, cluster.server);
  const base = dirname(path);
  const file = (p: string): Buffer => readFileSync(isAbsolute(p) ? p : join(base, p));
  const data = (b64: string): Buffer => Buffer.from(b64, 'base64');
  const ca = cluster['certificate-authority-data'] !== undefined ? data(cluster['certificate-authority-data']) : cluster['certificate-authority'] !== undefined ? file(cluster['certificate-authority']) : undefined;
  const cert = user['client-certificate-data'] !== undefined ? data(user['client-certificate-data']) : user['client-certificate'] !== undefined ? file(user['client-certificate']) : undefined;
  const key = user['client-key-data'] !== undefined ? data(user['client-key-data']) : user['client-key'] !== undefined ? file(user['client-key']) : undefined;
  const tokenFile = user.tokenFile;
  const server = cluster.server;
  return {
    server,
    options: () => {
      const headers: Record<string, string> = {};
      const token = tokenFile !== undefined ? file(tokenFile).toString('utf8').trim() : user.token;
      if (token !== undefined) headers['authorization'] = `Bearer ${token}`;
      else if (user.username !== undefined) headers['authorization'] = `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}`;
      return Promise.resolve({
        ...(ca === undefined ? {} : { ca }),
        ...(cert === undefined ? {} : { cert }),
        ...(key === undefined ? {} : { key }),
        ...(cluster['insecure-skip-tls-verify'] === true ? { rejectUnauthorized: false } : {}),
        ...(cluster['tls-server-name'] === undefined ? {} : { servername: cluster['tls-server-name'] }),
        headers,
      });
    },
  };
}

/** exec / auth-provider users: client-node knows those plugins; it is loaded only for them. */
async function viaClientNode(path: string, server: string): Promise<Connection> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(path);
  return {
    server,
    options: async () => {
      const o: RequestOptions = {};
      await kc.applyToHTTPSOptions(o);
      return o;
    },
  };
}
