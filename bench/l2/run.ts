// Layer 2 benchmark: how fast berth answers ARP compared with the Linux kernel, measured in the same run.
//
// Topology (frr-lab, prefix bl2b): one node namespace and a client on a LAN bridge. The node runs the
// berth responder (real engine over AF_PACKET) owning a VIP; the node's kernel owns its own address.
// From the client namespace a raw AF_PACKET sender (bench/l2/client.ts) sends:
//   1. 2,000 ARP requests to the berth VIP and 2,000 to the kernel's address, interleaved, one
//      outstanding at a time: p50/p99 round trip each, and berth's ratio to the kernel; the same
//      for IPv6 Neighbor Solicitations (berth VIP6 vs the node's IPv6 address);
//   2. ARP requests to the VIP at increasing rates for one second each: the largest rate with zero
//      unanswered requests (target: 10,000 req/s), plus the kernel at 10,000 req/s for reference.
// Needs root. Usage: node --import tsx bench/l2/run.ts [--count 2000] [--rates 1000,2000,5000,10000,20000]
//   [--warmup 1000] (request pairs sent before each latency series and not measured)
//   [--warmup-to kernel|both] (default kernel: the warm-up requests all go to the kernel's address,
//   so only the client's own code warms; a Node client that has not warmed up competes with berth
//   for the 2 CPUs with its compiler threads, see docs/layer2.md)
//   [--settle-ms 10000] (wait this long after the responder started before the client begins: V8's
//   memory reducer runs its Mark-Compacts about 8 s after a process starts, see docs/layer2.md)
//   [--trace-gc] (the responder runs with node --trace-gc; the GC lines it printed are summarised)
//   [--pin CPU] [--rt] [--pin-client CPU] [--rt-client] (diagnostics only: pin the responder's threads to one CPU
//   with taskset, run them SCHED_FIFO 10 with chrt, pin the client; these say how much of the
//   latency is waiting for a CPU or waking one up) [--responder-flags '--no-memory-reducer'] (node
//   flags for the responder, diagnostics too) [--threads N] (answer threads at most, as
//   `berth speaker --l2-threads`; default 8; 0 answers on the responder's main thread)
// The load average is printed before and after the run: the machine is shared.
import { fileURLToPath } from 'node:url';
import { loadavg } from 'node:os';
import { execFileSync } from 'node:child_process';
import { withLab } from '../../frr-lab/lab.ts';
import { Responder } from '../../test/integration/l2/harness.ts';

const VIP = '203.0.113.10';
const VIP6 = '2001:db8:f00::10';

function opt(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return (i >= 0 ? process.argv[i + 1] : undefined) ?? dflt;
}

interface Summary {
  readonly answered: number;
  readonly lost: number;
  readonly p50_us: number;
  readonly p99_us: number;
  readonly mean_us: number;
  readonly max_us: number;
  readonly p99_first_half_us: number;
  readonly p99_second_half_us: number;
}
interface RateStep {
  readonly rate: number;
  readonly sent: number;
  readonly replies: number;
  readonly unanswered: number;
  readonly seconds: number;
  readonly sendErrors: number;
  readonly clientSocketDrops: number;
}
interface ClientResult {
  readonly latency: { readonly berth: Summary; readonly kernel: Summary };
  readonly latency6: { readonly berth: Summary; readonly kernel: Summary };
  readonly rates: readonly RateStep[];
  readonly kernelAt10k?: RateStep;
}

const count = opt('count', '2000');
const rates = opt('rates', '1000,2000,5000,10000,20000');
const warmup = opt('warmup', '1000');
// Default: the client warms its own code against the kernel only, and berth's first measured request
// is the first one it sees. 'both' sends the warm-up pairs to berth too (the method before 2026-11-21 07:00).
const warmupKernelOnly = opt('warmup-to', 'kernel') !== 'both';
/** Milliseconds between the responder owning its VIPs and the client's first request. */
const settleMs = Number(opt('settle-ms', '10000'));
const traceGc = process.argv.includes('--trace-gc');
const pin = opt('pin', '');
const rt = process.argv.includes('--rt');
const pinClient = opt('pin-client', '');
const rtClient = process.argv.includes('--rt-client');
const threads = Number(opt('threads', '8'));
const responderFlags = opt('responder-flags', '').split(' ').filter((x) => x !== '');
const load = (): string => loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();

