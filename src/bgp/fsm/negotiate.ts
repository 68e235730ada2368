// OPEN validation and capability negotiation (RFC 4271 §6.2, §4.2, §10; RFC 6793; RFC 6286;
// RFC 5492; RFC 4760; RFC 4724). Pure: a received OPEN plus our configuration give either the
// negotiated session parameters or the NOTIFICATION to send.
import type { AfiSafi, FsmConfig, Negotiated, NotificationView, OpenView } from './types.ts';
import { BGP_VERSION, FsmErrorCode, OpenErrorSubcode, notification } from './notifications.ts';

/** RFC 6793 §9: AS_TRANS, carried in 2-octet AS fields for ASNs above 65535. */
export { AS_TRANS } from '../constants.ts';
/** RFC 4271 §4.2: a non-zero hold time must be at least three seconds. */
const MIN_HOLD_TIME_SEC = 3;
/** RFC 4271 §10: KeepaliveTime is one third of the hold time by default. */
const KEEPALIVE_DIVISOR = 3;
const AFI_IPV4 = 1;
const SAFI_UNICAST = 1;

export type NegotiationResult =
  | { readonly ok: true; readonly negotiated: Negotiated }
  | { readonly ok: false; readonly notification: NotificationView; readonly detail: string };

function reject(subcode: number, detail: string, data?: Buffer): NegotiationResult {
  return { ok: false, notification: notification(FsmErrorCode.OpenMessage, subcode, data), detail };
}

function sameFamily(a: AfiSafi, b: AfiSafi): boolean {
  return a.afi === b.afi && a.safi === b.safi;
}

/** The keepalive interval for a negotiated hold time (RFC 4271 §4.4, §10). */
export function keepaliveFor(holdTimeSec: number, configuredSec?: number): number {
  if (holdTimeSec === 0) return 0;
  const third = Math.floor(holdTimeSec / KEEPALIVE_DIVISOR);
  // A configured interval is honoured unless it would let the peer's hold timer expire.
  return configuredSec === undefined || configuredSec <= 0 ? third : Math.min(configuredSec, third);
}

/** Validates a received OPEN against our configuration and negotiates the session parameters. */
export function negotiate(config: FsmConfig, open: OpenView): NegotiationResult {
  // RFC 4271 §6.2: unsupported version -> subcode 1, data = the largest version we support (2 octets).
  if (open.version !== BGP_VERSION) {
    const data = Buffer.alloc(2);
    data.writeUInt16BE(BGP_VERSION);
    return reject(OpenErrorSubcode.UnsupportedVersionNumber, `version ${open.version}`, data);
  }

  // RFC 6793 §4.1: the AS number is the 4-octet AS capability when present, else My Autonomous System.
  const peerAsn = open.capabilities.fourOctetAs ?? open.myAutonomousSystem;
  const internal = peerAsn === config.localAsn;
  // RFC 4271 §6.2: the peer's AS must be the one configured -> Bad Peer AS (2).
  if (config.peerAsn !== undefined) {
    if (peerAsn !== config.peerAsn) {
      return reject(OpenErrorSubcode.BadPeerAs, `peer AS ${peerAsn}, expected ${config.peerAsn}`);
    }
  } else if (config.dynamicAsn === 'internal' && !internal) {
    return reject(OpenErrorSubcode.BadPeerAs, `peer AS ${peerAsn} is not internal (${config.localAsn})`);
  } else if (config.dynamicAsn === 'external' && internal) {
    return reject(OpenErrorSubcode.BadPeerAs, `peer AS ${peerAsn} is not external`);
  }

  // RFC 4271 §6.2: a hold time of one or two seconds is unacceptable (subcode 6).
  if (open.holdTimeSec !== 0 && open.holdTimeSec < MIN_HOLD_TIME_SEC) {
    return reject(OpenErrorSubcode.UnacceptableHoldTime, `hold time ${open.holdTimeSec}`);
  }

  // RFC 6286 §2.2: the BGP Identifier is any non-zero 32-bit value; within one AS it must differ from
  // ours (for an external peer the (AS, id) pair is what must be unique) -> Bad BGP Identifier (3).
  if (open.bgpIdentifier === 0) return reject(OpenErrorSubcode.BadBgpIdentifier, 'BGP identifier 0');
  if (internal && open.bgpIdentifier === config.routerId) {
    return reject(OpenErrorSubcode.BadBgpIdentifier, 'BGP identifier equals ours in the same AS');
  }

  // RFC 6793 §4.2: a peer without the 4-octet AS capability is an OLD speaker. The session goes on with
  // 2-octet AS fields: our OPEN already carries AS_TRANS when our AS does not fit (peer.ts buildOpen),
  // and the UPDATEs carry AS_TRANS in AS_PATH with the real path in AS4_PATH (pack.ts ->
  // attributes/as4.ts toTwoOctetAttributes, chosen by the negotiated fourOctetAs below).
  const fourOctetAs =
    open.capabilities.fourOctetAs !== undefined && config.localCapabilities.fourOctetAs !== undefined;

  // RFC 4271 §4.2: the hold time is the smaller of ours and the peer's.
  const holdTimeSec = Math.min(config.holdTimeSec, open.holdTimeSec);
  const keepaliveSec = keepaliveFor(holdTimeSec, config.keepaliveTimeSec);

  // RFC 4760 §8: a family is usable when both sides advertised it. A side that sends no MP capability
  // at all speaks IPv4 unicast only (RFC 4760 §1: the default).
  const implied: readonly AfiSafi[] = [{ afi: AFI_IPV4, safi: SAFI_UNICAST }];
  const ours = config.localCapabilities.multiprotocol.length > 0 ? config.localCapabilities.multiprotocol : implied;
  const theirs = open.capabilities.multiprotocol.length > 0 ? open.capabilities.multiprotocol : implied;
  const families = ours.filter((f) => theirs.some((g) => sameFamily(f, g)));

  const peerGr = open.capabilities.gracefulRestart;
  const negotiated: Negotiated = {
    peerAsn,
    peerRouterId: open.bgpIdentifier,
    internal,
    holdTimeSec,
    keepaliveSec,
    fourOctetAs,
    families,
    routeRefresh: open.capabilities.routeRefresh && config.localCapabilities.routeRefresh,
    enhancedRouteRefresh:
      open.capabilities.enhancedRouteRefresh && config.localCapabilities.enhancedRouteRefresh,
    extendedMessage: open.capabilities.extendedMessage && config.localCapabilities.extendedMessage,
    ...(peerGr !== undefined && config.localCapabilities.gracefulRestart !== undefined
      ? { peerGracefulRestart: peerGr }
      : {}),
  };
  return { ok: true, negotiated };
}
