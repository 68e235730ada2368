// `berth speaker --node-name NAME` without --manifests: the speaker against the Kubernetes API server
// (src/k8s/speaker.ts) driving the same engines, with the same graceful restart and stopping, as the
// manifest mode (src/cli/node-runtime.ts: SIGTERM/SIGINT drain, SIGUSR2 planned restart). The state
// file is $BERTH_RESTART_STATE (deploy/speaker.yaml puts it on an emptyDir, so it survives a container
// restart), else the manifest mode's default. Exit 2 on bad usage.
import type { Level } from 'pino';
import { createLogger } from '../log.ts';
import { defaultRestartStatePath } from '../bgp/restart-state.ts';
import { startNodeRuntime } from './node-runtime.ts';
import { createKubeSpeaker } from '../k8s/speaker.ts';
import { startHealthServer, type HealthServer } from '../k8s/health.ts';
import { isNotFound, type Rest } from '../k8s/rest.ts';
import { Resources, objectPath } from '../k8s/resources.ts';
import { compile } from '../config/compile.ts';
import { emptySnapshot, type BgpConf } from '../config/snapshot.ts';
import { BGPCONF_NAME } from '../config/openelb/bgpconf.ts';
import type { Logger } from '../log.ts';
import { connectKube, parseKubeFlags } from './controller.ts';

export const KUBE_SPEAKER_USAGE = `usage: berth speaker --node-name NAME [options]     (Kubernetes mode)

  --node-name NAME     this node (env BERTH_NODE_NAME; required)
  --namespace NS       berth's namespace: Secrets, status objects (env BERTH_NAMESPACE; default berth-system)
  --kubeconfig PATH    kubeconfig file (default: in-cluster service account, else KUBECONFIG / ~/.kube/config)
  --lb-class NAME      berth's loadBalancerClass (default: Services without a class)
  --log-level LEVEL    trace, debug, info (default), warn, error, fatal, silent
  --health-port N      serve /healthz, /readyz and /metrics (Prometheus) on this TCP port (default 17473;
                       0 = off)
  --listen-port N      also accept BGP connections on TCP port N (passive peers); default: the OpenELB
                       BgpConf "default" spec.listenPort when it has one (read at start), else never listen
  --l2-threads N       answer ARP/NDP on the CPU each request arrived on, one thread per CPU, at most
                       N (default 8); 0 = on the main thread

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
  const flags = parseKubeFlags(argv, { env: process.env, defaultHealthPort: 17473, allow: new Set(['--node-name', '--node', '--listen-port', '--l2-threads']) });
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
  const rest = await connectKube(flags, log);
  if (rest === undefined) return 1;
  // BERTH_RESTART_STATE names the state file (deploy/speaker.yaml: on an emptyDir); else the default.
  const statePath = process.env['BERTH_RESTART_STATE'];
  const runtime = await startNodeRuntime({
    log,
    nodeName,
    listenPort: flags.listenPort ?? (await bgpConfListenPort(rest, log)),
    l2Threads: flags.l2Threads,
    restartStatePath: statePath !== undefined && statePath !== '' ? statePath : defaultRestartStatePath(),
  });
  if (runtime === undefined) {
    rest.close();
    return 1;
  }
  const podName = process.env['BERTH_POD_NAME'];
  const podUid = process.env['BERTH_POD_UID'];
  const source = createKubeSpeaker({
    rest,
    logger: log,
    nodeName,
    namespace: flags.namespace,
    agent: runtime.agent,
    ...(flags.lbClass === undefined ? {} : { serviceOptions: { loadBalancerClass: flags.lbClass } }),
    ...(podName !== undefined && podName !== '' && podUid !== undefined && podUid !== '' ? { pod: { name: podName, uid: podUid } } : {}),
  });
  let health: HealthServer | undefined;
  return runtime.untilStopped({
    start: async () => {
      await source.start();
      log.info({ node: nodeName, namespace: flags.namespace }, 'speaker running');
    },
    beforeClose: () => {
      source.stop();
      void health?.close();
    },
    afterClose: () => rest.close(),
    register: (stop) => {
      if (flags.healthPort <= 0) return;
      startHealthServer({ port: flags.healthPort, ready: () => source.ready(), metrics: () => runtime.metrics() })
        .then((h) => (health = h))
        .catch((e: unknown) => {
          log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot serve /healthz');
          stop('health port');
        });
    },
  });
}

/**
 * OpenELB BgpConf `default` spec.listenPort (OpenELB api/v1alpha2/bgpconf_types.go), read once at start as in the
 * manifest mode: the listener cannot move while sessions run. Unreadable or absent: no listener.
 */
async function bgpConfListenPort(rest: Rest, log: Logger): Promise<number | undefined> {
  try {
    const obj = await rest.request<BgpConf>('GET', objectPath(Resources.bgpConfs, undefined, BGPCONF_NAME), { timeoutMs: 10_000 });
    const port = compile({ ...emptySnapshot, bgpConfs: [obj] }).config.bgpSpeaker?.listenPort;
    return port !== undefined && port > 0 ? port : undefined;
  } catch (e) {
    if (!isNotFound(e)) log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'cannot read BgpConf default; not listening for BGP connections');
    return undefined;
  }
}
