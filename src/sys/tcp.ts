// TCP for the BGP speaker: connections and listeners with the socket options node's net module does
// not offer: TCP_MD5SIG (RFC 2385), TTL / hop limit, GTSM minimum TTL (RFC 5082), SO_BINDTODEVICE,
// and a chosen source address/port. The fd is made and configured in the addon, then handed to
// node's net.Socket / net.Server, which own it from then on: the caller gets ordinary node objects.
import net from 'node:net';
import { loadAddon, type NativeTcp } from './native.ts';
import { SysError, SysErrorKind, toSysError } from './errors.ts';

export type IpFamily = 4 | 6;

/** An RFC 2385 key: the string's UTF-8 bytes, or raw bytes. At most 80 bytes (TCP_MD5SIG_MAXKEYLEN). */
export type Md5Key = string | Buffer;

export interface TcpConnectOptions {
  /** Peer IP address (no DNS). IPv6 link-local may carry a zone: 'fe80::1%eth0'. */
  readonly host: string;
  readonly port: number;
  readonly localAddress?: string;
  readonly localPort?: number;
  readonly md5Key?: Md5Key;
  /** Outgoing TTL / hop limit (1 = directly connected eBGP; 255 with GTSM). */
  readonly ttl?: number;
  /** GTSM (RFC 5082): drop segments arriving with a lower TTL / hop limit. */
  readonly minTtl?: number;
  /** SO_BINDTODEVICE interface name. */
  readonly device?: string;
  /** Default 10,000 ms. */
  readonly timeoutMs?: number;
}

export interface Md5Peer {
  readonly address: string;
  readonly key: Md5Key;
}

export interface TcpListenOptions {
  /** Local address to listen on: '0.0.0.0', '::' (dual stack) or a specific address. */
  readonly host: string;
  /** 179 for BGP; 0 picks a free port (see TcpListener.port). */
  readonly port: number;
  readonly md5Keys?: readonly Md5Peer[];
  readonly ttl?: number;
  readonly minTtl?: number;
  readonly device?: string;
  readonly backlog?: number;
}

/** A listening socket whose per-peer MD5 keys can change while it listens; accepted sockets inherit them. */
export interface TcpListener {
  /** The node server: listen for 'connection' (net.Socket) and 'error'. */
  readonly server: net.Server;
  readonly host: string;
  readonly port: number;
  readonly family: IpFamily;
  /** Adds or replaces the key for one peer address (IPv4 peers are fine on a '::' listener). */
  setMd5Key(address: string, key: Md5Key): void;
  /** Removes the key for one peer address; a no-op when there is none. */
  deleteMd5Key(address: string): void;
  /** Reads back IP_TTL / IP_MINTTL (or the IPv6 hop-limit pair) of the listening socket. */
  options(): { readonly ttl: number; readonly minTtl: number };
  /** Stops listening; accepted sockets stay open. Idempotent. */
  close(): Promise<void>;
}

