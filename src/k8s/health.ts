// /healthz (the process and its event loop answer), /readyz (caches synced; the component's own
// readiness rule) and /metrics (Prometheus text format, src/metrics) on --health-port. Plain node:http;
// 0 = no server.
import { createServer, type Server } from 'node:http';
import { EXPOSITION_CONTENT_TYPE } from '../metrics/exposition.ts';

export interface HealthOptions {
  readonly port: number;
  readonly host?: string;
  readonly ready: () => boolean;
  readonly healthy?: () => boolean;
  /** The /metrics body; without it /metrics is 404. */
  readonly metrics?: () => string;
}

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHealthServer(opts: HealthOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics' && opts.metrics !== undefined) {
      let body: string;
      try {
        body = opts.metrics();
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${e instanceof Error ? e.message : String(e)}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE }).end(body);
      return;
    }
    const okay = path === '/healthz' ? (opts.healthy?.() ?? true) : path === '/readyz' ? opts.ready() : undefined;
    if (okay === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    res.writeHead(okay ? 200 : 503, { 'content-type': 'text/plain' }).end(okay ? 'ok\n' : 'not ready\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => resolve());
  });
  server.unref();
  const addr = server.address();
  return {
    port: typeof addr === 'object' && addr !== null ? addr.port : opts.port,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
