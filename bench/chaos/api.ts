// The chaos run's own view of the API server, independent of berth's client (src/k8s/rest.ts, watch.ts):
// plain HTTPS requests with the harness's admin token, and a Service watch that records every Service's
// IP history across API server restarts (list, then watch from the last resourceVersion; a dropped
// connection resumes from there, a 410 Gone relists and is counted as a gap).
import { request, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import type { ApiServer } from '../../test/k8s/harness/index.ts';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export interface Api {
  /** One request; resolves the parsed body, throws ApiError (status 0: no answer). */
  req<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /** A streaming GET: calls onLine per line until the server ends it; resolves then (or rejects on error). */
  stream(path: string, onLine: (line: string) => void, signal: AbortSignal): Promise<void>;
}

export function apiOf(k: ApiServer): Api {
  const ca = readFileSync(k.caFile);
  const base = new URL(k.url);
  const opts = (method: string, path: string, contentType?: string): RequestOptions => ({
    host: base.hostname,
    port: base.port,
    method,
    path,
    ca,
    headers: { authorization: `Bearer ${k.adminToken}`, accept: 'application/json', ...(contentType === undefined ? {} : { 'content-type': contentType }) },
  });
  return {
    req<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const r = request(opts(method, path, body === undefined ? undefined : contentType), (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (c: string) => (text += c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) {
              try {
                resolve((text === '' ? {} : JSON.parse(text)) as T);
              } catch (e) {
                reject(new ApiError(0, `${method} ${path}: bad JSON: ${String(e)}`));
              }
            } else reject(new ApiError(status, `${method} ${path}: ${String(status)} ${text.slice(0, 300)}`));
          });
          res.on('error', (e) => reject(new ApiError(0, `${method} ${path}: ${e.message}`)));
        });
        r.setTimeout(20_000, () => r.destroy(new Error('timeout')));
        r.on('error', (e) => reject(new ApiError(0, `${method} ${path}: ${e.message}`)));
        r.end(body === undefined ? undefined : JSON.stringify(body));
      });
    },
    stream(path, onLine, signal) {
      return new Promise<void>((resolve, reject) => {
        const r = request({ ...opts('GET', path), signal }, (res) => {
          if ((res.statusCode ?? 0) !== 200) {
            res.resume();
            reject(new ApiError(res.statusCode ?? 0, `watch ${path}: ${String(res.statusCode)}`));
            return;
          }
          let partial = '';
          res.setEncoding('utf8').on('data', (c: string) => {
            partial += c;
            const lines = partial.split('\n');
            partial = lines.pop() ?? '';
            for (const l of lines) if (l.trim() !== '') onLine(l);
          });
          res.on('end', () => resolve());
          res.on('error', () => resolve());
          res.on('aborted', () => resolve());
        });
        r.on('error', (e) => reject(new ApiError(0, `watch ${path}: ${e.message}`)));
        r.end();
      });
    },
  };
}

export interface ServiceObject {
  metadata: { name: string; namespace?: string; uid: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: { ports?: { port: number; protocol?: string }[]; ipFamilies?: string[] };
  status?: { loadBalancer?: { ingress?: { ip?: string }[] } };
}

export const ingressIPs = (s: ServiceObject): string[] =>
  (s.status?.loadBalancer?.ingress ?? [])
    .map((i) => i.ip ?? '')
    .filter((ip) => ip !== '')
    .sort();

/** One Service's life as the watch saw it. */
export interface History {
  readonly name: string;
  /** Distinct consecutive ingress IP sets ('' = none), in order. */
  readonly ips: string[];
  deleted: boolean;
  /** "a -> b" for every change of a non-empty IP set while the Service existed. */
  readonly changes: string[];
  last: ServiceObject;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Watches the Services of a namespace until stop(); keeps every Service's history by UID. */
export class ServiceWatch {
  readonly byUid = new Map<string, History>();
  /** Relists forced by 410 Gone (history could have been missed in between: reported). */
  gaps = 0;
  reconnects = 0;
  private rv = '';
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private listed: (() => void) | undefined;
  readonly ready: Promise<void>;

  private readonly api: Api;
  private readonly namespace: string;

  constructor(api: Api, namespace: string) {
    this.api = api;
    this.namespace = namespace;
    this.ready = new Promise((r) => (this.listed = r));
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop?.catch(() => undefined);
  }

  /** The Services that exist now (as the watch saw them). */
  live(): History[] {
    return [...this.byUid.values()].filter((h) => !h.deleted);
  }

  changes(): string[] {
    return [...this.byUid.values()].flatMap((h) => h.changes.map((c) => `${h.name}: ${c}`));
  }

  private apply(type: string, s: ServiceObject): void {
    const uid = s.metadata.uid;
    let h = this.byUid.get(uid);
    if (h === undefined) {
      h = { name: s.metadata.name, ips: [], deleted: false, changes: [], last: s };
      this.byUid.set(uid, h);
    }
    h.last = s;
    if (type === 'DELETED') {
      h.deleted = true;
      return;
    }
    const now = ingressIPs(s).join(',');
    const prev = h.ips[h.ips.length - 1];
    if (prev === now) return;
    if (prev !== undefined && prev !== '') h.changes.push(`${prev} -> ${now === '' ? '(none)' : now}`);
    h.ips.push(now);
  }

  private async list(): Promise<void> {
    const l = await this.api.req<{ metadata: { resourceVersion: string }; items: ServiceObject[] }>('GET', `/api/v1/namespaces/${this.namespace}/services`);
    const seen = new Set<string>();
    for (const s of l.items) {
      seen.add(s.metadata.uid);
      this.apply('ADDED', s);
    }
    for (const [uid, h] of this.byUid) if (!seen.has(uid)) h.deleted = true;
    this.rv = l.metadata.resourceVersion;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.abort.signal.aborted) {
      try {
        if (needList) {
          await this.list();
          needList = false;
          this.listed?.();
        }
        let gone = false;
        await this.api.stream(
          `/api/v1/namespaces/${this.namespace}/services?watch=1&allowWatchBookmarks=true&resourceVersion=${this.rv}`,
          (line) => {
            const ev = JSON.parse(line) as { type: string; object: ServiceObject & { code?: number } };
            if (ev.type === 'ERROR') {
              if (ev.object.code === 410) gone = true;
              return;
            }
            if (ev.object.metadata.resourceVersion !== undefined) this.rv = ev.object.metadata.resourceVersion;
            if (ev.type !== 'BOOKMARK') this.apply(ev.type, ev.object);
          },
          this.abort.signal,
        );
        if (gone) {
          this.gaps++;
          needList = true;
        }
        this.reconnects++;
      } catch (e) {
        if (e instanceof ApiError && e.status === 410) {
          this.gaps++;
          needList = true;
        }
        if (!this.abort.signal.aborted) await sleep(300);
      }
    }
  }
}
