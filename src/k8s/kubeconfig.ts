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
import { parseDocument } from 'yaml';

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

/** The cluster and user a kubeconfig's current context selects. */
export interface KubeconfigSelection {
  readonly cluster: ClusterEntry & { readonly server: string };
  readonly user: UserEntry;
}

const STRING_FIELDS = {
  cluster: ['server', 'certificate-authority', 'certificate-authority-data', 'tls-server-name'],
  user: ['token', 'tokenFile', 'client-certificate', 'client-certificate-data', 'client-key', 'client-key-data', 'username', 'password'],
  context: ['cluster', 'user'],
} as const;

/** A list of named entries (`clusters`, `users`, `contexts`): each an object with an optional string
 * name and an object under `key` whose known fields have the type kubectl reads them as. */
function namedList<T>(doc: Readonly<Record<string, unknown>>, list: 'clusters' | 'users' | 'contexts', key: keyof typeof STRING_FIELDS, where: string): Named<T>[] {
  const v = doc[list];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new KubeConfigError(`${where}: ${list} must be a list, got ${typeof v}`);
  return v.map((item: unknown, i): Named<T> => {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) throw new KubeConfigError(`${where}: ${list}[${i}] must be a mapping`);
    const entry = item as Record<string, unknown>;
    if (entry['name'] !== undefined && typeof entry['name'] !== 'string') throw new KubeConfigError(`${where}: ${list}[${i}].name must be a string`);
    const body = entry[key];
    if (body === undefined || body === null) return { ...(entry['name'] === undefined ? {} : { name: entry['name'] }) };
    if (typeof body !== 'object' || Array.isArray(body)) throw new KubeConfigError(`${where}: ${list}[${i}].${key} must be a mapping`);
    for (const f of STRING_FIELDS[key]) {
      const fv = (body as Record<string, unknown>)[f];
      if (fv !== undefined && typeof fv !== 'string') throw new KubeConfigError(`${where}: ${list}[${i}].${key}.${f} must be a string`);
    }
    const skip = (body as Record<string, unknown>)['insecure-skip-tls-verify'];
    if (skip !== undefined && typeof skip !== 'boolean') throw new KubeConfigError(`${where}: ${list}[${i}].${key}.insecure-skip-tls-verify must be true or false`);
    return { ...(entry['name'] === undefined ? {} : { name: entry['name'] }), [key]: body as T };
  });
}

/** Parses kubeconfig text (pure; no file is read) and selects the current context's cluster and user.
 * Throws KubeConfigError naming the field for anything kubectl would not accept either. */
export function parseKubeconfig(text: string, where: string): KubeconfigSelection {
  let raw: unknown;
  try {
    // logLevel silent: YAML warnings (an unresolved tag such as `!user`, a typo for `user`) are not
    // printed to stderr but refused here, like errors. toJS throws on alias bombs (maxAliasCount).
    const parsed = parseDocument(text, { logLevel: 'silent' });
    const problem = parsed.errors[0] ?? parsed.warnings[0];
    if (problem !== undefined) throw problem;
    raw = parsed.toJS({ maxAliasCount: 100 });
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${where}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new KubeConfigError(`kubeconfig ${where}: not a mapping`);
  const doc = raw as Readonly<Record<string, unknown>>;
  const ctxName = doc['current-context'];
  if (ctxName !== undefined && ctxName !== null && typeof ctxName !== 'string') throw new KubeConfigError(`kubeconfig ${where}: current-context must be a string`);
  const contexts = namedList<ContextEntry>(doc, 'contexts', 'context', `kubeconfig ${where}`);
  const clusters = namedList<ClusterEntry>(doc, 'clusters', 'cluster', `kubeconfig ${where}`);
  const users = namedList<UserEntry>(doc, 'users', 'user', `kubeconfig ${where}`);
  const ctx = contexts.find((c) => c.name === ctxName)?.context ?? (contexts.length === 1 ? contexts[0]?.context : undefined);
  const cluster = clusters.find((c) => c.name === ctx?.cluster)?.cluster ?? (clusters.length === 1 ? clusters[0]?.cluster : undefined);
  const user = users.find((u) => u.name === ctx?.user)?.user ?? (users.length === 1 ? users[0]?.user : undefined) ?? {};
  const server = cluster?.server;
  if (cluster === undefined || server === undefined) throw new KubeConfigError(`kubeconfig ${where}: no cluster server for context "${ctxName ?? ''}"`);
  return { cluster: { ...cluster, server }, user };
}

async function fromFile(path: string): Promise<Connection> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KubeConfigError(`cannot read kubeconfig ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const { cluster, user } = parseKubeconfig(text, path);
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
