// The LAN side of "never two answering MACs", per interface this node answers or stands by on:
//   IPv4  an AF_PACKET ARP socket without the responders' request-only filter, so that it also sees ARP
//         replies and announcements (src/sys/bpf.ts arpRequest drops replies in the kernel). A frame
//         whose sender IP is a VIP we answer for or probe for, from a MAC that is not ours, is a claim
//         (RFC 5227 §2.4: an ARP packet "where the 'sender IP address' is the host's own IP address"
//         from another hardware address is a conflict): `foreignClaim` (pure).
//   IPv6  an AF_PACKET IPv6 socket with the neighborAdvertisement filter: a Neighbor Advertisement
//         whose target is such a VIP, from a link-layer address that is not ours (the Target
//         Link-Layer Address option, else the frame's source), is a claim: `foreignNdpClaim` (pure).
// claims.ts decides. The same sockets send our probes: IPv4 an RFC 5227 §2.1.1 probe (sender IP
// 0.0.0.0, broadcast), IPv6 a Duplicate Address Detection solicitation (RFC 4862 §5.4.2: source ::,
// to the VIP's solicited-node group, no source link-layer option, hop limit 255). A node still
// answering for the VIP replies (berth's responders answer both, docs/layer2.md; a DAD NS is answered
// to all-nodes, which every interface receives).
import type { Logger } from '../log.ts';
import { ArpOperation, EtherType, IpProtocol } from '../l2/constants.ts';
import { BROADCAST_MAC, IPV6_UNSPECIFIED, ZERO_MAC, ipFamily, ipv6MulticastMac, solicitedNodeMulticast, type MacAddress } from '../l2/addresses.ts';
import { decodeArp, encodeArp } from '../l2/arp.ts';
import { decodeEthernet, encodeEthernet } from '../l2/ethernet.ts';
import { decodeIpv6, encodeIpv6 } from '../l2/ipv6.ts';
import { decodeNdp, encodeNdp } from '../l2/icmpv6.ts';
import { L2CodecError } from '../l2/errors.ts';
import type { LinkInfo } from '../l2/transport.ts';
import { PacketFilter } from '../sys/bpf.ts';
import { openPacketSocket, type OpenPacketTransport, type PacketTransport } from '../sys/packet.ts';

/** RFC 4861 §7.1.1 / §7.1.2: NDP messages travel with hop limit 255. */
const NDP_HOP_LIMIT = 255;

export const ClaimKind = { reply: 'reply', announcement: 'announcement', request: 'request' } as const;
export type ClaimKind = (typeof ClaimKind)[keyof typeof ClaimKind];

export interface ForeignClaim {
  readonly vip: string;
  readonly mac: MacAddress;
  readonly kind: ClaimKind;
}

/** The claim an ARP frame makes on one of `watched`, if any; undefined for everything else. */
export function foreignClaim(frame: Buffer, ours: ReadonlySet<string>, watched: (vip: string) => boolean): ForeignClaim | undefined {
  let arp;
  try {
    const eth = decodeEthernet(frame);
    if (eth.etherType !== EtherType.arp) return undefined;
    arp = decodeArp(eth.payload);
  } catch (e) {
    if (e instanceof L2CodecError) return undefined;
    throw e;
  }
  // RFC 5227 §2.1.1: a probe's sender IP is 0.0.0.0; it claims nothing.
  if (!watched(arp.senderProtocol) || ours.has(arp.senderHardware)) return undefined;
  // Target IP = sender IP: an announcement (RFC 5227 §2.3, and the gratuitous ARP reply some stacks and
  // announcements.ts also send); otherwise a reply answers one requester, a request asks.
  const kind = arp.targetProtocol === arp.senderProtocol ? ClaimKind.announcement : arp.operation === ArpOperation.reply ? ClaimKind.reply : ClaimKind.request;
  return { vip: arp.senderProtocol, mac: arp.senderHardware, kind };
}

/** The claim a Neighbor Advertisement makes on one of `watched`, if any (RFC 4861 §4.4, §7.2.5). */
export function foreignNdpClaim(frame: Buffer, ours: ReadonlySet<string>, watched: (vip: string) => boolean): ForeignClaim | undefined {
  let eth;
  let message;
  try {
    eth = decodeEthernet(frame);
    if (eth.etherType !== EtherType.ipv6) return undefined;
    const ip = decodeIpv6(eth.payload);
    if (ip.header.nextHeader !== IpProtocol.icmpv6) return undefined;
    // RFC 4861 §7.1.2: a valid advertisement has hop limit 255 (it was not forwarded) and a good checksum.
    if (ip.header.hopLimit !== NDP_HOP_LIMIT) return undefined;
    message = decodeNdp(ip.payload, ip.header).message;
  } catch (e) {
    if (e instanceof L2CodecError) return undefined;
    throw e;
  }
  if (message.kind !== 'neighborAdvertisement' || !watched(message.target)) return undefined;
  const tlla = message.options.find((o) => o.kind === 'targetLinkLayerAddress');
  const mac = tlla?.kind === 'targetLinkLayerAddress' ? tlla.address : eth.source;
  if (ours.has(mac)) return undefined;
  return { vip: message.target, mac, kind: message.solicited ? ClaimKind.reply : ClaimKind.announcement };
}

