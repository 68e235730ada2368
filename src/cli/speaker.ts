// `berth speaker --node NAME --manifests PATH [--log-level L] [--listen-port N]`: this node's speaker
// without Kubernetes. The cluster snapshot comes from YAML manifests (a file or a folder): the Nodes
// listed there are the candidates (all alive; a Node marked NotReady or removed drops out), Services
// get their IPs as `berth check` shows them. Re-reads on change.
// Stopping (RFC 4724 graceful restart, src/bgp/restart-state.ts):
//   SIGTERM / SIGINT  drain: BGP sessions end with Cease / Administrative Shutdown (peers withdraw our
//                     routes at once), ARP/NDP answers stop, the restart state file is removed.
//   SIGUSR2           planned restart: connections close without NOTIFICATION (stop({ preserveRoutes })),
//                     so peers that negotiated graceful restart keep our routes as stale; the state file
//                     stays, and the next start in this boot sets the R bit in its OPENs.
// A crash also leaves the state file: the next start counts as a restart too (the peers' view).
// Exit 2 on bad usage; 1 when the engines cannot start.
import { statSync } from 'node:fs';
import type { Level } from 'pino';
import { createLogger } from '../log.ts';
import { Speaker } from '../bgp/speaker.ts';
import { sysTransport } from '../bgp/transport.ts';
import { beginRun, defaultRestartStatePath, fileRestartStateIo } from '../bgp/restart-state.ts';
import { createLayer2Engine } from '../l2/engine.ts';
import { afPacketTransportFactory, scanInterfaces } from '../l2/af-packet-transport.ts';
import type { LinkInfo } from '../l2/transport.ts';
import { routeTo, setSocketTtl, tcpTransport } from '../sys/index.ts';
import { createAgent } from '../speaker/agent.ts';
import { createManifestSpeaker } from '../speaker/manifest-source.ts';
import { compile } from '../config/compile.ts';
import { loadManifests } from '../config/manifests.ts';

export const SPEAKER_USAGE = `usage: berth speaker --node NAME --manifests PATH [--log-level LEVEL] [--listen-port N]

  --node NAME        this node's name, as in the manifests' Node objects
  --manifests PATH   a YAML/JSON file, or a folder read recursively; re-read on change
  --log-level LEVEL  trace, debug, info (default), warn, error, fatal, silent
  --listen-port N    also accept BGP connections on TCP port N (passive peers); default: the OpenELB
                     BgpConf listenPort when the manifests have one (read at start), else never listen
  --lb-class NAME    berth's loadBalancerClass (default: Services without a class)
  --graceful-restart-state PATH
                     the file telling a restart from a fresh start (RFC 4724 R bit); default
                     /run/berth/speaker-restart.json (root), else $XDG_RUNTIME_DIR/berth/...

Logs are JSON lines on stderr.
SIGTERM or SIGINT: drain (BGP Cease, peers withdraw the routes at once), then exit.
SIGUSR2: planned restart (close without NOTIFICATION: peers with graceful restart keep the routes
until the next start sends End-of-RIB; that start sets the R bit), then exit.
exit status: 0 stopped by a signal, 1 could not start, 2 bad usage
`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
type LogLevel = (typeof LEVELS)[number];

export interface SpeakerArgs {
  readonly node: string;
  readonly manifests: string;
  readonly logLevel: LogLevel;
  readonly listenPort: number | undefined;
  readonly lbClass: string | undefined;
  readonly restartStatePath: string | undefined;
}

export function parseSpeakerArgs(argv: readonly string[]): SpeakerArgs | string {
  let node: string | undefined;
  let manifests: string | undefined;
  let logLevel: string = 'info';
  let listenPort: number | undefined;
  let lbClass: string | undefined;
  let restartStatePath: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      i++;
      return argv[i];
    };
    switch (flag) {
      case '--node':
      case '--node-name':
        node = value();
        if (node === undefined || node === '') return '--node needs a node name';
        break;
      case '--manifests':
      case '-m':
        manifests = value();
        if (manifests === undefined || manifests === '') return '--manifests needs a path';
        break;
      case '--log-level':
        logLevel = value() ?? '';
        if (!(LEVELS as readonly string[]).includes(logLevel)) return `--log-level must be one of ${LEVELS.join(', ')}, got "${logLevel}"`;
        break;
      case '--listen-port': {
        const v = value() ?? '';
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 65535) return `--listen-port must be a TCP port 1..65535, got "${v}"`;
        listenPort = n;
        break;
      }
      case '--lb-class':
        lbClass = value();
        if (lbClass === undefined || lbClass === '') return '--lb-class needs a class name';
        break;
      case '--graceful-restart-state':
        restartStatePath = value();
        if (restartStatePath === undefined || restartStatePath === '') return '--graceful-restart-state needs a file path';
        break;
      default:
        return `unknown argument "${arg}"`;
    }
  }
  if (manifests === undefined) return '--manifests PATH is required';
  if (node === undefined) return '--node NAME is required';
  return { node, manifests, logLevel: logLevel as LogLevel, listenPort, lbClass, restartStatePath };
}

