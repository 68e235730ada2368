// The client half of the layer 2 benchmark. Runs inside the client namespace (started by run.ts with
// `ip netns exec`), sends ARP requests from a raw AF_PACKET socket (src/sys) and timestamps replies.
// Prints one JSON object on stdout.
//
// Usage: client.ts --iface eth1 --source <IPv4> --source6 <IPv6> --berth <VIP> --kernel <IP>
//                  --berth6 <VIP6> --kernel6 <IPv6> --count N --rates 1000,5000,...
import { readFileSync } from 'node:fs';
import { EtherType, openPacketSocket } from '../../src/sys/index.ts';
import { decodeArp } from '../../src/l2/arp.ts';
import { decodeEthernet } from '../../src/l2/ethernet.ts';
import { encodeArp } from '../../src/l2/arp.ts';
import { encodeEthernet } from '../../src/l2/ethernet.ts';
import { ArpOperation, IpProtocol, NDP_HOP_LIMIT } from '../../src/l2/constants.ts';
import { BROADCAST_MAC, ZERO_MAC, ipv6MulticastMac, solicitedNodeMulticast } from '../../src/l2/addresses.ts';
import { decodeIpv6, encodeIpv6 } from '../../src/l2/ipv6.ts';
import { decodeNdp, encodeNdp } from '../../src/l2/icmpv6.ts';

function arg(name: string): string {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  if (v === undefined) throw new Error(`missing --${name}`);
  return v;
}

const iface = arg('iface');
const berthIp = arg('berth');
const kernelIp = arg('kernel');
const myIp = arg('source');
const myIp6 = arg('source6');
const berthIp6 = arg('berth6');
const kernelIp6 = arg('kernel6');
const count = Number(arg('count'));
const rates = arg('rates').split(',').map(Number);
const warmupAt = process.argv.indexOf('--warmup');
/** Request pairs sent (and not measured) before each latency series. */
const warmup = warmupAt >= 0 ? Number(process.argv[warmupAt + 1]) : 50;
/** Warm-up requests go to the kernel's address only: the client's own code warms, berth sees none. */
const warmupKernelOnly = process.argv.includes('--warmup-kernel-only');
const myMac = readFileSync(`/sys/class/net/${iface}/address`, 'utf8').trim();

type Waiter = { readonly target: string; readonly resolve: (t: bigint | undefined) => void };
let waiter: Waiter | undefined;
let rateReplies = 0;
let rateTarget = '';

const sock = openPacketSocket({
  ifname: iface,
  etherType: EtherType.ARP,
  onFrame: ({ frame }) => {
    const now = process.hrtime.bigint();
    let p;
    try {
      p = decodeArp(decodeEthernet(frame).payload);
    } catch {
      return;
    }
    if (p.operation !== ArpOperation.reply || p.targetProtocol !== myIp) return;
    if (p.senderProtocol === rateTarget) rateReplies++;
    if (waiter !== undefined && p.senderProtocol === waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve(now);
    }
  },
});

/** A Neighbor Solicitation for `target` from our global address to its solicited-node group (RFC 4861 §7.2.2). */
function solicitation(target: string): Buffer {
  const group = solicitedNodeMulticast(target);
  const pseudo = { source: myIp6, destination: group };
  return encodeEthernet({
    destination: ipv6MulticastMac(group),
    source: myMac,
    etherType: 0x86dd,
    payload: encodeIpv6({
      header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: NDP_HOP_LIMIT, ...pseudo },
      payload: encodeNdp({ kind: 'neighborSolicitation', target, options: [{ kind: 'sourceLinkLayerAddress', address: myMac }] }, pseudo),
    }),
  });
}

const sock6 = openPacketSocket({
  ifname: iface,
  etherType: EtherType.IPv6,
  onFrame: ({ frame }) => {
    const now = process.hrtime.bigint();
    if (waiter === undefined) return;
    let target: string;
    try {
      const ip = decodeIpv6(decodeEthernet(frame).payload);
      if (ip.header.nextHeader !== IpProtocol.icmpv6 || ip.header.destination !== myIp6) return;
      const m = decodeNdp(ip.payload, ip.header).message;
      if (m.kind !== 'neighborAdvertisement' || !m.solicited) return;
      target = m.target;
    } catch {
      return;
    }
    if (target === waiter.target) {
      const w = waiter;
      waiter = undefined;
      w.resolve(now);
    }
  },
});

function request(target: string): Buffer {
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: myMac,
    etherType: 0x0806,
    payload: encodeArp({ operation: ArpOperation.request, senderHardware: myMac, senderProtocol: myIp, targetHardware: ZERO_MAC, targetProtocol: target }),
  });
}

