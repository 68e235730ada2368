// A configured BGP peer (berth's own plain data; src/config maps MetalLB BGPPeer / OpenELB BgpPeer to
// it) and what follows from it: the FSM configuration, our capabilities and our OPEN.
import { ipFamilyOf, IPV4_BYTES, parseIpv4Into } from '../net/ip.ts';
import type { Capability, Family, Open } from './messages/types.ts';
import type { AfiSafi, CapabilitiesView, FsmConfig } from './fsm.ts';
import { AFI, AS_TRANS, BGP_VERSION, SAFI } from './constants.ts';

export interface PeerSpec {
  /** Stable key (e.g. the BGPPeer name); advertisements select peers by it. */
  readonly name: string;
  readonly myAsn: number;
  /** Expected peer AS; omit with `dynamicAsn`. */
  readonly peerAsn?: number;
  readonly dynamicAsn?: 'internal' | 'external';
  /** For an interface peer: its link-local address with the zone (`fe80::1%eth0`), learned by
   * unnumbered.ts before the spec reaches the speaker. */
  readonly peerAddress: string;
  /** Unnumbered BGP (MetalLB `interface`): the session runs over this interface's IPv6 link-local
   * addresses, carries IPv4 and IPv6, and IPv4 prefixes get an IPv6 next hop (RFC 8950). */
  readonly interface?: string;
  /** Default 179. */
  readonly peerPort?: number;
  readonly sourceAddress?: string;
  /** Proposed hold time in seconds, 0 or >= 3. Default 90 (RFC 4271 §10). */
  readonly holdTimeSec?: number;
  /** Default: a third of the negotiated hold time. */
  readonly keepaliveTimeSec?: number;
  /** ConnectRetryTime in seconds, also the cap of the reconnect backoff. Default 120 (RFC 4271 §10). */
  readonly connectTimeSec?: number;
  /** BGP Identifier (dotted quad). Default: the speaker's, else the session's local IPv4 address. */
  readonly routerId?: string;
  /** RFC 2385 TCP MD5 password. */
  readonly password?: string;
  /** false/absent: single-hop eBGP is sent with TTL 1; true (or iBGP): TTL 255. */
  readonly ebgpMultiHop?: boolean;
  readonly enableGracefulRestart?: boolean;
  /** RFC 4724 Restart Time in seconds (12 bits). Default 120. */
  readonly gracefulRestartTimeSec?: number;
  /** Advertise IPv4 and IPv6 unicast over this one session (else only the peer address's family). */
  readonly dualStackAddressFamily?: boolean;
  /** Never connect; wait for the peer (PassiveTcpEstablishment, RFC 4271 §8.1.1). */
  readonly passive?: boolean;
  /** SO_BINDTODEVICE for the session's socket. */
  readonly bindDevice?: string;
  /** RFC 8654: offer Extended Message. Default false. */
  readonly extendedMessage?: boolean;
  /** Next hops to announce instead of the session's local address (e.g. IPv6 over an IPv4 session). */
  readonly nextHops?: { readonly ipv4?: string; readonly ipv6?: string; readonly ipv6LinkLocal?: string };
  /** Run BFD with the peer (src/bgp/bfd): the session is torn down when BFD goes Down (RFC 5882 §4.3).
   * Single hop (RFC 5881) unless ebgpMultiHop (RFC 5883). */
  readonly bfd?: PeerBfd;
}

/** A MetalLB BFDProfile as one peer uses it (intervals in milliseconds). */
export interface PeerBfd {
  readonly profile: string;
  readonly receiveIntervalMs: number;
  readonly transmitIntervalMs: number;
  readonly detectMultiplier: number;
  /** RFC 5880 §6.1 passive role. */
  readonly passive: boolean;
  /** Multihop only: packets arriving with a lower TTL are discarded (RFC 5883 §5). */
  readonly minimumTtl: number;
}

export const BGP_PORT = 179;
export const DEFAULT_HOLD_TIME_SEC = 90;
export const DEFAULT_CONNECT_RETRY_SEC = 120;
export const DEFAULT_RESTART_TIME_SEC = 120;
/** RFC 4724 §3: Restart Time is a 12-bit field. */
const MAX_RESTART_TIME_SEC = 0xfff;
/** RFC 5082 §3: GTSM and multi-hop sessions send with the maximum TTL. */
export const TTL_MAX = 255;
/** Directly connected eBGP (RFC 4271 §5.1.3 "single-hop"): TTL 1, as FRR and BIRD do. */
export const TTL_SINGLE_HOP = 1;
const MAX_TWO_OCTET_AS = 0xffff;

export const IPV4_UNICAST: AfiSafi = { afi: AFI.IPV4, safi: SAFI.UNICAST };
export const IPV6_UNICAST: AfiSafi = { afi: AFI.IPV6, safi: SAFI.UNICAST };

export function familyOfAddress(address: string): Family {
  return ipFamilyOf(address.split('%')[0] ?? address) === 6 ? 'ipv6' : 'ipv4';
}

