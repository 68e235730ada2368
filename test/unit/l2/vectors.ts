// Byte vectors for the layer 2 codec tests, built from commented chunks. The "kernel" vectors were
// captured with tcpdump between two Linux network namespaces (arping / ndisc6 against the kernel's own
// addresses), so they are what a real Linux client sends and accepts.

/** Joins hex chunks; spaces inside a chunk are ignored. */
export function hex(...chunks: string[]): Buffer {
  return Buffer.from(chunks.join('').replaceAll(' ', ''), 'hex');
}

export const MAC_A = '02:00:00:00:00:0a'; // client
export const MAC_B = '02:00:00:00:00:0b'; // node

/** Linux arping: who-has 192.0.2.11 tell 192.0.2.10, padded to 60 octets by the sender. */
export const KERNEL_ARP_REQUEST = hex(
  'ffffffffffff', // Ethernet destination: broadcast
  '02000000000a', // Ethernet source
  '0806', // EtherType ARP
  '0001 0800 06 04', // htype Ethernet, ptype IPv4, hlen 6, plen 4
  '0001', // op request
  '02000000000a c000020a', // sender 02:..:0a 192.0.2.10
  '000000000000 c000020b', // target 00:..:00 192.0.2.11
  '000000000000000000000000000000000000', // 18 octets of padding
);

/** Linux kernel reply: 192.0.2.11 is-at 02:..:0b (42 octets, veth does not pad). */
export const KERNEL_ARP_REPLY = hex(
  '02000000000a', // to the requester
  '02000000000b',
  '0806',
  '0001 0800 06 04',
  '0002', // op reply
  '02000000000b c000020b', // sender: the answering host
  '02000000000a c000020a', // target: the requester
);

/** ndisc6 (through the kernel) asking for 2001:db8::b from fe80::ff:fe00:a. */
export const KERNEL_NS = hex(
  '3333ff00000b', // solicited-node multicast MAC of 2001:db8::b
  '02000000000a',
  '86dd',
  '6008 0a25', // version 6, traffic class 0, flow label 0x80a25
  '0020 3a ff', // payload length 32, next header 58 (ICMPv6), hop limit 255
  'fe80 0000 0000 0000 0000 00ff fe00 000a', // source fe80::ff:fe00:a
  'ff02 0000 0000 0000 0000 0001 ff00 000b', // destination ff02::1:ff00:b
  '87 00 4c3b', // type 135 NS, code 0, checksum 0x4c3b
  '00000000', // reserved
  '2001 0db8 0000 0000 0000 0000 0000 000b', // target 2001:db8::b
  '01 01 02000000000a', // option SLLA, length 1, 02:..:0a
);

/** The kernel's answer: NA S=1 O=1 from 2001:db8::b to fe80::ff:fe00:a with the TLLA. */
export const KERNEL_NA = hex(
  '02000000000a',
  '02000000000b',
  '86dd',
  '6000 0000',
  '0020 3a ff',
  '2001 0db8 0000 0000 0000 0000 0000 000b', // source 2001:db8::b
  'fe80 0000 0000 0000 0000 00ff fe00 000a', // destination fe80::ff:fe00:a
  '88 00 ba85', // type 136 NA, code 0, checksum 0xba85
  '60 000000', // flags: S (0x40) | O (0x20), reserved
  '2001 0db8 0000 0000 0000 0000 0000 000b', // target
  '02 01 02000000000b', // option TLLA, length 1
);
