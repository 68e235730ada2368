// berth in the lab as in a Kubernetes cluster, whichever runner built the lab (topology.clab.yml):
//   - the real kube-apiserver + etcd of the test harness (test/k8s/harness) on the host, bound to the lab's
//     management gateway (containerlab's mgmt bridge, or the netns runner's) so that every node reaches it;
//     Service ClusterIPs from CLUSTER_IP_RANGE, which no lab network uses;
//   - the CRDs (deploy/crds), the three Node objects (manifests/nodes.yaml, Ready), the seed documents of
//     manifests/ and the lab's Local Services (k8s/services.yaml), every Service without a selector;
//   - on each node: a real kube-proxy (nftables mode) and `berth speaker --node-name` (Kubernetes mode, with
//     speaker liveness); on node1 and node2 `berth controller` (two replicas, one leader by Lease);
//   - pods: small HTTP servers, each in its own network namespace inside a node ("pod <name> on <node>"),
//     cabled to the node by a veth pair (calico style: a /32 route per pod, the node's gateway address on
//     every pod link), pod CIDRs per node routed between the nodes over the LAN; the lab writes each
//     Service's EndpointSlice (nodeName set, so kube-proxy and berth see which endpoints are local).
// The tests (test/integration/lab/k8s-scenario.ts) and `npm run lab` use this.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { startApiServer, type ApiServer } from '../test/k8s/harness/index.ts';
import { clientNeighbour, MANIFESTS_DIR, plannedServices, report, routerNextHops, waitUntil, type LabService } from './berth-lab.ts';
import { LabError } from './run.ts';
import type { LabHandle } from './topology.ts';

export const K8S_DIR = fileURLToPath(new URL('k8s/', import.meta.url));
const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const LAB_NODES = ['node1', 'node2', 'node3'] as const;
export type LabNode = (typeof LAB_NODES)[number];
/** The nodes' LAN addresses (topology.clab.yml). */
export const NODE_IPS: Readonly<Record<LabNode, string>> = { node1: '192.0.2.11', node2: '192.0.2.12', node3: '192.0.2.13' };
/** ClusterIPs (kube-proxy drops traffic to unallocated ones): not the LAN, the upstream, the VIPs (.0/26), the pods (.64/26) or the management networks (.208/28 .. .240/28). */
export const CLUSTER_IP_RANGE = '203.0.113.128/27';
/** Pod CIDRs, one /28 per node (kube-proxy's clusterCIDR is the /26 around them). */
export const POD_CIDRS: Readonly<Record<LabNode, string>> = { node1: '203.0.113.64/28', node2: '203.0.113.80/28', node3: '203.0.113.96/28' };
const CLUSTER_CIDR = '203.0.113.64/26';
export const POD_PORT = 8080;
const NAMESPACE = 'berth-system';
const POD_SERVER =
  "const [p,n]=process.argv.slice(1);require('http').createServer((q,s)=>s.end('pod '+p+' on '+n+'\\n')).listen(8080,'0.0.0.0',()=>console.log('listening'))";

const octets = (cidr: string): number[] => (cidr.split('/')[0] ?? '').split('.').map(Number);
const podGateway = (node: LabNode): string => {
  const o = octets(POD_CIDRS[node]);
  return `${String(o[0])}.${String(o[1])}.${String(o[2])}.${String((o[3] ?? 0) + 1)}`;
};

export interface Pod {
  readonly name: string;
  readonly node: LabNode;
  readonly ip: string;
  /** Its network namespace, as `ip netns exec` names it inside the node. */
  readonly netns: string;
}

export interface K8sService extends LabService {
  readonly policy: 'Cluster' | 'Local';
}

