// BGP sender benchmark: one table sent by berth, GoBGP, BIRD 2 and FRR's own bgpd in turn, each from
// the same node namespace (frr-lab, prefix bben), each with its whole table loaded before its session
// opens, into each of two receivers (bench/bgp/receivers.ts): the lab router's FRR (AS 64512) and a
// BIRD 2 in the lab's client namespace on the same LAN (AS 64512 too; it ingests far faster than FRR,
// so its figures are closer to the senders' own speed). Two tables, each on its own session:
// 100,000 IPv4 /32 over IPv4, 20,000 IPv6 /128 over IPv6.
//
// The figure: from Established to the moment the receiver counts every prefix. It is read from the
// receiver itself, polled back to back (cheap: counters, no table walk): FRR `show bgp summary json`
// (pfxRcd; its own peerUptimeMsec only has one-second resolution), BIRD `show protocols all NAME`
// ("BGP state", "Routes: N imported") over its control socket; the figure runs from the first poll
// that shows the session Established to the first poll that counts the whole table.
// berth's figure is taken exactly like the others' (same receiver polls, same clock, same start event:
// the receiver showing the session Established). For berth also: the time from the router accepting
// connections (its listener is up, the neighbour is configured) to Established, i.e. setPeers ->
// Established and TCP connected -> Established as the speaker saw them, and Established -> the whole
// table handed to TCP (it is packed and written in chunks after Established); and the speaker's RSS
// with the whole table sent, in a process started like `berth` (node + the tsx loader).
//
// berth's sender runs like `berth` does (bin/berth.mjs): the compiled JavaScript in dist/ when it is
// fresh (scripts/build-dist.mjs, `npm run build`), else the sources through tsx; --from-source forces tsx.
//
//   node --import tsx bench/bgp/run.ts [--v4 N] [--v6 N] [--senders berth,gobgp,bird,frr] [--receivers frr,bird] [--runs N] [--poll MS] [--cpu-prof] [--from-source]
//   (--cpu-prof: berth's sender writes V8 CPU profiles to /tmp/bben-profiles; read them with profile-summary.ts)
//   (root; FRR, bird2, gobgpd/gobgp: scripts/deps.sh)
import { mkdir } from 'node:fs/promises';
import { statSync } from 'node:fs';
import { distIsFresh } from '../../scripts/build-dist.mjs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createLab, type Lab, type LabHost } from '../../frr-lab/lab.ts';
import type { PeerSpec } from '../../src/bgp/speaker.ts';
import { benchTable, type BenchFamily } from './table.ts';
import {
  NODE_ASN,
  ROOT,
  ROUTER,
  berthTableHolder,
  birdSender,
  frrSender,
  gobgpSender,
  rssKiB,
  sleep,
  type BerthNodeOptions,
  type Scenario,
  type Sender,
} from '../common/bgp-senders.ts';
import { RECEIVERS, birdReceiver, frrReceiver, type Receiver, type ReceiverName, type SessionView } from './receivers.ts';
import { flagValue } from '../common/args.ts';

const SENDERS = ['berth', 'gobgp', 'bird', 'frr'] as const;
type SenderName = (typeof SENDERS)[number];
const PROFILE_DIR = '/tmp/bben-profiles'; // --cpu-prof output of berth's sender process