/** One request, one reply: the round trip in microseconds, or undefined after 200 ms. */
function ping(target: string, frame: Buffer, via = sock): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiter = undefined;
      resolve(undefined);
    }, 200);
    let start = 0n;
    waiter = {
      target,
      resolve: (t) => {
        clearTimeout(timer);
        resolve(t === undefined ? undefined : Number(t - start) / 1000);
      },
    };
    start = process.hrtime.bigint();
    via.send(frame);
  });
}

function quantile(samples: readonly number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
}

function summary(samples: number[], lost: number) {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  const half = Math.floor(samples.length / 2);
  return {
    answered: s.length,
    lost,
    p50_us: quantile(s, 0.5),
    p99_us: quantile(s, 0.99),
    mean_us: mean,
    max_us: s[s.length - 1] ?? Number.NaN,
    // Diagnostic: the p99 of the first and the second half of the samples in the order they were
    // taken. A tail only in the first half is warm-up (code not yet optimised); an even one is not.
    p99_first_half_us: quantile(samples.slice(0, half), 0.99),
    p99_second_half_us: quantile(samples.slice(half), 0.99),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function latency() {
  const frames = { berth: request(berthIp), kernel: request(kernelIp) };
  const samples = { berth: [] as number[], kernel: [] as number[] };
  const lost = { berth: 0, kernel: 0 };
  // Interleaved so both see the same machine load; a short warm-up first.
  for (let i = 0; i < warmup; i++) {
    await ping(warmupKernelOnly ? kernelIp : berthIp, warmupKernelOnly ? frames.kernel : frames.berth);
    await ping(kernelIp, frames.kernel);
  }
  for (let i = 0; i < count; i++) {
    for (const who of i % 2 === 0 ? (['berth', 'kernel'] as const) : (['kernel', 'berth'] as const)) {
      const rtt = await ping(who === 'berth' ? berthIp : kernelIp, frames[who]);
      if (rtt === undefined) lost[who]++;
      else samples[who].push(rtt);
    }
  }
  return { berth: summary(samples.berth, lost.berth), kernel: summary(samples.kernel, lost.kernel) };
}

async function latency6() {
  const frames = { berth: solicitation(berthIp6), kernel: solicitation(kernelIp6) };
  const samples = { berth: [] as number[], kernel: [] as number[] };
  const lost = { berth: 0, kernel: 0 };
  for (let i = 0; i < warmup; i++) {
    await ping(warmupKernelOnly ? kernelIp6 : berthIp6, warmupKernelOnly ? frames.kernel : frames.berth, sock6);
    await ping(kernelIp6, frames.kernel, sock6);
  }
  for (let i = 0; i < count; i++) {
    for (const who of i % 2 === 0 ? (['berth', 'kernel'] as const) : (['kernel', 'berth'] as const)) {
      const rtt = await ping(who === 'berth' ? berthIp6 : kernelIp6, frames[who], sock6);
      if (rtt === undefined) lost[who]++;
      else samples[who].push(rtt);
    }
  }
  return { berth: summary(samples.berth, lost.berth), kernel: summary(samples.kernel, lost.kernel) };
}

/** Sends `rate` requests per second for one second (paced per millisecond tick) and counts replies. */
async function atRate(target: string, rate: number) {
  const frame = request(target);
  rateTarget = target;
  rateReplies = 0;
  sock.stats(); // reset kernel counters
  let sent = 0;
  let sendErrors = 0;
  const start = process.hrtime.bigint();
  while (sent < rate) {
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const due = Math.min(rate, Math.floor(elapsedS * rate));
    for (; sent < due; sent++) {
      try {
        sock.send(frame);
      } catch {
        sendErrors++;
      }
    }
    await sleep(1);
  }
  const tookS = Number(process.hrtime.bigint() - start) / 1e9;
  await sleep(500); // late replies
  const k = sock.stats();
  rateTarget = '';
  return { rate, sent, sendErrors, replies: rateReplies, unanswered: sent - rateReplies, seconds: tookS, clientSocketDrops: k.drops };
}

async function main(): Promise<void> {
  const lat = await latency();
  const lat6 = await latency6();
  const steps = [];
  for (const r of rates) {
    steps.push(await atRate(berthIp, r));
    await sleep(300);
  }
  const kernelAt10k = rates.includes(10_000) ? await atRate(kernelIp, 10_000) : undefined;
  process.stdout.write(`${JSON.stringify({ latency: lat, latency6: lat6, rates: steps, kernelAt10k })}\n`);
  sock.close();
  sock6.close();
}

await main();
