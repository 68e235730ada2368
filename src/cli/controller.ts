// `berth controller`: allocation and status against the Kubernetes API server (src/k8s/controller.ts),
// leader-elected on a Lease; /healthz, /readyz and /metrics on --health-port. SIGTERM/SIGINT: finish the running
// reconciles, release the Lease (a standby takes over at once), exit 0. Losing the Lease stops all writes
// at once; the controller campaigns again and a new term rebuilds its allocator from Service status.
// Exit 2 on bad usage.
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Level } from 'pino';
import { createLogger, type Logger } from '../log.ts';
import { createController } from '../k8s/controller.ts';
import { startHealthServer, type HealthServer } from '../k8s/health.ts';
import { renderExposition } from '../metrics/exposition.ts';
import { controllerFamilies } from '../metrics/families.ts';
import { startLoopMonitor } from '../metrics/loop.ts';
import { createRest, loadConnection, type Rest } from '../k8s/rest.ts';
import { DEFAULT_L2_THREADS, flagTokens } from './args.ts';
import { tuneHeap } from './heap.ts';
import type { CompileOptions } from '../config/compile.ts';

/** The dialect flags both Kubernetes processes take (src/config/compile.ts CompileOptions). */
export const DIALECT_USAGE = `  --metallb-namespace NS
                        read metallb.io objects from this namespace only; objects elsewhere are refused
                        with a problem (ConfigurationState, Events). Default: every namespace
  --openelb on|off      off: the OpenELB dialect is not read: no Eip, BgpConf or OpenELB BgpPeer is
                        watched (their CRDs may be absent), Services annotated lb.kubesphere.io/v1alpha1
                        are left to OpenELB, no eip.* / protocol.* annotation is read. Default: on
`;

export const CONTROLLER_USAGE = `usage: berth controller [options]

  --namespace NS        berth's namespace: Lease, ConfigurationState (env BERTH_NAMESPACE; default berth-system)
  --kubeconfig PATH     kubeconfig file (default: in-cluster service account, else KUBECONFIG / ~/.kube/config)
  --lb-class NAME       berth's loadBalancerClass (default: Services without a class)
${DIALECT_USAGE}  --log-level LEVEL     trace, debug, info (default), warn, error, fatal, silent
  --health-port N       serve /healthz, /readyz and /metrics (Prometheus) on this TCP port (default
                        17472; 0 = off)
  --identity ID         Lease holder identity (env BERTH_POD_NAME; default host name + random suffix)
  --lease-name NAME     Lease name (env BERTH_LEASE_NAME; default berth-controller)
  --lease-duration S    seconds a Lease lasts without renewal (default 15)
  --renew-deadline S    seconds the leader keeps trying to renew before stepping down (default 10)
  --retry-period S      seconds between Lease attempts (default 2)
  --workers N           concurrent reconciles (default 16)

Logs are JSON lines on stderr.
exit status: 0 stopped by a signal, 1 failure, 2 bad usage
`;

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LEVELS)[number];

/** Flags shared by the Kubernetes-mode controller and speaker. */
export interface KubeFlags {
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly lbClass: string | undefined;
  /** --metallb-namespace and --openelb. */
  readonly dialects: CompileOptions;
  readonly logLevel: LogLevel;
  readonly healthPort: number;
  readonly nodeName: string | undefined;
  readonly identity: string | undefined;
  readonly leaseName: string;
  readonly leaseDurationS: number;
  readonly renewDeadlineS: number;
  readonly retryPeriodS: number;
  readonly workers: number;
  readonly listenPort: number | undefined;
  /** Speaker: per-CPU ARP/NDP answer threads at most (0: answer on the main thread). */
  readonly l2Threads: number;
}

export interface ParseOptions {
  readonly env: NodeJS.ProcessEnv;
  readonly defaultHealthPort: number;
  /** Flags this command accepts besides the common ones. */
  readonly allow: ReadonlySet<string>;
}

const COMMON = new Set(['--namespace', '--kubeconfig', '--lb-class', '--metallb-namespace', '--openelb', '--log-level', '--health-port']);