export interface K8sLab {
  readonly lab: LabHandle;
  readonly api: ApiServer;
  /** The nodes' MACs on the LAN (eth1). */
  readonly macs: ReadonlyMap<string, string>;
  /** Modes and pools as `berth check` compiles the applied documents; ips: what the controller assigned. */
  services(): Promise<K8sService[]>;
  pods(): readonly Pod[];
  /** Starts a pod on a node (its own netns, HTTP on :8080) and waits until it answers from the node. */
  addPod(name: string, node: LabNode): Promise<Pod>;
  /** Stops a pod and removes its namespace. */
  removePod(name: string): Promise<void>;
  /** Writes the Service's EndpointSlice: one ready endpoint per pod (nodeName set). */
  setEndpoints(service: string, pods: readonly string[]): Promise<void>;
  /** The pods setEndpoints last wrote for a Service. */
  endpointsOf(service: string): readonly Pod[];
  /** kubectl against the lab's API server (admin). */
  kubectl(args: readonly string[], stdin?: string): Promise<string>;
  /** The admin kubeconfig as the host sees it (the nodes hold a copy at kubeconfigIn(node)). */
  readonly kubeconfig: string;
  kubeconfigIn(node: string): string;
  /** The Lease holder of the two controllers. */
  controllerLeader(): Promise<string | undefined>;
  logs(): Promise<string>;
  /** Stops what startK8s started (not the lab itself). */
  stop(): Promise<void>;
}

interface Doc {
  kind?: string;
  metadata?: { name?: string };
  spec?: Record<string, unknown>;
  status?: unknown;
}
/** A YAML file's documents. */
const docsOf = async (file: string): Promise<Doc[]> => parseAllDocuments(await readFile(file, 'utf8')).map((d) => d.toJS() as Doc).filter((d) => d !== null && typeof d.kind === 'string');