interface Args {
  readonly v4: number;
  readonly v6: number;
  readonly senders: readonly SenderName[];
  readonly receivers: readonly ReceiverName[];
  readonly runs: number;
  readonly pollMs: number;
  readonly cpuProf: boolean;
  readonly fromSource: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (k: string): string | undefined => flagValue(argv, k);
  const list = <T extends string>(flag: string, all: readonly T[]): T[] => {
    const names = (get(flag) ?? all.join(',')).split(',');
    const unknown = names.filter((n) => !(all as readonly string[]).includes(n));
    if (unknown.length > 0) throw new Error(`--${flag}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
    return names as T[];
  };
  const senders = list('senders', SENDERS);
  const receivers = list('receivers', RECEIVERS);
  return {
    receivers,
    v4: Number(get('v4') ?? 100_000),
    v6: Number(get('v6') ?? 20_000),
    senders,
    runs: Math.max(1, Number(get('runs') ?? 1)),
    pollMs: Number(get('poll') ?? 5),
    cpuProf: argv.includes('--cpu-prof'),
    fromSource: argv.includes('--from-source'),
  };
}

// --------------------------------------------------------------------------------------------- berth

/** dist/ holds berth-node and the sources compiled from the files there are now (bin/berth.mjs's test,
 * plus berth-node.ts and table.ts not newer than their JavaScript). */
function benchDistIsFresh(): boolean {
  try {
    const js = statSync(join(ROOT, 'dist/bench/bgp/berth-node.js')).mtimeMs;
    const benchNewest = Math.max(statSync(join(ROOT, 'bench/bgp/berth-node.ts')).mtimeMs, statSync(join(ROOT, 'bench/bgp/table.ts')).mtimeMs);
    return distIsFresh() && benchNewest <= js;
  } catch {
    return false;
  }
}

/** How berth's sender process starts: like bin/berth.mjs, compiled JavaScript when fresh, else tsx. */
let berthEntry: readonly string[] = ['--import', 'tsx', 'bench/bgp/berth-node.ts'];

interface BerthTimes {
  /** setPeers -> the first receiver poll that shows the session Established (same wall clock), ms. */
  setPeersToRouterEstablished?: number;
  /** process.memoryUsage() once the table is counted, bytes. */
  memory?: NodeJS.MemoryUsage;
  /** setPeers -> OpenConfirm: berth has the router's OPEN and has sent its KEEPALIVE (the router is
   * Established when that KEEPALIVE arrives), ms. */
  setPeersToOpenConfirm?: number;
  /** setPeers (the router already listening) -> Established, ms. */
  setPeersToEstablished?: number;
  /** TCP connected (OpenSent) -> Established, ms. */
  connectedToEstablished?: number;
  /** Established -> the whole table handed to TCP, ms. */
  establishedToTableSent?: number;
}

const berthNode = (cpuProf: boolean): BerthNodeOptions => ({ entry: berthEntry, ...(cpuProf ? { cpuProfDir: PROFILE_DIR } : {}) });

async function berthSender(lab: Lab, node: LabHost, sc: Scenario, times: BerthTimes, cpuProf: boolean): Promise<Sender> {
  const b = await berthTableHolder(lab, node, sc.family, sc.count, berthNode(cpuProf));
  const peer: PeerSpec = { name: 'rt', myAsn: NODE_ASN, peerAsn: ROUTER.asn, peerAddress: sc.routerAddress };
  return {
    async open() {
      // Returns at once: the receiver's clock starts when it sees the session, not when berth is done.
      b.send({ op: 'peers', peers: [peer] });
    },
    async settle(routerEstablished) {
      const sent = await b.wait('peers', (e) => e.event === 'peers', 10_000);
      times.setPeersToRouterEstablished = routerEstablished - sent.t;
      b.send({ op: 'mem' });
      const mem = await b.wait('mem', (e) => e.event === 'mem', 10_000);
      times.memory = mem as unknown as NodeJS.MemoryUsage;
      const est = await b.wait('Established', (e) => e.event === 'state' && e.state === 'Established', 60_000);
      const conn = b.events.filter((e) => e.event === 'state' && e.state === 'OpenSent' && e.t <= est.t).at(-1);
      const oc = b.events.filter((e) => e.event === 'state' && e.state === 'OpenConfirm' && e.t <= est.t).at(-1);
      const table = await b.wait('table sent', (e) => e.event === 'established', 60_000);
      times.setPeersToEstablished = est.t - sent.t;
      if (oc !== undefined) times.setPeersToOpenConfirm = oc.t - sent.t;
      if (conn !== undefined) times.connectedToEstablished = est.t - conn.t;
      times.establishedToTableSent = table.t - est.t;
    },
    pid: () => b.proc.pid,
    async stop() {
      b.send({ op: 'stop' });
      await Promise.race([new Promise((r) => b.proc.child.once('exit', r)), sleep(cpuProf ? 15_000 : 3000)]);
      await b.proc.kill(3000);
    },
  };
}

// ------------------------------------------------------------------------------------------- measure

interface Measurement {
  /** From the first poll that saw the session Established to the first poll that counted every prefix. */
  readonly ms: number;
  /** The mean gap between polls (the figure's resolution at each end). */
  readonly pollGapMs: number;
  /** Wall clock (performance.timeOrigin based, ms) of the first poll that showed Established. */
  readonly establishedWallMs: number;
  readonly polls: number;
}


/**
 * Polls the receiver (pollMs apart, over its one long-lived control connection). Neither receiver has
 * a fine-grained session uptime (FRR's peerUptimeMsec: one second), so both ends of the interval are
 * our own clock at the polls that saw them.
 */
async function measure(rx: Receiver, sc: Scenario, pollMs: number, timeoutMs: number): Promise<Measurement> {
  const start = performance.now();
  let t0: number | undefined;
  let polls = 0;
  let last: SessionView | undefined;
  while (performance.now() - start < timeoutMs) {
    last = await rx.poll(sc.family, sc.nodeAddress);
    const now = performance.now();
    polls += 1;
    if (last.established) {
      t0 ??= now;
      if (last.count >= sc.count) return { ms: now - t0, pollGapMs: (now - start) / polls, polls, establishedWallMs: performance.timeOrigin + t0 };
    }
    await sleep(pollMs);
  }
  throw new Error(`${rx.name} receiver: timed out: ${last?.count ?? 0}/${sc.count} (${last?.state ?? 'no session'})`);
}

interface Result {
  readonly receiver: ReceiverName;
  readonly sender: SenderName;
  readonly family: BenchFamily;
  readonly m: Measurement;
  readonly rssKiB: number | undefined;
  readonly berth?: BerthTimes;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(
    `BGP sender benchmark: ${a.v4} IPv4 /32 (IPv4 session) and ${a.v6} IPv6 /128 (IPv6 session) -> receivers ${a.receivers.join(', ')}; ` +
      `senders ${a.senders.join(', ')}; ${a.runs} run(s); receiver polled every ${a.pollMs} ms`,
  );
  if (a.cpuProf) await mkdir(PROFILE_DIR, { recursive: true });
  if (!a.fromSource && benchDistIsFresh()) berthEntry = ['dist/bench/bgp/berth-node.js'];
  console.log(`berth sender: node ${berthEntry.join(' ')}${berthEntry.length === 1 ? ' (compiled, as bin/berth.mjs runs with a fresh dist/)' : ' (sources through the tsx loader)'}`);
  // The client namespace (192.0.2.100 / 2001:db8:1::100, on the LAN) holds the BIRD receiver.
  const lab = await createLab({ prefix: 'bben', nodes: 1, client: a.receivers.includes('bird'), router: { asn: ROUTER.asn, nodeAsn: NODE_ASN } });
  const results: Result[] = [];
  const receivers: Receiver[] = [];
  const cleanup = (): void => {
    void lab.destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    const node = lab.nodes[0];
    if (node === undefined) throw new Error('lab without a node');
    for (const r of a.receivers) receivers.push(r === 'frr' ? await frrReceiver(lab) : await birdReceiver(lab, node));
    console.log(
      `receivers: ${receivers.map((r) => `${r.name} ${r.version}`).join('; ')}; senders' bird ${(await lab.exec(node, ['bird', '--version'], { check: false })).stderr.trim()}; ${(await lab.exec(node, ['gobgpd', '--version'])).stdout.trim()}`,
    );
    const tables = { ipv4: benchTable('ipv4', a.v4), ipv6: benchTable('ipv6', a.v6) };
    const scenariosFor = (rx: Receiver): Scenario[] =>
      ([
        { family: 'ipv4', count: a.v4, table: tables.ipv4, routerAddress: rx.address('ipv4'), nodeAddress: node.ipv4 },
        { family: 'ipv6', count: a.v6, table: tables.ipv6, routerAddress: rx.address('ipv6'), nodeAddress: node.ipv6 },
      ] satisfies Scenario[]).filter((s) => s.count > 0);
    for (let run = 0; run < a.runs; run++) {
      for (const rx of receivers) {
        for (const sc of scenariosFor(rx)) {
          for (const name of a.senders) {
            await rx.empty();
            const tag = `${run}${sc.family === 'ipv4' ? '4' : '6'}${rx.name === 'frr' ? 'f' : 'b'}`;
            const times: BerthTimes = {};
            const sender =
              name === 'berth'
                ? await berthSender(lab, node, sc, times, a.cpuProf)
                : name === 'gobgp'
                  ? await gobgpSender(lab, node, sc, tag, berthNode(false))
                  : name === 'bird'
                    ? await birdSender(lab, node, sc, tag)
                    : await frrSender(lab, node, sc, tag);
            try {
              // Every sender opens its session with its table loaded and its process quiet (a second
              // after loading: berth's fresh 100k-route heap otherwise pays its first major GC during
              // the OPEN exchange, which a long-running speaker never does).
              await sleep(1000);
              await sender.open();
              const m = await measure(rx, sc, a.pollMs, 600_000);
              await sender.settle?.(m.establishedWallMs);
              await sleep(300); // let the sender finish its own bookkeeping before reading RSS
              const rss = await rssKiB(sender.pid());
              results.push({ receiver: rx.name, sender: name, family: sc.family, m, rssKiB: rss, ...(name === 'berth' ? { berth: { ...times } } : {}) });
              const extra =
                name === 'berth'
                  ? `; setPeers->receiver shows Established ${times.setPeersToRouterEstablished?.toFixed(1) ?? '?'} ms, setPeers->OpenConfirm ${times.setPeersToOpenConfirm?.toFixed(1) ?? '?'} ms, setPeers->Established ${times.setPeersToEstablished?.toFixed(1) ?? '?'} ms, TCP connected->Established ${times.connectedToEstablished?.toFixed(1) ?? '?'} ms, Established->table sent ${Math.max(0, times.establishedToTableSent ?? NaN).toFixed(0)} ms; heap used ${((times.memory?.heapUsed ?? NaN) / 2 ** 20).toFixed(1)} MiB, heap total ${((times.memory?.heapTotal ?? NaN) / 2 ** 20).toFixed(1)} MiB, external ${((times.memory?.external ?? NaN) / 2 ** 20).toFixed(1)} MiB`
                  : '';
              console.log(
                `  run ${run + 1} ${rx.name.padEnd(4)} <- ${sc.family} ${name.padEnd(5)} ${(m.ms / 1000).toFixed(3)} s (±${m.pollGapMs.toFixed(0)} ms poll gap, ${m.polls} polls); RSS ${rss === undefined ? '?' : `${(rss / 1024).toFixed(1)} MiB`}${extra}`,
              );
            } finally {
              await sender.stop();
            }
          }
        }
      }
    }
  } finally {
    for (const rx of receivers) await rx.close().catch((e: unknown) => console.error(`closing the ${rx.name} receiver: ${String(e)}`));
    process.removeListener('SIGINT', cleanup);
    process.removeListener('SIGTERM', cleanup);
    await lab.destroy();
  }
  report(a, results);
}