/** The probe for `vip` from `mac`: an RFC 5227 ARP probe (IPv4) or a DAD solicitation (IPv6). */
export function probeFrame(mac: MacAddress, vip: string): Buffer {
  if (ipFamily(vip) === 6) {
    // RFC 4862 §5.4.2: source the unspecified address, destination the target's solicited-node group,
    // and no Source Link-Layer Address option (RFC 4861 §4.3: MUST NOT with an unspecified source).
    const group = solicitedNodeMulticast(vip);
    const pseudo = { source: IPV6_UNSPECIFIED, destination: group };
    return encodeEthernet({
      destination: ipv6MulticastMac(group),
      source: mac,
      etherType: EtherType.ipv6,
      payload: encodeIpv6({
        header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: NDP_HOP_LIMIT, ...pseudo },
        payload: encodeNdp({ kind: 'neighborSolicitation', target: vip, options: [] }, pseudo),
      }),
    });
  }
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: mac,
    etherType: EtherType.arp,
    payload: encodeArp({ operation: ArpOperation.request, senderHardware: mac, senderProtocol: '0.0.0.0', targetHardware: ZERO_MAC, targetProtocol: vip }),
  });
}

export interface ObserverOptions {
  readonly logger: Logger;
  readonly link: (iface: string) => LinkInfo | undefined;
  readonly watched: (vip: string) => boolean;
  readonly onClaim: (claim: ForeignClaim, iface: string) => void;
  readonly open?: OpenPacketTransport;
}

export interface Observer {
  /** The interfaces to watch (sockets opened and closed to match). */
  setInterfaces(ifaces: Iterable<string>): void;
  /** Sends a probe for `vip` on `ifaces`; returns how many were sent. */
  probe(vip: string, ifaces: readonly string[]): number;
  close(): void;
}

export function createObserver(opts: ObserverOptions): Observer {
  const open = opts.open ?? openPacketSocket;
  // Per interface: the ARP socket and the NA socket.
  const sockets = new Map<string, { arp: PacketTransport; ndp: PacketTransport | undefined; mac: MacAddress }>();
  const ours = new Set<string>();
  const refreshOurs = (): void => {
    ours.clear();
    for (const s of sockets.values()) ours.add(s.mac);
  };
  return {
    setInterfaces(ifaces) {
      const wanted = new Set(ifaces);
      for (const [name, s] of sockets) {
        if (wanted.has(name)) continue;
        s.arp.close();
        s.ndp?.close();
        sockets.delete(name);
      }
      for (const name of wanted) {
        if (sockets.has(name)) continue;
        const link = opts.link(name);
        if (link === undefined) continue;
        let arp: PacketTransport | undefined;
        try {
          arp = open({
            ifname: name,
            etherType: EtherType.arp,
            keepAlive: false,
            onFrame: (f) => {
              const c = foreignClaim(f.frame, ours, opts.watched);
              if (c !== undefined) opts.onClaim(c, name);
            },
          });
          const ndp = open({
            ifname: name,
            etherType: EtherType.ipv6,
            keepAlive: false,
            filter: PacketFilter.neighborAdvertisement,
            onFrame: (f) => {
              const c = foreignNdpClaim(f.frame, ours, opts.watched);
              if (c !== undefined) opts.onClaim(c, name);
            },
          });
          sockets.set(name, { arp, ndp, mac: link.mac });
        } catch (e) {
          arp?.close();
          opts.logger.warn({ iface: name, reason: e instanceof Error ? e.message : String(e) }, 'liveness: cannot watch ARP on this interface (no duplicate-owner detection there)');
        }
      }
      refreshOurs();
    },
    probe(vip, ifaces) {
      let sent = 0;
      for (const name of ifaces) {
        const s = sockets.get(name);
        if (s === undefined) continue;
        try {
          const socket = ipFamily(vip) === 6 ? s.ndp : s.arp;
          if (socket === undefined) continue;
          socket.send(probeFrame(s.mac, vip));
          sent++;
        } catch (e) {
          opts.logger.warn({ vip, iface: name, reason: e instanceof Error ? e.message : String(e) }, 'liveness: sending an ARP probe failed');
        }
      }
      return sent;
    },
    close() {
      for (const s of sockets.values()) {
        s.arp.close();
        s.ndp?.close();
      }
      sockets.clear();
    },
  };
}
