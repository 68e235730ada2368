// The benchmark's tables. IPv4 /32s come from the RFC 2544 benchmarking range 198.18.0.0/15 (131,072
// addresses: 100,000 /32s do not fit in the documentation ranges); IPv6 /128s from the documentation
// prefix 2001:db8:f00::/64. Routes only: no packet is ever sent to these addresses.
export const BENCH_V4_BASE = ((198 << 24) | (18 << 16)) >>> 0;
export const BENCH_V4_MAX = 1 << 17;

export type BenchFamily = 'ipv4' | 'ipv6';

export function benchPrefix(family: BenchFamily, i: number): string {
  if (family === 'ipv6') return `2001:db8:f00::${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}/128`;
  const n = (BENCH_V4_BASE + i) >>> 0;
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}/32`;
}

export function benchTable(family: BenchFamily, count: number): string[] {
  if (family === 'ipv4' && count > BENCH_V4_MAX) throw new RangeError(`at most ${BENCH_V4_MAX} IPv4 /32s fit in 198.18.0.0/15`);
  return Array.from({ length: count }, (_, i) => benchPrefix(family, i));
}