function report(a: Args, results: readonly Result[]): void {
  let ok = true;
  const summary: string[] = [];
  for (const receiver of a.receivers) {
    for (const family of ['ipv4', 'ipv6'] as const) {
      const rows = results.filter((r) => r.family === family && r.receiver === receiver);
      if (rows.length === 0) continue;
      const count = family === 'ipv4' ? a.v4 : a.v6;
      console.log(`\n${receiver} receiver, ${family}: ${count} prefixes, Established -> all counted by the receiver (best of ${a.runs})`);
      const berthRuns = rows.filter((r) => r.sender === 'berth' && r.berth?.setPeersToRouterEstablished !== undefined);
      if (berthRuns.length > 0) {
        console.log(`berth Established as the receiver sees it, every run: ${berthRuns.map((r) => `${r.berth?.setPeersToRouterEstablished?.toFixed(1) ?? '?'} ms`).join(', ')}`);
      }
      const best = new Map<SenderName, Result>();
      for (const r of rows) if ((best.get(r.sender)?.m.ms ?? Infinity) > r.m.ms) best.set(r.sender, r);
      const berth = best.get('berth');
      console.log('sender   seconds   prefixes/s   RSS MiB   berth / this');
      for (const [name, r] of best) {
        const ratio = berth === undefined ? '' : `${(berth.m.ms / r.m.ms).toFixed(2)}x`;
        console.log(
          `${name.padEnd(8)} ${(r.m.ms / 1000).toFixed(3).padStart(7)}   ${Math.round(count / (r.m.ms / 1000)).toString().padStart(10)}   ${(r.rssKiB === undefined ? '?' : (r.rssKiB / 1024).toFixed(1)).padStart(7)}   ${ratio.padStart(12)}`,
        );
      }
      const others = [...best.values()].filter((r) => r.sender !== 'berth');
      if (berth !== undefined && others.length > 0) {
        const fastest = others.reduce((x, y) => (y.m.ms < x.m.ms ? y : x));
        const ratio = berth.m.ms / fastest.m.ms;
        ok &&= ratio <= 1;
        const line = `berth / best other (${fastest.sender}) into ${receiver}, ${family}: ${ratio.toFixed(2)}x  (target <= 1.00x: ${ratio <= 1 ? 'met' : 'MISSED'})`;
        console.log(line);
        summary.push(line);
      }
      if (berth?.berth !== undefined) {
        const t = berth.berth;
        const r = t.setPeersToRouterEstablished;
        ok &&= r !== undefined && r <= 200;
        console.log(
          `berth Established as the receiver sees it: ${r?.toFixed(1) ?? '?'} ms after setPeers with the receiver listening (target <= 200 ms: ${r !== undefined && r <= 200 ? 'met' : 'MISSED'}); ` +
            `berth's own FSM: OpenConfirm (its KEEPALIVE sent) at ${t.setPeersToOpenConfirm?.toFixed(1) ?? '?'} ms, Established event at ${t.setPeersToEstablished?.toFixed(1) ?? '?'} ms ` +
            `(TCP connected -> Established ${t.connectedToEstablished?.toFixed(1) ?? '?'} ms), whole table handed to TCP ${t.establishedToTableSent?.toFixed(0) ?? '?'} ms after Established`,
        );
        const rssMiB = (berth.rssKiB ?? Infinity) / 1024;
        // The target is 150 MB (10^6 octets), 143.1 MiB.
        const rssMB = ((berth.rssKiB ?? Infinity) * 1024) / 1e6;
        ok &&= rssMB < 150;
        console.log(`berth speaker RSS with ${count} prefixes sent: ${rssMiB.toFixed(1)} MiB = ${rssMB.toFixed(1)} MB (target < 150 MB: ${rssMB < 150 ? 'met' : 'MISSED'})`);
      }
    }
  }
  if (summary.length > 0) console.log(`\n${summary.join('\n')}`);
  console.log(`\ntargets: ${ok ? 'all met' : 'some MISSED'}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
