// Loads the berth_sys addon (src/sys/native, built by scripts/build-addon.mjs into build/Release)
// and describes its raw shape. Only src/sys imports this file; everything else uses the typed
// wrappers (packet.ts, tcp.ts). Loaded lazily, so importing src/sys never fails on a machine
// without the addon until a socket is actually opened.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AddonMissingError } from './errors.ts';

export interface NativePacketSocket {
  readonly fd: number;
  send(frame: Buffer): number;
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  stats(): { packets: number; drops: number };
  ref(): void;
  unref(): void;
  close(): void;
  /** Stops watching and returns the fd without closing it (-1 if closed). */
  detach(): number;
}

export interface NativeFdWatch {
  stop(): void;
}

export interface NativeTcp {
  socket(family: 4 | 6): number;
  setMd5(fd: number, family: 4 | 6, address: string, key: Buffer): void;
  setTtl(fd: number, family: 4 | 6, ttl: number): void;
  getTtl(fd: number, family: 4 | 6): number;
  setMinTtl(fd: number, family: 4 | 6, minTtl: number): void;
  getMinTtl(fd: number, family: 4 | 6): number;
  bindToDevice(fd: number, device: string): void;
  setReuseAddr(fd: number): void;
  setV6Only(fd: number, on: boolean): void;
  bind(fd: number, family: 4 | 6, address: string, port: number): void;
  /** true: connected at once; false: in progress (wait for writability, then socketError). */
  connect(fd: number, family: 4 | 6, address: string, port: number): boolean;
  socketError(fd: number): Error | null;
  listen(fd: number, backlog: number): void;
  close(fd: number): void;
  FdWatch: new (fd: number, writable: boolean, onReady: () => void) => NativeFdWatch;
}

export interface NativeUdp {
  /** A non-blocking UDP socket with IP_RECVTTL / IPV6_RECVHOPLIMIT on (IPv6: v6-only). */
  socket(family: 4 | 6): number;
  /** One datagram into `buffer`, or null when none is queued; ttl -1 when not reported. */
  recv(fd: number, buffer: Buffer): { length: number; address: string; port: number; ttl: number } | null;
  sendTo(fd: number, family: 4 | 6, address: string, port: number, payload: Buffer): number;
  localPort(fd: number): number;
}

export interface NativeAddon {
  ifIndex(name: string): number;
  PacketSocket: new (
    ifindex: number,
    etherType: number,
    /** `count` frames are in `area`; meta[4i..4i+3] = offset, length, ifindex, sll_pkttype of frame i. */
    onFrames: (count: number) => void,
    receiveBufferBytes: number,
    area: Buffer,
    meta: Int32Array,
    /** struct sock_filter[] bytes (bpf.ts), attached with SO_ATTACH_FILTER before bind. */
    filter: Buffer | undefined,
    /** Adopt this bound socket (from openFanout) instead of opening one; -1: open one. */
    fd: number,
  ) => NativePacketSocket;
  /** `count` sockets of one new PACKET_FANOUT_CPU group, in join order (fds[i] gets CPU i's frames). */
  openFanout(ifindex: number, etherType: number, filter: Buffer | undefined, receiveBufferBytes: number, count: number): number[];
  closeFd(fd: number): void;
  /** sched_setaffinity of the calling thread only. */
  pinThread(cpu: number): void;
  threadAffinity(): number[];
  currentCpu(): number;
  tcp: NativeTcp;
  udp: NativeUdp;
}

const addonPath = fileURLToPath(new URL('../../build/Release/berth_sys.node', import.meta.url));
let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached !== undefined) return cached;
  if (!existsSync(addonPath)) {
    throw new AddonMissingError(
      `berth native addon not built (${addonPath} missing): run \`npm ci\` or \`node scripts/build-addon.mjs\``,
    );
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as NativeAddon;
  return cached;
}
