// A small JSON client for the Kubernetes API over node:https (keep-alive), configured from a kubeconfig
// (kubeconfig.ts: TLS, tokens, client certificates; exec plugins through client-node). berth writes its own list+watch on top
// (watch.ts) instead of client-node's informer, which stops on the first error (kubernetes-client/
// javascript #795, #364, #1933). Every request has a timeout; a watch is a stream of JSON lines.
//
// Credentials are re-applied every CREDENTIAL_REFRESH_MS so rotated service-account tokens are picked up.
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest, Agent as HttpAgent, type IncomingMessage } from 'node:http';
import type { Connection } from './kubeconfig.ts';

export { loadConnection, KubeConfigError, type Connection, type KubeConfigSource } from './kubeconfig.ts';

const CREDENTIAL_REFRESH_MS = 60_000;
const DEFAULT_TIMEOUT_MS = 30_000;

/** The API server answered with an error Status, or could not be reached (status 0). */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when the server could not be reached or the request timed out. */
  readonly status: number;
  /** metav1.Status reason (NotFound, Conflict, Expired, AlreadyExists...) when the server sent one. */
  readonly reason: string | undefined;
  constructor(status: number, reason: string | undefined, message: string) {
    super(message);
    this.status = status;
    this.reason = reason;
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiError && e.status === 404;
export const isConflict = (e: unknown): boolean => e instanceof ApiError && e.status === 409;
/** 410 Gone / reason Expired: the resourceVersion is too old; relist. */
export const isGone = (e: unknown): boolean => e instanceof ApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone');

export const PatchType = {
  Merge: 'application/merge-patch+json',
  Strategic: 'application/strategic-merge-patch+json',
  Json: 'application/json-patch+json',
  Apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

export interface RequestOpts {
  readonly body?: unknown;
  readonly contentType?: string;
  readonly timeoutMs?: number;
}

/** A streaming response (a watch): `lines` yields each JSON line; `close()` ends it. */
export interface Stream {
  readonly lines: AsyncIterable<string>;
  close(): void;
}

export interface Rest {
  readonly server: string;
  /**
   * Called (at most once per second) when a request could not reach the API server at all (refused,
   * reset, timed out). Watches use it: an API server that is shutting down refuses new connections
   * while it may keep old watch streams open and silent.
   */
  onUnreachable(listener: (reason: string) => void): void;
  request<T = unknown>(method: string, path: string, opts?: RequestOpts): Promise<T>;
  stream(path: string, opts?: { readonly timeoutMs?: number }): Promise<Stream>;
  close(): void;
}

interface Status {
  readonly kind?: string;
  readonly reason?: string;
  readonly message?: string;
}

function statusOf(body: string): Status | undefined {
  try {
    const v = JSON.parse(body) as unknown;
    return typeof v === 'object' && v !== null ? (v as Status) : undefined;
  } catch {
    return undefined;
  }
}

export function createRest(conn: Connection, opts: { readonly maxSockets?: number } = {}): Rest {
  const server = conn.server.replace(/\/+$/, '');
  const url = new URL(server);
  const secure = url.protocol === 'https:';
  const maxSockets = opts.maxSockets ?? 32;
  const agent = secure ? new Agent({ keepAlive: true, maxSockets }) : new HttpAgent({ keepAlive: true, maxSockets });
  let base: RequestOptions | undefined;
  let baseAt = 0;
  const unreachable: ((reason: string) => void)[] = [];
  let lastUnreachable = 0;
  const reportUnreachable = (reason: string): void => {
    const t = Date.now();
    if (t - lastUnreachable < 1_000) return;
    lastUnreachable = t;
    for (const l of unreachable) l(reason);
  };

  async function options(): Promise<RequestOptions> {
    if (base === undefined || Date.now() - baseAt > CREDENTIAL_REFRESH_MS) {
      base = await conn.options();
      baseAt = Date.now();
    }
    return base;
  }

  async function open(method: string, path: string, ro: RequestOpts, streaming: boolean): Promise<{ res: IncomingMessage; abort: () => void }> {
    const o = await options();
    const payload = ro.body === undefined ? undefined : typeof ro.body === 'string' ? ro.body : JSON.stringify(ro.body);
    const headers: Record<string, string> = { ...(o.headers as Record<string, string> | undefined), accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = ro.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(payload));
    }
    const timeoutMs = ro.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      const reqOpts: RequestOptions = {
        ...o,
        agent,
        method,
        hostname: url.hostname.replace(/^\[|\]$/g, ''),
        port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
        path: url.pathname.replace(/\/+$/, '') + path,
        headers,
      };
      const req = (secure ? httpsRequest : httpRequest)(reqOpts, (res) => {
        if (!streaming) clearTimeout(timer);
        resolve({ res, abort: () => req.destroy() });
      });
      // Bounds connect + headers (and, for plain requests, the whole exchange through readBody).
      const timer = setTimeout(() => req.destroy(new ApiError(0, 'Timeout', `${method} ${path}: no answer within ${String(timeoutMs)} ms`)), timeoutMs);
      req.on('error', (e) => {
        clearTimeout(timer);
        const err = e instanceof ApiError ? e : new ApiError(0, undefined, `${method} ${path}: ${e.message}`);
        if (err.status === 0) reportUnreachable(err.message);
        reject(err);
      });
      if (streaming) req.on('response', () => clearTimeout(timer));
      req.end(payload);
    });
  }

  function readBody(res: IncomingMessage, timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const timer = setTimeout(() => res.destroy(new Error('body timeout')), timeoutMs);
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        resolve(Buffer.concat(chunks).toString('utf8'));
      });
      res.on('error', (e) => {
        clearTimeout(timer);
        reject(new ApiError(0, undefined, e.message));
      });
    });
  }

  function fail(method: string, path: string, status: number, body: string): ApiError {
    const st = statusOf(body);
    return new ApiError(status, st?.reason, `${method} ${path}: ${String(status)} ${st?.message ?? body.slice(0, 300)}`);
  }

  return {
    server,
    onUnreachable(listener) {
      unreachable.push(listener);
    },
    async request<T>(method: string, path: string, ro: RequestOpts = {}): Promise<T> {
      const { res } = await open(method, path, ro, false);
      const body = await readBody(res, ro.timeoutMs ?? DEFAULT_TIMEOUT_MS);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw fail(method, path, status, body);
      return (body === '' ? undefined : JSON.parse(body)) as T;
    },
    async stream(path: string, so: { readonly timeoutMs?: number } = {}): Promise<Stream> {
      const { res, abort } = await open('GET', path, { timeoutMs: so.timeoutMs ?? DEFAULT_TIMEOUT_MS }, true);
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw fail('GET', path, status, await readBody(res, DEFAULT_TIMEOUT_MS));
      res.setEncoding('utf8');
      async function* lines(): AsyncGenerator<string> {
        let buf = '';
        for await (const chunk of res as AsyncIterable<string>) {
          buf += chunk;
          let nl = buf.indexOf('\n');
          while (nl >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line !== '') yield line;
            nl = buf.indexOf('\n');
          }
        }
        if (buf.trim() !== '') yield buf.trim();
      }
      return { lines: lines(), close: abort };
    },
    close() {
      agent.destroy();
    },
  };
}
