// What the layer 2 engine needs from the link: a frame socket bound to one interface and one EtherType.
// The real one is an AF_PACKET socket from src/sys (af-packet-transport.ts); unit tests use a fake.
import type { MacAddress } from './addresses.ts';

/** Facts about the interface a transport is bound to. */
export interface LinkInfo {
  readonly name: string;
  readonly index: number;
  readonly mac: MacAddress;
}

export interface FrameTransport {
  readonly link: LinkInfo;
  /** Sends one complete Ethernet frame (no FCS). Throws if the kernel refuses it. */
  send(frame: Buffer): void;
  /** Registers the receiver of every frame of the bound EtherType that arrives on the interface. */
  onFrame(cb: (frame: Buffer) => void): void;
  /** Adds / removes a link-layer multicast address to the interface filter (PACKET_MR_MULTICAST). */
  joinMulticast(mac: MacAddress): void;
  leaveMulticast(mac: MacAddress): void;
  close(): void;
}

export interface TransportRequest {
  readonly iface: string;
  readonly etherType: number;
  /** false: send only (frames are received elsewhere, e.g. on per-CPU sockets); onFrame never fires. Default true. */
  readonly receive?: boolean;
}

/** Opens a transport; throws when the interface does not exist or the socket cannot be opened. */
export type TransportFactory = (req: TransportRequest) => FrameTransport;
