// The closed set of BGP messages, capabilities and path attributes, as plain readonly data.
// Decoders produce these, encoders consume them, and `decode(encode(x))` gives back `x`
// (canonical forms: IPv4 dotted quad, IPv6 as RFC 5952 text, prefixes with host bits zero).

import type { AttributeProblem, ErrorAction } from '../errors.ts';
import type {
  AsPathSegmentType,
  Origin,
  RouteRefreshSubtype,
} from '../constants.ts';

// ---------------------------------------------------------------------------------------------- prefixes

export type Family = 'ipv4' | 'ipv6';

/** An IP prefix, e.g. `{ family: 'ipv4', address: '192.0.2.0', length: 24 }`. */
export interface Prefix {
  readonly family: Family;
  /** Canonical text: dotted quad for IPv4, RFC 5952 for IPv6. Host bits are zero. */
  readonly address: string;
  readonly length: number;
}

/** An AFI/SAFI pair as carried on the wire (numbers, so unknown families survive). */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

// ------------------------------------------------------------------------------------------ capabilities

/** RFC 5492 capabilities. `kind` discriminates; unknown codes stay raw and re-encode byte for byte. */
export type Capability =
  | { readonly kind: 'MULTIPROTOCOL'; readonly afi: number; readonly safi: number } // RFC 4760 §8
  | { readonly kind: 'ROUTE_REFRESH' } // RFC 2918 §2 (code 2)
  | { readonly kind: 'ROUTE_REFRESH_OLD' } // pre-standard code 128
  | { readonly kind: 'ENHANCED_ROUTE_REFRESH' } // RFC 7313 §3 (code 70)
  | { readonly kind: 'EXTENDED_MESSAGE' } // RFC 8654 §3 (code 6)
  | { readonly kind: 'EXTENDED_NEXT_HOP'; readonly entries: readonly ExtendedNextHopEntry[] } // RFC 8950 §3 (code 5)
  | { readonly kind: 'FOUR_OCTET_AS'; readonly asn: number } // RFC 6793 §3 (code 65)
  | GracefulRestartCapability
  | { readonly kind: 'FQDN'; readonly hostname: string; readonly domainName: string } // code 73
  | { readonly kind: 'UNKNOWN'; readonly code: number; readonly data: Buffer };

/** One RFC 8950 §3 triple: NLRI of afi/safi may carry a next hop of nextHopAfi. */
export interface ExtendedNextHopEntry {
  readonly afi: number;
  readonly safi: number;
  readonly nextHopAfi: number;
}

/** RFC 4724 §3 (+ RFC 8538 §2 for the N bit). */
export interface GracefulRestartCapability {
  readonly kind: 'GRACEFUL_RESTART';
  /** R bit: the sender has restarted. */
  readonly restarting: boolean;
  /** N bit (RFC 8538): the sender supports graceful restart for NOTIFICATION messages. */
  readonly notification: boolean;
  /** Restart Time in seconds, 12 bits. */
  readonly restartTime: number;
  readonly families: readonly {
    readonly afi: number;
    readonly safi: number;
    /** F bit: forwarding state was preserved for this family. */
    readonly forwarding: boolean;
  }[];
}

export type CapabilityKind = Capability['kind'];

/** One OPEN optional parameter (RFC 4271 §4.2). Peers differ in how they group capabilities
 * (FRR sends one capability per parameter, BIRD all in one), so the grouping is kept. */
export type OptionalParameter =
  | { readonly kind: 'CAPABILITIES'; readonly capabilities: readonly Capability[] } // RFC 5492 §4
  | { readonly kind: 'UNKNOWN'; readonly type: number; readonly data: Buffer };

// ------------------------------------------------------------------------------------------- attributes

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  readonly asns: readonly number[];
}

/** RFC 8092 §3. */
export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** Common to all attributes: the flags octet as received. When absent the encoder uses the
 * attribute's well-known flags (RFC 4271 §5) and sets Extended Length only when the value needs it;
 * when present, Partial and Extended Length are kept so captured messages re-encode byte for byte. */
interface AttrBase {
  readonly flags?: number;
}

/** A path attribute. `kind` discriminates; unknown type codes stay raw. */
export type PathAttribute =
  | (AttrBase & { readonly kind: 'ORIGIN'; readonly origin: Origin })
  | (AttrBase & { readonly kind: 'AS_PATH'; readonly segments: readonly AsPathSegment[] })
  | (AttrBase & { readonly kind: 'NEXT_HOP'; readonly nextHop: string })
  | (AttrBase & { readonly kind: 'MULTI_EXIT_DISC'; readonly med: number })
  | (AttrBase & { readonly kind: 'LOCAL_PREF'; readonly localPref: number })
  | (AttrBase & { readonly kind: 'ATOMIC_AGGREGATE' })
  | (AttrBase & { readonly kind: 'AGGREGATOR'; readonly asn: number; readonly address: string })
  | (AttrBase & { readonly kind: 'COMMUNITIES'; readonly communities: readonly number[] })
  | (AttrBase & MpReach)
  | (AttrBase & MpUnreach)
  | (AttrBase & { readonly kind: 'EXTENDED_COMMUNITIES'; readonly communities: readonly bigint[] })
  | (AttrBase & { readonly kind: 'AS4_PATH'; readonly segments: readonly AsPathSegment[] })
  | (AttrBase & { readonly kind: 'AS4_AGGREGATOR'; readonly asn: number; readonly address: string })
  | (AttrBase & { readonly kind: 'LARGE_COMMUNITIES'; readonly communities: readonly LargeCommunity[] })
  | (AttrBase & { readonly kind: 'UNKNOWN'; readonly typeCode: number; readonly data: Buffer });

