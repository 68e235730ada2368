// Numbers from the IANA registries that the layer 2 codecs use. One place, named after the registry,
// so no magic number appears in a codec.

/** IEEE 802 EtherTypes (IANA "ieee-802-numbers"). */
export const EtherType = {
  ipv4: 0x0800,
  arp: 0x0806,
  vlan: 0x8100, // IEEE 802.1Q customer tag
  ipv6: 0x86dd,
} as const;
export type EtherType = (typeof EtherType)[keyof typeof EtherType];

/** ARP hardware types (IANA "arp-parameters", Hardware Types). */
export const ArpHardwareType = { ethernet: 1 } as const;

/** ARP operation codes (IANA "arp-parameters", Operation Codes; RFC 826). The closed set we speak. */
export const ArpOperation = { request: 1, reply: 2 } as const;
export type ArpOperation = (typeof ArpOperation)[keyof typeof ArpOperation];

/** IP protocol numbers used as IPv6 Next Header (IANA "protocol-numbers"). */
export const IpProtocol = { icmpv6: 58 } as const;

/** ICMPv6 types (IANA "icmpv6-parameters"; RFC 4861 §4.3, §4.4). */
export const Icmpv6Type = {
  routerSolicitation: 133, // RFC 4861 §4.1
  routerAdvertisement: 134, // RFC 4861 §4.2
  neighborSolicitation: 135,
  neighborAdvertisement: 136,
} as const;

/** NDP option types (IANA "icmpv6-parameters", IPv6 Neighbor Discovery Option Formats). */
export const NdpOptionType = {
  sourceLinkLayerAddress: 1, // RFC 4861 §4.6.1
  targetLinkLayerAddress: 2, // RFC 4861 §4.6.1
  nonce: 14, // RFC 3971 §5.3.2
} as const;

/** Sizes fixed by the standards. */
export const Size = {
  mac: 6,
  ipv4: 4,
  ipv6: 16,
  ethernetHeader: 14, // RFC 894: destination, source, type
  vlanTag: 4, // IEEE 802.1Q: TPID already counted as the type field, plus TCI and the inner type
  ethernetMinFrame: 60, // IEEE 802.3 minimum frame (64) without the 4-octet FCS
  arpEthernetIpv4: 28, // RFC 826 with hlen 6 and plen 4
  ipv6Header: 40, // RFC 8200 §3
  icmpv6Header: 4, // RFC 4443 §2.1: type, code, checksum
  ndpNeighborBody: 20, // RFC 4861 §4.3/§4.4: 4 octets (reserved / flags) + 16-octet target
  ndpOptionUnit: 8, // RFC 4861 §4.6: option length is in units of 8 octets
} as const;

/** RFC 4861 §6.1.1, §7.1.1: Neighbor Discovery packets must arrive with hop limit 255 (not forwarded). */
export const NDP_HOP_LIMIT = 255;