export function afiSafiOf(family: Family): AfiSafi {
  return family === 'ipv4' ? IPV4_UNICAST : IPV6_UNICAST;
}

export { familyOfAfi } from './nlri.ts';

/** The address families a peer's session carries. */
export function peerFamilies(peer: PeerSpec): readonly Family[] {
  // MetalLB: an interface peer activates both families (IPv4 with an IPv6 next hop, RFC 8950).
  if (peer.dualStackAddressFamily === true || peer.interface !== undefined) return ['ipv4', 'ipv6'];
  return [familyOfAddress(peer.peerAddress)];
}

/** Whether the peer is in our AS, as far as configuration tells (dynamic ASN decides later). */
export function isInternalByConfig(peer: PeerSpec): boolean {
  return peer.peerAsn !== undefined ? peer.peerAsn === peer.myAsn : peer.dynamicAsn === 'internal';
}

/** TTL for the session socket: 1 for directly connected eBGP unless ebgpMultiHop, else 255. */
export function ttlFor(peer: PeerSpec): number {
  return isInternalByConfig(peer) || peer.ebgpMultiHop === true ? TTL_MAX : TTL_SINGLE_HOP;
}

export interface LocalCapabilityOptions {
  /** RFC 4724 §3 R bit: we restarted and this is our first OPEN since. */
  readonly restarting: boolean;
}

/** The capabilities in our OPEN (RFC 5492). */
export function localCapabilities(peer: PeerSpec, opts: LocalCapabilityOptions): Capability[] {
  const families = peerFamilies(peer).map(afiSafiOf);
  const caps: Capability[] = families.map((f) => ({ kind: 'MULTIPROTOCOL', afi: f.afi, safi: f.safi }));
  caps.push({ kind: 'ROUTE_REFRESH' }, { kind: 'ENHANCED_ROUTE_REFRESH' }, { kind: 'FOUR_OCTET_AS', asn: peer.myAsn });
  if (peer.extendedMessage === true) caps.push({ kind: 'EXTENDED_MESSAGE' });
  // RFC 8950 §3: over a link-local session IPv4 prefixes can only have an IPv6 next hop; say we send them.
  if (peer.interface !== undefined) caps.push({ kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: AFI.IPV4, safi: SAFI.UNICAST, nextHopAfi: AFI.IPV6 }] });
  if (peer.enableGracefulRestart === true) {
    caps.push({
      kind: 'GRACEFUL_RESTART',
      restarting: opts.restarting,
      notification: false,
      restartTime: Math.min(peer.gracefulRestartTimeSec ?? DEFAULT_RESTART_TIME_SEC, MAX_RESTART_TIME_SEC),
      // F bit: what we "forward" is the node's own data plane (kube-proxy), which a speaker restart
      // does not disturb, so forwarding state is preserved (RFC 4724 §3).
      families: families.map((f) => ({ afi: f.afi, safi: f.safi, forwarding: true })),
    });
  }
  return caps;
}

/** The codec's capability list reduced to the FSM's view. */
export function capabilitiesView(caps: readonly Capability[]): CapabilitiesView {
  let view: CapabilitiesView = {
    multiprotocol: [],
    routeRefresh: false,
    enhancedRouteRefresh: false,
    extendedMessage: false,
  };
  const mp: AfiSafi[] = [];
  for (const c of caps) {
    switch (c.kind) {
      case 'MULTIPROTOCOL':
        mp.push({ afi: c.afi, safi: c.safi });
        break;
      case 'ROUTE_REFRESH':
      case 'ROUTE_REFRESH_OLD':
        view = { ...view, routeRefresh: true };
        break;
      case 'ENHANCED_ROUTE_REFRESH':
        view = { ...view, enhancedRouteRefresh: true };
        break;
      case 'EXTENDED_MESSAGE':
        view = { ...view, extendedMessage: true };
        break;
      case 'FOUR_OCTET_AS':
        view = { ...view, fourOctetAs: c.asn };
        break;
      case 'GRACEFUL_RESTART':
        view = {
          ...view,
          gracefulRestart: {
            restartState: c.restarting,
            restartTimeSec: c.restartTime,
            families: c.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: f.forwarding })),
          },
        };
        break;
      case 'FQDN':
      case 'EXTENDED_NEXT_HOP':
      case 'UNKNOWN':
        break;
      default: {
        const never: never = c;
        return never;
      }
    }
  }
  return { ...view, multiprotocol: mp };
}

/** All capabilities of an OPEN, across its optional parameters. */
export function openCapabilities(open: Open): Capability[] {
  return open.parameters.flatMap((p) => (p.kind === 'CAPABILITIES' ? p.capabilities : []));
}

/** Dotted-quad text as a 32-bit number (read by src/net/ip.ts, berth's one IP parser); 0 when it is not IPv4. */
export function ipv4ToNumber(address: string): number {
  const b = new Uint8Array(IPV4_BYTES);
  if (!parseIpv4Into(address, b)) return 0;
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

export function numberToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 0xff).join('.');
}

