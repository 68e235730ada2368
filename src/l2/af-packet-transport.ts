// The real FrameTransport: an AF_PACKET socket from src/sys bound to one interface and one EtherType,
// plus the conversions from src/sys interface facts to the plain data interfaces.ts and the engine use.
// This is the only file of src/l2 that touches src/sys.
import { EtherType as SysEtherType, PacketFilter, listInterfaces, openPacketSocket, openSendSocket, type InterfaceInfo, type OpenPacketTransport } from '../sys/index.ts';
import { macToBytes } from './addresses.ts';
import type { InterfaceFacts } from './interfaces.ts';
import type { LinkInfo, TransportFactory } from './transport.ts';

/** LinkInfo of an interface; undefined when it has no Ethernet address. */
export function linkInfoFromSys(info: InterfaceInfo): LinkInfo | undefined {
  if (info.mac === '') return undefined;
  return { name: info.name, index: info.index, mac: info.mac };
}

export function interfaceFactsFromSys(info: InterfaceInfo): InterfaceFacts {
  const base = {
    name: info.name,
    index: info.index,
    up: info.flags.up,
    loopback: info.flags.loopback,
    noarp: info.flags.noarp,
    addresses: info.addresses.map((a) => ({ ip: a.address.split('%')[0] ?? a.address, prefixLength: a.prefixLength })),
  };
  return {
    ...base,
    ...(info.mac === '' ? {} : { mac: info.mac }),
    ...(info.master === undefined ? {} : { master: info.master }),
  };
}

export interface AfPacketFactoryOptions {
  /** Current facts of an interface by name (the caller refreshes them, e.g. on its interface scan). */
  readonly link: (iface: string) => LinkInfo | undefined;
  /** Injected for tests; default the real openPacketSocket. */
  readonly open?: OpenPacketTransport;
}

/** A TransportFactory over AF_PACKET sockets. Throws when the interface is unknown or the socket fails. */
export function afPacketTransportFactory(opts: AfPacketFactoryOptions): TransportFactory {
  const open = opts.open ?? openPacketSocket;
  return ({ iface, etherType, receive }) => {
    const link = opts.link(iface);
    if (link === undefined) throw new Error(`interface ${iface} does not exist or has no MAC address`);
    let receiver: ((frame: Buffer) => void) | undefined;
    const filter = responderFilter(etherType);
    // Send-only (the frames are received on per-CPU sockets): bound with protocol 0, nothing is queued.
    const socket =
      receive === false
        ? openSendSocket(iface)
        : open({ ifname: iface, etherType, keepAlive: true, ...(filter === undefined ? {} : { filter }), onFrame: (f) => receiver?.(f.frame) });
    return {
      link,
      send: (frame) => socket.send(frame),
      onFrame: (cb) => {
        receiver = cb;
      },
      joinMulticast: (mac) => socket.addMembership(macToBytes(mac)),
      leaveMulticast: (mac) => socket.dropMembership(macToBytes(mac)),
      close: () => socket.close(),
    };
  };
}

/**
 * The in-kernel filter of a responder socket: only ARP requests, only Neighbor Solicitations (the IPv6
 * socket would otherwise wake us for every IPv6 frame the node gets).
 */
export function responderFilter(etherType: number): PacketFilter | undefined {
  return etherType === SysEtherType.ARP ? PacketFilter.arpRequest : etherType === SysEtherType.IPv6 ? PacketFilter.neighborSolicitation : undefined;
}

/** Reads this namespace's interfaces once: facts for interfaces.ts and LinkInfo for the factory. */
export async function scanInterfaces(): Promise<{ readonly facts: readonly InterfaceFacts[]; readonly links: ReadonlyMap<string, LinkInfo> }> {
  const all = await listInterfaces();
  const links = new Map<string, LinkInfo>();
  for (const i of all) {
    const l = linkInfoFromSys(i);
    if (l !== undefined) links.set(i.name, l);
  }
  return { facts: all.map(interfaceFactsFromSys), links };
}
