// The TCP transport the session driver runs over, as a small injectable interface:
//   - `nodeTransport()`   node's net module: plain TCP, no MD5/TTL (tests over 127.0.0.1, and hosts
//                         where src/sys is not built); it refuses options it cannot honour;
//   - `memoryTransport()` in-memory duplex pipes, for unit tests without sockets;
//   - `sysTransport(tcp)` src/sys's TcpTransport (RFC 2385 MD5, TTL / RFC 5082 GTSM, SO_BINDTODEVICE),
//                         passed in by the caller so that src/bgp does not load the addon itself.
import net from 'node:net';
import { Duplex } from 'node:stream';

/** The part of net.Socket the session driver uses. */
export interface BgpSocket {
  readonly localAddress?: string | undefined;
  readonly localPort?: number | undefined;
  readonly remoteAddress?: string | undefined;
  readonly remotePort?: number | undefined;
  write(chunk: Uint8Array): boolean;
  /** Octets written but not yet handed to the kernel (node's net.Socket). */
  readonly writableLength?: number;
  end(): unknown;
  destroy(): unknown;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface ConnectOptions {
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  /** RFC 2385 TCP MD5 signature key. */
  readonly md5Key?: string;
  /** Outgoing TTL / hop limit: 1 for single-hop eBGP, 255 otherwise. */
  readonly ttl?: number;
  /** RFC 5082 GTSM: minimum TTL accepted. */
  readonly minTtl?: number;
  /** SO_BINDTODEVICE. */
  readonly device?: string;
  readonly timeoutMs?: number;
}

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Per-peer MD5 keys for the listening socket (accepted sockets inherit them). */
  readonly md5Keys?: readonly { readonly address: string; readonly key: string }[];
}

export interface Listener {
  readonly port: number;
  setMd5Key(address: string, key: string): void;
  deleteMd5Key(address: string): void;
  close(): Promise<void>;
}

export interface TransportFactory {
  connect(opts: ConnectOptions): Promise<BgpSocket>;
  listen(opts: ListenOptions, onConnection: (socket: BgpSocket) => void): Promise<Listener>;
  /** Sets the outgoing TTL of an accepted socket (per peer: 1 for single-hop eBGP). Optional. */
  setTtl?(socket: BgpSocket, ttl: number): void;
}

export class TransportUnsupportedError extends Error {
  constructor(what: string) {
    super(`transport does not support ${what}`);
    this.name = 'TransportUnsupportedError';
  }
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** Plain TCP through node:net. MD5 is refused (a session must not silently go unsigned); TTL options are
 * accepted and not applied (node cannot set them), which only matters against a GTSM-enforcing peer. */
export function nodeTransport(): TransportFactory {
  return {
    connect(opts) {
      if (opts.md5Key !== undefined) return Promise.reject(new TransportUnsupportedError('TCP MD5 (use src/sys)'));
      if (opts.device !== undefined) return Promise.reject(new TransportUnsupportedError('SO_BINDTODEVICE (use src/sys)'));
      return new Promise((resolve, reject) => {
        const socket = net.connect({
          host: opts.host,
          port: opts.port,
          ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
          noDelay: true,
        });
        const timer = setTimeout(() => {
          socket.destroy();
          reject(new Error(`connect to ${opts.host}:${opts.port} timed out`));
        }, opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          resolve(socket);
        });
        socket.once('error', (err) => {
          clearTimeout(timer);
          socket.destroy();
          reject(err);
        });
      });
    },
    listen(opts, onConnection) {
      if (opts.md5Keys !== undefined && opts.md5Keys.length > 0) {
        return Promise.reject(new TransportUnsupportedError('TCP MD5 (use src/sys)'));
      }
      return new Promise((resolve, reject) => {
        const server = net.createServer({ noDelay: true }, (s) => onConnection(s));
        server.once('error', reject);
        server.listen({ host: opts.host, port: opts.port }, () => {
          server.removeListener('error', reject);
          const addr = server.address();
          const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
          resolve({
            port,
            setMd5Key() {
              throw new TransportUnsupportedError('TCP MD5 (use src/sys)');
            },
            deleteMd5Key() {},
            close: () => new Promise<void>((done) => server.close(() => done())),
          });
        });
      });
    },
  };
}