/** What the BGP speaker needs to open sessions; tests inject a fake. */
export interface TcpTransport {
  connect(opts: TcpConnectOptions): Promise<net.Socket>;
  listen(opts: TcpListenOptions): Promise<TcpListener>;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const MD5_MAX_KEY_BYTES = 80; // linux/tcp.h TCP_MD5SIG_MAXKEYLEN

function familyOf(address: string, what: string): IpFamily {
  const bare = address.split('%')[0] ?? address;
  const f = net.isIP(bare);
  if (f === 4 || f === 6) return f;
  throw new SysError(SysErrorKind.invalid, `${what}: not an IP address: ${JSON.stringify(address)}`);
}

function keyBytes(key: Md5Key): Buffer {
  const b = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (b.length === 0 || b.length > MD5_MAX_KEY_BYTES) {
    throw new SysError(SysErrorKind.invalid, `MD5 key must be 1..${MD5_MAX_KEY_BYTES} bytes, got ${b.length}`);
  }
  return b;
}

/**
 * The address the kernel compares an MD5 key against. On an AF_INET6 socket an IPv4 peer shows up
 * as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2), so the key must be set for that mapped address.
 */
function md5Target(socketFamily: IpFamily, peer: string): { family: IpFamily; address: string } {
  const peerFamily = familyOf(peer, 'MD5 peer');
  if (socketFamily === 6 && peerFamily === 4) return { family: 6, address: `::ffff:${peer}` };
  if (socketFamily === 4 && peerFamily === 6) {
    throw new SysError(SysErrorKind.invalid, `MD5 peer ${peer} is IPv6 but the socket is IPv4`);
  }
  return { family: peerFamily, address: peer };
}

function applyCommon(
  tcp: NativeTcp,
  fd: number,
  family: IpFamily,
  opts: { readonly ttl?: number; readonly minTtl?: number; readonly device?: string },
): void {
  if (opts.device !== undefined) tcp.bindToDevice(fd, opts.device);
  if (opts.ttl !== undefined) tcp.setTtl(fd, family, checkTtl(opts.ttl, 'ttl'));
  if (opts.minTtl !== undefined) tcp.setMinTtl(fd, family, checkTtl(opts.minTtl, 'minTtl'));
}

function checkPort(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new SysError(SysErrorKind.invalid, `${what} must be 0..65535, got ${v}`);
  return v;
}

function checkTtl(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new SysError(SysErrorKind.invalid, `${what} must be 0..255, got ${v}`);
  return v;
}

/** Opens a TCP connection with the given options. Rejects with SysError (code 'ECONNREFUSED', 'TIMEOUT', ...). */
export function connectTcp(opts: TcpConnectOptions): Promise<net.Socket> {
  const what = `connect to [${opts.host}]:${opts.port}`;
  let family: IpFamily;
  let key: Buffer | undefined;
  let local: string | undefined;
  try {
    // Every argument is checked before a socket exists.
    family = familyOf(opts.host, 'connect');
    checkPort(opts.port, 'port');
    key = opts.md5Key === undefined ? undefined : keyBytes(opts.md5Key);
    if (opts.ttl !== undefined) checkTtl(opts.ttl, 'ttl');
    if (opts.minTtl !== undefined) checkTtl(opts.minTtl, 'minTtl');
    if (opts.localPort !== undefined) checkPort(opts.localPort, 'localPort');
    if (opts.localAddress !== undefined || opts.localPort !== undefined) {
      local = opts.localAddress ?? (family === 4 ? '0.0.0.0' : '::');
      if (familyOf(local, 'localAddress') !== family) {
        throw new SysError(SysErrorKind.invalid, `${what}: localAddress ${local} is not of the peer's family`);
      }
    }
  } catch (err) {
    return Promise.reject(toSysError(err, what));
  }
  const { tcp } = loadAddon();
  let fd = -1;
  try {
    fd = tcp.socket(family);
    applyCommon(tcp, fd, family, opts);
    if (key !== undefined) {
      // RFC 2385 §2: every segment of the connection is signed, the SYN included: set before connect.
      tcp.setMd5(fd, family, opts.host.split('%')[0] ?? opts.host, key);
    }
    if (local !== undefined) {
      if (opts.localPort !== undefined && opts.localPort !== 0) tcp.setReuseAddr(fd);
      tcp.bind(fd, family, local, opts.localPort ?? 0);
    }
    if (tcp.connect(fd, family, opts.host, opts.port)) return Promise.resolve(wrapSocket(fd));
  } catch (err) {
    if (fd >= 0) tcp.close(fd);
    return Promise.reject(toSysError(err, what));
  }
  const connecting = fd;
  return new Promise<net.Socket>((resolve, reject) => {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const timer = setTimeout(() => {
      watch.stop();
      tcp.close(connecting);
      reject(new SysError(SysErrorKind.timeout, `${what}: no answer within ${timeoutMs} ms`, { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    const watch = new tcp.FdWatch(connecting, true, () => {
      clearTimeout(timer);
      const err = tcp.socketError(connecting);
      if (err !== null) {
        tcp.close(connecting);
        reject(toSysError(err, what));
        return;
      }
      resolve(wrapSocket(connecting));
    });
  });
}

/** Hands a connected fd to node. On node 20 an fd-made socket is neither readable nor writable unless told. */
function wrapSocket(fd: number): net.Socket {
  return new net.Socket({ fd, readable: true, writable: true });
}

/** Listens with per-peer MD5 keys and TTL options set on the listening socket. */
export function listenTcp(opts: TcpListenOptions): Promise<TcpListener> {
  const what = `listen on [${opts.host}]:${opts.port}`;
  let family: IpFamily;
  let keys: { target: { family: IpFamily; address: string }; key: Buffer }[];
  try {
    family = familyOf(opts.host, 'listen');
    checkPort(opts.port, 'port');
    if (opts.ttl !== undefined) checkTtl(opts.ttl, 'ttl');
    if (opts.minTtl !== undefined) checkTtl(opts.minTtl, 'minTtl');
    const f = family;
    keys = (opts.md5Keys ?? []).map((p) => ({ target: md5Target(f, p.address), key: keyBytes(p.key) }));
  } catch (err) {
    return Promise.reject(toSysError(err, what));
  }
  const { tcp } = loadAddon();
  let fd = -1;
  try {
    fd = tcp.socket(family);
    tcp.setReuseAddr(fd);
    applyCommon(tcp, fd, family, opts);
    if (family === 6 && opts.host === '::') {
      tcp.setV6Only(fd, false);
      // IPv4 peers on a dual-stack listener use the IPv4 options.
      if (opts.ttl !== undefined) tcp.setTtl(fd, 4, opts.ttl);
      if (opts.minTtl !== undefined) tcp.setMinTtl(fd, 4, opts.minTtl);
    }
    for (const k of keys) tcp.setMd5(fd, k.target.family, k.target.address, k.key);
    tcp.bind(fd, family, opts.host, opts.port);
    tcp.listen(fd, opts.backlog ?? 128);
  } catch (err) {
    if (fd >= 0) tcp.close(fd);
    return Promise.reject(toSysError(err, what));
  }
  const lfd = fd;
  const server = net.createServer();
  return new Promise<TcpListener>((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(toSysError(err, what));
    };
    server.once('error', onError);
    server.listen({ fd: lfd, backlog: opts.backlog ?? 128 }, () => {
      server.removeListener('error', onError);
      const addr = server.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
      let closed = false;
      const guard = (op: string): void => {
        if (closed) throw new SysError(SysErrorKind.closed, `${op}: listener ${what} is closed`);
      };
      resolve({
        server,
        host: opts.host,
        port,
        family,
        setMd5Key(address, key) {
          guard('setMd5Key');
          const t = md5Target(family, address);
          try {
            tcp.setMd5(lfd, t.family, t.address, keyBytes(key));
          } catch (err) {
            throw toSysError(err, `MD5 key for ${address}`);
          }
        },
        deleteMd5Key(address) {
          guard('deleteMd5Key');
          const t = md5Target(family, address);
          try {
            tcp.setMd5(lfd, t.family, t.address, Buffer.alloc(0));
          } catch (err) {
            throw toSysError(err, `MD5 key for ${address}`);
          }
        },
        options() {
          guard('options');
          return { ttl: tcp.getTtl(lfd, family), minTtl: tcp.getMinTtl(lfd, family) };
        },
        close() {
          if (closed) return Promise.resolve();
          closed = true;
          return new Promise<void>((res) => server.close(() => res()));
        },
      });
    });
  });
}

/** The real TcpTransport. */
export const tcpTransport: TcpTransport = { connect: connectTcp, listen: listenTcp };

// Options on an existing connected socket (one node made, or one from connectTcp / a listener).

function fdOf(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: { fd?: unknown } | null })._handle;
  const fd = handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new SysError(SysErrorKind.closed, 'socket has no file descriptor (closed, or not a TCP socket)');
  }
  return fd;
}

function socketFamily(socket: net.Socket): IpFamily {
  // An IPv4 peer on a dual-stack listener: the IPv4 options govern its packets.
  if (socket.remoteAddress?.startsWith('::ffff:') === true && socket.remoteAddress.includes('.')) return 4;
  const f = socket.localFamily ?? socket.remoteFamily;
  if (f === 'IPv4') return 4;
  if (f === 'IPv6') return 6;
  const a = socket.localAddress;
  if (a !== undefined) return familyOf(a, 'socket');
  throw new SysError(SysErrorKind.invalid, 'socket family unknown (not connected?)');
}

export interface SocketTtlOptions {
  readonly ttl?: number;
  readonly minTtl?: number;
}

/** Sets TTL and/or GTSM minimum TTL on a connected socket (Linux allows both after connect). */
export function setSocketTtl(socket: net.Socket, opts: SocketTtlOptions): void {
  const { tcp } = loadAddon();
  const fd = fdOf(socket);
  const family = socketFamily(socket);
  try {
    if (opts.ttl !== undefined) tcp.setTtl(fd, family, checkTtl(opts.ttl, 'ttl'));
    if (opts.minTtl !== undefined) tcp.setMinTtl(fd, family, checkTtl(opts.minTtl, 'minTtl'));
  } catch (err) {
    throw toSysError(err, 'set TTL');
  }
}

/** Reads TTL and GTSM minimum TTL of a connected socket. */
export function getSocketTtl(socket: net.Socket): { readonly ttl: number; readonly minTtl: number } {
  const { tcp } = loadAddon();
  const fd = fdOf(socket);
  const family = socketFamily(socket);
  try {
    return { ttl: tcp.getTtl(fd, family), minTtl: tcp.getMinTtl(fd, family) };
  } catch (err) {
    throw toSysError(err, 'get TTL');
  }
}
