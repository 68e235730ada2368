// The client half of the layer 2 benchmark. Runs inside the client namespace (started by run.ts with
// `ip netns exec`), sends ARP requests from a raw AF_PACKET socket (src/sys) and timestamps replies.
// Prints one JSON object on stdout.
//
// Usage: client.ts --iface eth1 --berth <VIP> --kernel <IP> --count N --rates 1000,5000,...
import { readFileSync } from 'node:fs';
import { EtherType, openPacketSocket } from '../../src/sys/index.ts';
import { decodeArp } from '../../src/l2/arp.ts';
import { decodeEthernet } from '../../src/l2/ethernet.ts';
import { encodeArp } from '../../src/l2/arp.ts';
import { encodeEthernet } from '../../src/l2/ethernet.ts';
import { ArpOperation } from '../../src/l2/constants.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../src/l2/addresses.ts';

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
const count = Number(arg('count'));
const rates = arg('rates').split(',').map(Number);
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

function request(target: string): Buffer {
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: myMac,
    etherType: 0x0806,
    payload: encodeArp({ operation: ArpOperation.request, senderHardware: myMac, senderProtocol: myIp, targetHardware: ZERO_MAC, targetProtocol: target }),
  });
}

/** One request, one reply: the round trip in microseconds, or undefined after 200 ms. */
function ping(target: string, frame: Buffer): Promise<number | undefined> {
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
    sock.send(frame);
  });
}

function summary(samples: number[], lost: number) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? Number.NaN;
  const mean = s.reduce((a, b) => a + b, 0) / Math.max(1, s.length);
  return { answered: s.length, lost, p50_us: q(0.5), p99_us: q(0.99), mean_us: mean, max_us: s[s.length - 1] ?? Number.NaN };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function latency() {
  const frames = { berth: request(berthIp), kernel: request(kernelIp) };
  const samples = { berth: [] as number[], kernel: [] as number[] };
  const lost = { berth: 0, kernel: 0 };
  // Interleaved so both see the same machine load; a short warm-up first.
  for (let i = 0; i < 50; i++) {
    await ping(berthIp, frames.berth);
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
  const steps = [];
  for (const r of rates) {
    steps.push(await atRate(berthIp, r));
    await sleep(300);
  }
  const kernelAt10k = rates.includes(10_000) ? await atRate(kernelIp, 10_000) : undefined;
  process.stdout.write(`${JSON.stringify({ latency: lat, rates: steps, kernelAt10k })}\n`);
  sock.close();
}

await main();
