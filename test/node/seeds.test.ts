// The seed documents' manifests on a real Kubernetes node (test/node/harness): PorterLB's layer 2 example and
// MetalLB's layer 2 and BGP examples ("L2&BGP 模式说明"), each Service reached through its VIP from the node's
// LAN, the way the seeds' users reach them:
//  - layer 2 (Porter Eip, MetalLB L2Advertisement): a client on the LAN (the namespace at the end of the
//    node's LAN veth, test/node/harness/node.ts `lan`) asks by ARP who has the VIP; berth's speaker answers
//    with the node's LAN interface's MAC (the host kernel holds no such address and does no proxy ARP), and
//    the client's HTTP request to the VIP reaches a backend pod through kube-proxy;
//  - BGP (MetalLB BGPPeer + BGPAdvertisement): an FRR router on the LAN (AS 7675, as in the seed) learns the
//    VIP/32 from berth's speaker with the node as next hop, and a request from the router reaches a backend.
// The manifests are test/node/fixtures/seeds/*.yaml: the seeds (as in examples/), adapted only where they name
// addresses, interfaces, nodes or images that do not exist here; every change is marked "adapted" there.
// berth itself is installed as README.md "Install" says, with speaker liveness on: deploy/ through a
// kustomize overlay naming the image and the deploy/liveness Component, and the Secret made with kubectl.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { lan, startNode, waitFor, type RealNode } from './harness/node.ts';
import { repoRoot } from './harness/images.ts';
import { run } from './harness/host.ts';
import { tail } from '../k8s/harness/process.ts';
import { berthReady } from './harness/workloads.ts';
import { startFrr, type FrrInstance } from '../../frr-lab/frr.ts';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'seeds');
/** A server that answers like the seeds' luksa/kubia image: "You've hit <pod name>". */
const KUBIA = "require('http').createServer((q, s) => s.end(\"You've hit \" + require('os').hostname() + '\\n')).listen(8080)";
const restricted = {
  runAsNonRoot: true, runAsUser: 65532, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' },
};

let node: RealNode | undefined;
let router: FrrInstance | undefined;
const n = (): RealNode => {
  if (node === undefined) throw new Error('the node did not start (see the before hook)');
  return node;
};

