// BGP sender benchmark: one table sent to an FRR receiver (the lab router, AS 64512) by berth, GoBGP,
// BIRD 2 and FRR's own bgpd in turn, each from the same node namespace (frr-lab, prefix bben), each
// with its whole table loaded before its session opens. Two tables, each on its own session:
// 100,000 IPv4 /32 over IPv4, 20,000 IPv6 /128 over IPv6.
//
// The figure: from Established to the moment the receiver counts every prefix. It is read from the
// receiver itself: `show bgp summary json` is polled back to back (cheap: counters, no table walk);
// the figure runs from the first poll that shows the session Established to the first poll whose
// pfxRcd equals the table size (FRR's own peerUptimeMsec only has one-second resolution).
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
//   node --import tsx bench/bgp/run.ts [--v4 N] [--v6 N] [--senders berth,gobgp,bird,frr] [--runs N] [--poll MS] [--cpu-prof] [--from-source]
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
  Vtysh,
  afOf,
  berthTableHolder,
  birdSender,
  frrSender,
  gobgpSender,
  rssKiB,
  sleep,
  until,
  type BerthNodeOptions,
  type PeerSummary,
  type Scenario,
  type Sender,
  type Summary,
} from '../common/bgp-senders.ts';
import { flagValue } from '../common/args.ts';

const SENDERS = ['berth', 'gobgp', 'bird', 'frr'] as const;
type SenderName = (typeof SENDERS)[number];
const PROFILE_DIR = '/tmp/bben-profiles'; // --cpu-prof output of berth's sender process

