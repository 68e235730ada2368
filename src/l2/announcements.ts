// Takeover announcements: the frames that tell a LAN that a VIP now lives at this interface's MAC.
//   IPv4: an ARP Announcement (RFC 5227 §2.3: sender IP = target IP = VIP) sent both as a request and
//         as a reply, to broadcast, because some stacks only learn from one of the two.
//   IPv6: an unsolicited Neighbor Advertisement to all-nodes with Solicited clear and Override set
//         (RFC 4861 §7.2.6), carrying the Target Link-Layer Address.
import { ArpOperation, EtherType } from './constants.ts';
import { BROADCAST_MAC, IPV6_ALL_NODES, ipFamily, ipv6MulticastMac, type MacAddress } from './addresses.ts';
import { encodeArp } from './arp.ts';
import { encodeEthernet } from './ethernet.ts';
import { buildAdvertisement } from './ndp-responder.ts';

export interface AnnounceLink {
  readonly mac: MacAddress;
}

export function gratuitousArp(link: AnnounceLink, vip: string): readonly Buffer[] {
  return [ArpOperation.request, ArpOperation.reply].map((operation) =>
    encodeEthernet({
      destination: BROADCAST_MAC,
      source: link.mac,
      etherType: EtherType.arp,
      payload: encodeArp({
        operation,
        senderHardware: link.mac,
        senderProtocol: vip,
        targetHardware: BROADCAST_MAC,
        targetProtocol: vip,
      }),
    }),
  );
}

export function unsolicitedAdvertisement(link: AnnounceLink, vip: string): Buffer {
  return buildAdvertisement({
    mac: link.mac,
    source: vip, // as Linux does for its own addresses (ndisc_send_unsol_na); see ndp-responder.ts
    destination: IPV6_ALL_NODES,
    linkDestination: ipv6MulticastMac(IPV6_ALL_NODES),
    target: vip,
    solicited: false, // RFC 4861 §7.2.6: unsolicited -> Solicited flag zero
    vlan: undefined,
  });
}

/** The frames of one announcement burst for `vip` on one link. */
export function announcementFrames(link: AnnounceLink, vip: string): readonly Buffer[] {
  return ipFamily(vip) === 4 ? gratuitousArp(link, vip) : [unsolicitedAdvertisement(link, vip)];
}
