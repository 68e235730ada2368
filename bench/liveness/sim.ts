// Liveness cost and detection at cluster scale, in one process, with the real pure core: the heartbeat
// codec (HMAC-SHA256 on every datagram, both ways) and the detector (src/liveness), over a simulated
// clock. N members, V layer 2 VIPs; each VIP's candidates ranked by the election's hash
// (sha256(node#ip), every node a candidate), the first L2_WINDOW of them stand by for it. Who watches
// whom is what src/liveness/runtime.ts computes: every member above DEFAULT_FULL_MESH_UP_TO nodes watches
// only the nodes that share a VIP window with it. Prints packets per second (cluster, per node), the CPU
// the core took per simulated second, and the detection time when one member goes silent.
//
// Run: node --import tsx bench/liveness/sim.ts [--members 100] [--vips 1000] [--seconds 10] [--interval-ms 100]
import { parseArgs } from 'node:util';
import { electionHash } from '../../src/l2/election.ts';
import { decodeHeartbeat, encodeHeartbeat } from '../../src/liveness/packet.ts';
import { createDetector, DEFAULT_DETECTOR, type Detector } from '../../src/liveness/detector.ts';
import { DEFAULT_FULL_MESH_UP_TO, L2_WINDOW } from '../../src/liveness/runtime.ts';

const { values } = parseArgs({
  options: { members: { type: 'string', default: '100' }, vips: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '10' }, 'interval-ms': { type: 'string', default: '100' } },
});
const N = Number(values.members);
const V = Number(values.vips);
const SECONDS = Number(values.seconds);
const INTERVAL = Number(values['interval-ms']);
const KEY = Buffer.from('bench-liveness-shared-key-0123456789');

const names = Array.from({ length: N }, (_, i) => `node-${String(i).padStart(3, '0')}`);
// Documentation addresses: 2001:db8::/32 has room for any V.
const vips = Array.from({ length: V }, (_, i) => `2001:db8::${i.toString(16)}`);

// Who watches whom.
const watch = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
let ownedBy = new Map<string, number>();
for (const vip of vips) {
  const ranked = [...names].sort((a, b) => Buffer.compare(electionHash(a, vip), electionHash(b, vip))).slice(0, L2_WINDOW);
  ownedBy.set(ranked[0] ?? '', (ownedBy.get(ranked[0] ?? '') ?? 0) + 1);
  for (const a of ranked) for (const b of ranked) if (a !== b) watch.get(a)?.add(b);
}
if (N <= DEFAULT_FULL_MESH_UP_TO) for (const n of names) watch.set(n, new Set(names.filter((x) => x !== n)));
const pairs = [...watch.values()].reduce((s, w) => s + w.size, 0);
const perSecond = 1000 / INTERVAL;
const degrees = [...watch.values()].map((w) => w.size).sort((a, b) => a - b);
ownedBy = new Map([...ownedBy].sort((a, b) => a[1] - b[1]));

// Run the core: every member encodes one heartbeat per interval (one HMAC), each watcher decodes it
// (one HMAC) and feeds its detector; detectors tick every half interval. Member 0 goes silent half way.
const detectors = new Map<string, Detector>(names.map((n) => [n, createDetector({ self: n, ...DEFAULT_DETECTOR, intervalMs: INTERVAL }, 0)]));
for (const [n, d] of detectors) d.setMembers(watch.get(n) ?? [], 0);
const victim = names[0] ?? '';
const silentAt = (SECONDS * 1000) / 2;
const detectedAt = new Map<string, number>();
const seq = new Map<string, number>(names.map((n) => [n, 0]));
let datagrams = 0;
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (let t = 0; t <= SECONDS * 1000; t += INTERVAL / 2) {
  const sending = t % INTERVAL === 0;
  if (sending) {
    for (const n of names) {
      if (n === victim && t >= silentAt) continue;
      const s = (seq.get(n) ?? 0) + 1;
      seq.set(n, s);
      const wire = encodeHeartbeat({ node: n, leaving: false, boot: '0123456789abcdef', seq: s, sentAt: 1_700_000_000_000 + t, macs: ['02:00:00:00:00:01'] }, KEY);
      for (const w of watch.get(n) ?? []) {
        const r = decodeHeartbeat(wire, KEY);
        if (!r.ok) throw new Error(`decode failed: ${r.problem}`);
        detectors.get(w)?.receive(r.heartbeat, t, 1_700_000_000_000 + t);
        datagrams++;
      }
    }
  }
  for (const [n, d] of detectors) {
    for (const tr of d.tick(t).transitions) {
      if (tr.node !== victim || tr.to !== 'dead') throw new Error(`unexpected transition ${JSON.stringify(tr)} at ${n}`);
      if (!detectedAt.has(n)) detectedAt.set(n, t - silentAt);
    }
  }
}
const cpu = process.cpuUsage(cpu0);
const wall = performance.now() - wall0;
const cpuMs = (cpu.user + cpu.system) / 1000;
const watchersOfVictim = [...watch].filter(([, w]) => w.has(victim)).length;
const detection = [...detectedAt.values()];

const out: string[] = [];
out.push(`berth liveness simulation (${new Date().toISOString()}, node ${process.version})`);
out.push(`${N} members, ${V} layer 2 VIPs, window ${L2_WINDOW} (owner + ${L2_WINDOW - 1} standing by), heartbeat every ${INTERVAL} ms, dead after ${DEFAULT_DETECTOR.deadAfter} missed`);
out.push(`watch pairs (directed): ${pairs}; members watched per node: min ${degrees[0]}, median ${degrees[Math.floor(degrees.length / 2)]}, max ${degrees[degrees.length - 1]}${N <= DEFAULT_FULL_MESH_UP_TO ? ' (full mesh)' : ''}`);
out.push(`VIPs owned per node: min ${[...ownedBy.values()][0]}, max ${[...ownedBy.values()].at(-1)}`);
out.push(`heartbeats: ${pairs * perSecond} packets/s in the whole cluster; per node ${Math.round((degrees.reduce((a, b) => a + b, 0) / N) * perSecond)} sent and as many received per second on average (max ${(degrees.at(-1) ?? 0) * perSecond})`);
out.push(`a full mesh would be ${N * (N - 1) * perSecond} packets/s`);
const bytes = encodeHeartbeat({ node: names[0] ?? '', leaving: false, boot: '0123456789abcdef', seq: 1, sentAt: 0, macs: ['02:00:00:00:00:01'] }, KEY).length;
out.push(`datagram: ${bytes} octets of UDP payload (+28 IPv4/UDP headers): ${Math.round(((pairs * perSecond * (bytes + 28 + 14)) / N) * 8 / 1000)} kbit/s per node each way (with Ethernet headers)`);
out.push(`core CPU: ${datagrams} datagrams encoded+authenticated+decoded in ${cpuMs.toFixed(0)} ms CPU (${wall.toFixed(0)} ms wall) for ${SECONDS} simulated s`);
out.push(`  = ${((cpuMs / SECONDS / 1000) * 100).toFixed(2)}% of one CPU for the whole cluster, ${((cpuMs / SECONDS / 1000 / N) * 100).toFixed(4)}% per node (${((cpuMs * 1000) / datagrams).toFixed(2)} µs per datagram, both ends)`);
out.push(`detection: ${victim} silent at ${silentAt} ms; ${detectedAt.size}/${watchersOfVictim} watchers declared it dead after ${Math.min(...detection)}-${Math.max(...detection)} ms (simulated clock, ${INTERVAL / 2} ms ticks)`);
process.stdout.write(`${out.join('\n')}\n`);