interface Args {
  readonly v4: number;
  readonly v6: number;
  readonly senders: readonly SenderName[];
  readonly runs: number;
  readonly pollMs: number;
  readonly cpuProf: boolean;
  readonly fromSource: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (k: string): string | undefined => flagValue(argv, k);
  const senders = (get('senders') ?? SENDERS.join(',')).split(',').filter((s): s is SenderName => (SENDERS as readonly string[]).includes(s));
  return {
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
 * Polls the receiver's `show bgp summary json` (pollMs apart, over one vtysh). FRR's peerUptimeMsec has
 * a one-second resolution, so both ends of the interval are our own clock at the polls that saw them.
 */
async function measure(vty: Vtysh, sc: Scenario, pollMs: number, timeoutMs: number): Promise<Measurement> {
  const start = performance.now();
  let t0: number | undefined;
  let polls = 0;
  let last: PeerSummary | undefined;
  while (performance.now() - start < timeoutMs) {
    const s = await vty.json<Summary>('show bgp summary json');
    const now = performance.now();
    polls += 1;
    last = afOf(s, sc.family)?.peers?.[sc.nodeAddress];
    if (last?.state === 'Established') {
      t0 ??= now;
      if ((last.pfxRcd ?? 0) >= sc.count) return { ms: now - t0, pollGapMs: (now - start) / polls, polls, establishedWallMs: performance.timeOrigin + t0 };
    }
    await sleep(pollMs);
  }
  throw new Error(`timed out: ${last?.pfxRcd ?? 0}/${sc.count} (${last?.state ?? 'no session'})`);
}

/** Until the receiver has dropped the previous sender (dynamic neighbour gone, RIB empty). */
async function receiverEmpty(lab: Lab): Promise<void> {
  await until(
    'receiver dropped the previous sender',
    async () => {
      const s = await lab.vtyshJson<Summary>('show bgp summary json');
      const peers = Object.keys(s.ipv4Unicast?.peers ?? {}).length + Object.keys(s.ipv6Unicast?.peers ?? {}).length;
      return peers === 0 && (s.ipv4Unicast?.ribCount ?? 0) === 0 && (s.ipv6Unicast?.ribCount ?? 0) === 0;
    },
    300_000,
    200,
  );
}

interface Result {
  readonly sender: SenderName;
  readonly family: BenchFamily;
  readonly m: Measurement;
  readonly rssKiB: number | undefined;
  readonly berth?: BerthTimes;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  console.log(
    `BGP sender benchmark: ${a.v4} IPv4 /32 (IPv4 session) and ${a.v6} IPv6 /128 (IPv6 session) -> FRR receiver (lab router); ` +
      `senders ${a.senders.join(', ')}; ${a.runs} run(s); receiver polled every ${a.pollMs} ms`,
  );
  if (a.cpuProf) await mkdir(PROFILE_DIR, { recursive: true });
  if (!a.fromSource && benchDistIsFresh()) berthEntry = ['dist/bench/bgp/berth-node.js'];
  console.log(`berth sender: node ${berthEntry.join(' ')}${berthEntry.length === 1 ? ' (compiled, as bin/berth.mjs runs with a fresh dist/)' : ' (sources through the tsx loader)'}`);
  const lab = await createLab({ prefix: 'bben', nodes: 1, router: { asn: ROUTER.asn, nodeAsn: NODE_ASN } });
  const results: Result[] = [];
  let vty: Vtysh | undefined;
  const cleanup = (): void => {
    void lab.destroy().finally(() => process.exit(130));
  };
  process.once('SIGINT', cleanup);
  process.once('SIGTERM', cleanup);
  try {
    const node = lab.nodes[0];
    if (node === undefined) throw new Error('lab without a node');
    const frrVersion = (await lab.vtysh('show version')).split('\n')[0] ?? '';
    console.log(`receiver: ${frrVersion.trim()}; bird ${(await lab.exec(node, ['bird', '--version'], { check: false })).stderr.trim()}; ${(await lab.exec(node, ['gobgpd', '--version'])).stdout.trim()}`);
    vty = new Vtysh(lab);
    const scenarios = ([
      { family: 'ipv4', count: a.v4, table: benchTable('ipv4', a.v4), routerAddress: ROUTER.ipv4, nodeAddress: node.ipv4 },
      { family: 'ipv6', count: a.v6, table: benchTable('ipv6', a.v6), routerAddress: ROUTER.ipv6, nodeAddress: node.ipv6 },
    ] satisfies Scenario[]).filter((s) => s.count > 0);
    for (let run = 0; run < a.runs; run++) {
      for (const sc of scenarios) {
        for (const name of a.senders) {
          await receiverEmpty(lab);
          const tag = `${run}${sc.family === 'ipv4' ? '4' : '6'}`;
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
            const m = await measure(vty, sc, a.pollMs, 600_000);
            await sender.settle?.(m.establishedWallMs);
            await sleep(300); // let the sender finish its own bookkeeping before reading RSS
            const rss = await rssKiB(sender.pid());
            results.push({ sender: name, family: sc.family, m, rssKiB: rss, ...(name === 'berth' ? { berth: { ...times } } : {}) });
            const extra =
              name === 'berth'
                ? `; setPeers->router shows Established ${times.setPeersToRouterEstablished?.toFixed(1) ?? '?'} ms, setPeers->OpenConfirm ${times.setPeersToOpenConfirm?.toFixed(1) ?? '?'} ms, setPeers->Established ${times.setPeersToEstablished?.toFixed(1) ?? '?'} ms, TCP connected->Established ${times.connectedToEstablished?.toFixed(1) ?? '?'} ms, Established->table sent ${Math.max(0, times.establishedToTableSent ?? NaN).toFixed(0)} ms; heap used ${((times.memory?.heapUsed ?? NaN) / 2 ** 20).toFixed(1)} MiB, heap total ${((times.memory?.heapTotal ?? NaN) / 2 ** 20).toFixed(1)} MiB, external ${((times.memory?.external ?? NaN) / 2 ** 20).toFixed(1)} MiB`
                : '';
            console.log(
              `  run ${run + 1} ${sc.family} ${name.padEnd(5)} ${(m.ms / 1000).toFixed(3)} s (±${m.pollGapMs.toFixed(0)} ms poll gap, ${m.polls} polls); RSS ${rss === undefined ? '?' : `${(rss / 1024).toFixed(1)} MiB`}${extra}`,
            );
          } finally {
            await sender.stop();
          }
        }
      }
    }
  } finally {
    await vty?.close();
    process.removeListener('SIGINT', cleanup);
    process.removeListener('SIGTERM', cleanup);
    await lab.destroy();
  }
  report(a, results);
}

function report(a: Args, results: readonly Result[]): void {
  let ok = true;
  for (const family of ['ipv4', 'ipv6'] as const) {
    const rows = results.filter((r) => r.family === family);
    if (rows.length === 0) continue;
    const count = family === 'ipv4' ? a.v4 : a.v6;
    console.log(`\n${family}: ${count} prefixes, Established -> all counted by the receiver (best of ${a.runs})`);
    const berthRuns = rows.filter((r) => r.sender === 'berth' && r.berth?.setPeersToRouterEstablished !== undefined);
    if (berthRuns.length > 0) {
      console.log(`berth Established as the router sees it, every run: ${berthRuns.map((r) => `${r.berth?.setPeersToRouterEstablished?.toFixed(1) ?? '?'} ms`).join(', ')}`);
    }
    console.log('sender   seconds   prefixes/s   RSS MiB');
    const best = new Map<SenderName, Result>();
    for (const r of rows) if ((best.get(r.sender)?.m.ms ?? Infinity) > r.m.ms) best.set(r.sender, r);
    for (const [name, r] of best) {
      console.log(
        `${name.padEnd(8)} ${(r.m.ms / 1000).toFixed(3).padStart(7)}   ${Math.round(count / (r.m.ms / 1000)).toString().padStart(10)}   ${r.rssKiB === undefined ? '?' : (r.rssKiB / 1024).toFixed(1)}`,
      );
    }
    const berth = best.get('berth');
    const others = [...best.values()].filter((r) => r.sender !== 'berth');
    if (berth !== undefined && others.length > 0) {
      const fastest = others.reduce((x, y) => (y.m.ms < x.m.ms ? y : x));
      const ratio = berth.m.ms / fastest.m.ms;
      ok &&= ratio <= 1;
      console.log(`berth / best other (${fastest.sender}): ${ratio.toFixed(2)}x  (target <= 1.00x: ${ratio <= 1 ? 'met' : 'MISSED'})`);
    }
    if (berth?.berth !== undefined) {
      const t = berth.berth;
      const r = t.setPeersToRouterEstablished;
      ok &&= r !== undefined && r <= 200;
      console.log(
        `berth Established as the router sees it: ${r?.toFixed(1) ?? '?'} ms after setPeers with the router listening (target <= 200 ms: ${r !== undefined && r <= 200 ? 'met' : 'MISSED'}); ` +
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
  console.log(`\ntargets: ${ok ? 'all met' : 'some MISSED'}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
