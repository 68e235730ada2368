// `berth speaker --node NAME --manifests PATH [--log-level L] [--listen-port N]`: this node's speaker
// without Kubernetes. The cluster snapshot comes from YAML manifests (a file or a folder): the Nodes
// listed there are the candidates (a Node marked NotReady or removed drops out; with
// --liveness-secret-file a speaker that stops answering heartbeats is passed over at once,
// docs/liveness.md), Services get their IPs as `berth check` shows them. Re-reads on change.
// Engines, graceful restart and stopping (SIGTERM/SIGINT drain, SIGUSR2 planned restart) are shared with
// the Kubernetes mode: src/cli/node-runtime.ts.
// Exit 2 on bad usage; 1 when the engines cannot start.
import { statSync } from 'node:fs';
import type { Level } from 'pino';
import { createLogger } from '../log.ts';
import { defaultRestartStatePath } from '../bgp/restart-state.ts';
import { startNodeRuntime } from './node-runtime.ts';
import { startPlanThread } from '../speaker/plan-thread.ts';
import { DEFAULT_L2_THREADS, flagTokens } from './args.ts';
import { startHealthServer, type HealthServer } from '../k8s/health.ts';
import { tuneHeap } from './heap.ts';
import { extractLivenessFlags, LIVENESS_USAGE, readLivenessKey } from './liveness-args.ts';
import { L2_WINDOW } from '../liveness/runtime.ts';

