// Micro-benchmark of the responders' per-frame cost: heap bytes allocated and µs per frame for the
// byte paths (respondArp / respondNdp, with the engine's reused reply buffer) and the codec-based
// references (respondArpDecoded / respondNdpDecoded), answered and dropped (notOwned).
// Usage: node --expose-gc --min-semi-space-size=64 --max-semi-space-size=64 --import tsx bench/l2/micro.ts
// (a young generation large enough that no scavenge runs during a measurement; one that does is
// reported as such instead of a byte figure).
import { respondArp, respondArpDecoded } from '../../src/l2/arp-responder.ts';
import { respondNdp, respondNdpDecoded } from '../../src/l2/ndp-responder.ts';
import { createReplyScratch } from '../../src/l2/frame-bytes.ts';
import { KERNEL_ARP_REQUEST, KERNEL_NS, MAC_B } from '../../test/unit/l2/vectors.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');
const owns = (ip: string): boolean => ip === '192.0.2.11' || ip === '2001:db8::b';
const notOwns = (): boolean => false;
const scratch = createReplyScratch();
const N = 20_000;

function probe(name: string, fn: () => void): void {
  for (let i = 0; i < N; i++) fn(); // warm up: optimised code, as in a long-running responder
  gc?.();
  const h0 = process.memoryUsage().heapUsed;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) fn();
  const t1 = process.hrtime.bigint();
  const h1 = process.memoryUsage().heapUsed;
  const bytes = h1 >= h0 ? `${((h1 - h0) / N).toFixed(0).padStart(6)} B/frame` : ' (a GC ran: no byte figure)';
  console.log(`${name.padEnd(34)} ${bytes} ${(Number(t1 - t0) / N / 1000).toFixed(2).padStart(6)} µs/frame`);
}

probe('arp answered, byte path', () => respondArp(KERNEL_ARP_REQUEST, { mac: MAC_B, owns }, scratch));
probe('arp answered, decoding path', () => respondArpDecoded(KERNEL_ARP_REQUEST, { mac: MAC_B, owns }));
probe('arp notOwned, byte path', () => respondArp(KERNEL_ARP_REQUEST, { mac: MAC_B, owns: notOwns }, scratch));
probe('arp notOwned, decoding path', () => respondArpDecoded(KERNEL_ARP_REQUEST, { mac: MAC_B, owns: notOwns }));
probe('ndp answered, byte path', () => respondNdp(KERNEL_NS, { mac: MAC_B, owns }, scratch));
probe('ndp answered, decoding path', () => respondNdpDecoded(KERNEL_NS, { mac: MAC_B, owns }));
probe('ndp notOwned, byte path', () => respondNdp(KERNEL_NS, { mac: MAC_B, owns: notOwns }, scratch));
probe('ndp notOwned, decoding path', () => respondNdpDecoded(KERNEL_NS, { mac: MAC_B, owns: notOwns }));
