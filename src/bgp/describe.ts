// Presentation: one-line descriptions of BGP messages for logs. Kept apart from the codec (the codec
// never imports this file), so wire code stays free of formatting concerns.

import { AS_PATH_SEGMENT } from './constants.ts';
import { hardResetCause } from './messages/notification.ts';
import type { AsPathSegment, Capability, Message, PathAttribute, Prefix } from './messages/types.ts';
import { formatPrefix } from './nlri.ts';

const MAX_LISTED = 8;

function list<T>(xs: readonly T[], f: (x: T) => string): string {
  const shown = xs.slice(0, MAX_LISTED).map(f).join(' ');
  return xs.length > MAX_LISTED ? `${shown} …(+${xs.length - MAX_LISTED})` : shown;
}

function prefixes(ps: readonly Prefix[]): string {
  return list(ps, formatPrefix);
}

export function describeAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((s) => {
      const asns = s.asns.join(' ');
      switch (s.type) {
        case AS_PATH_SEGMENT.AS_SEQUENCE:
          return asns;
        case AS_PATH_SEGMENT.AS_SET:
          return `{${asns}}`;
        case AS_PATH_SEGMENT.AS_CONFED_SEQUENCE:
          return `(${asns})`;
        case AS_PATH_SEGMENT.AS_CONFED_SET:
          return `[${asns}]`;
        default: {
          const never: never = s.type;
          return `?${String(never)}`;
        }
      }
    })
    .join(' ');
}

export function describeCapability(c: Capability): string {
  switch (c.kind) {
    case 'MULTIPROTOCOL':
      return `mp(${c.afi}/${c.safi})`;
    case 'FOUR_OCTET_AS':
      return `as4(${c.asn})`;
    case 'GRACEFUL_RESTART':
      return `gr(${c.restarting ? 'R,' : ''}${c.notification ? 'N,' : ''}${c.restartTime}s${c.families
        .map((f) => ` ${f.afi}/${f.safi}${f.forwarding ? '+F' : ''}`)
        .join('')})`;
    case 'FQDN':
      return `fqdn(${c.hostname}${c.domainName === '' ? '' : `.${c.domainName}`})`;
    case 'UNKNOWN':
      return `cap${c.code}(${c.data.toString('hex')})`;
    case 'ROUTE_REFRESH':
      return 'route-refresh';
    case 'ROUTE_REFRESH_OLD':
      return 'route-refresh(old)';
    case 'ENHANCED_ROUTE_REFRESH':
      return 'enhanced-route-refresh';
    case 'EXTENDED_MESSAGE':
      return 'extended-message';
    case 'EXTENDED_NEXT_HOP':
      return `extended-next-hop(${c.entries.map((e) => `${e.afi}/${e.safi}->${e.nextHopAfi}`).join(' ')})`;
    default: {
      const never: never = c;
      return String(never);
    }
  }
}

export function describeAttribute(a: PathAttribute): string {
  switch (a.kind) {
    case 'ORIGIN':
      return `origin ${['igp', 'egp', 'incomplete'][a.origin] ?? a.origin}`;
    case 'AS_PATH':
    case 'AS4_PATH':
      return `${a.kind === 'AS_PATH' ? 'as-path' : 'as4-path'} [${describeAsPath(a.segments)}]`;
    case 'NEXT_HOP':
      return `next-hop ${a.nextHop}`;
    case 'MULTI_EXIT_DISC':
      return `med ${a.med}`;
    case 'LOCAL_PREF':
      return `local-pref ${a.localPref}`;
    case 'ATOMIC_AGGREGATE':
      return 'atomic-aggregate';
    case 'AGGREGATOR':
    case 'AS4_AGGREGATOR':
      return `${a.kind === 'AGGREGATOR' ? 'aggregator' : 'as4-aggregator'} ${a.asn} ${a.address}`;
    case 'COMMUNITIES':
      return `communities ${list(a.communities, (c) => `${c >>> 16}:${c & 0xffff}`)}`;
    case 'EXTENDED_COMMUNITIES':
      return `ext-communities ${list(a.communities, (c) => c.toString(16).padStart(16, '0'))}`;
    case 'LARGE_COMMUNITIES':
      return `large-communities ${list(a.communities, (c) => `${c.globalAdmin}:${c.localData1}:${c.localData2}`)}`;
    case 'MP_REACH_NLRI':
      return `mp-reach ${a.afi}/${a.safi} via ${a.nextHops.join(',')} ${prefixes(a.prefixes)}`;
    case 'MP_UNREACH_NLRI':
      return a.prefixes.length === 0 ? `mp-unreach ${a.afi}/${a.safi} (end-of-rib)` : `mp-unreach ${a.afi}/${a.safi} ${prefixes(a.prefixes)}`;
    case 'UNKNOWN':
      return `attr${a.typeCode}(${a.data.length} octets)`;
    default: {
      const never: never = a;
      return String(never);
    }
  }
}

/** One line for a log record, e.g. "UPDATE withdrawn=[] attrs=[origin igp; …] nlri=[192.0.2.0/24]". */
export function describeMessage(m: Message): string {
  switch (m.type) {
    case 'OPEN':
      return `OPEN v${m.version} as=${m.myAsn} hold=${m.holdTime} id=${m.bgpId} caps=[${m.parameters
        .flatMap((p) => (p.kind === 'CAPABILITIES' ? p.capabilities.map(describeCapability) : [`param${p.type}`]))
        .join(' ')}]`;
    case 'UPDATE':
      if (m.withdrawn.length === 0 && m.nlri.length === 0 && m.attributes.length === 0) return 'UPDATE end-of-rib ipv4';
      return `UPDATE withdrawn=[${prefixes(m.withdrawn)}] attrs=[${m.attributes.map(describeAttribute).join('; ')}] nlri=[${prefixes(m.nlri)}]`;
    case 'NOTIFICATION': {
      const cause = hardResetCause(m);
      const cease = cause === undefined ? '' : ` (hard reset: ${describeMessage(cause)})`;
      const text = m.shutdownMessage === undefined ? '' : ` "${m.shutdownMessage}"`;
      return `NOTIFICATION ${m.code}/${m.subcode}${cease}${text}${m.data.length > 0 && text === '' && cause === undefined ? ` data=${m.data.toString('hex')}` : ''}`;
    }
    case 'KEEPALIVE':
      return 'KEEPALIVE';
    case 'ROUTE_REFRESH':
      return `ROUTE-REFRESH ${m.afi}/${m.safi}${['', ' BoRR', ' EoRR'][m.subtype] ?? ` subtype ${m.subtype}`}`;
    default: {
      const never: never = m;
      return String(never);
    }
  }
}
