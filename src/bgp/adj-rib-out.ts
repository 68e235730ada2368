// Adj-RIB-Out (RFC 4271 §3.2): per peer, the routes we advertise to it. Pure: the speaker computes the
// desired table for a peer from the advertisements, diffs it against what the peer has been sent, and
// sends only the difference, grouped so that prefixes sharing attributes travel in the same UPDATEs.
import type { Family, LargeCommunity, Prefix } from './messages/types.ts';
import { keyText, parsePrefix as parseNlriPrefix, parsePrefixKey, type NlriKey } from './nlri.ts';

/** What the caller asks to announce (plain data; src/config builds it from the pools and advertisements). */
export interface Advertisement {
  /** CIDR text, e.g. '198.51.100.10/32' or '2001:db8::10/128' (already aggregated by the caller). */
  readonly prefix: string;
  /** LOCAL_PREF toward internal peers (RFC 4271 §5.1.5); 100 when unset. Never sent to external peers. */
  readonly localPref?: number;
  /** RFC 1997 communities as 32-bit values (65535:65282 -> 0xffffff02). */
  readonly communities?: readonly number[];
  /** RFC 8092 large communities. */
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Link bandwidth in bytes per second, sent as the RFC 10005 extended community (weighted ECMP). */
  readonly linkBandwidth?: number;
  /** Names of the peers that get this advertisement; absent = every peer. */
  readonly peers?: readonly string[];
}

/** The per-route attributes that vary between routes (the rest depends only on the session). */
export interface RouteAttributes {
  readonly localPref?: number;
  /** Sorted, unique. */
  readonly communities: readonly number[];
  /** Sorted, unique. */
  readonly largeCommunities: readonly LargeCommunity[];
  /** Bytes per second (RFC 10005); several advertisements of one prefix: the largest. */
  readonly linkBandwidth?: number;
}

/** One family's routes: prefix (its NLRI encoding, nlri.ts NlriKey) -> its attribute set. The attribute
 * objects are interned: all routes of one table with equal attributes share one object. About 50 octets
 * a route for an IPv4 /32 (a Map entry and a 5-character key). */
export type FamilyTable = ReadonlyMap<NlriKey, RouteAttributes>;

/** The routes of a peer (or sent to it), by family. Tables are shared between peers: never mutate. */
export type RouteTable = Readonly<Record<Family, FamilyTable>>;

export const EMPTY_FAMILY_TABLE: FamilyTable = new Map();
export const EMPTY_TABLE: RouteTable = { ipv4: EMPTY_FAMILY_TABLE, ipv6: EMPTY_FAMILY_TABLE };

/** Parses CIDR text into a canonical Prefix (host bits cleared); throws RangeError (the codec's parser). */
export function parsePrefix(text: string): Prefix {
  return parseNlriPrefix(text);
}

export function prefixKey(p: Prefix): string {
  return `${p.address}/${p.length}`;
}

function largeKey(c: LargeCommunity): string {
  return `${c.globalAdmin}:${c.localData1}:${c.localData2}`;
}

function compareLarge(a: LargeCommunity, b: LargeCommunity): number {
  return a.globalAdmin - b.globalAdmin || a.localData1 - b.localData1 || a.localData2 - b.localData2;
}

function routeAttributes(localPref: number | undefined, communities: Iterable<number>, large: Iterable<LargeCommunity>, linkBandwidth: number | undefined): RouteAttributes {
  const cs = [...new Set(communities)].sort((a, b) => a - b);
  const ls = [...new Map([...large].map((c) => [largeKey(c), c])).values()].sort(compareLarge);
  return { ...(localPref !== undefined ? { localPref } : {}), communities: cs, largeCommunities: ls, ...(linkBandwidth !== undefined ? { linkBandwidth } : {}) };
}

/** The larger of two optional values (LOCAL_PREF, link bandwidth: one prefix advertised twice carries one). */
function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/** An advertisement's attributes in canonical form (communities sorted and unique). */
export function advertisementAttributes(ad: Advertisement): RouteAttributes {
  return routeAttributes(ad.localPref, ad.communities ?? [], ad.largeCommunities ?? [], ad.linkBandwidth);
}

/**
 * The one rule for two advertisements of one prefix, used by the speaker plan (src/speaker/plan.ts
 * mergeAdvertisements) and by the Adj-RIB-Out (compileAdvertisements): communities and large
 * communities unioned, the largest LOCAL_PREF and the largest link bandwidth kept, whatever the order
 * (MetalLB internal/bgp session Set dedups one prefix; BGPAdvertisements of one prefix agree on
 * LOCAL_PREF, config refuses the others, but Services sharing an IP may not: berth.io/bgp-local-pref).
 */