/** A seed fixture with the image placeholders filled in, as a kubectl List. */
function seed(file: string): string {
  const items = parseAllDocuments(readFileSync(join(fixtures, file), 'utf8')).map((d) => d.toJS() as Record<string, unknown>);
  for (const o of items) {
    if (o['kind'] !== 'Deployment') continue;
    const pod = (o as { spec: { template: { spec: { containers: Record<string, unknown>[]; terminationGracePeriodSeconds?: number } } } }).spec.template.spec;
    pod.terminationGracePeriodSeconds = 1;
    for (const c of pod.containers) {
      assert.equal(c['image'], 'BERTH_IMAGE', `${file}: the placeholder image`);
      c['image'] = n().berthImage;
      c['imagePullPolicy'] = 'IfNotPresent';
      c['command'] = ['node', '-e', KUBIA];
      c['securityContext'] = restricted;
      c['readinessProbe'] = { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 };
    }
  }
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

async function vipOf(namespace: string, name: string): Promise<string | undefined> {
  const r = await n().kubectl(['get', 'service', name, '-n', namespace, '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
  const ip = r.stdout.trim();
  return r.code === 0 && ip !== '' ? ip : undefined;
}

const inLan = (args: readonly string[], timeoutMs = 20_000): ReturnType<typeof run> => run('ip', ['netns', 'exec', lan.netns, ...args], { timeoutMs });

/** The MACs that answered an ARP request for `ip` on the LAN (arping, Thomas Habets' 2.x). */
function arpFromLan(ip: string): string[] {
  const r = inLan(['arping', '-c', '2', '-W', '0.3', '-i', 'eth0', ip]);
  return [...r.stdout.matchAll(/bytes from ([0-9a-f:]{17}) /gi)].map((m) => (m[1] ?? '').toLowerCase());
}

/** HTTP GET from the LAN namespace; the body, or undefined while nothing answers. */
function curlFromLan(url: string): string | undefined {
  const r = inLan(['curl', '-sS', '--max-time', '3', url]);
  return r.code === 0 ? r.stdout.trim() : undefined;
}

const hostMac = (): string => readFileSync(`/sys/class/net/${lan.hostIface}/address`, 'utf8').trim().toLowerCase();

/** Layer 2 seen from the LAN: berth answers ARP for the VIP with the node's LAN MAC; HTTP through it reaches a backend. */
async function servedByLayer2(service: string, vip: string, port: number, backend: RegExp): Promise<void> {
  // The host itself must not answer: no address, no proxy ARP (so the answer below is berth's speaker).
  assert.equal(run('ip', ['-o', 'addr', 'show', 'to', `${vip}/32`]).stdout.trim(), '', `the host holds ${vip}`);
  assert.equal(readFileSync(`/proc/sys/net/ipv4/conf/${lan.hostIface}/proxy_arp`, 'utf8').trim(), '0');
  const macs = await waitFor(`an ARP answer for ${vip} on the LAN`, 60_000, () => {
    const m = arpFromLan(vip);
    return m.length > 0 ? m : undefined;
  }, () => n().logs(5));
  assert.deepEqual([...new Set(macs)], [hostMac()], `ARP answers for ${vip}: ${macs.join(', ')}`);
  const body = await waitFor(`HTTP through ${vip}:${String(port)} from the LAN`, 60_000, () => curlFromLan(`http://${vip}:${String(port)}/`));
  assert.match(body, backend);
  const l2 = await n().kubectlOk(['get', 'servicel2statuses.metallb.io', '-n', 'berth-system', '-o', 'jsonpath={range .items[*]}{.status.serviceName} {.status.node} {.status.interfaces[*].name}{"\\n"}{end}']);
  assert.ok(l2.split('\n').some((l) => l.startsWith(`${service} berth-node`)), `ServiceL2Status: ${l2}`);
}

describe('the seed documents\' manifests on a real node', { timeout: 1_800_000 }, () => {
  before(async () => {
    node = await startNode();
    // FRR's daemons (user frr) write their log below the run's dir.
    chmodSync(node.dir, 0o711);
    router = await startFrr({
      name: 'berthnodelan', ns: lan.netns, logDir: node.dir,
      config: [
        'frr defaults traditional', 'hostname lan-router', '!',
        'router bgp 7675', ` bgp router-id ${lan.clientIp}`, ' no bgp ebgp-requires-policy',
        ` neighbor ${lan.hostIp} remote-as 7776`, '!', '',
      ].join('\n'),
    });
    const overlay = join(node.dir, 'overlay');
    mkdirSync(overlay);
    const [newName = '', newTag = ''] = node.berthImage.split(':');
    writeFileSync(join(overlay, 'kustomization.yaml'), [
      `resources: [${relative(overlay, join(repoRoot, 'deploy'))}]`,
      `components: [${relative(overlay, join(repoRoot, 'deploy/liveness'))}]`,
      'images:',
      '- name: ghcr.io/berth-lb/berth',
      `  newName: ${newName}`,
      `  newTag: ${newTag}`,
      '',
    ].join('\n'));
    await n().kubectlOk(['apply', '--server-side', '-k', overlay], { timeoutMs: 120_000 });
    await n().kubectlOk(['-n', 'berth-system', 'create', 'secret', 'generic', 'berth-liveness', `--from-literal=key=${randomBytes(32).toString('hex')}`]);
  });

  after(async () => {
    await router?.stop();
    await node?.stop();
  });

  test('deploy/ with the liveness Component: both workloads Ready, the speaker heartbeating with the mounted key', async () => {
    await waitFor('2/2 controllers and 1/1 speaker Ready', 240_000, () => berthReady(n()), () => n().logs(10));
    const logs = await n().kubectlOk(['logs', '-n', 'berth-system', 'daemonset/berth-speaker']);
    assert.match(logs, /"port":7947.*liveness: heartbeats on/);
  });

  test('Porter layer 2 seed: the Eip\'s address answers ARP on the LAN and serves the Deployment', async () => {
    await n().kubectlOk(['apply', '-f', '-'], { stdin: seed('porter-layer2.yaml') });
    await n().kubectlOk(['rollout', 'status', 'deployment/porter-layer2', '--timeout=180s'], { timeoutMs: 200_000 });
    const vip = await waitFor('porter-layer2-svc status', 60_000, () => vipOf('default', 'porter-layer2-svc'));
    const last = Number(vip.split('.')[3]);
    assert.ok(vip.startsWith('203.0.113.') && last >= 91 && last <= 100, `${vip} is in the Eip 203.0.113.91-203.0.113.100`);
    await servedByLayer2('porter-layer2-svc', vip, 80, /^You've hit porter-layer2-/);
  });

  test('MetalLB layer 2 seed: the pool\'s address answers ARP on the LAN and serves the Service', async () => {
    await n().kubectlOk(['apply', '-f', '-'], { stdin: seed('metallb-l2.yaml') });
    await n().kubectlOk(['rollout', 'status', 'deployment/metallb-cluster', '--timeout=180s'], { timeoutMs: 200_000 });
    const vip = await waitFor('metallb1-cluster status', 60_000, () => vipOf('default', 'metallb1-cluster'));
    const svc = JSON.parse(await n().kubectlOk(['get', 'service', 'metallb1-cluster', '-o', 'json'])) as { metadata: { annotations: Record<string, string> } };
    assert.equal(svc.metadata.annotations['metallb.io/ip-allocated-from-pool'], 'demo-pool');
    assert.match(vip, /^203\.0\.113\.(8[1-9]|90)$/, 'from demo-pool, its v4 parts');
    await servedByLayer2('metallb1-cluster', vip, 18081, /^You've hit metallb-cluster-/);
  });

  test('MetalLB BGP seed: the router learns the VIP from berth with the node as next hop, and reaches the Service through it', async () => {
    const r = router;
    assert.ok(r !== undefined);
    await n().kubectlOk(['apply', '-f', '-'], { stdin: seed('metallb-bgp.yaml') });
    await n().kubectlOk(['rollout', 'status', 'deployment/metallb-demo', '--timeout=180s'], { timeoutMs: 200_000 });
    const vip = await waitFor('metallb-demo status', 60_000, () => vipOf('default', 'metallb-demo'));
    assert.match(vip, /^198\.51\.100\.(209|21\d|22[0-2])$/, 'from bgp-pool 198.51.100.208/28');
    type Route = Record<string, { protocol: string; nexthops: { ip?: string }[] }[]>;
    const route = await waitFor(`the router's route to ${vip}/32`, 90_000, async () => {
      const routes = await r.vtyshJson<Route>(`show ip route ${vip}/32 json`);
      return routes[`${vip}/32`]?.find((x) => x.protocol === 'bgp');
    }, () => `--- FRR log\n${tail(r.logFile, 20)}\n${n().logs(5)}`);
    assert.deepEqual(route.nexthops.map((h) => h.ip), [lan.hostIp]);
    const body = await waitFor(`HTTP through ${vip}:18081 from the router`, 60_000, () => curlFromLan(`http://${vip}:18081/`));
    assert.match(body, /^You've hit metallb-demo-/);
  });
});
