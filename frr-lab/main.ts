// `npm run lab` and `npm run lab:down`.
//   npm run lab [-- --keep] [-- --runner netns] [-- --mode manifests]
//     installs missing Debian packages (scripts/install-deps.sh), starts the lab's dockerd, builds the images
//     (cached by their inputs), deploys frr-lab/topology.clab.yml with containerlab, then runs the lab as a
//     Kubernetes cluster (k8s-lab.ts: the real kube-apiserver + etcd, berth controller x2, berth speaker and
//     kube-proxy on the three nodes, pods behind the seed documents' Services), waits until every Service is
//     announced and prints a report. Without --keep it then tears everything down; with --keep it leaves the
//     lab running, says how to use it and waits: Enter tears it down (the API server lives in this process).
//     --runner netns builds the same lab with network namespaces instead (no Docker). --mode manifests runs
//     `berth speaker --manifests` instead of Kubernetes (berth-lab.ts: no API server, nftables DNAT).
//   npm run lab:down
//     removes what `npm run lab --keep` left: containers, the management network, namespaces, FRR, the dockerd.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { report, startBerth, waitAnnounced } from './berth-lab.ts';
import { k8sReport, startK8s, startWorkload, waitK8sAnnounced, type K8sLab } from './k8s-lab.ts';
import { deployClab, destroyClab, TEST_LAB_VARS } from './clab.ts';
import { runningDocker } from './docker.ts';
import { deployNetns, destroyNetnsLab } from './netns.ts';
import type { LabHandle } from './topology.ts';

const NETNS_PREFIX = 'berthlab';
/** The netns runner's management network for a person's lab (containerlab's is the topology file's 203.0.113.240/28). */
const NETNS_MGMT = '203.0.113.192/28';
/** test/integration/lab's namespace prefixes (runners, berth-netns, netns-down). */
const TEST_NETNS_PREFIXES = ['blabt', 'blabn', 'blabd', 'blk8'];
const say = (l: string): void => {
  process.stdout.write(`${l}\n`);
};

/** Waits for Enter (or stdin closing). */
function waitEnter(): Promise<void> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin });
    rl.once('line', () => {
      rl.close();
    });
    rl.once('close', () => resolve());
  });
}

