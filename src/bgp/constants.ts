// BGP-4 wire constants, named after the RFC / IANA registries they come from.
// Everything here is `as const` data with derived union types (no enums).

/** RFC 4271 §4.1: 16-octet marker, 2-octet length, 1-octet type. */
export const HEADER_LENGTH = 19;
export const MARKER_LENGTH = 16;
/** RFC 4271 §4.1: maximum message size without the Extended Message capability. */
export const MAX_MESSAGE_SIZE = 4096;
/** RFC 8654 §4: maximum message size once both sides advertised the Extended Message capability. */
export const MAX_EXTENDED_MESSAGE_SIZE = 65535;
/** RFC 4271 §4.2: the only version we speak. */
export const BGP_VERSION = 4;
/** RFC 6793 §9: AS_TRANS, carried where a 4-octet AS does not fit a 2-octet field. */
export const AS_TRANS = 23456;

/** IANA "BGP Message Types". */
export const MESSAGE_TYPE = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5, // RFC 2918
} as const;
export type MessageTypeCode = (typeof MESSAGE_TYPE)[keyof typeof MESSAGE_TYPE];

/** RFC 4271 §4.2-§4.5, RFC 2918 §3: minimum total length of each message type. */
export const MIN_LENGTH = {
  OPEN: 29,
  UPDATE: 23,
  NOTIFICATION: 21,
  KEEPALIVE: 19,
  ROUTE_REFRESH: 23,
} as const;

/** IANA "BGP OPEN Optional Parameter Types". */
export const OPTIONAL_PARAMETER = {
  CAPABILITIES: 2, // RFC 5492 §4
  EXTENDED_LENGTH: 255, // RFC 9072 §2: marks the extended optional parameters length format
} as const;

/** IANA "Capability Codes". */
export const CAPABILITY = {
  MULTIPROTOCOL: 1, // RFC 4760 §8
  ROUTE_REFRESH: 2, // RFC 2918 §2
  EXTENDED_NEXT_HOP: 5, // RFC 8950 §3
  EXTENDED_MESSAGE: 6, // RFC 8654 §3
  GRACEFUL_RESTART: 64, // RFC 4724 §3
  FOUR_OCTET_AS: 65, // RFC 6793 §3
  ENHANCED_ROUTE_REFRESH: 70, // RFC 7313 §3
  FQDN: 73, // draft-walton-bgp-hostname-capability
  ROUTE_REFRESH_OLD: 128, // pre-standard Cisco code for route refresh
} as const;
export type CapabilityCode = (typeof CAPABILITY)[keyof typeof CAPABILITY];

/** IANA "Address Family Numbers" (the two we carry). */
export const AFI = { IPV4: 1, IPV6: 2 } as const;
export type Afi = (typeof AFI)[keyof typeof AFI];
/** IANA "SAFI Values" (the one we carry). */
export const SAFI = { UNICAST: 1 } as const;
export type Safi = (typeof SAFI)[keyof typeof SAFI];

/** IANA "BGP Path Attributes". */
export const ATTR_TYPE = {
  ORIGIN: 1, // RFC 4271 §5.1.1
  AS_PATH: 2, // RFC 4271 §5.1.2
  NEXT_HOP: 3, // RFC 4271 §5.1.3
  MULTI_EXIT_DISC: 4, // RFC 4271 §5.1.4
  LOCAL_PREF: 5, // RFC 4271 §5.1.5
  ATOMIC_AGGREGATE: 6, // RFC 4271 §5.1.6
  AGGREGATOR: 7, // RFC 4271 §5.1.7
  COMMUNITIES: 8, // RFC 1997
  MP_REACH_NLRI: 14, // RFC 4760 §3
  MP_UNREACH_NLRI: 15, // RFC 4760 §4
  EXTENDED_COMMUNITIES: 16, // RFC 4360
  AS4_PATH: 17, // RFC 6793 §3
  AS4_AGGREGATOR: 18, // RFC 6793 §3
  LARGE_COMMUNITIES: 32, // RFC 8092
} as const;
export type AttrTypeName = keyof typeof ATTR_TYPE;
export type AttrTypeCode = (typeof ATTR_TYPE)[AttrTypeName];

/** RFC 4271 §4.3: attribute flags octet. */
export const ATTR_FLAG = {
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const;

/** RFC 4271 §5.1.1. */
export const ORIGIN = { IGP: 0, EGP: 1, INCOMPLETE: 2 } as const;
export type Origin = (typeof ORIGIN)[keyof typeof ORIGIN];

/** RFC 4271 §4.3 (SET, SEQUENCE), RFC 5065 §3 (confederation segments). */
export const AS_PATH_SEGMENT = {
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const;
export type AsPathSegmentType = (typeof AS_PATH_SEGMENT)[keyof typeof AS_PATH_SEGMENT];

/** RFC 7313 §3: ROUTE-REFRESH message subtype (the former reserved octet). */
export const ROUTE_REFRESH_SUBTYPE = {
  NORMAL: 0,
  BEGIN_OF_RIB: 1, // BoRR
  END_OF_RIB: 2, // EoRR
} as const;
export type RouteRefreshSubtype = (typeof ROUTE_REFRESH_SUBTYPE)[keyof typeof ROUTE_REFRESH_SUBTYPE];

/** RFC 4271 §4.5 plus RFC 7313 §5 (code 7): NOTIFICATION error codes. */
export const ERROR_CODE = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;
export type ErrorCode = (typeof ERROR_CODE)[keyof typeof ERROR_CODE];

/** RFC 4271 §6.1. */
export const HEADER_ERROR = {
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const;

/** RFC 4271 §6.2, RFC 5492 §5 (7), RFC 9072 §... (none). */
export const OPEN_ERROR = {
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7, // RFC 5492 §5
  ROLE_MISMATCH: 11, // RFC 9234
} as const;

/** RFC 4271 §6.3. */
export const UPDATE_ERROR = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;

/** RFC 6608: FSM error subcodes. */
export const FSM_ERROR = {
  UNSPECIFIED: 0,
  UNEXPECTED_IN_OPENSENT: 1,
  UNEXPECTED_IN_OPENCONFIRM: 2,
  UNEXPECTED_IN_ESTABLISHED: 3,
} as const;

/** RFC 4486 §4 (+ RFC 8203 for the shutdown communication on 2 and 4). */
export const CEASE = {
  MAX_PREFIXES: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9, // RFC 8538
  BFD_DOWN: 10, // RFC 9384
} as const;

/** RFC 7313 §5. */
export const ROUTE_REFRESH_ERROR = { INVALID_MESSAGE_LENGTH: 1 } as const;

/** RFC 4724 §3: Graceful Restart capability flags. */
export const GRACEFUL_RESTART_FLAG = {
  RESTART_STATE: 0x8, // R bit (top of the 4 flag bits)
  NOTIFICATION: 0x4, // N bit, RFC 8538 §2
} as const;
/** RFC 4724 §3: per-AFI flags. */
export const GRACEFUL_RESTART_AF_FLAG = { FORWARDING_STATE: 0x80 } as const;

/** RFC 8203 §2 / RFC 9003 §2: maximum shutdown communication length in octets. */
export const MAX_SHUTDOWN_COMMUNICATION = 255;
