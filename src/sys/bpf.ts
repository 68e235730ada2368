// Classic BPF socket filters (SO_ATTACH_FILTER) for the AF_PACKET responder sockets: the kernel runs
// them on every frame before it is queued, so frames the responders would only drop never wake
// JavaScript up. Pure: this file only builds programs (struct sock_filter, linux/filter.h) as bytes.
//
// A program sees the frame from the Ethernet header on (SOCK_RAW). A VLAN tag the NIC stripped is
// not in the data (the frame then reads as untagged); a tag still in the frame is handled by the
// second branch of each program. An accepting program returns the whole frame (0x40000 bytes max).

/** Opcodes used here (linux/bpf_common.h). */
const Op = {
  ldhAbs: 0x28, // BPF_LD | BPF_H | BPF_ABS: A = 16-bit big-endian word at k
  ldbAbs: 0x30, // BPF_LD | BPF_B | BPF_ABS: A = byte at k
  jeqK: 0x15, // BPF_JMP | BPF_JEQ | BPF_K: pc += (A == k) ? jt : jf
  retK: 0x06, // BPF_RET | BPF_K: accept k bytes (0 = drop)
} as const;

export interface BpfInstruction {
  readonly code: number;
  readonly jt: number;
  readonly jf: number;
  readonly k: number;
}

/** The socket filters src/sys can attach. */
export const PacketFilter = {
  /** ARP (EtherType 0x0806) with operation 1, request (RFC 826). Replies never reach JavaScript. */
  arpRequest: 'arpRequest',
  /**
   * IPv6 whose Next Header is ICMPv6 (58) directly after the fixed header, and whose ICMPv6 type is
   * 135, Neighbor Solicitation (RFC 4861 §4.3). NS behind extension headers is not passed (the NDP
   * responder does not follow them either).
   */
  neighborSolicitation: 'neighborSolicitation',
  /**
   * The same shape with ICMPv6 type 136, Neighbor Advertisement (RFC 4861 §4.4): what the liveness
   * observer needs to see another node answer or announce one of our IPv6 VIPs (src/liveness/observer.ts).
   */
  neighborAdvertisement: 'neighborAdvertisement',
  /** ICMPv6 type 133, Router Solicitation (RFC 4861 §4.1): answered by unnumbered BGP (src/bgp/unnumbered.ts). */
  routerSolicitation: 'routerSolicitation',
  /** ICMPv6 type 134, Router Advertisement (RFC 4861 §4.2): how unnumbered BGP finds its peer. */
  routerAdvertisement: 'routerAdvertisement',
} as const;
export type PacketFilter = (typeof PacketFilter)[keyof typeof PacketFilter];

/** The ICMPv6 type each IPv6 filter passes. */
const ICMPV6_TYPE: Readonly<Record<Exclude<PacketFilter, 'arpRequest'>, number>> = {
  routerSolicitation: 133,
  routerAdvertisement: 134,
  neighborSolicitation: 135,
  neighborAdvertisement: 136,
};

const ACCEPT = 0x40000;
const ETH_HEADER = 14;
const VLAN_TAG = 4;
const TPID_8021Q = 0x8100;

const ld = (bytes: 1 | 2, k: number): BpfInstruction => ({ code: bytes === 1 ? Op.ldbAbs : Op.ldhAbs, jt: 0, jf: 0, k });
const jeq = (k: number, jt: number, jf: number): BpfInstruction => ({ code: Op.jeqK, jt, jf, k });
const ret = (k: number): BpfInstruction => ({ code: Op.retK, jt: 0, jf: 0, k });

/**
 * Checks on (offset, size, value) followed by the caller's accept: a failed check jumps to the
 * instruction right after that accept.
 */
function checks(fields: readonly (readonly [offset: number, bytes: 1 | 2, value: number])[]): BpfInstruction[] {
  const out: BpfInstruction[] = [];
  fields.forEach(([offset, bytes, value], i) => {
    const remaining = (fields.length - 1 - i) * 2; // instructions after this jeq before the accept
    out.push(ld(bytes, offset), jeq(value, 0, remaining + 1));
  });
  return out;
}

/**
 * The program for one filter. Layout: untagged checks -> accept; tagged checks -> accept; drop.
 * (Offsets: EtherType at 12; ARP operation at 14+6; IPv6 Next Header at 14+6, ICMPv6 type at 14+40:
 * ICMPV6_TYPE.)
 */
export function filterProgram(filter: PacketFilter): readonly BpfInstruction[] {
  const fields = (tag: number): readonly (readonly [number, 1 | 2, number])[] =>
    filter === PacketFilter.arpRequest
      ? [
          [12 + tag, 2, 0x0806],
          [ETH_HEADER + tag + 6, 2, 1],
        ]
      : [
          [12 + tag, 2, 0x86dd],
          [ETH_HEADER + tag + 6, 1, 58],
          [ETH_HEADER + tag + 40, 1, ICMPV6_TYPE[filter]],
        ];
  const tagged = [[12, 2, TPID_8021Q] as const, ...fields(VLAN_TAG)];
  // A failed untagged check lands on the tagged block, a failed tagged check on the drop.
  return [...checks(fields(0)), ret(ACCEPT), ...checks(tagged), ret(ACCEPT), ret(0)];
}

/** struct sock_filter[] in host byte order (little-endian on every platform berth targets). */
export function encodeProgram(program: readonly BpfInstruction[]): Buffer {
  const out = Buffer.alloc(program.length * 8);
  program.forEach((ins, i) => {
    out.writeUInt16LE(ins.code, i * 8);
    out.writeUInt8(ins.jt, i * 8 + 2);
    out.writeUInt8(ins.jf, i * 8 + 3);
    out.writeUInt32LE(ins.k >>> 0, i * 8 + 4);
  });
  return out;
}
