// What both `berth speaker` modes (manifests: src/cli/speaker.ts; Kubernetes: src/cli/speaker-k8s.ts)
// run on a node: the engines, the agent that drives them, and how the process stops. The two modes differ
// only in where the cluster snapshot comes from.
//
// Engines: the Layer 2 engine over AF_PACKET (interface facts rescanned before each apply; ARP/NDP
// answered on per-CPU threads, src/l2/cpu-answerers.ts, unless l2Threads is 0) and the BGP
// speaker over src/sys TCP, with TTL set on accepted sessions too (single-hop eBGP = 1).
// Graceful restart (RFC 4724, src/bgp/restart-state.ts): a start that finds the state file of an earlier
// run in this boot sets the R bit in its OPENs.
// Stopping (docs/handoff.md):
//   SIGTERM / SIGINT  drain, hand-off first: every route is withdrawn with UPDATEs while the sessions
//                     stay up (routers move the traffic to the other next hops while this node still
//                     forwards), and with liveness every VIP is answered until its next owner has
//                     announced it; then BGP sessions end with Cease / Administrative Shutdown, ARP/NDP
//                     answers stop, the restart state file is removed.
//   SIGUSR2           planned restart: connections close without NOTIFICATION, so peers that negotiated
//                     graceful restart keep our routes as stale; the state file stays.
// A crash also leaves the state file: the next start counts as a restart too (the peers' view).
// BFD (src/bgp/bfd, bfd-runtime.ts): peers with a BFDProfile get a BFD session; the agent drives the BGP
// speaker through the BFD gate, which tears a session down when its BFD goes Down.
// Liveness (src/liveness, docs/liveness.md), when given a key: heartbeats on this thread, and the L2
// engine driven through the liveness gate. Stopping first tells the watchers "leaving" and keeps
// answering until the next owners announced (at most HANDOFF_MAX_MS), so this node goes quiet last.
import type { Logger } from '../log.ts';
import { Speaker } from '../bgp/speaker.ts';
import { sysTransport } from '../bgp/transport.ts';
import { beginRun, fileRestartStateIo } from '../bgp/restart-state.ts';
import { createLayer2Engine } from '../l2/engine.ts';
import { createCpuAnswerers, type CpuAnswerers } from '../l2/cpu-answerers.ts';
import { afPacketTransportFactory, scanInterfaces } from '../l2/af-packet-transport.ts';
import type { LinkInfo } from '../l2/transport.ts';
import { defaultRouteInterface, getInterface, openPacketSocket, routeTo, setSocketTtl, tcpTransport } from '../sys/index.ts';
import { sysRaPortOpener, UnnumberedPeers } from '../bgp/unnumbered.ts';
import type { PeerSpec } from '../bgp/peer.ts';
import { createAgent, type Agent } from '../speaker/agent.ts';
import { renderExposition } from '../metrics/exposition.ts';
import { speakerFamilies } from '../metrics/families.ts';
import { startLoopMonitor } from '../metrics/loop.ts';
import { createBfdGate } from './bfd-runtime.ts';
import { startLivenessRuntime, type Conflict, type LivenessRuntime } from '../liveness/runtime.ts';

/** Stopping: at most this long for the withdrawals to leave for the kernel (src/bgp Speaker.withdrawAll). */
const WITHDRAW_DRAIN_MAX_MS = 1000;
/** Stopping: the sessions stay up this long after the withdrawals, so the routers have moved the traffic
 * to the other next hops (and installed that in their FIBs) before the session goes. */
const WITHDRAW_SETTLE_MS = 500;

export interface NodeRuntimeOptions {
  readonly log: Logger;
  readonly nodeName: string;
  /** Also accept BGP connections on this port (passive peers); undefined = only connect out. */
  readonly listenPort: number | undefined;
  readonly restartStatePath: string;
  /** Per-CPU ARP/NDP answer threads at most; 0: answer on the main thread. */
  readonly l2Threads: number;
  /** Speaker liveness (src/liveness, docs/liveness.md); absent: off. */
  readonly liveness?: { readonly key: Buffer; readonly port: number; readonly intervalMs: number; readonly onConflict?: (c: Conflict) => void };
  /** Per-peer bound on queued outgoing BGP octets; default src/bgp/session.ts DEFAULT_MAX_UNSENT_BYTES. */
  readonly maxUnsentBytes?: number;
}

