// Adj-RIB-Out (RFC 4271 §3.2): per peer, the routes we advertise to it. Pure: the speaker computes the
// desired table for a peer from the advertisements, diffs it against what the peer has been sent, and
// sends only the difference, grouped so that prefixes sharing attributes travel in the same UPDATEs.
import type { Family, LargeCommunity, Prefix } from './messages/types.ts';
import { parsePrefix as parseNlriPrefix } from './nlri.ts';

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
}

export interface Route {
  readonly prefix: Prefix;
  readonly attributes: RouteAttributes;
  /** Canonical text of `attributes`: equal keys share UPDATEs. */
  readonly attributesKey: string;
}

/** Keyed by canonical prefix text ('198.51.100.0/24'). */
export type RouteTable = ReadonlyMap<string, Route>;

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

function routeAttributes(localPref: number | undefined, communities: Iterable<number>, large: Iterable<LargeCommunity>): RouteAttributes {
  const cs = [...new Set(communities)].sort((a, b) => a - b);
  const ls = [...new Map([...large].map((c) => [largeKey(c), c])).values()].sort(compareLarge);
  return { ...(localPref !== undefined ? { localPref } : {}), communities: cs, largeCommunities: ls };
}

function attributesKey(a: RouteAttributes): string {
  return `lp=${a.localPref ?? ''};c=${a.communities.join(',')};l=${a.largeCommunities.map(largeKey).join(',')}`;
}

/** Advertisements parsed once (on setAdvertisements), then cut per peer and family cheaply. */
export interface CompiledAdvertisements {
  /** Advertisements whose prefix did not parse; left out (the caller logs them). */
  readonly rejected: readonly { readonly prefix: string; readonly reason: string }[];
  /** The routes a peer should have, by family (see desiredRoutes). Tables are shared: do not mutate. */
  forPeer(peerName: string): Readonly<Record<Family, RouteTable>>;
}

interface ParsedAdvertisement {
  readonly ad: Advertisement;
  readonly prefix: Prefix;
  readonly key: string;
}

export function compileAdvertisements(ads: readonly Advertisement[]): CompiledAdvertisements {
  const parsed: ParsedAdvertisement[] = [];
  const rejected: { prefix: string; reason: string }[] = [];
  for (const ad of ads) {
    try {
      const prefix = parsePrefix(ad.prefix);
      parsed.push({ ad, prefix, key: prefixKey(prefix) });
    } catch (e) {
      rejected.push({ prefix: ad.prefix, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  const filtered = parsed.some((p) => p.ad.peers !== undefined);
  // One RouteAttributes object per distinct attribute set: 100,000 /32s with the same communities
  // share one object (memory), and equal keys group into the same UPDATEs.
  const interned = new Map<string, RouteAttributes>();
  const build = (peerName: string | undefined): Record<Family, Map<string, Route>> => {
    const acc = new Map<string, { prefix: Prefix; localPref: number | undefined; communities: number[]; large: LargeCommunity[] }>();
    for (const { ad, prefix, key } of parsed) {
      if (peerName !== undefined && ad.peers !== undefined && !ad.peers.includes(peerName)) continue;
      const cur = acc.get(key);
      if (cur === undefined) {
        acc.set(key, { prefix, localPref: ad.localPref, communities: [...(ad.communities ?? [])], large: [...(ad.largeCommunities ?? [])] });
      } else {
        cur.localPref ??= ad.localPref;
        cur.communities.push(...(ad.communities ?? []));
        cur.large.push(...(ad.largeCommunities ?? []));
      }
    }
    const out: Record<Family, Map<string, Route>> = { ipv4: new Map(), ipv6: new Map() };
    for (const [key, a] of acc) {
      const fresh = routeAttributes(a.localPref, a.communities, a.large);
      const attrsKey = attributesKey(fresh);
      let attributes = interned.get(attrsKey);
      if (attributes === undefined) {
        attributes = fresh;
        interned.set(attrsKey, attributes);
      }
      out[a.prefix.family].set(key, { prefix: a.prefix, attributes, attributesKey: attrsKey });
    }
    return out;
  };
  // Built now rather than on first use: the first use is a session reaching Established, and building
  // 100,000 routes there delays the table by ~250 ms (bench/bgp/run.ts, docs/bgp-benchmark.md).
  let shared: Record<Family, Map<string, Route>> | undefined = filtered ? undefined : build(undefined);
  return {
    rejected,
    forPeer(peerName) {
      if (!filtered) return (shared ??= build(undefined));
      return build(peerName);
    },
  };
}

/**
 * The routes a peer should have: the advertisements that select it, deduplicated by prefix. Several
 * advertisements of one prefix (Services sharing an aggregate, MetalLB §5.1/§5.3) merge: communities and
 * large communities are unioned, the first LOCAL_PREF given wins. Unparsable prefixes are left out.
 */
export function desiredRoutes(peerName: string, ads: readonly Advertisement[]): Map<string, Route> {
  const t = compileAdvertisements(ads).forPeer(peerName);
  return new Map([...t.ipv4, ...t.ipv6]);
}

export interface RouteGroup {
  readonly family: Family;
  readonly attributes: RouteAttributes;
  readonly prefixes: readonly Prefix[];
}

export interface RibDiff {
  /** New or changed routes, grouped by family and attributes. */
  readonly announce: readonly RouteGroup[];
  /** Prefixes to withdraw, by family. */
  readonly withdraw: readonly { readonly family: Family; readonly prefixes: readonly Prefix[] }[];
}

/** Groups routes by (family, attributes) in first-seen order. */
export function groupRoutes(routes: Iterable<Route>): RouteGroup[] {
  const groups = new Map<string, { family: Family; attributes: RouteAttributes; prefixes: Prefix[] }>();
  for (const r of routes) {
    const k = `${r.prefix.family}|${r.attributesKey}`;
    let g = groups.get(k);
    if (g === undefined) {
      g = { family: r.prefix.family, attributes: r.attributes, prefixes: [] };
      groups.set(k, g);
    }
    g.prefixes.push(r.prefix);
  }
  return [...groups.values()];
}

/** What to send to turn `sent` into `desired`: changed/new routes announced (an announcement implicitly
 * replaces the previous path, RFC 4271 §3.1), vanished prefixes withdrawn. */
export function diffRoutes(sent: RouteTable, desired: RouteTable): RibDiff {
  const changed: Route[] = [];
  for (const [key, r] of desired) {
    if (sent.get(key)?.attributesKey !== r.attributesKey) changed.push(r);
  }
  const gone: Record<Family, Prefix[]> = { ipv4: [], ipv6: [] };
  for (const [key, r] of sent) if (!desired.has(key)) gone[r.prefix.family].push(r.prefix);
  const withdraw = (['ipv4', 'ipv6'] as const).filter((f) => gone[f].length > 0).map((f) => ({ family: f, prefixes: gone[f] }));
  return { announce: groupRoutes(changed), withdraw };
}

/** Parses 'high:low' community text into its 32-bit value (RFC 1997). */
export function parseCommunity(text: string): number {
  const m = /^(\d{1,5}):(\d{1,5})$/.exec(text);
  const hi = Number(m?.[1]);
  const lo = Number(m?.[2]);
  if (m === null || hi > 0xffff || lo > 0xffff) throw new Error(`bad community ${JSON.stringify(text)}`);
  return (hi * 0x10000 + lo) >>> 0;
}
