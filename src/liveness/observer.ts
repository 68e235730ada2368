// The LAN side of "never two answering MACs": an AF_PACKET ARP socket per interface this node answers
// or stands by on, without the responders' request-only filter, so that it also sees ARP replies and
// announcements (src/sys/bpf.ts arpRequest drops replies in the kernel). A frame whose sender IP is a
// VIP we answer for or probe for, from a MAC that is not ours, is a claim (RFC 5227 §2.4: "an ARP
// packet (request or reply) ... where the 'sender IP address' is the host's own IP address" from
// another hardware address is a conflict); `foreignClaim` (pure) finds it, claims.ts decides.
// The same socket sends our probes (RFC 5227 §2.1.1: sender IP 0.0.0.0, target IP the VIP,
// broadcast): a node still answering for the VIP replies to us (our own responder answers probes too,
// docs/layer2.md). IPv6 (NA observation, RFC 4861 §7.2.5 / DAD) is not covered yet: docs/liveness.md.
import type { Logger } from '../log.ts';
import { ArpOperation, EtherType } from '../l2/constants.ts';
import { BROADCAST_MAC, ZERO_MAC, type MacAddress } from '../l2/addresses.ts';
import { decodeArp, encodeArp } from '../l2/arp.ts';
import { decodeEthernet, encodeEthernet } from '../l2/ethernet.ts';
import { L2CodecError } from '../l2/errors.ts';
import type { LinkInfo } from '../l2/transport.ts';
import { openPacketSocket, type OpenPacketTransport, type PacketTransport } from '../sys/packet.ts';

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
  const kind = arp.operation === ArpOperation.reply ? ClaimKind.reply : arp.targetProtocol === arp.senderProtocol ? ClaimKind.announcement : ClaimKind.request;
  return { vip: arp.senderProtocol, mac: arp.senderHardware, kind };
}

/** RFC 5227 §2.1.1 ARP probe for `vip` from `mac`. */
export function probeFrame(mac: MacAddress, vip: string): Buffer {
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
  const sockets = new Map<string, { socket: PacketTransport; mac: MacAddress }>();
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
        s.socket.close();
        sockets.delete(name);
      }
      for (const name of wanted) {
        if (sockets.has(name)) continue;
        const link = opts.link(name);
        if (link === undefined) continue;
        try {
          const socket = open({
            ifname: name,
            etherType: EtherType.arp,
            keepAlive: false,
            onFrame: (f) => {
              const c = foreignClaim(f.frame, ours, opts.watched);
              if (c !== undefined) opts.onClaim(c, name);
            },
          });
          sockets.set(name, { socket, mac: link.mac });
        } catch (e) {
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
          s.socket.send(probeFrame(s.mac, vip));
          sent++;
        } catch (e) {
          opts.logger.warn({ vip, iface: name, reason: e instanceof Error ? e.message : String(e) }, 'liveness: sending an ARP probe failed');
        }
      }
      return sent;
    },
    close() {
      for (const s of sockets.values()) s.socket.close();
      sockets.clear();
    },
  };
}