/** RFC 4760 §3. For IPv4/IPv6 unicast, `nextHops` is one address, or for IPv6 a global and a
 * link-local one (RFC 2545 §3). For any other AFI/SAFI the attribute decodes as `UNKNOWN`. */
export interface MpReach {
  readonly kind: 'MP_REACH_NLRI';
  readonly afi: number;
  readonly safi: number;
  readonly nextHops: readonly string[];
  readonly prefixes: readonly Prefix[];
}

/** RFC 4760 §4. An empty `prefixes` list is the End-of-RIB marker of that family (RFC 4724 §2). */
export interface MpUnreach {
  readonly kind: 'MP_UNREACH_NLRI';
  readonly afi: number;
  readonly safi: number;
  readonly prefixes: readonly Prefix[];
}

export type PathAttributeKind = PathAttribute['kind'];
/** Ordered list of attributes as on the wire. Look one up with `getAttribute` (attributes/index.ts). */
export type PathAttributes = readonly PathAttribute[];
/** The attribute of one kind, e.g. `AttributeOf<'NEXT_HOP'>`. */
export type AttributeOf<K extends PathAttributeKind> = Extract<PathAttribute, { readonly kind: K }>;

// --------------------------------------------------------------------------------------------- messages

/** RFC 4271 §4.2. */
export interface Open {
  readonly type: 'OPEN';
  readonly version: number;
  /** The 2-octet My Autonomous System field: AS_TRANS when the real AS needs 4 octets (RFC 6793 §4.1). */
  readonly myAsn: number;
  readonly holdTime: number;
  /** BGP Identifier as a dotted quad. */
  readonly bgpId: string;
  readonly parameters: readonly OptionalParameter[];
  /** RFC 9072: the parameters used the extended (2-octet) length encoding. */
  readonly extendedParameters?: boolean;
}

/** RFC 4271 §4.3 (+ RFC 4760 MP attributes inside `attributes`). */
export interface Update {
  readonly type: 'UPDATE';
  readonly withdrawn: readonly Prefix[];
  readonly attributes: PathAttributes;
  readonly nlri: readonly Prefix[];
}

/** RFC 4271 §4.5. */
export interface Notification {
  readonly type: 'NOTIFICATION';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /** RFC 8203 / RFC 9003: the shutdown communication of Cease/Administrative Shutdown or Reset,
   * when `data` holds a well-formed one. When set, the encoder writes `data` from it. */
  readonly shutdownMessage?: string;
}

/** RFC 4271 §4.4. */
export interface Keepalive {
  readonly type: 'KEEPALIVE';
}

/** RFC 2918 §3, RFC 7313 §3 (subtype). */
export interface RouteRefresh {
  readonly type: 'ROUTE_REFRESH';
  readonly afi: number;
  readonly safi: number;
  /** RouteRefreshSubtype (0 normal, 1 BoRR, 2 EoRR); any other value MUST be ignored by the
   * receiver (RFC 7313 §5), so it is passed through as a number. */
  readonly subtype: RouteRefreshSubtype | number;
}

export type Message = Open | Update | Notification | Keepalive | RouteRefresh;
export type MessageType = Message['type'];

// ---------------------------------------------------------------------------------------------- context

/** What the codec needs to know about the session, derived once from the negotiated capabilities
 * (see context.ts: `contextFromCapabilities`) and passed explicitly to every encode/decode. */
export interface CodecContext {
  /** RFC 6793: both sides advertised the 4-octet AS capability: AS_PATH/AGGREGATOR carry 4-octet ASNs. */
  readonly fourOctetAs: boolean;
  /** RFC 8654: both sides advertised Extended Message: UPDATE etc. may be up to 65535 octets. */
  readonly extendedMessage: boolean;
  /** 4096, or 65535 with extendedMessage. OPEN and KEEPALIVE stay within 4096 (RFC 8654 §4). */
  readonly maxMessageSize: number;
  /** Multiprotocol families both sides advertised (RFC 4760 §8). */
  readonly families: readonly AfiSafi[];
  /** RFC 8950 §4: both sides advertised Extended Next Hop Encoding for IPv4 unicast with an IPv6 next
   * hop, so IPv4 NLRI may travel in MP_REACH_NLRI (AFI 1) with IPv6 next hops. Absent: no. */
  readonly ipv4NextHopIpv6?: boolean;
}

// ----------------------------------------------------------------------------------------------- decode

/** What `decodeMessage` returns. `problems`/`action` are only ever non-empty for an UPDATE. */
export interface Decoded {
  /** The message; for an UPDATE, attributes RFC 7606 says to discard are already dropped. */
  readonly message: Message;
  readonly problems: readonly AttributeProblem[];
  /** The strongest action among the problems (RFC 7606 §3), 'none' if there were none. */
  readonly action: ErrorAction;
}