export function fsmConfigFor(peer: PeerSpec, routerId: number, capabilities: readonly Capability[]): FsmConfig {
  return {
    localAsn: peer.myAsn,
    ...(peer.peerAsn !== undefined ? { peerAsn: peer.peerAsn } : {}),
    ...(peer.dynamicAsn !== undefined ? { dynamicAsn: peer.dynamicAsn } : {}),
    routerId,
    holdTimeSec: peer.holdTimeSec ?? DEFAULT_HOLD_TIME_SEC,
    ...(peer.keepaliveTimeSec !== undefined ? { keepaliveTimeSec: peer.keepaliveTimeSec } : {}),
    connectRetrySec: peer.connectTimeSec ?? DEFAULT_CONNECT_RETRY_SEC,
    passive: peer.passive === true,
    localCapabilities: capabilitiesView(capabilities),
  };
}

/** Our OPEN (RFC 4271 §4.2; RFC 6793 §4.1 AS_TRANS in the 2-octet field). */
export function buildOpen(peer: PeerSpec, routerId: number, capabilities: readonly Capability[]): Open {
  return {
    type: 'OPEN',
    version: BGP_VERSION,
    myAsn: peer.myAsn > MAX_TWO_OCTET_AS ? AS_TRANS : peer.myAsn,
    holdTime: peer.holdTimeSec ?? DEFAULT_HOLD_TIME_SEC,
    bgpId: numberToIpv4(routerId),
    parameters: [{ kind: 'CAPABILITIES', capabilities }],
  };
}

/** A stable 32-bit identifier from a string (FNV-1a), for IPv6-only hosts without an IPv4 router id. */
export function hashRouterId(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h === 0 ? 1 : h;
}

/** Strip the IPv4-mapped prefix a dual-stack socket reports (::ffff:192.0.2.1 -> 192.0.2.1). */
export function unmapAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

const MAX_HOLD_TIME_SEC = 0xffff;
const MAX_ASN = 0xffffffff;
/** linux/tcp.h TCP_MD5SIG_MAXKEYLEN. */
const MAX_MD5_KEY_BYTES = 80;

/** What is wrong with a peer's configuration; empty when it can be used. */
export function peerProblems(peer: PeerSpec): string[] {
  const problems: string[] = [];
  const asnOk = (n: number): boolean => Number.isInteger(n) && n >= 1 && n <= MAX_ASN;
  if (!asnOk(peer.myAsn)) problems.push(`myAsn ${peer.myAsn} is not a valid AS number`);
  if (peer.peerAsn !== undefined && !asnOk(peer.peerAsn)) problems.push(`peerAsn ${peer.peerAsn} is not a valid AS number`);
  if ((peer.peerAsn === undefined) === (peer.dynamicAsn === undefined)) problems.push('exactly one of peerAsn and dynamicAsn must be set');
  if (ipFamilyOf(peer.peerAddress.split('%')[0] ?? '') === 0) problems.push(`peerAddress ${JSON.stringify(peer.peerAddress)} is not an IP address`);
  if (peer.sourceAddress !== undefined && ipFamilyOf(peer.sourceAddress.split('%')[0] ?? '') === 0) problems.push(`sourceAddress ${JSON.stringify(peer.sourceAddress)} is not an IP address`);
  const hold = peer.holdTimeSec ?? DEFAULT_HOLD_TIME_SEC;
  // RFC 4271 §4.2: the hold time is zero or at least three seconds.
  if (!Number.isInteger(hold) || hold < 0 || hold > MAX_HOLD_TIME_SEC || hold === 1 || hold === 2) problems.push(`holdTime ${hold}s must be 0 or 3..65535`);
  if (peer.keepaliveTimeSec !== undefined && (!Number.isInteger(peer.keepaliveTimeSec) || peer.keepaliveTimeSec < 0 || (hold > 0 && peer.keepaliveTimeSec > hold))) {
    problems.push(`keepaliveTime ${peer.keepaliveTimeSec}s must be between 0 and the hold time`);
  }
  if (peer.connectTimeSec !== undefined && !(peer.connectTimeSec > 0)) problems.push('connectTime must be positive');
  if (peer.routerId !== undefined && (ipFamilyOf(peer.routerId) !== 4 || ipv4ToNumber(peer.routerId) === 0)) problems.push(`routerId ${JSON.stringify(peer.routerId)} must be a non-zero dotted quad (RFC 6286)`);
  if (peer.password !== undefined && Buffer.byteLength(peer.password, 'utf8') > MAX_MD5_KEY_BYTES) problems.push(`password longer than ${MAX_MD5_KEY_BYTES} bytes`);
  if (peer.gracefulRestartTimeSec !== undefined && (!Number.isInteger(peer.gracefulRestartTimeSec) || peer.gracefulRestartTimeSec < 0 || peer.gracefulRestartTimeSec > MAX_RESTART_TIME_SEC)) {
    problems.push(`gracefulRestartTime must be 0..${MAX_RESTART_TIME_SEC}s (RFC 4724 §3)`);
  }
  return problems;
}