await withLab({ prefix: 'bl2b', nodes: 1, client: true }, async (lab) => {
  const node = lab.nodes[0];
  const client = lab.client;
  if (node === undefined || client === undefined) throw new Error('lab without node or client');
  const responder = await Responder.start(lab, node, { burst: 1, interval: 1000, refresh: 0, threads }, [...(traceGc ? ['--trace-gc'] : []), ...responderFlags]);
  const pid = responder.proc.child.pid;
  const tweaks: string[] = [];
  if (pin !== '' && pid !== undefined) {
    execFileSync('taskset', ['-a', '-p', '-c', pin, String(pid)], { stdio: 'ignore' });
    tweaks.push(`taskset -c ${pin}`);
  }
  if (rt && pid !== undefined) {
    execFileSync('chrt', ['-a', '-f', '-p', '10', String(pid)], { stdio: 'ignore' });
    tweaks.push('chrt -f 10');
  }
  const owned = await responder.own([{ vip: VIP }, { vip: VIP6 }]);
  if (owned.problems.length > 0) throw new Error(`cannot own ${VIP}: ${JSON.stringify(owned.problems)}`);
  if (settleMs > 0) await new Promise((r) => setTimeout(r, settleMs));
  responder.takeOtherOutput(); // startup's GC lines (module loading) are not the responder at work
  const clientScript = fileURLToPath(new URL('./client.ts', import.meta.url));
  const res = await lab.exec(
    client,
    [...(pinClient === '' ? [] : ['taskset', '-c', pinClient]), ...(rtClient ? ['chrt', '-f', '10'] : []), 'node', '--import', 'tsx', clientScript, '--iface', client.iface, '--source', client.ipv4, '--berth', VIP, '--kernel', node.ipv4, '--source6', client.ipv6, '--berth6', VIP6, '--kernel6', node.ipv6, '--count', count, '--rates', rates, '--warmup', warmup, ...(warmupKernelOnly ? ['--warmup-kernel-only'] : [])],
    { timeoutMs: 600_000 },
  );
  const r = JSON.parse(res.stdout.trim().split('\n').pop() ?? '{}') as ClientResult;
  const stats = await responder.stats();
  await responder.stop();
  const gcLines = responder.takeOtherOutput().filter((l) => /Scavenge|Mark-Compact|Mark-sweep/.test(l));

  const f = (x: number): string => x.toFixed(1).padStart(8);
  console.log(`berth layer 2 benchmark (${new Date().toISOString()}, node ${process.version}, ${count} requests each, interleaved, after ${warmup} unmeasured pairs${warmupKernelOnly ? ' to the kernel only' : ''})`);
  console.log(`load average before: ${loadBefore}; after: ${load()}`);
  if (settleMs > 0) console.log(`client started ${settleMs} ms after the responder was ready`);
  console.log(threads > 0 ? `berth answers per CPU (at most ${threads} threads; --threads 0: main thread)` : 'berth answers on its main thread (--threads 0)');
  if (responderFlags.length > 0) tweaks.push(`responder node flags ${responderFlags.join(' ')}`);
  if (pinClient !== '') tweaks.push(`client under taskset -c ${pinClient}`);
  if (rtClient) tweaks.push('client under chrt -f 10');
  if (tweaks.length > 0) console.log(`DIAGNOSTIC run: ${tweaks.join(', ')}`);
  for (const [title, lat] of [
    ['ARP', r.latency],
    ['NDP (NS -> NA)', r.latency6],
  ] as const) {
    const { berth, kernel } = lat;
    console.log('');
    console.log(`${title} round trip from the client namespace (µs, raw AF_PACKET sender, one request outstanding)`);
    console.log('               answered  lost       p50       p99      mean       max   p99(1st half) p99(2nd half)');
    for (const [name, s] of [
      ['berth (VIP)', berth],
      ['kernel (node IP)', kernel],
    ] as const) {
      console.log(`${name.padEnd(16)} ${String(s.answered).padStart(6)} ${String(s.lost).padStart(5)} ${f(s.p50_us)}  ${f(s.p99_us)}  ${f(s.mean_us)}  ${f(s.max_us)}        ${f(s.p99_first_half_us)}      ${f(s.p99_second_half_us)}`);
    }
    console.log(`ratio berth/kernel: p50 ${(berth.p50_us / kernel.p50_us).toFixed(2)}x, p99 ${(berth.p99_us / kernel.p99_us).toFixed(2)}x`);
  }
  console.log('');
  console.log('ARP requests to the berth VIP at a fixed rate for 1 s');
  console.log('   rate/s      sent   replies  unanswered  client-socket-drops');
  for (const s of r.rates) {
    console.log(`${String(s.rate).padStart(9)} ${String(s.sent).padStart(9)} ${String(s.replies).padStart(9)} ${String(s.unanswered).padStart(11)} ${String(s.clientSocketDrops).padStart(20)}`);
  }
  if (r.kernelAt10k !== undefined) {
    const k = r.kernelAt10k;
    console.log(`kernel at 10000/s: sent ${k.sent}, replies ${k.replies}, unanswered ${k.unanswered}`);
  }
  const lossless = r.rates.filter((s) => s.unanswered === 0).map((s) => s.rate);
  const best = lossless.length === 0 ? 0 : Math.max(...lossless);
  console.log(`largest rate answered without loss: ${best}/s (target 10000/s: ${r.rates.some((s) => s.rate === 10_000 && s.unanswered === 0) ? 'met' : 'NOT met'})`);
  if (traceGc) {
    const pauses = gcLines.map((l) => Number(/([\d.]+) \/ [\d.]+ ms/.exec(l)?.[1] ?? 'NaN')).filter((x) => Number.isFinite(x));
    const scavenges = gcLines.filter((l) => l.includes('Scavenge')).length;
    console.log(`responder GC (--trace-gc, while the client ran): ${gcLines.length} collections (${scavenges} scavenges), pauses total ${pauses.reduce((a, b) => a + b, 0).toFixed(1)} ms, max ${Math.max(0, ...pauses).toFixed(2)} ms`);
    for (const l of gcLines.filter((x) => !x.includes('Scavenge'))) console.log(`  ${l.replace(/^\[[^\]]*\]\s*/, '').slice(0, 140)}`);
  }
  console.log(`responder counters: arpReplies ${stats.arpReplies}, ndpReplies ${stats.ndpReplies}, sendErrors ${stats.sendErrors}, drops ${JSON.stringify(stats.drops)}`);
});
