// Runs `node bin/berth.mjs speaker --node NAME --manifests DIR` inside lab node namespaces and keeps
// their logs (JSON lines on stderr) for assertions and for failure reports.
import { createHash } from 'node:crypto';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost, SpawnedProcess } from '../../../frr-lab/lab.ts';
import { waitFor as waitUntil } from '../common.ts';

export { arpingReplies, ndisc6Replies, sleep } from '../common.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const BERTH = join(ROOT, 'bin', 'berth.mjs');
const SPEAKER_POLL_MS = 250;

export class SpeakerProcess {
  readonly lines: Record<string, unknown>[] = [];
  readonly raw: string[] = [];
  readonly node: LabHost;
  readonly #proc: SpawnedProcess;
  readonly #exit: Promise<number | null>;

  constructor(lab: Lab, node: LabHost, manifests: string, extraArgs: readonly string[] = [], env: Readonly<Record<string, string>> = {}) {
    this.node = node;
    // Each process gets its own graceful-restart state file in the lab (never the host's /run/berth).
    const state = extraArgs.includes('--graceful-restart-state') ? [] : ['--graceful-restart-state', join(lab.workDir, `${node.name}-restart.json`)];
    this.#proc = lab.spawn(node, [process.execPath, BERTH, 'speaker', '--node', node.name, '--manifests', manifests, '--log-level', 'debug', ...state, ...extraArgs], { cwd: ROOT, env: { ...process.env, ...env } });
    const child = this.#proc.child;
    this.#exit = new Promise((res) => child.once('exit', (code) => res(code)));
    const take = (l: string): void => {
      this.raw.push(l);
      if (this.raw.length > 5000) this.raw.shift();
      try {
        this.lines.push(JSON.parse(l) as Record<string, unknown>);
      } catch {
        // not JSON: kept in raw only
      }
    };
    if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', take);
    if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', take);
  }

  /** The speaker's process id (SIGSTOP / SIGCONT in the liveness tests). */
  get pid(): number {
    return this.#proc.pid;
  }

  get running(): boolean {
    return this.#proc.child.exitCode === null && this.#proc.child.signalCode === null;
  }

  /** SIGTERM and wait for the exit code. */
  async stop(): Promise<number | null> {
    return this.signal('SIGTERM');
  }

  /** Sends `sig` (SIGTERM: drain, SIGUSR2: planned restart) and waits for the exit code. */
  async signal(sig: NodeJS.Signals): Promise<number | null> {
    this.#proc.child.kill(sig);
    const code = await Promise.race([this.#exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 10_000))]);
    if (code === 'timeout') {
      await this.#proc.kill(1000);
      throw new Error(`speaker on ${this.node.name} did not stop within 10 s of ${sig}`);
    }
    return code;
  }

  tail(n = 40): string {
    return this.raw.slice(-n).join('\n');
  }
}

/** A manifest folder written atomically (write + rename), as a config management tool would. */
export class ManifestDir {
  readonly path = mkdtempSync(join(tmpdir(), 'bspk-manifests-'));

  write(file: string, docs: readonly string[]): void {
    const tmp = join(this.path, `.${file}.tmp`);
    writeFileSync(tmp, `${docs.join('\n---\n')}\n`);
    renameSync(tmp, join(this.path, file));
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** MetalLB's L2 order, computed here independently of src/l2: smallest sha256(node + "#" + ip). */
export function hashWinner(nodes: readonly string[], ip: string): string {
  const sorted = [...nodes].sort((a, b) => Buffer.compare(createHash('sha256').update(`${a}#${ip}`).digest(), createHash('sha256').update(`${b}#${ip}`).digest()));
  return sorted[0] ?? '';
}

/** waitFor at the speaker tests' pace: a poll usually asks FRR (vtysh) or reads logs, so 250 ms apart. */
export function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, describe?: () => Promise<string>): Promise<T> {
  return waitUntil(what, timeoutMs, fn, describe === undefined ? { everyMs: SPEAKER_POLL_MS } : { describe, everyMs: SPEAKER_POLL_MS });
}

// ------------------------------------------------------------------------------------------ manifests

export function nodeDoc(n: LabHost, opts: { ready?: boolean; annotations?: Record<string, string> } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Node',
    'metadata:',
    `  name: ${n.name}`,
    `  labels: {kubernetes.io/hostname: ${n.name}}`,
    ...(opts.annotations === undefined ? [] : [`  annotations: ${JSON.stringify(opts.annotations)}`]),
    'status:',
    `  addresses: [{type: InternalIP, address: "${n.ipv4}"}, {type: InternalIP, address: "${n.ipv6}"}]`,
    `  conditions: [{type: Ready, status: "${opts.ready === false ? 'False' : 'True'}"}]`,
  ].join('\n');
}

export function serviceDoc(name: string, o: { statusIPs?: readonly string[]; families?: readonly string[]; annotations?: Record<string, string>; local?: boolean } = {}): string {
  return [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${name}`,
    '  namespace: default',
    ...(o.annotations === undefined ? [] : [`  annotations: ${JSON.stringify(o.annotations)}`]),
    'spec:',
    '  type: LoadBalancer',
    `  selector: {app: ${name}}`,
    '  ports: [{port: 80, targetPort: 8080, protocol: TCP}]',
    ...(o.families === undefined ? [] : [`  ipFamilies: ${JSON.stringify(o.families)}`]),
    ...(o.local === true ? ['  externalTrafficPolicy: Local'] : []),
    ...(o.statusIPs === undefined ? [] : ['status:', `  loadBalancer: {ingress: ${JSON.stringify(o.statusIPs.map((ip) => ({ ip })))}}`]),
  ].join('\n');
}

/** An EndpointSlice of `service` with one endpoint per node given (ready unless listed in notReady). */
export function sliceDoc(service: string, nodes: readonly string[], notReady: readonly string[] = []): string {
  const endpoints = nodes.map((n, i) => ({ addresses: [`10.244.0.${i + 1}`], nodeName: n, conditions: { ready: !notReady.includes(n) } }));
  return [
    'apiVersion: discovery.k8s.io/v1',
    'kind: EndpointSlice',
    'metadata:',
    `  name: ${service}-1`,
    '  namespace: default',
    `  labels: {kubernetes.io/service-name: ${service}}`,
    'addressType: IPv4',
    `endpoints: ${JSON.stringify(endpoints)}`,
    'ports: [{port: 8080, protocol: TCP}]',
  ].join('\n');
}