export function parseKubeFlags(argv: readonly string[], po: ParseOptions): KubeFlags | string {
  const env = po.env;
  const f = {
    namespace: env['BERTH_NAMESPACE'] !== undefined && env['BERTH_NAMESPACE'] !== '' ? env['BERTH_NAMESPACE'] : 'berth-system',
    kubeconfig: undefined as string | undefined,
    lbClass: undefined as string | undefined,
    dialects: {} as CompileOptions,
    logLevel: 'info' as LogLevel,
    healthPort: po.defaultHealthPort,
    nodeName: env['BERTH_NODE_NAME'] !== undefined && env['BERTH_NODE_NAME'] !== '' ? env['BERTH_NODE_NAME'] : undefined,
    identity: env['BERTH_POD_NAME'] !== undefined && env['BERTH_POD_NAME'] !== '' ? env['BERTH_POD_NAME'] : undefined,
    leaseName: env['BERTH_LEASE_NAME'] !== undefined && env['BERTH_LEASE_NAME'] !== '' ? env['BERTH_LEASE_NAME'] : 'berth-controller',
    leaseDurationS: 15,
    renewDeadlineS: 10,
    retryPeriodS: 2,
    workers: 16,
    listenPort: undefined as number | undefined,
    l2Threads: DEFAULT_L2_THREADS,
  };
  const num = (flag: string, v: string | undefined, min: number, max: number): number | string => {
    const n = Number(v);
    if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || n < min || n > max) return `${flag} must be a number ${String(min)}..${String(max)}, got "${v ?? ''}"`;
    return n;
  };
  for (const { arg, flag, value } of flagTokens(argv)) {
    if (!COMMON.has(flag) && !po.allow.has(flag)) return `unknown argument "${arg}"`;
    const v = value();
    if (v === undefined || v === '') return `${flag} needs a value`;
    let n: number | string;
    switch (flag) {
      case '--namespace':
        f.namespace = v;
        break;
      case '--kubeconfig':
        f.kubeconfig = v;
        break;
      case '--lb-class':
        f.lbClass = v;
        break;
      case '--metallb-namespace':
        f.dialects = { ...f.dialects, metallbNamespace: v };
        break;
      case '--openelb':
        if (v !== 'on' && v !== 'off') return `--openelb must be on or off, got "${v}"`;
        f.dialects = { ...f.dialects, openelb: v === 'on' };
        break;
      case '--log-level':
        if (!(LEVELS as readonly string[]).includes(v)) return `--log-level must be one of ${LEVELS.join(', ')}, got "${v}"`;
        f.logLevel = v as LogLevel;
        break;
      case '--node-name':
      case '--node':
        f.nodeName = v;
        break;
      case '--identity':
        f.identity = v;
        break;
      case '--lease-name':
        f.leaseName = v;
        break;
      case '--l2-threads':
        n = num(flag, v, 0, 1024);
        if (typeof n === 'string') return n;
        f.l2Threads = Math.floor(n);
        break;
      case '--health-port':
      case '--lease-duration':
      case '--renew-deadline':
      case '--retry-period':
      case '--workers':
      case '--listen-port':
        n = num(flag, v, flag === '--health-port' ? 0 : flag === '--workers' || flag === '--listen-port' ? 1 : 0.1, flag === '--workers' ? 256 : flag === '--health-port' || flag === '--listen-port' ? 65535 : 3600);
        if (typeof n === 'string') return n;
        if (flag === '--health-port') f.healthPort = Math.floor(n);
        else if (flag === '--lease-duration') f.leaseDurationS = n;
        else if (flag === '--renew-deadline') f.renewDeadlineS = n;
        else if (flag === '--retry-period') f.retryPeriodS = n;
        else if (flag === '--workers') f.workers = Math.floor(n);
        else f.listenPort = Math.floor(n);
        break;
      default:
        return `unknown argument "${arg}"`;
    }
  }
  if (f.renewDeadlineS >= f.leaseDurationS) return '--renew-deadline must be shorter than --lease-duration';
  return f;
}

/** The API server connection the flags name (kubeconfig, else in-cluster); undefined, logged, when it cannot be loaded. */
export async function connectKube(flags: KubeFlags, log: Logger): Promise<Rest | undefined> {
  try {
    return createRest(await loadConnection({ kubeconfig: flags.kubeconfig }));
  } catch (e) {
    log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot load the kubeconfig');
    return undefined;
  }
}

export async function runController(argv: readonly string[]): Promise<number> {
  tuneHeap();
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(CONTROLLER_USAGE);
    return 0;
  }
  const flags = parseKubeFlags(argv, {
    env: process.env,
    defaultHealthPort: 17472,
    allow: new Set(['--identity', '--lease-name', '--lease-duration', '--renew-deadline', '--retry-period', '--workers']),
  });
  if (typeof flags === 'string') {
    process.stderr.write(`berth controller: ${flags}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
  const log = createLogger({ level: flags.logLevel as Level | 'silent', name: 'controller' });
  const rest = await connectKube(flags, log);
  if (rest === undefined) return 1;
  const identity = flags.identity ?? `${hostname()}_${randomBytes(4).toString('hex')}`;
  return new Promise<number>((resolveExit) => {
    let health: HealthServer | undefined;
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      void health?.close();
      rest.close();
      setTimeout(() => process.exit(code), 1000).unref();
      resolveExit(code);
    };
    const controller = createController({
      rest,
      logger: log,
      namespace: flags.namespace,
      identity,
      leaseName: flags.leaseName,
      ...(flags.lbClass === undefined ? {} : { lbClass: flags.lbClass }),
      dialects: flags.dialects,
      leaseDurationMs: flags.leaseDurationS * 1000,
      renewDeadlineMs: flags.renewDeadlineS * 1000,
      retryPeriodMs: flags.retryPeriodS * 1000,
      workers: flags.workers,
      onLostLeadership: () => {
        log.error({ reason: 'lease not renewed in time' }, 'lost leadership: stopped writing, campaigning again');
      },
    });
    const stop = (signal: string): void => {
      log.info({ reason: signal }, 'stopping');
      void controller
        .stop()
        .catch((e: unknown) => log.error({ reason: e instanceof Error ? e.message : String(e) }, 'error while stopping'))
        .finally(() => finish(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    controller.start();
    const loop = startLoopMonitor();
    log.info({ identity, namespace: flags.namespace }, 'controller running');
    if (flags.healthPort > 0) {
      startHealthServer({ port: flags.healthPort, ready: () => controller.ready(), metrics: () => renderExposition([...controllerFamilies(controller), ...loop.families()]) })
        .then((h) => (health = h))
        .catch((e: unknown) => {
          log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot serve /healthz');
          stop('health port');
        });
    }
  });
}