export function mergeRouteAttributes(a: RouteAttributes, b: RouteAttributes): RouteAttributes {
  return routeAttributes(maxDefined(a.localPref, b.localPref), [...a.communities, ...b.communities], [...a.largeCommunities, ...b.largeCommunities], maxDefined(a.linkBandwidth, b.linkBandwidth));
}

/** Canonical text of each interned attribute set: two tables built apart compare equal attributes by it. */
const canonical = new WeakMap<RouteAttributes, string>();

function attributesKey(a: RouteAttributes): string {
  let k = canonical.get(a);
  if (k === undefined) {
    k = `lp=${a.localPref ?? ''};c=${a.communities.join(',')};l=${a.largeCommunities.map(largeKey).join(',')};bw=${a.linkBandwidth ?? ''}`;
    canonical.set(a, k);
  }
  return k;
}

/** True when two attribute sets (of any two tables) are the same. */
export function sameAttributes(a: RouteAttributes, b: RouteAttributes): boolean {
  return a === b || attributesKey(a) === attributesKey(b);
}

/** Advertisements parsed once (on setAdvertisements), then cut per peer and family cheaply. */
export interface CompiledAdvertisements {
  /** Advertisements whose prefix did not parse; left out (the caller logs them). */
  readonly rejected: readonly { readonly prefix: string; readonly reason: string }[];
  /** The routes a peer should have, by family (see desiredRoutes). Tables are shared: do not mutate. */
  forPeer(peerName: string): RouteTable;
}

/** What is kept of an advertisement with a peer filter (not the caller's object, not its text). */
interface FilteredEntry {
  readonly family: Family;
  readonly key: NlriKey;
  readonly attributes: RouteAttributes;
  readonly peers: readonly string[] | undefined;
}

/**
 * Compiles the caller's advertisements into compact tables. Nothing of `ads` is kept: each prefix text
 * is parsed once into its NlriKey, equal attribute sets are interned (a prefix without attributes costs
 * no object at all). Without any peer filter (the common case) one shared table is built at once (on
 * setAdvertisements, not on the first Established session, where 100,000 routes delayed the table by
 * ~250 ms: docs/bgp-benchmark.md); with filters the compact entries are kept and each peer's table is
 * built on demand.
 */
