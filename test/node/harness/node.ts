// A real single-node Kubernetes cluster for tests, as ../shared/tools/REAL-NODE.md describes it: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, containerd (Debian's, as its own instance: own
// root, state and socket; runc through tools/runc-nosysres; a local pause image), kubelet, kube-proxy
// (nftables) and a CNI bridge.
//
//   const node = await startNode();
//   try { await node.kubectlOk(['apply', '-k', overlay]); ... } finally { await node.stop(); }
//
// Addresses are documentation ranges only: pods 203.0.113.0/26 on the bridge `cniberth0` (the host holds
// 203.0.113.1, which the API server, the kubelet and the node's InternalIP use), services 198.51.100.64/26
// (the `kubernetes` Service is 198.51.100.65). Every file lives in one temp dir; stop() (also run on a
// failed start, and for the leftovers of a killed run at the next start) stops each process by its PID,
// kills the pods' tasks, unmounts what is mounted below the dir, removes the network namespaces, cgroups,
// KUBE-* iptables chains and nftables tables that appeared during the run, and the bridge.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveAssets } from '../../k8s/harness/assets.ts';
import { freePort, readPid, startProcess, stopProcess, tail, type Proc } from '../../k8s/harness/process.ts';
import { buildBerthImage, pauseImage, repoRoot, type ImageArchive } from './images.ts';
import {
  NodePrerequisiteError, kubeChains, listDir, nftTables, removeCgroupTree, removeNewKubeChains, requireCommands, run, runOk, unmountBelow, which,
} from './host.ts';

export const podCidr = '203.0.113.0/26';
export const hostIp = '203.0.113.1';
export const serviceCidr = '198.51.100.64/26';
export const kubernetesServiceIp = '198.51.100.65';
export const bridge = 'cniberth0';
/** The one route a pod has besides its subnet: Service addresses and LoadBalancer pools live there. */
export const podRoute = '198.51.100.0/24';
export const nodeName = 'berth-node';
/**
 * The node's LAN: a veth from the host (`lanberth0`, 203.0.113.65/26, the node's LAN-facing interface) to a
 * namespace standing for the LAN (`berth-node-lan`, `eth0` 203.0.113.66/26): a client, or a router (FRR).
 * Layer 2 VIPs in the tests are announced on this interface only (L2Advertisement `interfaces`, Eip
 * `interface`): the pod bridge `cniberth0` matches berth's default exclusion `cni*` (docs/layer2.md), and
 * no frame may leave on the machine's own interfaces.
 */
