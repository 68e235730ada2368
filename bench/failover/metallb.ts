// MetalLB's own speaker (v0.16.2, built from its Go module go.universe.tf/metallb) under test, in the
// same node namespaces, against a real kube-apiserver + etcd from test/k8s/harness with MetalLB's own
// CRDs (the module's config/crd/bases), memberlist on (a secret key). What MetalLB's controller would
// do is done here by hand, and said so in the output: the Service's status.loadBalancer is written
// directly, and the speaker Pods memberlist looks up (label app=metallb,component=speaker, their
// status.podIP) are created with their status written (no kubelet runs them; the speakers are plain
// processes in the node namespaces, reaching the API server through a relay on 127.0.0.1).
// BGP: MetalLB's native BGP (the default METALLB_BGP_TYPE). It has no BFD: a BFDProfile needs the FRR
// or frr-k8s mode (an FRR per speaker driven by MetalLB), which is not run here (printed as n/a).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import { startApiServer, type ApiServer } from '../../test/k8s/harness/index.ts';
import { BGP_CASE_TITLES, L2_CASE_TITLES } from './cases.ts';
import { NODE_ASN, processTree, ROUTER_ASN, routerConfig, VIPS } from './lab-setup.ts';
import { runBgp, runL2, type BgpVariant, type RunOptions } from './runner.ts';
import type { Subject } from './subject.ts';
import type { Results } from './table.ts';

export const METALLB_VERSION = 'v0.16.2';
const MODULE = 'go.universe.tf/metallb';
const CACHE = join(homedir(), '.cache', 'berth', 'bench');
const BIN = join(CACHE, `metallb-speaker-${METALLB_VERSION}`);
const NS = 'metallb-system';
const ML_PORT = 7946;
const ML_LABELS = 'app=metallb,component=speaker';
const log = (s: string): void => void process.stderr.write(`bfo ${new Date().toISOString()} ${s}\n`);

/** What had to change in MetalLB's module to build it here (printed with the figures). */
const BUILD_PATCH =
  'github.com/metallb/frr-k8s v0.0.27 (required by the module) is refused by the Go module proxy here (403 "not available"), so it is replaced by v0.0.26 and the frr-k8s backend\'s AS-path-prepend field (new in v0.0.27) is left out of internal/bgp/frrk8s; the native BGP and Layer 2 code is unchanged';

function go(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const r = spawnSync('go', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`go ${args.join(' ')}: ${(r.stderr || r.stdout).slice(-2000)}`);
  return r.stdout;
}

