// src/sys: every syscall JavaScript cannot make, behind small typed interfaces.
//
// Public API (stable; other areas import only from this file):
//
// Layer 2 (AF_PACKET, for the ARP/NDP responders)
//   openPacketSocket({ ifname, etherType, onFrame, onHandlerError?, keepAlive?, receiveBufferBytes? })
//       : PacketSocket
//       One socket bound to one interface (by name, in the caller's netns) and one EtherType
//       (EtherType.ARP 0x0806, EtherType.IPv6 0x86dd). onFrame({ frame, ifindex, packetType }) is called
//       for every received whole Ethernet frame; packetType is 'host' | 'broadcast' | 'multicast' |
//       'otherHost'. Our own transmissions are never delivered. The addon drains all pending frames per
//       event-loop wakeup. send(frame) throws SysError ('ENOBUFS', 'ENETDOWN', ...).
//       addMembership(mac) / dropMembership(mac): link-layer multicast groups (solicited-node
//       33:33:ff:xx:xx:xx). stats() -> { packets, drops } from the kernel since the previous call.
//       filter: 'arpRequest' | 'neighborSolicitation' attaches a classic BPF program (bpf.ts) in the
//       kernel before bind, so only ARP requests / IPv6 Neighbor Solicitations are ever queued.
//       The frame handed to onFrame is a view into a receive area reused by the next wakeup: copy it
//       to keep it past the handler.
//       close() is idempotent. The socket survives a link flap (down/up) by itself; if the interface
//       is deleted it stays open but deaf: reopen on the new interface. Default receive buffer 4 MiB.
//   PacketTransport / OpenPacketTransport: the interfaces responders take (inject openPacketSocket in
//       production, createFakeLan().open or createFakePacketTransport in unit tests).
//   interfaceIndex(ifname): number
//   Per-CPU receive: openFanoutSockets({ ifname, etherType, filter?, members }) -> fds of one
//       PACKET_FANOUT_CPU group (fds[i] receives what the kernel handles on CPU i); a worker thread
//       pins itself (pinCurrentThread(cpu)) and adopts its fd (openPacketSocket({ ..., fd })).
//       openSendSocket(ifname): send + multicast membership, receives nothing. closeFd,
//       threadAffinity(), currentCpu().
//
// BGP (TCP with options node lacks)
//   connectTcp({ host, port, localAddress?, localPort?, md5Key?, ttl?, minTtl?, device?, timeoutMs? })
//       : Promise<net.Socket>   (RFC 2385 MD5, TTL, GTSM min TTL, SO_BINDTODEVICE, source addr/port)
//   listenTcp({ host, port, md5Keys?: [{ address, key }], ttl?, minTtl?, device?, backlog? })
//       : Promise<TcpListener>  { server: net.Server, port, setMd5Key(addr, key), deleteMd5Key(addr),
//                                 options(): { ttl, minTtl }, close() }. Accepted sockets inherit keys/TTLs.
//   setSocketTtl(socket, { ttl?, minTtl? }) / getSocketTtl(socket): on a connected socket.
//   TcpTransport { connect, listen } and tcpTransport (the real one) for injection.
//
// BFD (UDP with the received TTL, RFC 5881 §5)
//   openUdp({ family, address?, port, ttl?, onDatagram? }): UdpSocket { port, send(buf, addr, port),
//       close() }; onDatagram({ payload, address, port, ttl }) reports the TTL / hop limit each
//       datagram arrived with (IP_RECVTTL / IPV6_RECVHOPLIMIT through recvmsg).
//
// Interface facts
//   listInterfaces(): Promise<InterfaceInfo[]>  { name, index, mac, mtu, flags{up, running, loopback,
//       noarp, broadcast, multicast, promisc}, master, kind, addresses[{family, address, prefixLength,
//       linkLocal}] }
//   getInterface(name), interfaceHolding(ip): Promise<InterfaceInfo | undefined>
//   routeTo(ip): Promise<{ ifname, gateway, source, type } | undefined>   (`ip -j route get`)
//
// Errors: SysError { kind: 'syscall' | 'invalid' | 'timeout' | 'closed', code, syscall }, and
// AddonMissingError when build/Release/berth_sys.node was never built (`npm ci` builds it).
// Needs CAP_NET_RAW for packet sockets, CAP_NET_ADMIN for SO_BINDTODEVICE; nothing else.

export {
  EtherType,
  PacketType,
  openPacketSocket,
  openSendSocket,
  openFanoutSockets,
  closeFd,
  pinCurrentThread,
  threadAffinity,
  currentCpu,
  interfaceIndex,
  createReceiveArea,
  type ReceiveArea,
  type SendSocket,
  type FanoutOptions,
  type ReceivedFrame,
  type FrameHandler,
  type PacketTransport,
  type PacketSocket,
  type PacketSocketOptions,
  type PacketSocketStats,
  type OpenPacketTransport,
} from './packet.ts';
export {
  connectTcp,
  listenTcp,
  setSocketTtl,
  getSocketTtl,
  tcpTransport,
  type IpFamily,
  type Md5Key,
  type Md5Peer,
  type TcpConnectOptions,
  type TcpListenOptions,
  type TcpListener,
  type TcpTransport,
  type SocketTtlOptions,
} from './tcp.ts';
export { openUdp, type UdpDatagram, type UdpOpenOptions, type UdpSocket } from './udp.ts';
export {
  listInterfaces,
  getInterface,
  interfaceHolding,
  routeTo,
  defaultRouteInterface,
  type InterfaceInfo,
  type InterfaceFlags,
  type InterfaceAddress,
  type InterfaceKind,
  type RouteLookup,
} from './interfaces.ts';
export { PacketFilter, filterProgram, encodeProgram, type BpfInstruction } from './bpf.ts';
export { createFakeLan, createFakePacketTransport, type FakeLan, type FakePacketTransport } from './fake.ts';
export { SysError, SysErrorKind, AddonMissingError } from './errors.ts';
