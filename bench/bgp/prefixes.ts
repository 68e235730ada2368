// The benchmark table: IPv4 /32s from the RFC 2544 benchmarking range 198.18.0.0/15 (131,072 addresses)
// and IPv6 /128s from the documentation prefix 2001:db8:f00::/64.
export const V4_BASE = (198 << 24) | (18 << 16);
export const MAX_V4 = 1 << 17;

export function v4Text(i: number): string {
  const n = (V4_BASE + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

export function v6Text(i: number): string {
  return `2001:db8:f00::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
}

export function benchPrefixes(v4Count: number, v6Count: number): { v4: string[]; v6: string[] } {
  if (v4Count > MAX_V4) throw new RangeError(`at most ${MAX_V4} IPv4 prefixes fit in 198.18.0.0/15`);
  return {
    v4: Array.from({ length: v4Count }, (_, i) => `${v4Text(i)}/32`),
    v6: Array.from({ length: v6Count }, (_, i) => `${v6Text(i)}/128`),
  };
}