/** The shape of src/sys's TcpTransport that we use (structural, so src/bgp need not import src/sys). */
export interface SysTcpTransport {
  connect(opts: {
    readonly host: string;
    readonly port: number;
    readonly localAddress?: string;
    readonly md5Key?: string;
    readonly ttl?: number;
    readonly minTtl?: number;
    readonly device?: string;
    readonly timeoutMs?: number;
  }): Promise<net.Socket>;
  listen(opts: {
    readonly host: string;
    readonly port: number;
    readonly md5Keys?: readonly { readonly address: string; readonly key: string }[];
  }): Promise<{
    readonly server: net.Server;
    readonly port: number;
    setMd5Key(address: string, key: string): void;
    deleteMd5Key(address: string): void;
    close(): Promise<void>;
  }>;
}

/** src/sys's setSocketTtl, for accepted sockets. */
export type SysSetSocketTtl = (socket: net.Socket, opts: { readonly ttl?: number }) => void;

/** Adapts src/sys's TcpTransport (MD5, TTL, GTSM, SO_BINDTODEVICE) to a TransportFactory; pass
 * src/sys's setSocketTtl too so that accepted sessions get their per-peer TTL. */
export function sysTransport(tcp: SysTcpTransport, setSocketTtl?: SysSetSocketTtl): TransportFactory {
  return {
    ...(setSocketTtl !== undefined ? { setTtl: (s: BgpSocket, ttl: number) => setSocketTtl(s as net.Socket, { ttl }) } : {}),
    async connect(opts) {
      const s = await tcp.connect(opts);
      s.setNoDelay(true);
      return s;
    },
    async listen(opts, onConnection) {
      const l = await tcp.listen(opts);
      l.server.on('connection', (s: net.Socket) => {
        s.setNoDelay(true);
        onConnection(s);
      });
      return {
        port: l.port,
        setMd5Key: (a, k) => l.setMd5Key(a, k),
        deleteMd5Key: (a) => l.deleteMd5Key(a),
        close: () => l.close(),
      };
    },
  };
}

// ------------------------------------------------------------------------------------------------
// In-memory pipes: `memoryTransport()` gives a network of named endpoints ("address") for tests.

class PipeEnd extends Duplex {
  peer: PipeEnd | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;

  constructor(local: { address: string; port: number }, remote: { address: string; port: number }) {
    super({ allowHalfOpen: false });
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const p = this.peer;
    if (p === undefined || p.destroyed) {
      done(new Error('EPIPE'));
      return;
    }
    // Deliver asynchronously, as a socket would.
    const copy = Buffer.from(chunk);
    setImmediate(() => {
      if (!p.destroyed) p.push(copy);
    });
    done();
  }

  override _final(done: (err?: Error | null) => void): void {
    const p = this.peer;
    setImmediate(() => {
      if (p !== undefined && !p.destroyed) p.push(null);
    });
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    const p = this.peer;
    this.peer = undefined;
    if (p !== undefined && !p.destroyed) setImmediate(() => p.destroy());
    done(err);
  }
}

export interface MemoryNetwork {
  /** A transport whose connections come from `address` (the local address sessions see). */
  transport(address: string): TransportFactory;
  /** Cut every open pipe (both ends see 'close'). */
  cutAll(): void;
}

export function memoryTransport(): MemoryNetwork {
  const listeners = new Map<string, (s: BgpSocket) => void>();
  const open = new Set<PipeEnd>();
  let nextPort = 40000;
  return {
    transport(address) {
      return {
        connect(opts) {
          const accept = listeners.get(`${opts.host}:${opts.port}`);
          if (accept === undefined) return Promise.reject(Object.assign(new Error('ECONNREFUSED'), { code: 'ECONNREFUSED' }));
          const port = nextPort++;
          const a = new PipeEnd({ address: opts.localAddress ?? address, port }, { address: opts.host, port: opts.port });
          const b = new PipeEnd({ address: opts.host, port: opts.port }, { address: opts.localAddress ?? address, port });
          a.peer = b;
          b.peer = a;
          for (const e of [a, b]) {
            open.add(e);
            e.on('close', () => open.delete(e));
          }
          setImmediate(() => accept(b));
          return Promise.resolve(a);
        },
        listen(opts, onConnection) {
          const host = opts.host === '0.0.0.0' || opts.host === '::' ? address : opts.host;
          const key = `${host}:${opts.port}`;
          listeners.set(key, onConnection);
          return Promise.resolve({
            port: opts.port,
            setMd5Key() {},
            deleteMd5Key() {},
            close: () => {
              listeners.delete(key);
              return Promise.resolve();
            },
          });
        },
      };
    },
    cutAll() {
      for (const e of [...open]) e.destroy();
    },
  };
}
