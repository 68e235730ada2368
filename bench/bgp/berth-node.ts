// berth's speaker as the benchmark's sender, one process inside the sender namespace. The table is set
// first (argv[2] = JSON { family, count }); sessions open when the parent sends the peers on stdin:
//   {"op":"peers","peers":[PeerSpec...]}   {"op":"mem"} (answers process.memoryUsage())   {"op":"stop"}
// With argv `profile: FILE`, a CPU profile (100 µs sampling) of setPeers -> table sent goes to FILE.
// stdout, one JSON object a line, `t` = wall clock in ms with sub-ms precision (performance.timeOrigin):
//   {"event":"ready","t","prefixes","buildMs"}  {"event":"peers","t"}
//   {"event":"state","peer","state","reason","t"}  (state Established: the session is; the table follows)
//   {"event":"established","peer","t"}  (the whole table and End-of-RIB handed to TCP)
// Like a real caller, the process lets go of its advertisement list once the speaker has it: what
// stays is the speaker's own compact table.
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { Speaker, type Advertisement, type PeerSpec } from '../../src/bgp/speaker.ts';
import { nodeTransport } from '../../src/bgp/transport.ts';
import { createLogger } from '../../src/log.ts';
import { benchTable, type BenchFamily } from './table.ts';

interface Args {
  readonly family: BenchFamily;
  readonly count: number;
  /** Write a CPU profile of the window setPeers -> table sent (the 'established' event) to this file. */
  readonly profile?: string;
}
type Command = { readonly op: 'peers'; readonly peers: readonly PeerSpec[] } | { readonly op: 'mem' } | { readonly op: 'stop' };

const now = (): number => performance.timeOrigin + performance.now();
const out = (o: object): void => {
  process.stdout.write(`${JSON.stringify({ ...o, t: now() })}\n`);
};

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const t0 = performance.now();
const speaker = new Speaker({
  transport: nodeTransport(),
  logger: createLogger({ level: 'warn', name: 'bench-berth' }),
  onEvent: (e) => {
    out({ event: e.kind, peer: e.peer, state: e.state, reason: e.reason?.code });
    if (e.kind === 'established' && profiler !== undefined) void stopProfile(profiler);
  },
});

let profiler: Session | undefined;
async function stopProfile(s: Session): Promise<void> {
  profiler = undefined;
  const { profile } = await s.post('Profiler.stop');
  if (args.profile !== undefined) await writeFile(args.profile, JSON.stringify(profile));
  out({ event: 'profile', file: args.profile });
}
{
  const ads: Advertisement[] = benchTable(args.family, args.count).map((prefix) => ({ prefix }));
  speaker.setAdvertisements(ads);
}
out({ event: 'ready', prefixes: args.count, buildMs: performance.now() - t0 });

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as Command;
  if (cmd.op === 'peers') {
    void (async () => {
      if (args.profile !== undefined) {
        const s = new Session();
        s.connect();
        await s.post('Profiler.enable');
        await s.post('Profiler.setSamplingInterval', { interval: 100 });
        await s.post('Profiler.start');
        profiler = s;
      }
      out({ event: 'peers' });
      speaker.setPeers(cmd.peers);
    })();
  } else if (cmd.op === 'mem') {
    out({ event: 'mem', ...process.memoryUsage() });
  } else {
    void speaker.stop().finally(() => process.exit(0));
  }
});
process.on('SIGTERM', () => {
  void speaker.stop().finally(() => process.exit(0));
});