export const SPEAKER_USAGE = `usage: berth speaker --node NAME --manifests PATH [--log-level LEVEL] [--listen-port N]
                     [--liveness-secret-file PATH [--liveness-port N]]

  --node NAME        this node's name, as in the manifests' Node objects
  --manifests PATH   a YAML/JSON file, or a folder read recursively; re-read on change
  --log-level LEVEL  trace, debug, info (default), warn, error, fatal, silent
  --listen-port N    also accept BGP connections on TCP port N (passive peers); default: the OpenELB
                     BgpConf listenPort when the manifests have one (read at start), else never listen
  --lb-class NAME    berth's loadBalancerClass (default: Services without a class)
  --health-port N    serve /healthz, /readyz (the first plan applied) and /metrics (Prometheus) on
                     this TCP port; default 0 = off
  --l2-threads N     answer ARP/NDP on the CPU each request arrived on, one thread per CPU, at most
                     N (default 8); 0 = on the main thread (docs/layer2.md "Per-CPU answering")
  --graceful-restart-state PATH
                     the file telling a restart from a fresh start (RFC 4724 R bit); default
                     /run/berth/speaker-restart.json (root), else $XDG_RUNTIME_DIR/berth/...
${LIVENESS_USAGE}
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
  readonly l2Threads: number;
  /** 0: no health/metrics server. */
  readonly healthPort: number;
  /** --liveness-secret-file; undefined: liveness off. */
  readonly livenessSecretFile: string | undefined;
  readonly livenessPort: number;
  readonly livenessIntervalMs: number;
}

export function parseSpeakerArgs(argv: readonly string[]): SpeakerArgs | string {
  let node: string | undefined;
  let manifests: string | undefined;
  let logLevel: string = 'info';
  let listenPort: number | undefined;
  let lbClass: string | undefined;
  let restartStatePath: string | undefined;
  let l2Threads = DEFAULT_L2_THREADS;
  let healthPort = 0;
  const live = extractLivenessFlags(argv);
  if (typeof live === 'string') return live;
  for (const { arg, flag, value } of flagTokens(live.rest)) {
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
      case '--health-port': {
        const v = value() ?? '';
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 65535) return `--health-port must be a TCP port 0..65535, got "${v}"`;
        healthPort = n;
        break;
      }
      case '--l2-threads': {
        const v = value() ?? '';
        const n = Number(v);
        if (!/^\d+$/.test(v) || n > 1024) return `--l2-threads must be a number 0..1024, got "${v}"`;
        l2Threads = n;
        break;
      }
      default:
        return `unknown argument "${arg}"`;
    }
  }
  if (manifests === undefined) return '--manifests PATH is required';
  if (node === undefined) return '--node NAME is required';
  return { node, manifests, logLevel: logLevel as LogLevel, listenPort, lbClass, restartStatePath, l2Threads, healthPort, livenessSecretFile: live.flags.secretFile, livenessPort: live.flags.port, livenessIntervalMs: live.flags.intervalMs };
}

export async function runSpeaker(argv: readonly string[]): Promise<number> {
  tuneHeap();
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

  const livenessKey = args.livenessSecretFile === undefined ? undefined : readLivenessKey(args.livenessSecretFile);
  if (typeof livenessKey === 'string') {
    process.stderr.write(`berth speaker: ${livenessKey}\n`);
    return 2;
  }

  const log = createLogger({ level: args.logLevel as Level | 'silent', name: 'speaker' });
  // Reading and planning run on the planner thread (src/speaker/plan-thread.ts); this thread keeps the
  // engines and their timers. A planner that fails stops the node.
  let fatal: string | undefined;
  let stopNode: ((reason: string) => void) | undefined;
  const stall = Number(process.env['BERTH_PLAN_STALL_MS'] ?? '0');
  // Test hook (test/integration/bgp/hostile-peer.test.ts): a small per-peer send bound, so a peer that
  // never reads reaches it with a test-sized table.
  const maxUnsent = Number(process.env['BERTH_BGP_MAX_UNSENT_BYTES'] ?? '0');
  const planner = startPlanThread({
    data: {
      kind: 'manifests',
      path: args.manifests,
      nodeName: args.node,
      logLevel: args.logLevel,
      ...(args.lbClass === undefined ? {} : { serviceOptions: { loadBalancerClass: args.lbClass } }),
      ...(Number.isFinite(stall) && stall > 0 ? { stallMs: stall } : {}),
      ...(livenessKey === undefined ? {} : { l2Window: L2_WINDOW }),
    },
    logger: log,
    onFatal: (reason) => {
      fatal = reason;
      log.fatal({ node: args.node, reason }, 'the planner thread stopped: stopping the speaker');
      stopNode?.(reason);
    },
  });
  // OpenELB BgpConf `default` spec.listenPort (OpenELB api/v1alpha2/bgpconf_types.go), from the first read: the
  // listener cannot move while sessions run, so a later change needs a restart.
  const configured = await planner.hello;
  if (fatal !== undefined) return 1;
  const runtime = await startNodeRuntime({
    log,
    nodeName: args.node,
    listenPort: args.listenPort ?? configured,
    restartStatePath: args.restartStatePath ?? defaultRestartStatePath(),
    l2Threads: args.l2Threads,
    ...(Number.isInteger(maxUnsent) && maxUnsent > 0 ? { maxUnsentBytes: maxUnsent } : {}),
    ...(livenessKey === undefined ? {} : { liveness: { key: livenessKey, port: args.livenessPort, intervalMs: args.livenessIntervalMs } }),
  });
  if (runtime === undefined) {
    await planner.stop();
    return 1;
  }
  planner.attach(runtime.agent);
  let ready = false;
  let health: HealthServer | undefined;
  return runtime.untilStopped({
    start: async () => {
      if (args.healthPort > 0) health = await startHealthServer({ port: args.healthPort, ready: () => ready, metrics: () => runtime.metrics() });
      await planner.started;
      ready = true;
      log.info({ node: args.node, manifests: args.manifests, ...(health === undefined ? {} : { port: health.port }) }, 'speaker running');
    },
    beforeClose: () => void planner.stop(),
    afterClose: () => void health?.close(),
    register: (stop) => {
      stopNode = stop;
      if (fatal !== undefined) stop(fatal);
    },
  });
}