export const lan = { netns: 'berth-node-lan', hostIface: 'lanberth0', hostIp: '203.0.113.65', clientIp: '203.0.113.66', prefixLength: 26 } as const;
const dirPrefix = 'berth-node-run-';
const netnsDir = '/var/run/netns';
const podLogDirs = ['/var/log/pods', '/var/log/containers'];

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RealNode {
  readonly dir: string;
  readonly kubeconfig: string;
  readonly kubectlPath: string;
  readonly helmPath: string;
  /** The berth image's reference as the kubelet knows it. */
  readonly berthImage: string;
  kubectl(args: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  kubectlOk(args: readonly string[], opts?: { stdin?: string; timeoutMs?: number }): Promise<string>;
  helm(args: readonly string[], opts?: { timeoutMs?: number }): Promise<KubectlResult>;
  /** Log tails of every component, for a failure message. */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function exec(binary: string, args: readonly string[], env: NodeJS.ProcessEnv, stdin: string, timeoutMs: number): Promise<KubectlResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal !== null ? 128 : 1), stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** Resolves when `check` returns a value other than undefined; throws with `what` and `detail()` after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined, detail: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + ms;
  let lastErr = '';
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${String(ms)} ms waiting for ${what}${lastErr ? ` (last error: ${lastErr})` : ''}\n${detail()}`);
    await sleep(250);
  }
}

/** Node binaries (kubelet, kube-proxy, scheduler, controller-manager, helm) from scripts/provision-node.sh. */
function nodeAssets(): { dir: string } {
  const r = run('bash', [join(repoRoot, 'scripts/provision-node.sh')], { timeoutMs: 3_600_000 });
  if (r.code !== 0) {
    throw new NodePrerequisiteError(`scripts/provision-node.sh failed (exit ${String(r.code)}): ${r.stderr.trim().slice(-2000)}`);
  }
  return { dir: r.stdout.trim().split('\n').pop() ?? '' };
}

function openssl(args: readonly string[]): void {
  runOk('openssl', args);
}

/** CA, API server serving certificate, a kubelet client certificate for the API server, SA keys. */
function createPki(dir: string): Record<'ca' | 'caKey' | 'serving' | 'servingKey' | 'kubeletClient' | 'kubeletClientKey' | 'saPub' | 'saKey', string> {
  const p = (n: string): string => join(dir, n);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', p('ca.key'), '-out', p('ca.crt'), '-days', '1', '-subj', '/CN=berth-node-ca',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  const sign = (name: string, subj: string, ext: string): void => {
    openssl(['req', ...ec, '-keyout', p(`${name}.key`), '-out', p(`${name}.csr`), '-subj', subj]);
    writeFileSync(p(`${name}.ext`), `${ext}\n`);
    openssl(['x509', '-req', '-in', p(`${name}.csr`), '-CA', p('ca.crt'), '-CAkey', p('ca.key'), '-CAcreateserial',
      '-out', p(`${name}.crt`), '-days', '1', '-extfile', p(`${name}.ext`)]);
  };
  sign('serving', '/CN=kube-apiserver', [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth',
    `subjectAltName=IP:${hostIp},IP:${kubernetesServiceIp},IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local`,
  ].join('\n'));
  sign('kubelet-client', '/O=system:masters/CN=berth-apiserver-kubelet-client', [
    'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=clientAuth',
  ].join('\n'));
  openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', p('sa.key')]);
  openssl(['ec', '-in', p('sa.key'), '-pubout', '-out', p('sa.pub')]);
  return {
    ca: p('ca.crt'), caKey: p('ca.key'), serving: p('serving.crt'), servingKey: p('serving.key'),
    kubeletClient: p('kubelet-client.crt'), kubeletClientKey: p('kubelet-client.key'), saPub: p('sa.pub'), saKey: p('sa.key'),
  };
}

interface Recorded {
  netns: string[];
  podLogs: Record<string, string[]>;
  nft: string[];
  chains: Record<string, string[]>;
  bridgeCreated: boolean;
  /** The LAN namespace (and with it the veth pair) was made by this run. */
  lanCreated?: boolean;
}

const pidFiles = ['kube-proxy', 'kubelet', 'kube-scheduler', 'kube-controller-manager', 'kube-apiserver', 'etcd', 'containerd'];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** SIGKILLs `pid` only if its command line still names `dir` (a reused PID is never touched). */
function killIfOurs(pid: number, dir: string): void {
  try {
    if (!readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').includes(dir)) return;
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}

/** containerd-shim processes serving our containerd (their command line names its socket). */
function shimPids(dir: string): number[] {
  const out: number[] = [];
  for (const e of listDir('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      if (cmd.startsWith('/usr/bin/containerd-shim') && cmd.includes(dir)) out.push(Number(e));
    } catch {
      // gone
    }
  }
  return out;
}

/**
 * Everything a run leaves on the host, removed; safe to call twice and for a dead run's dir. Processes
 * must already be stopped (stop() does that gracefully; for a dead run they are killed here by PID).
 */
function cleanHost(dir: string): string[] {
  const notes: string[] = [];
  for (const name of pidFiles) {
    const pid = readPid(join(dir, `${name}.pid`));
    if (pid !== undefined && pidAlive(pid)) killIfOurs(pid, dir);
  }
  // Pod tasks outlive containerd in their shims: kill the shims (and so the containers) by PID.
  for (const pid of shimPids(dir)) {
    const children = run('pgrep', ['-P', String(pid)]).stdout.split('\n').filter((l) => l !== '').map(Number);
    for (const c of children) {
      try {
        process.kill(c, 'SIGKILL');
      } catch {
        // gone
      }
    }
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  let rec: Recorded | undefined;
  try {
    rec = JSON.parse(readFileSync(join(dir, 'recorded.json'), 'utf8')) as Recorded;
  } catch {
    rec = undefined;
  }
  unmountBelow(dir);
  if (rec !== undefined) {
    for (const ns of listDir(netnsDir).filter((n) => n.startsWith('cni-') && !rec.netns.includes(n))) {
      run('umount', [join(netnsDir, ns)]);
      try {
        unlinkSync(join(netnsDir, ns));
      } catch {
        // gone
      }
      notes.push(`netns ${ns}`);
    }
    for (const d of podLogDirs) {
      for (const e of listDir(d).filter((x) => !(rec.podLogs[d] ?? []).includes(x))) rmSync(join(d, e), { recursive: true, force: true });
    }
    const before = new Set(rec.nft);
    for (const t of nftTables()) {
      if (before.has(t)) continue;
      // Only the tables a node makes: kube-proxy's (and any kube-* one).
      if (/^table (ip|ip6|inet) kube-proxy$/.test(t)) {
        run('nft', ['delete', ...t.split(' ')]);
        notes.push(t);
      }
    }
    const chainsBefore = new Map(Object.entries(rec.chains).map(([k, v]) => [k, new Set(v)]));
    notes.push(...removeNewKubeChains(chainsBefore));
    // The kubelet's iptables-nft calls create the ip/ip6 filter, nat and mangle tables when absent: those
    // that did not exist before and hold no rule now go too.
    for (const t of nftTables()) {
      if (before.has(t) || !/^table (ip|ip6) (filter|nat|mangle)$/.test(t)) continue;
      const body = run('nft', ['list', ...t.split(' ')]).stdout;
      const rules = body.split('\n').filter((l) => /^\s+(?!chain |type |policy |\}|$)/.test(l) && !/^\s+type /.test(l));
      if (rules.length === 0) {
        run('nft', ['delete', ...t.split(' ')]);
        notes.push(t);
      }
    }
  }
  removeCgroupTree('kubepods');
  removeCgroupTree('berth-node-system');
  if (rec?.bridgeCreated === true && run('ip', ['link', 'show', bridge]).code === 0) run('ip', ['link', 'del', bridge]);
  if (rec?.lanCreated === true) {
    // Processes a test started in the LAN (an FRR router whose test process died before stopping it), by
    // PID; then deleting the namespace deletes its veth end, and with it the host's.
    if (listDir(netnsDir).includes(lan.netns)) {
      for (const pid of run('ip', ['netns', 'pids', lan.netns]).stdout.split('\n').filter((l) => /^\d+$/.test(l))) {
        try {
          process.kill(Number(pid), 'SIGKILL');
          notes.push(`process ${pid} in ${lan.netns}`);
        } catch {
          // gone
        }
      }
      run('ip', ['netns', 'del', lan.netns]);
    }
    if (run('ip', ['link', 'show', lan.hostIface]).code === 0) run('ip', ['link', 'del', lan.hostIface]);
  }
  for (const e of listDir('/var/lib/cni/results').filter((x) => x.startsWith('berth-node-test-'))) rmSync(join('/var/lib/cni/results', e), { force: true });
  rmSync(dir, { recursive: true, force: true });
  return notes;
}

/** Cleans up after runs whose test process died without stop(). */
function sweepStale(): void {
  for (const e of listDir(tmpdir()).filter((x) => x.startsWith(dirPrefix))) {
    const dir = join(tmpdir(), e);
    const owner = readPid(join(dir, 'owner.pid'));
    if (owner !== undefined && pidAlive(owner)) continue;
    cleanHost(dir);
  }
}

// The exit hook: a test process that ends without stop() still cleans up (SIGINT/SIGTERM too).
const liveDirs = new Set<string>();
let hook = false;
function installHook(): void {
  if (hook) return;
  hook = true;
  process.on('exit', () => {
    for (const d of liveDirs) cleanHost(d);
  });
}

export interface StartNodeOptions {
  /** A prebuilt image archive instead of building one (tests of one file share the build anyway). */
  readonly berthImage?: ImageArchive;
}

export async function startNode(opts: StartNodeOptions = {}): Promise<RealNode> {
  if (process.getuid?.() !== 0) throw new NodePrerequisiteError('the real-node test must run as root (containerd, kubelet, network)');
  requireCommands([
    ['containerd', 'containerd'], ['ctr', 'containerd'], ['runc', 'runc'], ['/usr/lib/cni/bridge', 'containernetworking-plugins'],
    ['/usr/lib/cni/host-local', 'containernetworking-plugins'], ['/usr/lib/cni/loopback', 'containernetworking-plugins'],
    ['buildah', 'buildah'], ['openssl', 'openssl'], ['gcc', 'gcc'], ['ip', 'iproute2'], ['nft', 'nftables'], ['iptables', 'iptables'],
    ['conntrack', 'conntrack'], ['pgrep', 'procps'],
  ]);
  // Without CAP_SYS_RESOURCE in the bounding set (these VMs) plain runc cannot start pod sandboxes: the
  // runc-nosysres wrapper is needed (BERTH_RUNC, else ../shared/tools beside the repository).
  const runcWrapper = join(repoRoot, '..', 'shared', 'tools', 'runc-nosysres');
  const capBnd = BigInt(`0x${/^CapBnd:\s*(\S+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? '0'}`);
  const hasSysResource = (capBnd & (1n << 24n)) !== 0n;
  const wrapper = process.env['BERTH_RUNC'] ?? (existsSync(runcWrapper) ? runcWrapper : hasSysResource ? which('runc') : undefined);
  if (wrapper === undefined) {
    throw new NodePrerequisiteError(
      hasSysResource ? 'no runc (Debian: runc)'
        : 'this machine lacks CAP_SYS_RESOURCE, so plain runc cannot start pod sandboxes: set BERTH_RUNC to a runc wrapper that drops it (tools/runc-nosysres in the shared tools, ../shared/tools/REAL-NODE.md)',
    );
  }
  const assets = resolveAssets();
  const nodeDir = nodeAssets().dir;
  const bin = (n: string): string => join(nodeDir, n);
  sweepStale();
  if (run('ip', ['link', 'show', bridge]).code === 0) {
    throw new NodePrerequisiteError(`the bridge ${bridge} exists and no dead run owns it: another real-node test is running, or remove it (ip link del ${bridge})`);
  }
  if (run('ip', ['link', 'show', lan.hostIface]).code === 0 || listDir(netnsDir).includes(lan.netns)) {
    throw new NodePrerequisiteError(`${lan.hostIface} or the namespace ${lan.netns} exists and no dead run owns it: another real-node test is running, or remove them (ip netns del ${lan.netns})`);
  }

  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  installHook();
  liveDirs.add(dir);
  writeFileSync(join(dir, 'owner.pid'), `${String(process.pid)}\n`);
  const rec: Recorded = {
    netns: listDir(netnsDir),
    podLogs: Object.fromEntries(podLogDirs.map((d) => [d, listDir(d)])),
    nft: [...nftTables()],
    chains: Object.fromEntries([...kubeChains()].map(([k, v]) => [k, [...v]])),
    bridgeCreated: false,
  };
  writeFileSync(join(dir, 'recorded.json'), JSON.stringify(rec));
  const procs: Proc[] = [];
  const start = (name: string, binary: string, args: readonly string[]): Proc => {
    const p = startProcess({ name, binary, args, logPath: join(dir, `${name}.log`), pidPath: join(dir, `${name}.pid`) });
    procs.push(p);
    return p;
  };
  const logs = (lines = 25): string =>
    pidFiles.map((n) => `--- ${n}.log (last ${String(lines)} lines)\n${tail(join(dir, `${n}.log`), lines)}`).join('\n');

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    // Reverse order of start; containerd last but one (then its shims), etcd last.
    for (const p of [...procs].reverse()) {
      if (p.name === 'etcd' || p.name === 'containerd') continue;
      await stopProcess(p, 5_000);
    }
    const sock = join(dir, 'containerd', 'containerd.sock');
    const containerd = procs.find((p) => p.name === 'containerd');
    if (containerd !== undefined && !containerd.hasExited()) {
      const ctr = (args: readonly string[]): string => run('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { timeoutMs: 30_000 }).stdout;
      for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter((l) => l !== '')) ctr(['tasks', 'kill', '-s', 'SIGKILL', id]);
      for (let i = 0; i < 20 && ctr(['tasks', 'ls', '-q']).trim() !== ''; i++) {
        for (const id of ctr(['tasks', 'ls', '-q']).split('\n').filter((l) => l !== '')) ctr(['tasks', 'delete', '-f', id]);
        await sleep(250);
      }
      await stopProcess(containerd, 10_000);
    }
    const etcd = procs.find((p) => p.name === 'etcd');
    if (etcd !== undefined) await stopProcess(etcd, 5_000);
    cleanHost(dir);
    liveDirs.delete(dir);
  };

  try {
    // ---- images first (the slow part when cold), so a build failure costs no cluster
    const berth = opts.berthImage ?? buildBerthImage(dir);
    const pause = pauseImage();

    // ---- the bridge with the host's address: the API server listens there before any pod exists
    runOk('ip', ['link', 'add', bridge, 'type', 'bridge']);
    rec.bridgeCreated = true;
    writeFileSync(join(dir, 'recorded.json'), JSON.stringify(rec));
    runOk('ip', ['addr', 'add', `${hostIp}/26`, 'dev', bridge]);
    runOk('ip', ['link', 'set', bridge, 'up']);

    // ---- the LAN: a veth from the host to its own namespace
    runOk('ip', ['netns', 'add', lan.netns]);
    rec.lanCreated = true;
    writeFileSync(join(dir, 'recorded.json'), JSON.stringify(rec));
    runOk('ip', ['link', 'add', lan.hostIface, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', lan.netns]);
    runOk('ip', ['addr', 'add', `${lan.hostIp}/${String(lan.prefixLength)}`, 'dev', lan.hostIface]);
    runOk('ip', ['link', 'set', lan.hostIface, 'up']);
    runOk('ip', ['-n', lan.netns, 'addr', 'add', `${lan.clientIp}/${String(lan.prefixLength)}`, 'dev', 'eth0']);
    runOk('ip', ['-n', lan.netns, 'link', 'set', 'eth0', 'up']);
    runOk('ip', ['-n', lan.netns, 'link', 'set', 'lo', 'up']);

    // ---- PKI, tokens, kubeconfig
    const pki = createPki(dir);
    const token = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${token},berth-admin,uid-admin,"system:masters"\n`, { mode: 0o600 });
    const [etcdPort, peerPort, apiPort, kcmPort, schedPort, kubeletPort, kubeletHealthz, proxyHealthz, proxyMetrics] = [
      await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(), await freePort(),
    ].map(String);
    const apiUrl = `https://${hostIp}:${apiPort ?? ''}`;
    const kubeconfig = join(dir, 'admin.kubeconfig');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name: 'node', cluster: { server: apiUrl, 'certificate-authority-data': readFileSync(pki.ca).toString('base64') } }],
      users: [{ name: 'admin', user: { token } }],
      contexts: [{ name: 'admin', context: { cluster: 'node', user: 'admin' } }],
      'current-context': 'admin',
    }));
    const env = { ...process.env, KUBECONFIG: kubeconfig };
    const kubectl = (args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<KubectlResult> =>
      exec(assets.kubectl, ['--kubeconfig', kubeconfig, ...args], env, o.stdin ?? '', o.timeoutMs ?? 60_000);
    const kubectlOk = async (args: readonly string[], o: { stdin?: string; timeoutMs?: number } = {}): Promise<string> => {
      const r = await kubectl(args, o);
      if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')} exited ${String(r.code)}: ${r.stderr.trim()}`);
      return r.stdout;
    };

    // ---- etcd, kube-apiserver
    const etcdUrl = `http://127.0.0.1:${etcdPort ?? ''}`;
    const peerUrl = `http://127.0.0.1:${peerPort ?? ''}`;
    mkdirSync(join(dir, 'etcd-data'), { mode: 0o700 });
    start('etcd', assets.etcd, [
      '--name=node', `--data-dir=${join(dir, 'etcd-data')}`, `--listen-client-urls=${etcdUrl}`, `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`, `--initial-advertise-peer-urls=${peerUrl}`, `--initial-cluster=node=${peerUrl}`,
      '--unsafe-no-fsync=true', '--log-level=warn',
    ]);
    const apiserver = start('kube-apiserver', assets.kubeApiserver, [
      `--etcd-servers=${etcdUrl}`, `--bind-address=${hostIp}`, `--advertise-address=${hostIp}`, `--secure-port=${apiPort ?? ''}`,
      `--tls-cert-file=${pki.serving}`, `--tls-private-key-file=${pki.servingKey}`, `--client-ca-file=${pki.ca}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`, '--authorization-mode=RBAC',
      `--service-account-issuer=https://kubernetes.default.svc`, `--service-account-key-file=${pki.saPub}`,
      `--service-account-signing-key-file=${pki.saKey}`, `--service-cluster-ip-range=${serviceCidr}`,
      `--kubelet-client-certificate=${pki.kubeletClient}`, `--kubelet-client-key=${pki.kubeletClientKey}`,
      '--kubelet-preferred-address-types=InternalIP', '--allow-privileged=true', '--profiling=false', '--v=1',
    ]);
    await waitFor('kube-apiserver /readyz', 120_000, async () => {
      if (apiserver.hasExited()) throw new Error(`kube-apiserver exited:\n${tail(apiserver.logPath)}`);
      const r = await kubectl(['get', '--raw', '/readyz'], { timeoutMs: 5_000 });
      return r.code === 0 && r.stdout.trim() === 'ok' ? true : undefined;
    }, () => tail(apiserver.logPath));

    // ---- controller-manager and scheduler (after the API server, once: REAL-NODE.md)
    start('kube-controller-manager', bin('kube-controller-manager'), [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${kcmPort ?? ''}`, '--leader-elect=false',
      `--service-account-private-key-file=${pki.saKey}`, `--root-ca-file=${pki.ca}`, `--cluster-cidr=${podCidr}`,
      `--service-cluster-ip-range=${serviceCidr}`, '--controllers=*,-nodeipam,-cloud-node-lifecycle,-service-lb-controller', '--v=1',
    ]);
    start('kube-scheduler', bin('kube-scheduler'), [
      `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
      '--bind-address=127.0.0.1', `--secure-port=${schedPort ?? ''}`, '--leader-elect=false', '--v=1',
    ]);

    // ---- containerd, its own instance
    const cd = join(dir, 'containerd');
    mkdirSync(join(cd, 'root'), { recursive: true });
    mkdirSync(join(cd, 'state'), { recursive: true });
    mkdirSync(join(dir, 'cni', 'net.d'), { recursive: true });
    const sock = join(cd, 'containerd.sock');
    writeFileSync(join(dir, 'cni', 'net.d', '10-berth-node.conflist'), JSON.stringify({
      cniVersion: '1.0.0', name: 'berth-node-test',
      plugins: [{
        type: 'bridge', bridge, isGateway: true, ipMasq: false, hairpinMode: true,
        // Pods route only 198.51.100.0/24 (Services and the pool) via the host: no default route.
        ipam: { type: 'host-local', ranges: [[{ subnet: podCidr, gateway: hostIp }]], routes: [{ dst: podRoute, gw: hostIp }], dataDir: join(dir, 'cni', 'ipam') },
      }],
    }));
    writeFileSync(join(cd, 'config.toml'), [
      'version = 2',
      `root = "${join(cd, 'root')}"`,
      `state = "${join(cd, 'state')}"`,
      'disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs", "io.containerd.internal.v1.tracing"]',
      '[grpc]', `  address = "${sock}"`,
      '[ttrpc]', `  address = "${sock}.ttrpc"`,
      '[debug]', '  address = ""',
      '[metrics]', '  address = ""',
      '[plugins."io.containerd.internal.v1.opt"]', `  path = "${join(cd, 'opt')}"`,
      '[plugins."io.containerd.grpc.v1.cri"]',
      `  sandbox_image = "${pause.ref}"`,
      '  stream_server_address = "127.0.0.1"', '  stream_server_port = "0"',
      '  enable_selinux = false', '  disable_apparmor = true', '  restrict_oom_score_adj = true',
      '[plugins."io.containerd.grpc.v1.cri".containerd]', '  snapshotter = "overlayfs"', '  default_runtime_name = "runc"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]', '  runtime_type = "io.containerd.runc.v2"',
      '[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]',
      `  BinaryName = "${wrapper}"`, `  Root = "${join(cd, 'runc')}"`, '  SystemdCgroup = false',
      '[plugins."io.containerd.grpc.v1.cri".cni]', '  bin_dir = "/usr/lib/cni"', `  conf_dir = "${join(dir, 'cni', 'net.d')}"`,
      '',
    ].join('\n'));
    const containerd = start('containerd', which('containerd') ?? 'containerd', ['--config', join(cd, 'config.toml'), '--log-level', 'warn']);
    const ctr = (args: readonly string[]): string => runOk('ctr', ['--address', sock, '-n', 'k8s.io', ...args], { timeoutMs: 300_000 });
    await waitFor('containerd socket', 60_000, () => {
      if (containerd.hasExited()) throw new Error(`containerd exited:\n${tail(containerd.logPath)}`);
      return run('ctr', ['--address', sock, 'version'], { timeoutMs: 5_000 }).code === 0 ? true : undefined;
    }, () => tail(containerd.logPath));
    ctr(['images', 'import', pause.archive]);
    ctr(['images', 'import', berth.archive]);
    const images = ctr(['images', 'ls', '-q']);
    for (const ref of [pause.ref, berth.ref]) {
      if (!images.split('\n').includes(ref)) throw new Error(`containerd has no image ${ref} after import; it has:\n${images}`);
    }

    // ---- kubelet
    const kubeletDir = join(dir, 'kubelet');
    mkdirSync(kubeletDir, { recursive: true });
    writeFileSync(join(dir, 'kubelet.yaml'), `${JSON.stringify({
      apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration',
      failCgroupV1: false, cgroupDriver: 'cgroupfs', failSwapOn: false,
      address: hostIp, port: Number(kubeletPort), readOnlyPort: 0, healthzBindAddress: '127.0.0.1', healthzPort: Number(kubeletHealthz),
      authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: pki.ca } },
      authorization: { mode: 'AlwaysAllow' },
      containerRuntimeEndpoint: `unix://${sock}`,
      clusterDomain: 'cluster.local', resolvConf: '/etc/resolv.conf',
      evictionHard: { 'memory.available': '1Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
      imageGCHighThresholdPercent: 100, imageGCLowThresholdPercent: 99,
      serializeImagePulls: false, rotateCertificates: false, protectKernelDefaults: false, maxPods: 30,
      podPidsLimit: -1, syncFrequency: '5s', nodeStatusUpdateFrequency: '5s', fileCheckFrequency: '5s',
      localStorageCapacityIsolation: false,
    }, null, 2)}\n`);
    const kubelet = start('kubelet', bin('kubelet'), [
      `--config=${join(dir, 'kubelet.yaml')}`, `--kubeconfig=${kubeconfig}`, `--root-dir=${kubeletDir}`,
      `--hostname-override=${nodeName}`, `--node-ip=${hostIp}`, `--cert-dir=${join(kubeletDir, 'pki')}`, '--v=1',
    ]);
    await waitFor(`node ${nodeName} Ready`, 120_000, async () => {
      if (kubelet.hasExited()) throw new Error(`kubelet exited:\n${tail(kubelet.logPath)}`);
      const r = await kubectl(['get', 'node', nodeName, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'], { timeoutMs: 5_000 });
      return r.stdout.trim() === 'True' ? true : undefined;
    }, () => tail(kubelet.logPath));

    // ---- kube-proxy (nftables; changes no host sysctl: conntrack sizes and timeouts zero)
    writeFileSync(join(dir, 'kube-proxy.yaml'), `${JSON.stringify({
      apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration',
      clientConnection: { kubeconfig }, mode: 'nftables', clusterCIDR: podCidr, hostnameOverride: nodeName,
      healthzBindAddress: `127.0.0.1:${proxyHealthz ?? ''}`, metricsBindAddress: `127.0.0.1:${proxyMetrics ?? ''}`,
      masqueradeAll: true,
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: '0s', tcpCloseWaitTimeout: '0s', udpTimeout: '0s', udpStreamTimeout: '0s' },
    }, null, 2)}\n`);
    const proxy = start('kube-proxy', bin('kube-proxy'), [`--config=${join(dir, 'kube-proxy.yaml')}`, '--v=1']);
    await waitFor('kube-proxy programming the kubernetes Service', 60_000, () => {
      if (proxy.hasExited()) throw new Error(`kube-proxy exited:\n${tail(proxy.logPath)}`);
      const r = run('nft', ['list', 'table', 'ip', 'kube-proxy']);
      return r.code === 0 && r.stdout.includes(kubernetesServiceIp) ? true : undefined;
    }, () => tail(proxy.logPath));

    const helmPath = bin('helm');
    const helmEnv = { ...env, HELM_CACHE_HOME: join(dir, 'helm', 'cache'), HELM_CONFIG_HOME: join(dir, 'helm', 'config'), HELM_DATA_HOME: join(dir, 'helm', 'data') };
    return {
      dir, kubeconfig, kubectlPath: assets.kubectl, helmPath, berthImage: berth.ref,
      kubectl, kubectlOk,
      helm: (args, o = {}) => exec(helmPath, ['--kubeconfig', kubeconfig, ...args], helmEnv, '', o.timeoutMs ?? 300_000),
      logs, stop,
    };
  } catch (err) {
    const detail = logs(15);
    await stop();
    if (err instanceof Error) err.message += `\n${detail}`;
    throw err;
  }
}