async function up(keep: boolean, runner: 'containerlab' | 'netns', mode: 'k8s' | 'manifests'): Promise<number> {
  const t0 = Date.now();
  const deps = spawnSync(fileURLToPath(new URL('../scripts/install-deps.sh', import.meta.url)), { stdio: 'inherit' });
  if (deps.status !== 0) return 1;
  let lab: LabHandle | undefined;
  let stopDocker: (() => Promise<void>) | undefined;
  let k: K8sLab | undefined;
  try {
    if (runner === 'containerlab') {
      const c = await deployClab({ log: (l) => say(`lab: ${l}`) });
      lab = c;
      stopDocker = () => c.engine.stop({ force: true });
      for (const i of c.images) say(`lab: image ${i.image} ${i.built ? `built in ${i.seconds.toFixed(0)} s` : 'cached'}`);
    } else {
      say(`lab: building frr-lab/topology.clab.yml with network namespaces (prefix ${NETNS_PREFIX})`);
      lab = await deployNetns({ prefix: NETNS_PREFIX, mgmtIpv4Subnet: NETNS_MGMT });
    }
    say(`lab: deployed in ${((Date.now() - t0) / 1000).toFixed(1)} s; starting berth on node1..node3`);
    if (mode === 'k8s') {
      k = await startK8s(lab, (l) => say(`lab: ${l}`));
      await startWorkload(k);
      say(`lab: pods ${k.pods().map((p) => `${p.name}@${p.node}`).join(' ')}`);
      await waitK8sAnnounced(k);
      say(`lab: every Service announced after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
      say(await k8sReport(k));
      if (keep) {
        say('\n== The lab keeps running (--keep) until you press Enter (the API server lives in this command)');
        say(`kubectl:  ${k.api.assets.kubectl} --kubeconfig ${k.kubeconfig} get services,endpointslices,ipaddresspools -A`);
        say(`router:   ${lab.vtyshHint}   (e.g. -c 'show bgp ipv4 unicast' -c 'show ip route')`);
        say(lab.runner === 'containerlab' ? `a node:   DOCKER_HOST=${(lab as Awaited<ReturnType<typeof deployClab>>).engine.host} docker exec -it ${(lab as Awaited<ReturnType<typeof deployClab>>).container('node1')} bash` : `a node:   ip netns exec ${NETNS_PREFIX}-node1 bash`);
        say('tear down: press Enter (if this command was killed: npm run lab:down)');
        await waitEnter();
        keep = false;
      }
      return 0;
    }
    const b = await startBerth(lab, (l) => say(`lab: ${l}`));
    await waitAnnounced(b).catch(async (e: unknown) => {
      say(await b.speakerLogs());
      throw e;
    });
    say(`lab: every Service announced after ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    say(await report(b));
    if (keep) {
      say('\n== The lab keeps running (--keep)');
      say(`router:   ${lab.vtyshHint}   (e.g. -c 'show bgp ipv4 unicast' -c 'show ip route')`);
      if (lab.runner === 'containerlab') {
        const c = lab as Awaited<ReturnType<typeof deployClab>>;
        say(`a node:   DOCKER_HOST=${c.engine.host} docker exec -it ${c.container('node1')} bash`);
        say(`clients:  DOCKER_HOST=${c.engine.host} docker exec -it ${c.container('ext')} curl http://${b.services.find((s) => s.modes.includes('bgp'))?.ips[0] ?? 'VIP'}:18081/`);
        say(`manifests the speakers read: ${b.manifestsDir('node1')} in each node (edit frr-lab/manifests and rerun, or write there)`);
      } else {
        say(`a node:   ip netns exec ${NETNS_PREFIX}-node1 bash`);
        say(`manifests the speakers read: ${b.manifestsDir('node1')} (node2, node3 alike)`);
      }
      say('tear down: npm run lab:down');
      return 0;
    }
    return 0;
  } catch (e) {
    process.stderr.write(`lab: FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
    keep = false;
    return 1;
  } finally {
    if (!keep) {
      say('lab: tearing down');
      await k?.stop().catch((e: unknown) => process.stderr.write(`lab: API server stop: ${String(e)}\n`));
      await lab?.destroy().catch((e: unknown) => process.stderr.write(`lab: teardown: ${String(e)}\n`));
      await stopDocker?.().catch((e: unknown) => process.stderr.write(`lab: dockerd stop: ${String(e)}\n`));
    }
  }
}

async function down(): Promise<number> {
  // The person's lab, and whatever a killed test run left (the tests' prefixes and lab name).
  for (const prefix of [NETNS_PREFIX, ...TEST_NETNS_PREFIXES]) await destroyNetnsLab(prefix);
  const engine = await runningDocker();
  if (engine !== undefined) {
    await destroyClab();
    await destroyClab({ vars: TEST_LAB_VARS });
    // The engine is the lab's own: anything still on it is the lab's.
    const left = (await engine.docker(['ps', '-aq'])).stdout.split('\n').filter((x) => x !== '');
    if (left.length > 0) await engine.docker(['rm', '-f', ...left]);
    await engine.stop({ force: true });
  }
  say('lab: down (containers, management network, namespaces, FRR and the lab dockerd are gone)');
  return 0;
}

const args = process.argv.slice(2);
const cmd = args[0] ?? 'up';
const runnerArg = args.includes('--runner') ? args[args.indexOf('--runner') + 1] : 'containerlab';
const modeArg = args.includes('--mode') ? args[args.indexOf('--mode') + 1] : 'k8s';
if ((runnerArg !== 'containerlab' && runnerArg !== 'netns') || (modeArg !== 'k8s' && modeArg !== 'manifests')) {
  process.stderr.write('usage: lab up [--keep] [--runner containerlab|netns] [--mode k8s|manifests] | lab down\n');
  process.exit(2);
}
process.exitCode = cmd === 'down' ? await down() : cmd === 'up' ? await up(args.includes('--keep'), runnerArg, modeArg) : 2;