/** The speaker binary and the module's folder (CRDs), building it on first use (a few minutes). */
export function ensureMetallb(): { readonly bin: string; readonly moduleDir: string } {
  const env = { ...process.env, GOPATH: join(CACHE, 'gopath'), GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local' };
  const info = JSON.parse(go(['mod', 'download', '-json', `${MODULE}@${METALLB_VERSION}`], CACHE, env)) as { Dir?: string };
  const moduleDir = info.Dir ?? '';
  if (existsSync(BIN)) return { bin: BIN, moduleDir };
  log(`building MetalLB's speaker ${METALLB_VERSION} from ${MODULE} (cached as ${BIN}); ${BUILD_PATCH}`);
  const src = join(CACHE, 'metallb-build', 'src');
  rmSync(src, { recursive: true, force: true });
  cpSync(moduleDir, src, { recursive: true });
  spawnSync('chmod', ['-R', 'u+w', src]);
  go(['mod', 'edit', '-replace', 'github.com/metallb/frr-k8s=github.com/metallb/frr-k8s@v0.0.26'], src, env);
  const file = join(src, 'internal/bgp/frrk8s/frrk8s.go');
  let text = readFileSync(file, 'utf8');
  text = text.replace(/^\s*PrefixesWithAsPathPrepend: make\(\[\]frrv1beta1\.AsPathPrependPrefixes, 0\),\n/m, '');
  text = text.replace(/^(\s*)neighbor\.ToAdvertise\.PrefixesWithAsPathPrepend = toAdvertiseWithAsPathPrepend\(prefixesForAsPathPrepend\)\n/m, '$1_ = prefixesForAsPathPrepend\n');
  const a = text.indexOf('func toAdvertiseWithAsPathPrepend');
  const b = text.indexOf('func NewSessionManager');
  if (a >= 0 && b > a) text = text.slice(0, a) + text.slice(b);
  writeFileSync(file, text);
  go(['build', '-p', '1', '-o', BIN, './speaker'], src, env);
  return { bin: BIN, moduleDir };
}

/** A Unix socket on the host relaying to the API server, and a TCP relay on 127.0.0.1:port in every node namespace to it. */
async function relays(lab: Lab, k: ApiServer): Promise<Server> {
  const sock = join(k.dir, 'api.sock');
  const server = createServer((c) => {
    const up = connect(k.port, '127.0.0.1');
    c.pipe(up);
    up.pipe(c);
    c.on('error', () => up.destroy());
    up.on('error', () => c.destroy());
  });
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  const script = `const net=require('net');net.createServer(c=>{const u=net.connect(${JSON.stringify(sock)});c.pipe(u);u.pipe(c);c.on('error',()=>u.destroy());u.on('error',()=>c.destroy());}).listen(${String(k.port)},'127.0.0.1');`;
  for (const n of lab.nodes) lab.spawn(n, [process.execPath, '-e', script]);
  for (const n of lab.nodes) {
    for (let i = 0; !(await lab.exec(n, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes('127.0.0.1'); i++) {
      if (i > 100) throw new Error(`the API relay in ${n.name} does not listen`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return server;
}

const yamlDocs = (docs: readonly object[]): string => docs.map((d) => JSON.stringify(d)).join('\n---\n');

async function populate(lab: Lab, k: ApiServer, moduleDir: string): Promise<void> {
  const crds = join(moduleDir, 'config', 'crd', 'bases');
  for (const f of readdirSync(crds).filter((x) => x.endsWith('.yaml'))) await k.kubectlOk(['apply', '--server-side', '-f', join(crds, f)]);
  await k.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '--all']);
  await k.kubectlOk(['create', 'namespace', NS]);
  // No controller-manager runs: the ServiceAccount it would create, for the Pods below.
  await k.kubectlOk(['-n', NS, 'create', 'serviceaccount', 'default']);
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  for (const n of lab.nodes) {
    await k.kubectlOk(['apply', '-f', '-'], { stdin: yamlDocs([{ apiVersion: 'v1', kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } }]) });
    await k.kubectlOk(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: n.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bench', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
    // The speaker Pod memberlist finds its peers by (what the DaemonSet would create; its status as the kubelet would write it).
    const pod = `speaker-${n.name}`;
    await k.kubectlOk(['apply', '-f', '-'], { stdin: yamlDocs([{ apiVersion: 'v1', kind: 'Pod', metadata: { name: pod, namespace: NS, labels: { app: 'metallb', component: 'speaker' } }, spec: { nodeName: n.name, hostNetwork: true, automountServiceAccountToken: false, containers: [{ name: 'speaker', image: `quay.io/metallb/speaker:${METALLB_VERSION}` }] } }]) });
    await k.kubectlOk(['-n', NS, 'patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase: 'Running', podIP: n.ipv4, podIPs: [{ ip: n.ipv4 }], hostIP: n.ipv4, conditions: [{ type: 'Ready', status: 'True' }] } })]);
  }
  const svc = (name: string): object[] => [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      endpoints: lab.nodes.map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n.name, conditions: { ready: true } })),
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
  ];
  await k.kubectlOk(['apply', '-f', '-'], {
    stdin: yamlDocs([
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'l2', namespace: NS }, spec: { addresses: [`${VIPS.metallbL2}/32`] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'l2', namespace: NS }, spec: { ipAddressPools: ['l2'], interfaces: ['eth1'] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'bgp', namespace: NS }, spec: { addresses: [`${VIPS.metallbBgp}/32`] } },
      { apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'bgp', namespace: NS }, spec: { ipAddressPools: ['bgp'] } },
      ...svc('web-l2'),
      ...svc('web-bgp'),
    ]),
  });
  // The IPs as MetalLB's controller would write them (the controller is not run).
  for (const [name, vip] of [['web-l2', VIPS.metallbL2], ['web-bgp', VIPS.metallbBgp]] as const) {
    await k.kubectlOk(['patch', 'service', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: vip }] } } })]);
  }
}

/** Applies the BGPPeer of a variant (holdTime in s; undefined: MetalLB's default), or removes it (Layer 2 phase). */
async function bgpPeer(k: ApiServer, holdTimeS: number | undefined | 'none'): Promise<void> {
  if (holdTimeS === 'none') {
    await k.kubectlOk(['-n', NS, 'delete', 'bgppeers.metallb.io', 'router', '--ignore-not-found']);
    return;
  }
  const spec = { myASN: NODE_ASN, peerASN: ROUTER_ASN, peerAddress: '192.0.2.1', ...(holdTimeS === undefined ? {} : { holdTime: `${holdTimeS}s` }) };
  await k.kubectlOk(['apply', '-f', '-'], { stdin: yamlDocs([{ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'router', namespace: NS }, spec }]) });
}

class MetallbSubject implements Subject {
  readonly name = 'MetalLB';
  readonly #lab: Lab;
  readonly #bin: string;
  readonly #kubeconfig: string;
  readonly #keyDir: string;
  readonly #procs = new Map<string, SpawnedProcess>();
  /** node -> what its current speaker heard last about each member (memberlist NodeJoin/NodeLeave). */
  readonly #view = new Map<string, Map<string, string>>();