/** Starts the cluster on a deployed lab; see the file header. Needs lab.mgmtGateway. */
export async function startK8s(lab: LabHandle, log: (l: string) => void = () => undefined): Promise<K8sLab> {
  const gw = lab.mgmtGateway;
  if (gw === undefined) throw new LabError(`the ${lab.runner} lab has no management network: the nodes cannot reach the API server (netns runner: pass mgmtIpv4Subnet)`);
  log(`kube-apiserver + etcd (test/k8s/harness) on https://${gw}, ClusterIPs ${CLUSTER_IP_RANGE}`);
  const api = await startApiServer({ bindAddress: gw, serviceClusterIpRange: CLUSTER_IP_RANGE });
  const started: [string, string][] = [];
  const pods = new Map<string, Pod>();
  const endpoints = new Map<string, Pod[]>();
  const nextPodHost = new Map<LabNode, number>(LAB_NODES.map((n) => [n, 2]));
  const kubeconfigIn = (node: string): string => join(lab.dataDir(node), 'kubeconfig');
  const kubectl = (args: readonly string[], stdin?: string): Promise<string> => api.kubectlOk(args, stdin === undefined ? {} : { stdin });
  let planned: LabService[] = [];
  const scratch = await mkdtemp(join(tmpdir(), 'berth-lab-k8s-'));

  const stop = async (): Promise<void> => {
    for (const [host, name] of started.reverse()) await lab.stop(host, name).catch(() => undefined);
    await api.stop();
    await rm(scratch, { recursive: true, force: true });
  };

  const self: K8sLab = {
    lab,
    api,
    macs: new Map(),
    kubeconfig: api.kubeconfigPath,
    kubeconfigIn,
    kubectl,
    pods: () => [...pods.values()],
    async services() {
      const list = JSON.parse(await kubectl(['get', 'services', '-n', 'default', '-o', 'json'])) as {
        items: { metadata: { name: string }; spec: { externalTrafficPolicy?: string }; status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }[];
      };
      return planned.map((p) => {
        const s = list.items.find((i) => i.metadata.name === p.name);
        return {
          ...p,
          ips: (s?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter((ip) => ip !== ''),
          policy: s?.spec.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
        };
      });
    },
    async addPod(name, node) {
      if (pods.has(name)) throw new LabError(`pod ${name} exists (on ${pods.get(name)?.node ?? '?'})`);
      if (!/^[a-z][a-z0-9-]{0,10}$/.test(name)) throw new LabError(`pod name ${JSON.stringify(name)}: want [a-z][a-z0-9-]{0,10} (the node's veth is p-<name>)`);
      const n = nextPodHost.get(node) ?? 2;
      nextPodHost.set(node, n + 1);
      const o = octets(POD_CIDRS[node]);
      const ip = `${String(o[0])}.${String(o[1])}.${String(o[2])}.${String((o[3] ?? 0) + n)}`;
      const gwIp = podGateway(node);
      const netns = await lab.addNetns(node, `pod-${name}`);
      const veth = `p-${name}`;
      const inPod = (argv: readonly string[]): string[] => ['ip', 'netns', 'exec', netns, ...argv];
      for (const argv of [
        ['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns],
        ['ip', 'addr', 'add', `${gwIp}/32`, 'dev', veth],
        ['ip', 'link', 'set', veth, 'up'],
        ['ip', 'route', 'add', `${ip}/32`, 'dev', veth],
        inPod(['ip', 'link', 'set', 'lo', 'up']),
        inPod(['ip', 'addr', 'add', `${ip}/32`, 'dev', 'eth0']),
        inPod(['ip', 'link', 'set', 'eth0', 'up']),
        inPod(['ip', 'route', 'add', gwIp, 'dev', 'eth0']),
        inPod(['ip', 'route', 'add', 'default', 'via', gwIp]),
      ]) {
        await lab.exec(node, argv);
      }
      await lab.start(node, `pod-${name}`, inPod([...lab.node(node), '-e', POD_SERVER, name, node]));
      started.push([node, `pod-${name}`]);
      const pod: Pod = { name, node, ip, netns };
      pods.set(name, pod);
      await waitUntil(`pod ${name} answering on ${ip}:${String(POD_PORT)} in ${node}`, 30_000, async () => {
        const r = await lab.exec(node, ['curl', '-s', '-m', '2', `http://${ip}:${String(POD_PORT)}/`], { check: false });
        return r.stdout.includes(`pod ${name} on ${node}`) ? true : undefined;
      });
      return pod;
    },
    async removePod(name) {
      const pod = pods.get(name);
      if (pod === undefined) throw new LabError(`no pod ${name}`);
      await lab.stop(pod.node, `pod-${name}`);
      await lab.removeNetns(pod.node, pod.netns);
      pods.delete(name);
    },
    async setEndpoints(service, names) {
      const svc = JSON.parse(await kubectl(['get', 'service', service, '-n', 'default', '-o', 'json'])) as { spec: { ports?: { name?: string; protocol?: string }[] } };
      const eps = names.map((n) => {
        const p = pods.get(n);
        if (p === undefined) throw new LabError(`setEndpoints ${service}: no pod ${n}`);
        return {
          addresses: [p.ip],
          conditions: { ready: true, serving: true, terminating: false },
          nodeName: p.node,
          targetRef: { kind: 'Pod', namespace: 'default', name: p.name },
        };
      });
      const slice = {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${service}-lab`, namespace: 'default', labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'berth-lab' } },
        addressType: 'IPv4',
        ports: (svc.spec.ports ?? []).map((p) => ({ name: p.name ?? '', port: POD_PORT, protocol: p.protocol ?? 'TCP' })),
        endpoints: eps,
      };
      await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=berth-lab', '-f', '-'], JSON.stringify(slice));
      endpoints.set(service, names.map((n) => pods.get(n)).filter((p): p is Pod => p !== undefined));
    },
    endpointsOf: (service) => endpoints.get(service) ?? [],
    async controllerLeader() {
      const r = await api.kubectl(['get', 'lease', 'berth-controller', '-n', NAMESPACE, '-o', 'jsonpath={.spec.holderIdentity}']);
      return r.code === 0 && r.stdout.trim() !== '' ? r.stdout.trim() : undefined;
    },
    async logs() {
      const out: string[] = [];
      for (const [host, name] of started.filter(([, n]) => !n.startsWith('pod-'))) out.push(`--- ${host} ${name}\n${(await lab.log(host, name)).split('\n').slice(-12).join('\n')}`);
      return out.join('\n');
    },
    stop,
  };

  try {
    // The API: CRDs, namespaces, Nodes (Ready; no kubelet runs, the lab stands in for it), the documents.
    await kubectl(['apply', '-f', join(REPO_ROOT, 'deploy', 'crds')]);
    await kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
    for (const ns of [NAMESPACE, 'metallb-system']) await kubectl(['create', 'namespace', ns]);
    const nodes = await docsOf(join(MANIFESTS_DIR, 'nodes.yaml'));
    for (const n of nodes) {
      await kubectl(['apply', '-f', '-'], JSON.stringify({ ...n, status: undefined }));
      await kubectl(['patch', 'node', n.metadata?.name ?? '', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: n.status })]);
    }
    const applied: Doc[] = [];
    for (const dir of [MANIFESTS_DIR, K8S_DIR]) {
      for (const f of readdirSync(dir).filter((x) => x.endsWith('.yaml') && x !== 'nodes.yaml').sort()) {
        // Services without selectors (Kubernetes allows it): the lab writes their EndpointSlices.
        for (const d of await docsOf(join(dir, f))) applied.push(d.kind === 'Service' ? { ...d, spec: { ...d.spec, selector: undefined } } : d);
        cpSync(join(dir, f), join(scratch, f));
      }
    }
    cpSync(join(MANIFESTS_DIR, 'nodes.yaml'), join(scratch, 'nodes.yaml'));
    planned = plannedServices(scratch);
    await kubectl(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: applied }));
    for (const s of planned) await self.setEndpoints(s.name, []);

    // The nodes: kubeconfig, liveness key, pod routes, kube-proxy, speaker; controllers on node1 and node2.
    const key = randomBytes(32).toString('hex');
    const kubeconfigText = await readFile(api.kubeconfigPath, 'utf8');
    const macs = self.macs as Map<string, string>;
    for (const node of LAB_NODES) {
      await lab.writeFile(node, kubeconfigIn(node), kubeconfigText);
      await lab.writeFile(node, join(lab.dataDir(node), 'liveness.key'), `${key}\n`);
      const link = JSON.parse((await lab.exec(node, ['ip', '-j', 'link', 'show', 'eth1'])).stdout) as { address?: string }[];
      macs.set(node, link[0]?.address ?? '?');
      await lab.exec(node, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
      for (const other of LAB_NODES.filter((x) => x !== node)) await lab.exec(node, ['ip', 'route', 'replace', POD_CIDRS[other], 'via', NODE_IPS[other], 'dev', 'eth1']);
      const proxyConfig = {
        apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
        kind: 'KubeProxyConfiguration',
        clientConnection: { kubeconfig: kubeconfigIn(node) },
        mode: 'nftables',
        clusterCIDR: CLUSTER_CIDR,
        hostnameOverride: node,
        healthzBindAddress: '127.0.0.1:10256',
        metricsBindAddress: '127.0.0.1:10249',
        // Changes no sysctl outside the node's network namespace: conntrack sizes and timeouts left alone.
        conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' },
      };
      await lab.writeFile(node, join(lab.dataDir(node), 'kube-proxy.yaml'), stringify(proxyConfig));
      log(`${node}: kube-proxy (nftables), berth speaker --node-name ${node}${node === 'node3' ? '' : ', berth controller'}`);
      await lab.start(node, 'kube-proxy', [...lab.kubeProxy(node), `--config=${join(lab.dataDir(node), 'kube-proxy.yaml')}`, '--v=1']);
      started.push([node, 'kube-proxy']);
      if (node !== 'node3') {
        await lab.start(node, 'controller', [
          ...lab.berth(node), 'controller', '--kubeconfig', kubeconfigIn(node), '--namespace', NAMESPACE, '--health-port', '0',
          '--identity', `controller-${node}`, '--lease-duration', '6', '--renew-deadline', '4', '--retry-period', '1',
        ]);
        started.push([node, 'controller']);
      }
      await lab.start(node, 'speaker', [
        'env', `BERTH_RESTART_STATE=${join(lab.dataDir(node), 'restart.json')}`,
        ...lab.berth(node), 'speaker', '--node-name', node, '--kubeconfig', kubeconfigIn(node), '--namespace', NAMESPACE, '--health-port', '0',
        '--liveness-secret-file', join(lab.dataDir(node), 'liveness.key'),
      ]);
      started.push([node, 'speaker']);
    }
    const kubernetesIp = (await kubectl(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    for (const node of LAB_NODES) {
      await waitUntil(`kube-proxy in ${node} programming the kubernetes Service (${kubernetesIp})`, 90_000, async () => {
        const r = await lab.exec(node, ['nft', 'list', 'table', 'ip', 'kube-proxy'], { check: false });
        return r.code === 0 && r.stdout.includes(kubernetesIp) ? true : undefined;
      }, async () => lab.log(node, 'kube-proxy'));
    }
    await waitUntil('a controller holding the Lease', 60_000, () => self.controllerLeader(), () => self.logs());
    await waitUntil('every Service with an address from the controller', 60_000, async () => ((await self.services()).every((s) => s.ips.length > 0) ? true : undefined), () => self.logs());
  } catch (err) {
    const detail = await self.logs().catch(() => '');
    await stop().catch(() => undefined);
    if (err instanceof Error) err.message += `\n${detail}`;
    throw err;
  }
  return self;
}

/** The lab's pods and which Service each serves: Cluster Services on two nodes, Local ones on chosen nodes. */
export const WORKLOAD: readonly { readonly service: string; readonly pods: readonly (readonly [string, LabNode])[] }[] = [
  { service: 'metallb-demo', pods: [['demo-a', 'node1'], ['demo-b', 'node2']] },
  { service: 'metallb-local', pods: [['local-a', 'node1'], ['local-b', 'node3']] },
  { service: 'metallb1-cluster', pods: [['l2c-a', 'node3']] },
  { service: 'porter-layer2-svc', pods: [['porter-a', 'node1'], ['porter-b', 'node3']] },
  { service: 'porter-local', pods: [['pl-a', 'node3']] },
];

/** Starts WORKLOAD's pods and writes the EndpointSlices. */
export async function startWorkload(k: K8sLab): Promise<void> {
  for (const w of WORKLOAD) {
    for (const [pod, node] of w.pods) await k.addPod(pod, node);
    await k.setEndpoints(w.service, w.pods.map(([pod]) => pod));
  }
}

/** Waits until every Service is announced: BGP next hops on every node (Cluster) or the nodes with a pod (Local), an ARP answer for each Layer 2 VIP. */
export async function waitK8sAnnounced(k: K8sLab, timeoutMs = 120_000): Promise<void> {
  for (const s of await k.services()) {
    const eligible = s.policy === 'Local' ? [...new Set(k.endpointsOf(s.name).map((p) => p.node))].sort() : [...LAB_NODES];
    const hops = eligible.map((n) => NODE_IPS[n as LabNode]).sort();
    for (const ip of s.ips) {
      if (s.modes.includes('bgp')) {
        await waitUntil(`${ip}/32 at the router with next hops ${hops.join(', ')}`, timeoutMs, async () => ((await routerNextHops(k.lab, `${ip}/32`)).join() === hops.join() ? true : undefined), () => k.logs());
      }
      if (s.modes.includes('l2') && !ip.includes(':')) {
        await waitUntil(`an ARP answer for ${ip}`, timeoutMs, async () => ((await clientNeighbour(k.lab, ip)) === undefined ? undefined : true), () => k.logs());
      }
    }
  }
}

/** `npm run lab`'s report (berth-lab.ts report()) from the API server's view: EXTERNAL-IP as the controller assigned it. */
export async function k8sReport(k: K8sLab): Promise<string> {
  const services = await k.services();
  return report({ lab: k.lab, macs: k.macs, services }, `kubectl get services: EXTERNAL-IP from berth controller; runner: ${k.lab.runner}`);
}
