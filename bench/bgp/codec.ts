// Micro-benchmarks of the BGP codec's hot paths, moved out of the unit tests (tests assert behaviour,
// not speed): packing 100,000 IPv4 /32s into UPDATEs, and framing a 65,535-octet message fed one
// octet at a time (linear, not quadratic, copying). Prints the best of RUNS runs after a warm-up.
// Prefixes from the RFC 2544 benchmarking range 198.18.0.0/15, as bench/bgp/run.ts. No sockets, no root.
// Usage: node --import tsx bench/bgp/codec.ts [RUNS]
import { createFramer, packAnnouncements } from '../../src/bgp/codec.ts';
import { makeContext } from '../../src/bgp/context.ts';
import type { PathAttribute, Prefix } from '../../src/bgp/messages/types.ts';

const runs = Number(process.argv[2] ?? 5);
if (!Number.isInteger(runs) || runs < 1) throw new Error(`RUNS must be a positive integer, got ${process.argv[2] ?? ''}`);
const CTX4 = makeContext({ fourOctetAs: true, extendedMessage: false });
const CTX4X = makeContext({ fourOctetAs: true, extendedMessage: true });
const ATTRS: readonly PathAttribute[] = [
  { kind: 'ORIGIN', origin: 0 },
  { kind: 'AS_PATH', segments: [{ type: 2, asns: [4200000001] }] },
  { kind: 'COMMUNITIES', communities: [0xfde90064] },
];

/** Best wall time of `runs` calls after one warm-up call (JIT), in ms. */
function best(fn: () => void): number {
  fn();
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    min = Math.min(min, performance.now() - t0);
  }
  return min;
}

const prefixes: Prefix[] = [];
for (let i = 0; i < 100_000; i++) prefixes.push({ family: 'ipv4', address: `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, length: 32 });
const packMs = best(() => {
  packAnnouncements({ attributes: ATTRS, nextHops: { ipv4: '192.0.2.1' }, prefixes }, CTX4);
});

const prefixes6: Prefix[] = [];
for (let i = 0; i < 100_000; i++) prefixes6.push({ family: 'ipv6', address: `2001:db8::${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}`, length: 128 });
const pack6Ms = best(() => {
  packAnnouncements({ attributes: ATTRS, nextHops: { ipv6: '2001:db8::1', ipv6LinkLocal: 'fe80::1' }, prefixes: prefixes6 }, CTX4);
});

const msg = Buffer.alloc(65535);
msg.fill(0xff, 0, 16);
msg.writeUInt16BE(65535, 16);
msg[18] = 2;
const frameMs = best(() => {
  const framer = createFramer();
  let frames = 0;
  for (let i = 0; i < msg.length; i++) {
    framer.push(msg.subarray(i, i + 1));
    if (framer.next(CTX4X) !== undefined) frames++;
  }
  if (frames !== 1) throw new Error(`framed ${String(frames)} messages, want 1`);
});

console.log(`pack 100,000 IPv4 /32 announcements      ${packMs.toFixed(1).padStart(8)} ms (best of ${String(runs)})`);
console.log(`pack 100,000 IPv6 /128 announcements     ${pack6Ms.toFixed(1).padStart(8)} ms (best of ${String(runs)})`);
console.log(`frame 65,535 octets fed 1 octet at a time ${frameMs.toFixed(1).padStart(8)} ms (best of ${String(runs)})`);
