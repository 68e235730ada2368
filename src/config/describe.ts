// Presentation for people (the `berth check` table): what a dispatched VIP becomes on the wire. Kept
// apart from the model and the rules; nothing here decides anything.

import { hostMask } from '../pool/address.ts';
import { formatIP, type IPAddress, type LabelSelector } from '../pool/types.ts';
import { formatCommunity } from './community.ts';
import type { Dispatch } from './dispatch.ts';
import type { BgpAdvertisementRule, Config, L2Interface, L2Rule } from './model.ts';

export interface AnnouncementLine {
  readonly mode: 'l2' | 'bgp';
  /** BGP: the prefix announced; L2: the address answered for. */
  readonly what: string;
  /** Where it goes: peers and attributes, or nodes and interfaces. */
  readonly how: string;
}

export function formatSelector(s: LabelSelector): string {
  const parts = [
    ...Object.entries(s.matchLabels).map(([k, v]) => `${k}=${v}`),
    ...s.matchExpressions.map((e) => (e.values.length > 0 ? `${e.key} ${e.operator} (${e.values.join(',')})` : `${e.key} ${e.operator}`)),
  ];
  return parts.length === 0 ? 'all' : parts.join(',');
}

function selectors(list: readonly LabelSelector[]): string {
  return list.length === 0 ? 'all' : list.map(formatSelector).join(' | ');
}

function iface(i: L2Interface): string {
  return i.kind === 'name' ? i.name : `can_reach:${i.ip}`;
}

/** `VIP & mask(len)` (MetalLB docs, BGPAdvertisement aggregationLength). */
export function aggregatePrefix(ip: IPAddress, rule: Pick<BgpAdvertisementRule, 'aggregationLength' | 'aggregationLengthV6'>): string {
  const len = ip.family === 'ipv4' ? rule.aggregationLength : rule.aggregationLengthV6;
  return `${formatIP({ family: ip.family, value: ip.value & ~hostMask(ip.family, len) })}/${len}`;
}

/** bgpHow per rule and configuration, computed once: `berth check` describes 100,000 Services with a handful of rules. */
const bgpHowMemo = new WeakMap<BgpAdvertisementRule, { readonly config: Config; readonly how: string }>();

function bgpHow(rule: BgpAdvertisementRule, config: Config): string {
  const memo = bgpHowMemo.get(rule);
  if (memo?.config === config) return memo.how;
  const how = bgpHowOf(rule, config);
  bgpHowMemo.set(rule, { config, how });
  return how;
}

function bgpHowOf(rule: BgpAdvertisementRule, config: Config): string {
  const peers = (rule.peers.length > 0 ? rule.peers : config.bgpPeers.map((p) => p.name)).map((name) => peerWithVrf(name, config));
  const attrs = [
    `peers ${peers.length > 0 ? peers.join(',') : '(none configured)'}`,
    `nodes ${selectors(rule.nodeSelectors)}`,
    ...(rule.localPref === undefined ? [] : [`local-pref ${rule.localPref}`]),
    ...(rule.communities.length === 0 ? [] : [`communities ${rule.communities.map(formatCommunity).join(' ')}`]),
  ];
  return attrs.join('; ');
}

/** `name`, or `name (vrf red)` for a peer whose session runs in a VRF (BGPPeer spec.vrf). */
function peerWithVrf(name: string, config: Config): string {
  const vrf = config.bgpPeers.find((p) => p.name === name)?.vrf;
  return vrf === undefined ? name : `${name} (vrf ${vrf})`;
}

function l2How(rule: L2Rule, config: Config): string {
  return `nodes ${selectors(rule.nodeSelectors)}; interfaces ${rule.interfaces.length > 0 ? rule.interfaces.map(iface).join(',') : l2DefaultInterfaces(rule, config)}`;
}

/** No interface named: every NIC for an L2Advertisement; for an Eip, the NIC found per node (src/l2/interfaces.ts). */
function l2DefaultInterfaces(rule: L2Rule, config: Config): string {
  const pool = config.pools.find((p) => rule.pools.includes(p.spec.name));
  const first = pool?.spec.ranges[0];
  if (rule.source.kind === 'L2Advertisement' || pool?.spec.dialect !== 'openelb' || first === undefined) return 'all';
  return `per node: the NIC with an address in the subnet of ${formatIP({ family: first.family, value: first.first })}, else the NIC of the node InternalIP`;
}

export function describeAnnouncements(config: Config, ips: readonly IPAddress[], d: Dispatch, opts: { readonly weightedEcmp?: boolean; readonly serviceBgp?: string } = {}): AnnouncementLine[] {
  const out: AnnouncementLine[] = [];
  const extra = [...(opts.serviceBgp !== undefined && opts.serviceBgp !== '' ? [opts.serviceBgp] : []), ...(opts.weightedEcmp === true ? ['link-bandwidth: 1 Mbit/s per serving endpoint on the node (weighted ECMP)'] : [])];
  const tail = extra.map((e) => `; ${e}`).join('');
  for (const ip of ips) {
    for (const r of d.bgpRules) out.push({ mode: 'bgp', what: aggregatePrefix(ip, r), how: bgpHow(r, config) + tail });
    for (const r of d.l2Rules) out.push({ mode: 'l2', what: formatIP(ip), how: l2How(r, config) });
  }
  return out;
}

export interface PeerLine {
  readonly peer: string;
  /** Where the session goes: address and port, or the interface of an unnumbered peer. */
  readonly session: string;
  readonly asn: string;
  readonly families: string;
  /** How the next hop of each family is encoded on this session. */
  readonly nextHops: string;
}

/** One line per BGP peer: session, AS, families and next-hop encoding (src/bgp/peer.ts peerFamilies,
 * src/bgp/pack.ts reachOf and the speaker's next-hop choice are the rules; this only says them). */
export function describePeers(config: Config): PeerLine[] {
  return config.bgpPeers.map((p) => {
    const asn = p.peerASN.kind === 'asn' ? String(p.peerASN.asn) : p.peerASN.type;
    const local = p.localASN ?? p.myASN;
    if (p.interface !== undefined) {
      return {
        peer: p.name,
        session: `interface ${p.interface}: IPv6 link-local, peer found by its Router Advertisements (port ${p.peerPort})`,
        asn: `${local} -> ${asn}`,
        families: 'ipv4+ipv6',
        nextHops: `IPv4 and IPv6 via our IPv6 address on ${p.interface}: MP_REACH_NLRI, RFC 8950 extended next hop for IPv4; global + link-local (32 octets), link-local alone without a global address`,
      };
    }
    const v6 = p.peerAddress?.includes(':') === true;
    const families = p.dualStackAddressFamily ? 'ipv4+ipv6' : v6 ? 'ipv6' : 'ipv4';
    const nh4 = v6 ? 'IPv4: NEXT_HOP, the interface\'s IPv4 address' : 'IPv4: NEXT_HOP, the session\'s local address';
    const nh6 = 'IPv6: MP_REACH_NLRI, global (+ link-local, RFC 2545)';
    return {
      peer: p.name,
      session: `${v6 ? `[${p.peerAddress ?? ''}]` : (p.peerAddress ?? '')}:${p.peerPort}${p.vrf === undefined ? '' : ` in VRF ${p.vrf} (socket bound to the VRF device)`}`,
      asn: `${local} -> ${asn}`,
      families,
      nextHops: families === 'ipv4+ipv6' ? `${nh4}; ${nh6}` : families === 'ipv4' ? nh4 : nh6,
    };
  });
}