  constructor(lab: Lab, bin: string, kubeconfig: string) {
    this.#lab = lab;
    this.#bin = bin;
    this.#kubeconfig = kubeconfig;
    this.#keyDir = join(lab.workDir, 'metallb-memberlist');
    mkdirSync(this.#keyDir, { recursive: true });
    writeFileSync(join(this.#keyDir, 'secretkey'), 'bfo-memberlist-secret-key-0123456789');
  }

  start(node: LabHost): Promise<void> {
    const p = this.#lab.spawn(node, ['/usr/bin/env', `KUBECONFIG=${this.#kubeconfig}`, this.#bin, '--node-name', node.name, '--pod-name', `speaker-${node.name}`, '--namespace', NS, '--ml-bindaddr', node.ipv4, '--ml-bindport', String(ML_PORT), '--ml-labels', ML_LABELS, '--ml-secret-key-path', this.#keyDir, '--port', '0', '--log-level', 'info']);
    const view = new Map<string, string>();
    this.#view.set(node.name, view);
    for (const s of [p.child.stdout, p.child.stderr]) {
      if (s === null) continue;
      createInterface({ input: s }).on('line', (l) => {
        if (!l.includes('node event')) return;
        try {
          const o = JSON.parse(l) as Record<string, unknown>;
          if (typeof o['node name'] === 'string' && typeof o['node event'] === 'string') view.set(o['node name'], o['node event']);
        } catch {
          // not a JSON log line
        }
      });
    }
    this.#procs.set(node.name, p);
    return Promise.resolve();
  }

  #proc(node: LabHost): SpawnedProcess {
    const p = this.#procs.get(node.name);
    if (p === undefined) throw new Error(`no MetalLB speaker on ${node.name}`);
    return p;
  }

  async signal(node: LabHost, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const p = this.#proc(node);
    // `env` execs the speaker, so the spawned PID is the speaker; its tree to be sure.
    for (const pid of (await processTree(p.pid)).reverse()) process.kill(pid, sig);
    if (sig === 'SIGKILL') await p.kill(0);
  }

  async stop(node: LabHost): Promise<void> {
    const p = this.#proc(node);
    const exited = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error(`MetalLB speaker on ${node.name} did not stop within 30 s of SIGTERM`)), 30_000))]);
  }

  /** Every running speaker's memberlist has seen every running speaker join (its last event for it). */
  async converged(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    const running = (): string[] => [...this.#procs].filter(([, p]) => p.child.exitCode === null && p.child.signalCode === null).map(([n]) => n);
    for (;;) {
      const names = running();
      if (names.every((a) => names.every((b) => this.#view.get(a)?.get(b) === 'NodeJoin'))) return;
      if (Date.now() > until) throw new Error(`MetalLB: memberlist not converged: ${JSON.stringify(Object.fromEntries([...this.#view].map(([a, v]) => [a, Object.fromEntries(v)])))}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async close(): Promise<void> {
    for (const p of this.#procs.values()) await p.kill(5000);
    this.#procs.clear();
  }
}

const BFD_NA = "MetalLB's native BGP has no BFD; a BFDProfile needs its FRR or frr-k8s mode (an FRR per speaker, configured by MetalLB through a shared /etc/frr_reloader or the frr-k8s daemon), not run in this lab";

/** The MetalLB phases: Layer 2, then native BGP per variant. Returns notes for the output. */
export async function metallbPhases(lab: Lab, results: Results, o: RunOptions, variants: readonly BgpVariant[], withL2: boolean): Promise<string[]> {
  let built: { bin: string; moduleDir: string };
  try {
    built = ensureMetallb();
  } catch (e) {
    const why = `cannot build MetalLB's speaker here: ${String(e).split('\n')[0]}`;
    log(why);
    if (withL2) for (const c of o.l2Cases) results.notApplicable(L2_CASE_TITLES[c], 'MetalLB', why);
    return [why];
  }
  const k = await startApiServer();
  let relay: Server | undefined;
  try {
    relay = await relays(lab, k);
    await populate(lab, k, built.moduleDir);
    const notes = [
      `MetalLB: speaker ${METALLB_VERSION} built from ${MODULE} (${BUILD_PATCH}); run as processes in the node namespaces against a real kube-apiserver + etcd (test/k8s/harness) with MetalLB's CRDs; memberlist on (secret key; default LAN config); no MetalLB controller: the Services' status and the speaker Pods' status (podIP, for memberlist) written by the benchmark; BGP in its native mode (the default).`,
    ];
    await bgpPeer(k, 'none');
    if (withL2) await runL2(lab, new MetallbSubject(lab, built.bin, k.kubeconfigPath), VIPS.metallbL2, results, 60_000, o).catch((e: unknown) => void notes.push(`MetalLB Layer 2 phase stopped early: ${String(e).split('\n')[0]}`));
    for (const v of variants) {
      if (v.berth.bfd !== undefined) {
        for (const c of o.bgpCases) results.notApplicable(`${BGP_CASE_TITLES[c]}, ${v.title}`, 'MetalLB', BFD_NA);
        continue;
      }
      await lab.router?.reload(routerConfig(lab.nodes, v.router));
      await bgpPeer(k, v.berth.holdTimeS);
      await runBgp(lab, new MetallbSubject(lab, built.bin, k.kubeconfigPath), VIPS.metallbBgp, (c) => `${BGP_CASE_TITLES[c]}, ${v.title}`, results, { settleWithinMs: v.settleWithinMs }, o).catch((e: unknown) => void notes.push(`MetalLB BGP ${v.title} phase stopped early: ${String(e).split('\n')[0]}`));
    }
    return notes;
  } finally {
    relay?.close();
    await k.stop();
  }
}