export function compileAdvertisements(ads: readonly Advertisement[]): CompiledAdvertisements {
  const rejected: { prefix: string; reason: string }[] = [];
  const interned = new Map<string, RouteAttributes>();
  const intern = (fresh: RouteAttributes): RouteAttributes => {
    const k = attributesKey(fresh);
    const hit = interned.get(k);
    if (hit !== undefined) return hit;
    interned.set(k, fresh);
    return fresh;
  };
  // The plain route (no LOCAL_PREF, no communities): one object, no per-prefix work.
  const plain = intern(routeAttributes(undefined, [], [], undefined));
  const attributesOf = (ad: Advertisement): RouteAttributes =>
    ad.localPref === undefined && (ad.communities?.length ?? 0) === 0 && (ad.largeCommunities?.length ?? 0) === 0 && ad.linkBandwidth === undefined
      ? plain
      : intern(advertisementAttributes(ad));
  // Several advertisements of one prefix: mergeRouteAttributes (merging with itself or the plain route changes nothing).
  const merge = (a: RouteAttributes, b: RouteAttributes): RouteAttributes => (a === b || b === plain ? a : intern(mergeRouteAttributes(a, b)));
  const add = (t: { ipv4: Map<NlriKey, RouteAttributes>; ipv6: Map<NlriKey, RouteAttributes> }, f: Family, key: NlriKey, a: RouteAttributes): void => {
    const table = t[f];
    const cur = table.get(key);
    table.set(key, cur === undefined ? a : merge(cur, a));
  };
  const parse = (ad: Advertisement): { family: Family; key: NlriKey } | undefined => {
    try {
      return parsePrefixKey(ad.prefix);
    } catch (e) {
      rejected.push({ prefix: ad.prefix, reason: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  };
  if (!ads.some((a) => a.peers !== undefined)) {
    const shared = { ipv4: new Map<NlriKey, RouteAttributes>(), ipv6: new Map<NlriKey, RouteAttributes>() };
    for (const ad of ads) {
      const p = parse(ad);
      if (p !== undefined) add(shared, p.family, p.key, attributesOf(ad));
    }
    return { rejected, forPeer: () => shared };
  }
  const entries: FilteredEntry[] = [];
  for (const ad of ads) {
    const p = parse(ad);
    // The peer list is copied: the caller's objects are not kept alive through it.
    if (p !== undefined) entries.push({ ...p, attributes: attributesOf(ad), peers: ad.peers === undefined ? undefined : [...ad.peers] });
  }
  return {
    rejected,
    forPeer(peerName) {
      const t = { ipv4: new Map<NlriKey, RouteAttributes>(), ipv6: new Map<NlriKey, RouteAttributes>() };
      for (const e of entries) if (e.peers === undefined || e.peers.includes(peerName)) add(t, e.family, e.key, e.attributes);
      return t;
    },
  };
}

/**
 * The routes a peer should have: the advertisements that select it, deduplicated by prefix. Several
 * advertisements of one prefix (Services sharing an aggregate, MetalLB BGPAdvertisement aggregationLength, internal/bgp session dedup) merge
 * by mergeRouteAttributes. Unparsable prefixes are left out.
 */
export function desiredRoutes(peerName: string, ads: readonly Advertisement[]): RouteTable {
  return compileAdvertisements(ads).forPeer(peerName);
}

/** A table as CIDR text -> attributes, IPv4 first (status, logs, tests). */
export function describeTable(t: RouteTable): Map<string, RouteAttributes> {
  const out = new Map<string, RouteAttributes>();
  for (const f of ['ipv4', 'ipv6'] as const) for (const [k, a] of t[f]) out.set(keyText(f, k), a);
  return out;
}

/** Number of routes in a table. */
export function tableSize(t: RouteTable): number {
  return t.ipv4.size + t.ipv6.size;
}

export interface RouteGroup {
  readonly family: Family;
  readonly attributes: RouteAttributes;
  /** The prefixes, in their NLRI encoding (nlri.ts prefixOfKey turns one back into a Prefix). */
  readonly keys: readonly NlriKey[];
}

export interface RibDiff {
  /** New or changed routes, grouped by family and attributes. */
  readonly announce: readonly RouteGroup[];
  /** Prefixes to withdraw, by family. */
  readonly withdraw: readonly { readonly family: Family; readonly keys: readonly NlriKey[] }[];
}

/** Groups one family's routes by attribute set (interned: grouped by identity), in first-seen order. */
function groupInto(groups: RouteGroup[], family: Family, routes: Iterable<readonly [NlriKey, RouteAttributes]>): void {
  const byAttrs = new Map<RouteAttributes, NlriKey[]>();
  for (const [k, a] of routes) {
    let g = byAttrs.get(a);
    if (g === undefined) {
      g = [];
      byAttrs.set(a, g);
    }
    g.push(k);
  }
  for (const [attributes, keys] of byAttrs) groups.push({ family, attributes, keys });
}

/** Groups a table's routes by (family, attributes), IPv4 first. */
export function groupRoutes(t: RouteTable, families: readonly Family[] = ['ipv4', 'ipv6']): RouteGroup[] {
  const groups: RouteGroup[] = [];
  for (const f of families) groupInto(groups, f, t[f]);
  return groups;
}

/** What to send to turn `sent` into `desired`: changed/new routes announced (an announcement implicitly
 * replaces the previous path, RFC 4271 §3.1), vanished prefixes withdrawn. */
export function diffRoutes(sent: RouteTable, desired: RouteTable): RibDiff {
  const announce: RouteGroup[] = [];
  const withdraw: { family: Family; keys: NlriKey[] }[] = [];
  for (const f of ['ipv4', 'ipv6'] as const) {
    const before = sent[f];
    const after = desired[f];
    if (before === after) continue;
    const changed: [NlriKey, RouteAttributes][] = [];
    if (before.size === 0) groupInto(announce, f, after);
    else {
      for (const [k, a] of after) {
        const old = before.get(k);
        if (old === undefined || !sameAttributes(old, a)) changed.push([k, a]);
      }
      groupInto(announce, f, changed);
    }
    const gone: NlriKey[] = [];
    for (const k of before.keys()) if (!after.has(k)) gone.push(k);
    if (gone.length > 0) withdraw.push({ family: f, keys: gone });
  }
  return { announce, withdraw };
}