export async function runSpeaker(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(SPEAKER_USAGE);
    return 0;
  }
  // Without --manifests: the Kubernetes mode (src/cli/speaker-k8s.ts).
  if (!argv.some((a) => a === '--manifests' || a === '-m' || a.startsWith('--manifests='))) return (await import('./speaker-k8s.ts')).runKubeSpeaker(argv);
  const args = parseSpeakerArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`berth speaker: ${args}\n\n${SPEAKER_USAGE}`);
    return 2;
  }
  try {
    statSync(args.manifests);
  } catch (e) {
    process.stderr.write(`berth speaker: cannot read ${args.manifests}: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }

  const log = createLogger({ level: args.logLevel as Level | 'silent', name: 'speaker' });
  const listenPort = args.listenPort ?? configuredListenPort(args.manifests);
  if (listenPort !== undefined) log.info({ node: args.node, port: listenPort }, 'accepting BGP connections');
  // Interface facts, refreshed before each apply; the AF_PACKET factory looks links up here.
  let links: ReadonlyMap<string, LinkInfo> = new Map();
  const l2 = createLayer2Engine({ openTransport: afPacketTransportFactory({ link: (iface) => links.get(iface) }), logger: log });
  const restart = beginRun(args.restartStatePath ?? defaultRestartStatePath(), fileRestartStateIo);
  if (restart.problem !== undefined) log.warn({ reason: restart.problem }, `cannot record the restart state in ${restart.path}: this start counts as fresh`);
  else if (restart.restarting) log.info({ node: args.node, reason: restart.path }, 'restarted in this boot: graceful restart R bit set (RFC 4724 §4.1)');
  const bgp = new Speaker({
    // With setSocketTtl, accepted single-hop eBGP sessions get TTL 1 like dialled ones.
    transport: sysTransport(tcpTransport, setSocketTtl),
    logger: log,
    ...(restart.restarting ? { restarting: true } : {}),
    ...(listenPort === undefined ? {} : { listen: { port: listenPort } }),
  });
  try {
    await bgp.start();
  } catch (e) {
    log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot start the BGP listener');
    l2.close();
    return 1;
  }
  const agent = createAgent({
    l2,
    bgp,
    logger: log,
    interfaces: async () => {
      const scan = await scanInterfaces();
      links = scan.links;
      return scan.facts;
    },
    routeTo: async (ip) => (await routeTo(ip))?.ifname,
  });
  const source = createManifestSpeaker({
    path: args.manifests,
    nodeName: args.node,
    agent,
    logger: log,
    ...(args.lbClass === undefined ? {} : { serviceOptions: { loadBalancerClass: args.lbClass } }),
  });

  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const stop = (signal: string, preserveRoutes = false): void => {
      if (stopping) return;
      stopping = true;
      log.info({ node: args.node, reason: signal }, preserveRoutes ? 'stopping for a restart: peers keep the routes (graceful restart)' : 'stopping: draining');
      source.stop();
      if (!preserveRoutes) restart.drained();
      void agent
        .close(preserveRoutes ? { preserveRoutes: true } : { communication: 'berth speaker shutting down' })
        // Let the NOTIFICATIONs leave before the process ends.
        .then(() => new Promise((r) => setTimeout(r, 300)))
        .catch((e: unknown) => log.error({ reason: e instanceof Error ? e.message : String(e) }, 'error while stopping'))
        .finally(() => {
          // Exit even if some handle lingers (unref'd: a clean loop ends first).
          setTimeout(() => process.exit(0), 1000).unref();
          resolveExit(0);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGUSR2', () => stop('SIGUSR2', true));
    source
      .start()
      .then(() => log.info({ node: args.node, manifests: args.manifests }, 'speaker running'))
      .catch((e: unknown) => {
        log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'speaker failed to start');
        stop('start failure');
      });
  });
}

/**
 * OpenELB BgpConf `default` spec.listenPort (openelb-and-peers.md §1.2), read once at start: the
 * listener cannot move while sessions run, so a later change needs a restart. -1 or absent: no listener.
 */
function configuredListenPort(path: string): number | undefined {
  try {
    const port = compile(loadManifests(path).snapshot).config.bgpSpeaker?.listenPort;
    return port !== undefined && port > 0 ? port : undefined;
  } catch {
    return undefined;
  }
}
