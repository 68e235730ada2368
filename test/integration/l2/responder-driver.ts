// A small layer 2 responder process for the integration tests: started inside a node namespace, it
// runs the real engine over AF_PACKET sockets. The standalone `berth speaker` replaces it later.
//
// Protocol: one JSON command per stdin line, one JSON answer per stdout line.
//   {"cmd":"own","vips":[{"vip":"203.0.113.10","request":{"kind":"names","names":["eth1"]}}],
//    "exclude":["^lo$"], "node":{"internalIPs":["192.0.2.11"],"annotations":{}}}
//        -> {"ok":true,"owned":{"203.0.113.10":["eth1"]},"problems":[...]}
//   {"cmd":"stats"} -> {"ok":true,"stats":{...}}
// Announce options come from argv: --burst N --interval MS --refresh MS. --threads N: answer on
// per-CPU threads, at most N (default as in berth speaker), started for the CPUs requests arrive on; 0:
// on the main thread. The answer to "own" comes once the threads answer as told. Prints {"ready":true} first.
// SIGTERM closes the engine (stops answering) and exits 0.
import { createInterface } from 'node:readline';
import { createLayer2Engine } from '../../../src/l2/engine.ts';
import { createCpuAnswerers, DEFAULT_MAX_ANSWER_THREADS } from '../../../src/l2/cpu-answerers.ts';
import { afPacketTransportFactory, scanInterfaces } from '../../../src/l2/af-packet-transport.ts';
import { selectInterfaces, type InterfaceRequest, type NodeAddressing } from '../../../src/l2/interfaces.ts';
import { createLogger } from '../../../src/log.ts';
import type { LinkInfo } from '../../../src/l2/transport.ts';

interface OwnCommand {
  readonly cmd: 'own';
  readonly vips: readonly { readonly vip: string; readonly request: InterfaceRequest }[];
  readonly exclude?: readonly string[];
  readonly node?: NodeAddressing;
}
type Command = OwnCommand | { readonly cmd: 'stats' };

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  return Number.isFinite(v) ? v : dflt;
}

const out = (o: unknown): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

let links: ReadonlyMap<string, LinkInfo> = new Map();
const logger = createLogger({ level: process.env['BERTH_L2_LOG'] === 'debug' ? 'debug' : 'warn', name: 'l2-driver' });
const maxThreads = arg('threads', DEFAULT_MAX_ANSWER_THREADS);
const threads = maxThreads > 0 ? createCpuAnswerers({ maxThreads, logger }) : undefined;
const engine = createLayer2Engine({
  openTransport: afPacketTransportFactory({ link: (iface) => links.get(iface) }),
  logger,
  ...(threads === undefined ? {} : { threads }),
  announce: { burstCount: arg('burst', 5), burstIntervalMs: arg('interval', 1100), refreshIntervalMs: arg('refresh', 0) },
});

async function handle(c: Command): Promise<unknown> {
  switch (c.cmd) {
    case 'stats':
      return { ok: true, stats: engine.stats(), ...(threads === undefined ? {} : { threads: await threads.threads(), perThread: threads.perThread() }) };
    case 'own': {
      const scan = await scanInterfaces();
      links = scan.links;
      const node: NodeAddressing = c.node ?? { internalIPs: [] };
      const exclude = c.exclude?.map((p) => new RegExp(p));
      const selections = c.vips.map((v) => ({
        vip: v.vip,
        sel: selectInterfaces(v.request, scan.facts, node, exclude === undefined ? {} : { exclude }),
      }));
      const problems: unknown[] = selections.filter((s) => s.sel.problem !== undefined).map((s) => ({ vip: s.vip, ...s.sel.problem }));
      problems.push(...engine.setOwned(selections.map((s) => ({ vip: s.vip, interfaces: s.sel.interfaces }))));
      await engine.settled();
      // Threads started with this VIP have taken their CPUs' requests over once they all run.
      if (threads !== undefined) await threads.threads();
      const owned = Object.fromEntries([...engine.owned()].map(([vip, s]) => [vip, [...s]]));
      return { ok: true, owned, problems };
    }
    default: {
      const never: never = c;
      return { ok: false, error: `unknown command ${JSON.stringify(never)}` };
    }
  }
}

const rl = createInterface({ input: process.stdin });
let chain = Promise.resolve();
rl.on('line', (line) => {
  if (line.trim() === '') return;
  chain = chain.then(async () => {
    try {
      out(await handle(JSON.parse(line) as Command));
    } catch (e) {
      out({ ok: false, error: String(e) });
    }
  });
});
rl.on('close', () => {
  engine.close();
  process.exit(0);
});
process.on('SIGTERM', () => {
  engine.close();
  process.exit(0);
});
out({ ready: true });