export interface NodeRuntime {
  readonly agent: Agent;
  /** The Prometheus text for /metrics (src/metrics/families.ts). */
  metrics(): string;
  /** Runs until SIGTERM/SIGINT (drain) or SIGUSR2 (restart), or until `stop` is called; resolves 0. */
  untilStopped(hooks: StopHooks): Promise<number>;
}

export interface StopHooks {
  /** Starts the snapshot source; a rejection stops the node ("start failure"). */
  readonly start: () => Promise<void>;
  /** Stops the snapshot source (and anything else of the mode) before the engines close. */
  readonly beforeClose: () => void;
  /** After the engines closed, before the process exits. */
  readonly afterClose?: () => void;
  /** Lets the mode stop the node itself (e.g. its health port failed). */
  readonly register?: (stop: (reason: string) => void) => void;
}

/** Starts the engines; undefined when the BGP listener cannot be opened (logged, engines closed). */
export async function startNodeRuntime(opts: NodeRuntimeOptions): Promise<NodeRuntime | undefined> {
  const { log, nodeName } = opts;
  if (opts.listenPort !== undefined) log.info({ node: nodeName, port: opts.listenPort }, 'accepting BGP connections');
  // Interface facts, refreshed before each apply; the AF_PACKET factory looks links up here.
  let links: ReadonlyMap<string, LinkInfo> = new Map();
  let threads: CpuAnswerers | undefined;
  if (opts.l2Threads > 0) {
    try {
      threads = createCpuAnswerers({ maxThreads: opts.l2Threads, logger: log });
      log.info({ node: nodeName, threads: threads.threads }, 'l2: answering ARP/NDP on per-CPU threads');
    } catch (e) {
      log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'l2: cannot start per-CPU answer threads; answering on the main thread');
    }
  }
  const l2 = createLayer2Engine({
    openTransport: afPacketTransportFactory({ link: (iface) => links.get(iface) }),
    logger: log,
    ...(threads === undefined ? {} : { threads }),
  });
  const restart = beginRun(opts.restartStatePath, fileRestartStateIo);
  if (restart.problem !== undefined) log.warn({ reason: restart.problem }, `cannot record the restart state in ${restart.path}: this start counts as fresh`);
  else if (restart.restarting) log.info({ node: nodeName, reason: restart.path }, 'restarted in this boot: graceful restart R bit set (RFC 4724 §4.1)');
  const bgp = new Speaker({
    transport: sysTransport(tcpTransport, setSocketTtl),
    logger: log,
    ...(restart.restarting ? { restarting: true } : {}),
    ...(opts.listenPort === undefined ? {} : { listen: { port: opts.listenPort } }),
    ...(opts.maxUnsentBytes === undefined ? {} : { maxUnsentBytes: opts.maxUnsentBytes }),
  });
  try {
    await bgp.start();
  } catch (e) {
    log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot start the BGP listener');
    l2.close();
    return undefined;
  }
  const gated = createBfdGate(bgp, log);
  // Interface (unnumbered) peers reach the speaker once their link-local neighbour is known (src/bgp/unnumbered.ts).
  let plannedPeers: readonly PeerSpec[] = [];
  const unnumbered: UnnumberedPeers = new UnnumberedPeers({
    open: sysRaPortOpener({ getInterface, openPacketSocket }),
    logger: log,
    onChange: () => gated.setPeers(unnumbered.resolve(plannedPeers)),
  });
  let liveness: LivenessRuntime | undefined;
  if (opts.liveness !== undefined) {
    try {
      liveness = startLivenessRuntime({
        self: nodeName,
        key: opts.liveness.key,
        port: opts.liveness.port,
        detector: { intervalMs: opts.liveness.intervalMs },
        logger: log,
        l2,
        link: (iface) => links.get(iface),
        macs: () => [...new Set([...links.values()].map((l) => l.mac))].sort(),
        ...(opts.liveness.onConflict === undefined ? {} : { onConflict: opts.liveness.onConflict }),
      });
      log.info({ node: nodeName, port: opts.liveness.port, intervalMs: opts.liveness.intervalMs }, 'liveness: heartbeats on');
    } catch (e) {
      log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'cannot start speaker liveness');
      l2.close();
      await bgp.stop();
      return undefined;
    }
  }
  const agent = createAgent({
    ...(liveness === undefined ? {} : { gate: liveness }),
    l2,
    bgp: {
      setPeers: (peers) => {
        plannedPeers = peers;
        gated.setPeers(unnumbered.resolve(peers));
      },
      setAdvertisements: (all) => gated.setAdvertisements(all),
      stop: (o) => {
        unnumbered.close();
        return gated.stop(o);
      },
    },
    logger: log,
    interfaces: async () => {
      const scan = await scanInterfaces();
      links = scan.links;
      return scan.facts;
    },
    routeTo: async (ip) => (await routeTo(ip))?.ifname,
    defaultRoute: () => defaultRouteInterface(),
  });

  const withdrawBeforeClose = async (): Promise<void> => {
    const w = await bgp.withdrawAll(WITHDRAW_DRAIN_MAX_MS);
    if (w.peers === 0) return;
    log.info({ node: nodeName, peers: w.peers, prefixes: w.prefixes, drained: w.drained, settleMs: WITHDRAW_SETTLE_MS }, 'stopping: routes withdrawn, sessions kept up while the routers move the traffic');
    if (w.prefixes > 0) await new Promise((r) => setTimeout(r, WITHDRAW_SETTLE_MS));
  };

  const untilStopped = (hooks: StopHooks): Promise<number> =>
    new Promise<number>((resolveExit) => {
      let stopping = false;
      const stop = (reason: string, preserveRoutes = false): void => {
        if (stopping) return;
        stopping = true;
        log.info({ node: nodeName, reason }, preserveRoutes ? 'stopping for a restart: peers keep the routes (graceful restart)' : 'stopping: draining');
        hooks.beforeClose();
        if (!preserveRoutes) restart.drained();
        // Hand-off (docs/handoff.md), both at once: the next owners announce the L2 VIPs before we stop
        // answering; the routers drop our routes before the sessions go (a planned restart keeps them).
        const l2Handoff = liveness === undefined ? Promise.resolve() : liveness.leave().then(() => liveness?.handedOff());
        const bgpHandoff = preserveRoutes ? Promise.resolve() : withdrawBeforeClose();
        void Promise.all([l2Handoff, bgpHandoff])
          .then(() => agent.close(preserveRoutes ? { preserveRoutes: true } : { communication: 'berth speaker shutting down' }))
          .then(() => liveness?.close())
          // Let the NOTIFICATIONs leave before the process ends.
          .then(() => new Promise((r) => setTimeout(r, 300)))
          .catch((e: unknown) => log.error({ reason: e instanceof Error ? e.message : String(e) }, 'error while stopping'))
          .finally(() => {
            hooks.afterClose?.();
            // Exit even if some handle lingers (unref'd: a clean loop ends first).
            setTimeout(() => process.exit(0), 1000).unref();
            resolveExit(0);
          });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGUSR2', () => stop('SIGUSR2', true));
      hooks.register?.((reason) => stop(reason));
      hooks.start().catch((e: unknown) => {
        log.fatal({ reason: e instanceof Error ? e.message : String(e) }, 'speaker failed to start');
        stop('start failure');
      });
    });

  const loop = startLoopMonitor();
  const metrics = (): string =>
    renderExposition([...speakerFamilies({ l2, bgp: gated, bfd: gated, answerThreads: () => threads?.running() ?? 0 }), ...(liveness?.families() ?? []), ...loop.families()]);
  return { agent, untilStopped, metrics };
}
