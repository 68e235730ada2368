// A berth BGP speaker as a child process, for integration tests that run it inside a node's network
// namespace. Commands arrive as JSON lines on stdin; session events leave as JSON lines on stdout.
//   {"op":"start","speaker":{routerId?, listen?, restarting?}}   once, first
//   {"op":"peers","peers":[PeerSpec...]}
//   {"op":"ads","ads":[Advertisement...]}
//   {"op":"stop","communication"?: "...","preserveRoutes"?: true}  Cease (or a silent close), then exit
// stdout: {"event":"state","peer":..,"state":..,"reason":..}, {"event":"ready"}, {"event":"error",..},
//   {"event":"neighbor","interface":..,"address":..} when an interface peer's link-local address is learned
// Interface (unnumbered) peers go through src/bgp/unnumbered.ts, as in `berth speaker`.
// Uses src/sys's transport (MD5, TTL); a missing addon is an error, never a silent plain-TCP fallback.
import { createInterface } from 'node:readline';
import { Speaker, type Advertisement, type PeerSpec } from '../../../src/bgp/speaker.ts';
import { sysTransport, type TransportFactory } from '../../../src/bgp/transport.ts';
import { createLogger } from '../../../src/log.ts';
import { sysRaPortOpener, UnnumberedPeers } from '../../../src/bgp/unnumbered.ts';

type Command =
  | { readonly op: 'start'; readonly speaker: { readonly routerId?: string; readonly listen?: { host?: string; port?: number }; readonly restarting?: boolean } }
  | { readonly op: 'peers'; readonly peers: readonly PeerSpec[] }
  | { readonly op: 'ads'; readonly ads: readonly Advertisement[] }
  | { readonly op: 'stop'; readonly communication?: string; readonly preserveRoutes?: boolean };

function out(o: object): void {
  process.stdout.write(`${JSON.stringify(o)}\n`);
}

/**
 * src/sys's transport (MD5, TTL/GTSM). No plain-TCP fallback: a test whose TTL or MD5 options were
 * silently dropped would pass without testing them. src/sys loads its addon on first use, so it is loaded
 * here, before the speaker starts: a missing or broken addon is an error event at start, not a session
 * that never comes up.
 */
async function transport(): Promise<TransportFactory> {
  const sys = await import('../../../src/sys/index.ts');
  const { loadAddon } = await import('../../../src/sys/native.ts');
  try {
    loadAddon();
  } catch (e) {
    throw new Error(`speaker-proc: the src/sys addon does not load (build it: npm run build:addon): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return sysTransport(sys.tcpTransport, sys.setSocketTtl);
}

let speaker: Speaker | undefined;
let unnumbered: UnnumberedPeers | undefined;
let lastPeers: readonly PeerSpec[] = [];
const logger = createLogger({ level: 'debug', name: 'bgp-test-speaker' });

const rl = createInterface({ input: process.stdin });
let chain: Promise<void> = Promise.resolve();
rl.on('line', (line) => {
  chain = chain.then(async () => {
    const cmd = JSON.parse(line) as Command;
    switch (cmd.op) {
      case 'start':
        speaker = new Speaker({
          transport: await transport(),
          logger,
          ...(cmd.speaker.routerId !== undefined ? { routerId: cmd.speaker.routerId } : {}),
          ...(cmd.speaker.listen !== undefined ? { listen: cmd.speaker.listen } : {}),
          ...(cmd.speaker.restarting === true ? { restarting: true } : {}),
          onEvent: (e) =>
            out({ event: e.kind, peer: e.peer, state: e.state, reason: e.reason?.code, notification: e.reason?.notification, detail: e.reason?.detail }),
        });
        await speaker.start();
        {
          const sys = await import('../../../src/sys/index.ts');
          const un: UnnumberedPeers = new UnnumberedPeers({
            open: sysRaPortOpener(sys),
            logger,
            onChange: () => {
              for (const p of lastPeers) if (p.interface !== undefined) out({ event: 'neighbor', interface: p.interface, address: un.neighbor(p.interface) });
              speaker?.setPeers(un.resolve(lastPeers));
            },
          });
          unnumbered = un;
        }
        out({ event: 'ready' });
        return;
      case 'peers':
        lastPeers = cmd.peers;
        speaker?.setPeers(unnumbered?.resolve(cmd.peers) ?? cmd.peers);
        return;
      case 'ads':
        speaker?.setAdvertisements(cmd.ads);
        out({ event: 'ads', count: cmd.ads.length });
        return;
      case 'stop':
        unnumbered?.close();
        await speaker?.stop({
          ...(cmd.communication !== undefined ? { communication: cmd.communication } : {}),
          ...(cmd.preserveRoutes === true ? { preserveRoutes: true } : {}),
        });
        out({ event: 'stopped' });
        setTimeout(() => process.exit(0), 200);
        return;
    }
  }).catch((e: unknown) => out({ event: 'error', message: e instanceof Error ? e.stack ?? e.message : String(e) }));
});
rl.on('close', () => {
  void speaker?.stop().finally(() => process.exit(0));
});
