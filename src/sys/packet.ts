// AF_PACKET sockets for the L2 responders: the PacketTransport interface (what responders code
// against, faked in tests) and openPacketSocket (the real one, over the berth_sys addon).
// Frames are whole Ethernet frames (destination MAC first). Receive is event-loop driven: the addon
// drains every pending frame per wakeup into one receive area allocated here once, and the handler is
// called once per frame, synchronously, with a view into that area (no copy, no allocation in C++).
// Our own transmissions are never delivered (PACKET_OUTGOING is filtered in the addon).
import { loadAddon, type NativePacketSocket } from './native.ts';
import { SysError, SysErrorKind, toSysError } from './errors.ts';
import { encodeProgram, filterProgram, type PacketFilter } from './bpf.ts';

/** EtherTypes the responders bind to (IANA "IEEE 802 Numbers"). */
export const EtherType = {
  IPv4: 0x0800,
  ARP: 0x0806,
  IPv6: 0x86dd,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

/** sll_pkttype values, linux/if_packet.h: how the frame reached us. */
export const PacketType = {
  host: 0, // PACKET_HOST: addressed to our MAC
  broadcast: 1, // PACKET_BROADCAST
  multicast: 2, // PACKET_MULTICAST (e.g. 33:33:ff:xx:xx:xx solicited-node)
  otherHost: 3, // PACKET_OTHERHOST: unicast to someone else (promiscuous)
  outgoing: 4, // PACKET_OUTGOING: never delivered to handlers
} as const;
export type PacketType = keyof typeof PacketType;

const DEFAULT_RECEIVE_BUFFER = 4 * 1024 * 1024;
/** Receive area per socket: frames of one wakeup are written here back to back (8-byte aligned). */
const RECEIVE_AREA_BYTES = 256 * 1024;
/** At most this many frames per wakeup (the addon's own bound is the same). */
const FRAMES_PER_WAKEUP = 1024;
const VIEW_CACHE_ENTRIES = 4096;

const packetTypeByCode: readonly PacketType[] = ['host', 'broadcast', 'multicast', 'otherHost', 'outgoing'];

/**
 * One received Ethernet frame. `frame` is a view into the socket's receive area, valid only until the
 * handler returns: the next wakeup overwrites it. A handler that keeps a frame must copy it
 * (`Buffer.from(frame)`); the same goes for this record itself, which is reused for the next frame.
 */
export interface ReceivedFrame {
  readonly frame: Buffer;
  readonly ifindex: number;
  readonly packetType: PacketType;
}

export type FrameHandler = (frame: ReceivedFrame) => void;

/** What an L2 responder needs from the network: one interface, one EtherType. */
export interface PacketTransport {
  readonly ifname: string;
  readonly ifindex: number;
  readonly etherType: number;
  /** Sends one whole Ethernet frame. Throws SysError (e.g. code 'ENOBUFS', 'ENETDOWN'). */
  send(frame: Buffer): void;
  /** Joins a link-layer multicast group (6-byte MAC), e.g. a solicited-node 33:33:ff:xx:xx:xx. */
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  /** Idempotent. No handler is called after close(). */
  close(): void;
  readonly closed: boolean;
}

export interface PacketSocketOptions {
  /** Interface name in the caller's network namespace, e.g. 'eth0'. */
  readonly ifname: string;
  readonly etherType: number;
  readonly onFrame: FrameHandler;
  /**
   * Called when onFrame throws (the frame is dropped, the socket stays open). Default: rethrow on
   * the next tick, i.e. an uncaught exception: a responder bug must not pass silently.
   */
  readonly onHandlerError?: (err: unknown) => void;
  /** Kernel receive buffer (SO_RCVBUFFORCE, else SO_RCVBUF capped by rmem_max). Default 4 MiB. */
  readonly receiveBufferBytes?: number;
  /**
   * A classic BPF filter attached in the kernel before the socket is bound (SO_ATTACH_FILTER):
   * 'arpRequest' or 'neighborSolicitation' (see bpf.ts). Frames it rejects are never queued.
   */
  readonly filter?: PacketFilter;
  /** false: the socket does not keep the process alive (uv_unref). Default true. */
  readonly keepAlive?: boolean;
  /**
   * Adopt one socket of a fanout group (openFanoutSockets) instead of opening a new one; `etherType`
   * and `filter` must be the group's (the filter is already attached). The socket owns the fd from here.
   */
  readonly fd?: number;
  /**
   * Receive into this area instead of one of the socket's own (256 KiB). Sockets whose handlers run
   * on the same thread may share one: a wakeup's frames are handled before the next wakeup starts.
   */
  readonly receiveArea?: ReceiveArea;
}

/** Where a socket's frames of one wakeup are received (see openPacketSocket). */
export interface ReceiveArea {
  readonly area: Buffer;
  readonly meta: Int32Array;
}

export function createReceiveArea(): ReceiveArea {
  return { area: Buffer.allocUnsafeSlow(RECEIVE_AREA_BYTES), meta: new Int32Array(FRAMES_PER_WAKEUP * 4) };
}

/** Opens a real AF_PACKET socket. The same signature fits a fake in tests (see fake.ts). */
export type OpenPacketTransport = (opts: PacketSocketOptions) => PacketTransport;

export interface PacketSocketStats {
  /** Frames the kernel queued for us since the previous stats() call (PACKET_STATISTICS). */
  readonly packets: number;
  /** Frames the kernel dropped (receive buffer full) since the previous stats() call. */
  readonly drops: number;
}

export interface PacketSocket extends PacketTransport {
  /** Kernel counters since the previous call (they reset on read). */
  stats(): PacketSocketStats;
  /**
   * Stops receiving and gives the fd up without closing it, for another thread to adopt
   * (openPacketSocket({ fd })); the socket counts as closed from here. Frames not yet read stay queued.
   */
  detach(): number;
}

/** Index of an interface in the caller's network namespace (if_nametoindex). */
export function interfaceIndex(ifname: string): number {
  try {
    return loadAddon().ifIndex(ifname);
  } catch (err) {
    throw toSysError(err, `interface ${ifname}`);
  }
}

export const openPacketSocket = (opts: PacketSocketOptions): PacketSocket => {
  const addon = loadAddon();
  const ifindex = interfaceIndex(opts.ifname);
  const onHandlerError =
    opts.onHandlerError ??
    ((err: unknown) => {
      process.nextTick(() => {
        throw err;
      });
    });
  let closed = false;
  const { area, meta } = opts.receiveArea ?? createReceiveArea();
  // Views of the area by (offset, length), made once: a responder that sees one 60-octet request per
  // wakeup gets the same Buffer object every time. Bounded; past the bound a view is made per frame.
  const views = new Map<number, Buffer>();
  const view = (offset: number, length: number): Buffer => {
    const key = offset * 65536 + length;
    let v = views.get(key);
    if (v === undefined) {
      v = area.subarray(offset, offset + length);
      if (views.size < VIEW_CACHE_ENTRIES) views.set(key, v);
    }
    return v;
  };
  // One record handed to every onFrame call (valid, like the frame, only during the call).
  const received: { frame: Buffer; ifindex: number; packetType: PacketType } = { frame: area, ifindex, packetType: 'host' };
  const onFrames = (count: number): void => {
    for (let i = 0; i < count && !closed; i++) {
      const m = i * 4;
      received.frame = view(meta[m] ?? 0, meta[m + 1] ?? 0);
      received.ifindex = meta[m + 2] ?? ifindex;
      received.packetType = packetTypeByCode[meta[m + 3] ?? 0] ?? 'otherHost';
      try {
        opts.onFrame(received);
      } catch (err) {
        onHandlerError(err);
      }
    }
  };
  let native: NativePacketSocket;
  try {
    const filter = opts.filter === undefined ? undefined : encodeProgram(filterProgram(opts.filter));
    native = new addon.PacketSocket(ifindex, opts.etherType, onFrames, opts.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER, area, meta, filter, opts.fd ?? -1);
  } catch (err) {
    throw toSysError(err, `AF_PACKET socket on ${opts.ifname}`);
  }
  if (opts.keepAlive === false) native.unref();

  const guard = (what: string): void => {
    if (closed) throw new SysError(SysErrorKind.closed, `${what}: packet socket on ${opts.ifname} is closed`);
  };
  const checkMac = (mac: Buffer): void => {
    if (mac.length !== 6) throw new SysError(SysErrorKind.invalid, `multicast MAC must be 6 bytes, got ${mac.length}`);
  };
  return {
    ifname: opts.ifname,
    ifindex,
    etherType: opts.etherType,
    get closed() {
      return closed;
    },
    send(frame) {
      guard('send');
      try {
        native.send(frame);
      } catch (err) {
        throw toSysError(err, `send on ${opts.ifname}`);
      }
    },
    addMembership(mac) {
      guard('addMembership');
      checkMac(mac);
      try {
        native.addMembership(mac);
      } catch (err) {
        throw toSysError(err, `multicast join on ${opts.ifname}`);
      }
    },
    dropMembership(mac) {
      guard('dropMembership');
      checkMac(mac);
      try {
        native.dropMembership(mac);
      } catch (err) {
        throw toSysError(err, `multicast leave on ${opts.ifname}`);
      }
    },
    stats() {
      guard('stats');
      return native.stats();
    },
    close() {
      if (closed) return;
      closed = true;
      native.close();
    },
    detach() {
      guard('detach');
      closed = true;
      return native.detach();
    },
  };
};

export interface SendSocket {
  readonly ifname: string;
  readonly ifindex: number;
  /** Sends one whole Ethernet frame (its EtherType is in the frame). Throws SysError. */
  send(frame: Buffer): void;
  addMembership(mac: Buffer): void;
  dropMembership(mac: Buffer): void;
  close(): void;
  readonly closed: boolean;
}

/**
 * A send-only AF_PACKET socket on one interface: bound with protocol 0, so the kernel never queues a
 * frame for it. For announcements and multicast membership when receiving is done elsewhere (per-CPU
 * sockets, openFanoutSockets).
 */
export function openSendSocket(ifname: string): SendSocket {
  const s = openPacketSocket({
    ifname,
    etherType: 0,
    keepAlive: false,
    receiveBufferBytes: 0,
    onFrame: () => {
      throw new SysError(SysErrorKind.invalid, `send-only socket on ${ifname} received a frame`);
    },
  });
  return s;
}

export interface FanoutOptions {
  readonly ifname: string;
  readonly etherType: number;
  readonly filter?: PacketFilter;
  readonly receiveBufferBytes?: number;
  /** Members; member i receives the frames the kernel handles on CPU i (CPU c: member c % members). */
  readonly members: number;
}

/**
 * Opens the sockets of one new fanout group (packet(7) PACKET_FANOUT, mode PACKET_FANOUT_CPU, kernel-chosen
 * group id, rollover when a member's buffer is nearly full), bound and filtered like openPacketSocket.
 * Returns their fds in member order; hand fds[i] to openPacketSocket({ fd }) on the thread pinned to
 * CPU i (fds are process-wide, so any worker thread can adopt one), or closeFd() it.
 */
export function openFanoutSockets(opts: FanoutOptions): number[] {
  const addon = loadAddon();
  const ifindex = interfaceIndex(opts.ifname);
  try {
    const filter = opts.filter === undefined ? undefined : encodeProgram(filterProgram(opts.filter));
    return addon.openFanout(ifindex, opts.etherType, filter, opts.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER, opts.members);
  } catch (err) {
    throw toSysError(err, `AF_PACKET fanout group on ${opts.ifname}`);
  }
}

/** Closes an fd from openFanoutSockets that was never adopted. */
export function closeFd(fd: number): void {
  loadAddon().closeFd(fd);
}

/** Pins the calling thread (only it: a worker thread pins itself) to one CPU. Throws SysError. */
export function pinCurrentThread(cpu: number): void {
  try {
    loadAddon().pinThread(cpu);
  } catch (err) {
    throw toSysError(err, `pin thread to CPU ${cpu}`);
  }
}

/** CPUs the calling thread may run on (its affinity mask, e.g. narrowed by a cgroup cpuset). */
export function threadAffinity(): number[] {
  return loadAddon().threadAffinity();
}

/** The CPU the calling thread is running on right now. */
export function currentCpu(): number {
  return loadAddon().currentCpu();
}
