// UDP sockets that report each datagram's received TTL / hop limit, for BFD (RFC 5881 §5: single-hop
// packets must arrive with TTL 255; RFC 5883 §2: multihop with at least a minimum). node:dgram cannot
// read the received TTL, so the fd is made in the addon (IP_RECVTTL / IPV6_RECVHOPLIMIT), bound and
// given its sending TTL with the same helpers as TCP, and read with recvmsg on readability.
import net from 'node:net';
import { loadAddon } from './native.ts';
import { SysError, SysErrorKind, toSysError } from './errors.ts';
import type { IpFamily } from './tcp.ts';

export interface UdpDatagram {
  readonly payload: Buffer;
  readonly address: string;
  readonly port: number;
  /** The IPv4 TTL / IPv6 hop limit the datagram arrived with; -1 when the kernel did not say. */
  readonly ttl: number;
}

export interface UdpOpenOptions {
  readonly family: IpFamily;
  /** Local address; default the wildcard of the family. */
  readonly address?: string;
  /** Local port; 0 lets the kernel pick. */
  readonly port: number;
  /** Outgoing TTL / hop limit. */
  readonly ttl?: number;
  /** SO_BINDTODEVICE (a VRF device: the socket sends and receives in that VRF). */
  readonly device?: string;
  /** SO_REUSEADDR, so sockets bound to different devices can share the port. */
  readonly reuseAddress?: boolean;
  /** Called for each datagram received; absent: a send-only socket (nothing is read). */
  readonly onDatagram?: (d: UdpDatagram) => void;
}

export interface UdpSocket {
  readonly family: IpFamily;
  readonly port: number;
  send(payload: Buffer, address: string, port: number): void;
  close(): void;
}

/** The largest datagram read; longer ones are reported truncated to this size. */
const RECEIVE_BYTES = 2048;

/** Opens a bound UDP socket. Throws SysError (e.g. code EADDRINUSE) when it cannot. */
export function openUdp(opts: UdpOpenOptions): UdpSocket {
  const addon = loadAddon();
  const { udp, tcp } = addon;
  const family = opts.family;
  const address = opts.address ?? (family === 4 ? '0.0.0.0' : '::');
  if (net.isIP(address) !== family) throw new SysError(SysErrorKind.invalid, `UDP bind address ${address} is not IPv${family}`);
  let fd: number;
  try {
    fd = udp.socket(family);
  } catch (e) {
    throw toSysError(e, 'UDP socket');
  }
  try {
    if (opts.ttl !== undefined) tcp.setTtl(fd, family, opts.ttl);
    if (opts.device !== undefined) tcp.bindToDevice(fd, opts.device);
    if (opts.reuseAddress === true) tcp.setReuseAddr(fd);
    tcp.bind(fd, family, address, opts.port);
  } catch (e) {
    tcp.close(fd);
    throw toSysError(e, `UDP bind ${address} port ${opts.port}`);
  }
  const port = udp.localPort(fd);
  let closed = false;
  let watch: { stop(): void } | undefined;
  const buffer = Buffer.alloc(RECEIVE_BYTES);
  const onDatagram = opts.onDatagram;
  const drain = (): void => {
    watch = undefined;
    if (closed || onDatagram === undefined) return;
    for (;;) {
      let got: { length: number; address: string; port: number; ttl: number } | null;
      try {
        got = udp.recv(fd, buffer);
      } catch {
        // A socket error (an ICMP error queued for the socket) is reported once; stop this round and
        // read on at the next readiness rather than spin here.
        break;
      }
      if (got === null) break;
      onDatagram({ payload: Buffer.from(buffer.subarray(0, Math.min(got.length, RECEIVE_BYTES))), address: got.address, port: got.port, ttl: got.ttl });
      if (closed) return;
    }
    watch = new tcp.FdWatch(fd, false, drain);
  };
  if (onDatagram !== undefined) watch = new tcp.FdWatch(fd, false, drain);
  return {
    family,
    port,
    send(payload, to, toPort) {
      if (closed) throw new SysError(SysErrorKind.closed, 'UDP socket closed');
      try {
        udp.sendTo(fd, family, to, toPort, payload);
      } catch (e) {
        throw toSysError(e, `UDP send to ${to} port ${toPort}`);
      }
    },
    close() {
      if (closed) return;
      closed = true;
      watch?.stop();
      watch = undefined;
      tcp.close(fd);
    },
  };
}
