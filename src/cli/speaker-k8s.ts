// `berth speaker --node-name NAME` without --manifests: the speaker against the Kubernetes API server
// (src/k8s/speaker.ts) driving the same engines, with the same graceful restart and stopping, as the
// manifest mode (src/cli/node-runtime.ts: SIGTERM/SIGINT drain, SIGUSR2 planned restart). The state
// file is $BERTH_RESTART_STATE (deploy/speaker.yaml puts it on an emptyDir, so it survives a container
// restart), else the manifest mode's default. Exit 2 on bad usage.
import type { Level } from 'pino';
import { createLogger } from '../log.ts';
import { defaultRestartStatePath } from '../bgp/restart-state.ts';
import { startNodeRuntime } from './node-runtime.ts';
import { startHealthServer, type HealthServer } from '../k8s/health.ts';
import { startPlanThread } from '../speaker/plan-thread.ts';
import { DIALECT_USAGE, parseKubeFlags } from './controller.ts';
import { extractLivenessFlags, LIVENESS_USAGE, readLivenessKey } from './liveness-args.ts';
import { L2_WINDOW } from '../liveness/runtime.ts';

export const KUBE_SPEAKER_USAGE = `usage: berth speaker --node-name NAME [options]     (Kubernetes mode)

  --node-name NAME     this node (env BERTH_NODE_NAME; required)
  --namespace NS       berth's namespace: Secrets, status objects (env BERTH_NAMESPACE; default berth-system)
  --kubeconfig PATH    kubeconfig file (default: in-cluster service account, else KUBECONFIG / ~/.kube/config)
  --lb-class NAME      berth's loadBalancerClass (default: Services without a class)
${DIALECT_USAGE}  --log-level LEVEL    trace, debug, info (default), warn, error, fatal, silent
  --health-port N      serve /healthz, /readyz and /metrics (Prometheus) on this TCP port (default 17473;
                       0 = off)
  --listen-port N      also accept BGP connections on TCP port N (passive peers); default: the OpenELB
                       BgpConf "default" spec.listenPort when it has one (read at start), else never listen
  --l2-threads N       answer ARP/NDP on the CPU each request arrived on, one thread per CPU, at most
                       N (default 8); 0 = on the main thread
${LIVENESS_USAGE}                       (mount the Secret holding the key as a file: docs/liveness.md "Deploying")

env BERTH_RESTART_STATE: the graceful-restart state file (RFC 4724 R bit after a restart in this boot).
SIGTERM/SIGINT: drain (BGP Cease, peers withdraw at once). SIGUSR2: planned restart (peers keep the routes).
The Pod (env BERTH_POD_NAME, BERTH_POD_UID) owns the ServiceL2Status / ServiceBGPStatus objects it writes.
exit status: 0 stopped by a signal, 1 could not start, 2 bad usage
`;

export async function runKubeSpeaker(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(KUBE_SPEAKER_USAGE);
    return 0;
  }
  const live = extractLivenessFlags(argv);
  if (typeof live === 'string') {
    process.stderr.write(`berth speaker: ${live}\n\n${KUBE_SPEAKER_USAGE}`);
    return 2;
  }
  const livenessKey = live.flags.secretFile === undefined ? undefined : readLivenessKey(live.flags.secretFile);
  if (typeof livenessKey === 'string') {
    process.stderr.write(`berth speaker: ${livenessKey}\n`);
    return 2;
  }
  const flags = parseKubeFlags(live.rest, { env: process.env, defaultHealthPort: 17473, allow: new Set(['--node-name', '--node', '--listen-port', '--l2-threads']) });
  if (typeof flags === 'string') {
    process.stderr.write(`berth speaker: ${flags}\n\n${KUBE_SPEAKER_USAGE}`);
    return 2;
  }
  const nodeName = flags.nodeName;
  if (nodeName === undefined) {
    process.stderr.write(`berth speaker: --node-name NAME (or BERTH_NODE_NAME) is required\n\n${KUBE_SPEAKER_USAGE}`);
    return 2;
  }
  const log = createLogger({ level: flags.logLevel as Level | 'silent', name: 'speaker' });
  // Watching, planning and status writes run on the planner thread (src/speaker/plan-thread.ts); this
  // thread keeps the engines and their timers. A planner that fails stops the node.
  let fatal: string | undefined;
  let stopNode: ((reason: string) => void) | undefined;
  const podName = process.env['BERTH_POD_NAME'];
  const podUid = process.env['BERTH_POD_UID'];
  // Test hook (test/k8s/stall.test.ts): the planner spins this long before each plan after the first.
  const stall = Number(process.env['BERTH_PLAN_STALL_MS'] ?? '0');
  const planner = startPlanThread({
    data: {
      kind: 'kubernetes',
      nodeName,
      namespace: flags.namespace,
      logLevel: flags.logLevel,
      ...(flags.kubeconfig === undefined ? {} : { kubeconfig: flags.kubeconfig }),
      ...(flags.listenPort === undefined ? {} : { listenPort: flags.listenPort }),
      serviceOptions: { ...flags.dialects, ...(flags.lbClass === undefined ? {} : { loadBalancerClass: flags.lbClass }) },
      ...(podName !== undefined && podName !== '' && podUid !== undefined && podUid !== '' ? { pod: { name: podName, uid: podUid } } : {}),
      ...(livenessKey === undefined ? {} : { l2Window: L2_WINDOW }),
      ...(Number.isFinite(stall) && stall > 0 ? { stallMs: stall } : {}),
    },
    logger: log,
    onFatal: (reason) => {
      fatal = reason;
      log.fatal({ node: nodeName, reason }, 'the planner thread stopped: stopping the speaker');
      stopNode?.(reason);
    },
  });
  // The BGP listener's port: --listen-port, else the OpenELB BgpConf "default" (read by the planner).
  const listenPort = await planner.hello;
  if (fatal !== undefined) {
    await planner.stop();
    return 1;
  }
  // BERTH_RESTART_STATE names the state file (deploy/speaker.yaml: on an emptyDir); else the default.
  const statePath = process.env['BERTH_RESTART_STATE'];
  const runtime = await startNodeRuntime({
    log,
    nodeName,
    listenPort,
    l2Threads: flags.l2Threads,
    restartStatePath: statePath !== undefined && statePath !== '' ? statePath : defaultRestartStatePath(),
    // A duplicate owner becomes a Warning Event on the VIP's Services, written by the planner thread.
    ...(livenessKey === undefined ? {} : { liveness: { key: livenessKey, port: live.flags.port, intervalMs: live.flags.intervalMs, onConflict: (c) => planner.conflict(c) } }),
  });
  if (runtime === undefined) {
    await planner.stop();
    return 1;
  }
  planner.attach(runtime.agent);
  let health: HealthServer | undefined;
  return runtime.untilStopped({
    start: async () => {
      await planner.started;
      log.info({ node: nodeName, namespace: flags.namespace }, 'speaker running');
    },
    beforeClose: () => {
      void planner.stop();
      void health?.close();
    },
    register: (stop) => {
      stopNode = stop;
      if (fatal !== undefined) stop(fatal);
      if (flags.healthPort <= 0) return;
      startHealthServer({ port: flags.healthPort, ready: () => planner.ready(), metrics: () => runtime.metrics() })
        .then((h) => (health = h))
        .catch((e: unknown) => {
          log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot serve /healthz');
          stop('health port');
        });
    },
  });
}
