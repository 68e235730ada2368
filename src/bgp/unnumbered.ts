// Unnumbered (interface) BGP peers, MetalLB v0.15 `BGPPeer.spec.interface`: the session runs between
// the two IPv6 link-local addresses of one interface. Neither side is configured with the other's
// address; each learns it from the Router Advertisements the other sends (RFC 4861 §4.2), as FRR's
// `neighbor IFACE interface` does (zebra sends RAs on the interface and hands the source of the RAs it
// receives to bgpd; without RAs from us, FRR refuses our connection as from an unknown peer).
//
// Per interface in use: one AF_PACKET socket (IPv6 EtherType) that
//   - sends our RA to all-nodes every RA_INTERVAL_MS, and at once when a Router Solicitation arrives,
//     with Router Lifetime 0 ("not a default router", §4.2) and our MAC as Source Link-Layer Address;
//   - takes the source of every valid RA (hop limit 255, §6.1.2; link-local source, §6.1.2) as the
//     peer's address, `fe80::...%IFACE` (the zone is the scope id the transport connects with).
// `resolve()` maps PeerSpecs with `interface` onto ones whose peerAddress is that neighbour, leaving
// out a peer whose neighbour is not known yet; `onChange` fires when a neighbour appears or changes,
// and the caller resolves again. The socket comes from an injected opener (src/sys in the speaker,
// a fake in unit tests).
import type { Logger } from '../log.ts';
import { canonicalIp, ipv6MulticastMac } from '../l2/addresses.ts';
import { EtherType, IpProtocol } from '../l2/constants.ts';
import { decodeEthernet, encodeEthernet } from '../l2/ethernet.ts';
import { decodeIpv6, encodeIpv6 } from '../l2/ipv6.ts';
import { decodeRouterDiscovery, encodeRouterDiscovery } from '../l2/router-advertisement.ts';
import type { PeerSpec } from './peer.ts';

/** How often we advertise ourselves (FRR's interface peers send theirs every 10 s, after a fast start). */
export const RA_INTERVAL_MS = 3000;
const ALL_NODES = 'ff02::1';
const ALL_ROUTERS = 'ff02::2';
/** RFC 4861 §6.1.2 / §7.1: Neighbor Discovery messages travel with hop limit 255 only. */
const ND_HOP_LIMIT = 255;

/** One interface's link-layer access. */
export interface RaPort {
  readonly mac: string;
  /** The interface's own IPv6 link-local address (no zone). */
  readonly linkLocal: string;
  send(frame: Buffer): void;
  close(): void;
}

/** Opens the port of an interface; `onFrame` gets every IPv6 frame received there (a copy it may keep). */
export type OpenRaPort = (ifname: string, onFrame: (frame: Buffer) => void) => Promise<RaPort>;

export interface UnnumberedOptions {
  readonly open: OpenRaPort;
  /** A neighbour appeared or changed: resolve the peers again. */
  readonly onChange: () => void;
  readonly logger: Logger;
  readonly intervalMs?: number;
  /** After an interface fails to open, how long until onChange asks for another try. Default intervalMs. */
  readonly retryMs?: number;
}

interface Watch {
  port?: RaPort;
  neighbor?: string;
  timer?: NodeJS.Timeout;
  closed: boolean;
}

export class UnnumberedPeers {
  readonly #opts: UnnumberedOptions;
  readonly #watches = new Map<string, Watch>();
  #closed = false;

  constructor(opts: UnnumberedOptions) {
    this.#opts = opts;
  }

  /** The link-local neighbour learned on an interface, with its zone (`fe80::1%eth0`). */
  neighbor(ifname: string): string | undefined {
    const n = this.#watches.get(ifname)?.neighbor;
    return n === undefined ? undefined : `${n}%${ifname}`;
  }

  /** The specs the BGP speaker can run now: interface peers get their neighbour as peerAddress (and are
   * left out until there is one); interfaces no longer used stop advertising. */
  resolve(specs: readonly PeerSpec[]): PeerSpec[] {
    const used = new Set(specs.flatMap((s) => (s.interface === undefined ? [] : [s.interface])));
    for (const [ifname, w] of this.#watches) if (!used.has(ifname)) this.#stop(ifname, w);
    for (const ifname of used) if (!this.#watches.has(ifname)) this.#start(ifname);
    return specs.flatMap((s) => {
      if (s.interface === undefined) return [s];
      const peerAddress = this.neighbor(s.interface);
      return peerAddress === undefined ? [] : [{ ...s, peerAddress }];
    });
  }

  close(): void {
    this.#closed = true;
    for (const [ifname, w] of this.#watches) this.#stop(ifname, w);
  }

  #start(ifname: string): void {
    const w: Watch = { closed: false };
    this.#watches.set(ifname, w);
    this.#opts.open(ifname, (frame) => this.#onFrame(ifname, w, frame)).then(
      (port) => {
        if (w.closed) {
          port.close();
          return;
        }
        w.port = port;
        this.#advertise(ifname, w);
        w.timer = setInterval(() => this.#advertise(ifname, w), this.#opts.intervalMs ?? RA_INTERVAL_MS);
        w.timer.unref();
        this.#opts.logger.info({ interface: ifname, linkLocal: port.linkLocal }, 'unnumbered BGP: sending Router Advertisements, waiting for the peer');
      },
      (err: unknown) => {
        // The interface may appear later: forget it and have the caller resolve again after an interval
        // (resolve() then opens it anew).
        if (this.#watches.get(ifname) === w) this.#watches.delete(ifname);
        this.#opts.logger.warn({ interface: ifname, reason: err instanceof Error ? err.message : String(err) }, 'unnumbered BGP: cannot open the interface, retrying');
        if (w.closed) return;
        w.timer = setTimeout(() => {
          if (!this.#closed) this.#opts.onChange();
        }, this.#opts.retryMs ?? this.#opts.intervalMs ?? RA_INTERVAL_MS);
        w.timer.unref();
      },
    );
  }

  #stop(ifname: string, w: Watch): void {
    w.closed = true;
    if (w.timer !== undefined) clearTimeout(w.timer); // clears an interval as well
    w.port?.close();
    this.#watches.delete(ifname);
  }

  #advertise(ifname: string, w: Watch): void {
    const port = w.port;
    if (port === undefined || w.closed) return;
    try {
      port.send(routerAdvertisementFrame(port.mac, port.linkLocal));
    } catch (err) {
      this.#opts.logger.warn({ interface: ifname, reason: err instanceof Error ? err.message : String(err) }, 'unnumbered BGP: sending a Router Advertisement failed');
    }
  }

  #onFrame(ifname: string, w: Watch, frame: Buffer): void {
    const seen = routerDiscoveryOf(frame);
    if (seen === undefined || w.closed) return;
    if (seen.kind === 'routerSolicitation') {
      this.#advertise(ifname, w); // RFC 4861 §6.2.6: answer a solicitation
      return;
    }
    if (seen.source === w.neighbor || seen.source === w.port?.linkLocal) return;
    this.#opts.logger.info({ interface: ifname, peer: seen.source, previous: w.neighbor }, 'unnumbered BGP: peer found by its Router Advertisement');
    w.neighbor = seen.source;
    this.#opts.onChange();
  }
}

/** Our Router Advertisement to all-nodes: Router Lifetime 0, our MAC as Source Link-Layer Address. */
export function routerAdvertisementFrame(mac: string, linkLocal: string): Buffer {
  const pseudo = { source: linkLocal, destination: ALL_NODES };
  const ra = encodeRouterDiscovery(
    {
      kind: 'routerAdvertisement',
      curHopLimit: 0, // unspecified (RFC 4861 §4.2)
      managed: false,
      other: false,
      routerLifetime: 0, // not a default router
      reachableTimeMs: 0,
      retransTimerMs: 0,
      options: [{ kind: 'sourceLinkLayerAddress', address: mac }],
    },
    pseudo,
  );
  const ip = encodeIpv6({ header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: ND_HOP_LIMIT, ...pseudo }, payload: ra });
  return encodeEthernet({ destination: ipv6MulticastMac(ALL_NODES), source: mac, etherType: EtherType.ipv6, payload: ip });
}

/** The all-routers group a port joins to hear Router Solicitations. */
export const ALL_ROUTERS_MAC = ipv6MulticastMac(ALL_ROUTERS);

/** A valid RS or RA in a frame, with its IPv6 source; undefined for anything else (never throws). */
export function routerDiscoveryOf(frame: Buffer): { readonly kind: 'routerAdvertisement' | 'routerSolicitation'; readonly source: string } | undefined {
  try {
    const eth = decodeEthernet(frame);
    if (eth.etherType !== EtherType.ipv6) return undefined;
    const ip = decodeIpv6(eth.payload);
    const h = ip.header;
    // RFC 4861 §6.1.1 / §6.1.2: hop limit 255; an RA's source is link-local.
    if (h.nextHeader !== IpProtocol.icmpv6 || h.hopLimit !== ND_HOP_LIMIT) return undefined;
    const m = decodeRouterDiscovery(ip.payload, { source: h.source, destination: h.destination });
    const source = canonicalIp(h.source);
    if (m.kind === 'routerAdvertisement' && !source.startsWith('fe80:')) return undefined;
    return { kind: m.kind, source };
  } catch {
    return undefined;
  }
}

/** The parts of src/sys an RaPort is built from (passed in, so that src/bgp does not load the addon). */
export interface RaPortSys {
  getInterface(name: string): Promise<{ readonly mac: string; readonly addresses: readonly { readonly family: 4 | 6; readonly address: string; readonly linkLocal: boolean }[] } | undefined>;
  openPacketSocket(opts: {
    readonly ifname: string;
    readonly etherType: number;
    readonly filter: 'routerSolicitation' | 'routerAdvertisement';
    readonly onFrame: (f: { readonly frame: Buffer }) => void;
    readonly keepAlive?: boolean;
  }): {
    send(frame: Buffer): void;
    addMembership(mac: Buffer): void;
    close(): void;
  };
}

/** RaPorts over src/sys: the interface's MAC and link-local address, and two AF_PACKET sockets whose
 * kernel filters (src/sys/bpf.ts) pass only Router Advertisements and Router Solicitations, so the rest
 * of the interface's IPv6 traffic never reaches JavaScript. */
export function sysRaPortOpener(sys: RaPortSys): OpenRaPort {
  return async (ifname, onFrame) => {
    const info = await sys.getInterface(ifname);
    if (info === undefined) throw new Error(`interface ${ifname} does not exist`);
    const ll = info.addresses.find((a) => a.family === 6 && a.linkLocal);
    if (ll === undefined || info.mac === '') throw new Error(`interface ${ifname} has no IPv6 link-local address or MAC`);
    const open = (filter: 'routerSolicitation' | 'routerAdvertisement') =>
      sys.openPacketSocket({ ifname, etherType: EtherType.ipv6, filter, keepAlive: false, onFrame: (f) => onFrame(Buffer.from(f.frame)) });
    const ras = open('routerAdvertisement');
    let rss: ReturnType<typeof open>;
    try {
      rss = open('routerSolicitation');
      rss.addMembership(Buffer.from(ALL_ROUTERS_MAC.split(':').map((x) => Number.parseInt(x, 16))));
    } catch (err) {
      ras.close();
      throw err;
    }
    return {
      mac: info.mac,
      linkLocal: canonicalIp(ll.address.split('%')[0] ?? ll.address),
      send: (f) => ras.send(f),
      close: () => {
        ras.close();
        rss.close();
      },
    };
  };
}
