// Helpers for the layer 2 integration tests: a responder-driver process per node namespace, the
// stand-in data plane (nftables DNAT + a small HTTP server), and parsers for arping / ndisc6 output.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost, SpawnedProcess } from '../../../frr-lab/lab.ts';
import type { InterfaceRequest, NodeAddressing } from '../../../src/l2/interfaces.ts';
import type { AnswerTotals } from '../../../src/l2/answer.ts';
import type { ThreadState } from '../../../src/l2/cpu-answerers.ts';
import type { Layer2Stats } from '../../../src/l2/engine.ts';

export { arpingReplies, ndisc6Replies, sleep, waitFor } from '../common.ts';

const DRIVER = fileURLToPath(new URL('./responder-driver.ts', import.meta.url));

export interface OwnReply {
  readonly ok: boolean;
  readonly owned: Readonly<Record<string, readonly string[]>>;
  readonly problems: readonly { readonly vip: string; readonly reason: string }[];
  readonly error?: string;
}

export class Responder {
  readonly host: LabHost;
  readonly proc: SpawnedProcess;
  private readonly lines: string[] = [];
  private readonly other: string[] = [];
  private waiter: (() => void) | undefined;
  private stderr = '';

  private constructor(host: LabHost, proc: SpawnedProcess) {
    this.host = host;
    this.proc = proc;
    createInterface({ input: proc.child.stdout! }).on('line', (l) => {
      // Protocol lines are JSON objects; anything else (node's --trace-gc output) is kept apart.
      if (!l.startsWith('{')) {
        this.other.push(l);
        return;
      }
      this.lines.push(l);
      this.waiter?.();
    });
    proc.child.stderr?.on('data', (d: Buffer) => {
      this.stderr += d.toString();
    });
  }

  /** `nodeArgs`: extra node flags for the driver process (e.g. ['--trace-gc'] in bench/l2). */
  static async start(lab: Lab, host: LabHost, announce: { burst?: number; interval?: number; refresh?: number; threads?: number } = {}, nodeArgs: readonly string[] = []): Promise<Responder> {
    const argv = ['node', ...nodeArgs, '--import', 'tsx', DRIVER];
    for (const [k, v] of Object.entries(announce)) argv.push(`--${k}`, String(v));
    const proc = lab.spawn(host, argv, { stdio: ['pipe', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../../', import.meta.url)) });
    const r = new Responder(host, proc);
    const first = await r.next(20_000);
    if (!first.includes('"ready"')) throw new Error(`driver on ${host.name} did not start: ${first} ${r.stderr}`);
    return r;
  }

  private async next(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length === 0) {
      if (this.proc.child.exitCode !== null) throw new Error(`driver on ${this.host.name} exited: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`driver on ${this.host.name}: no answer in ${timeoutMs} ms: ${this.stderr}`);
      await new Promise<void>((res) => {
        this.waiter = res;
        setTimeout(res, 100);
      });
    }
    return this.lines.shift() ?? '';
  }

  private async call<T>(cmd: unknown): Promise<T> {
    this.proc.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
    const reply = JSON.parse(await this.next()) as T & { ok: boolean; error?: string };
    if (!reply.ok) throw new Error(`driver on ${this.host.name}: ${reply.error ?? 'failed'}`);
    return reply;
  }

  /** Owns exactly these VIPs (interface request per VIP; default: the LAN interface by name). */
  own(vips: readonly { vip: string; request?: InterfaceRequest }[], extra: { exclude?: readonly string[]; node?: NodeAddressing } = {}): Promise<OwnReply> {
    return this.call<OwnReply>({
      cmd: 'own',
      vips: vips.map((v) => ({ vip: v.vip, request: v.request ?? { kind: 'names', names: [this.host.iface] } })),
      ...extra,
    });
  }

  async stats(): Promise<Layer2Stats> {
    return (await this.call<{ stats: Layer2Stats }>({ cmd: 'stats' })).stats;
  }

  /**
   * The answer threads started so far (none when the driver answers on its main thread) and the totals
   * of what the main thread answered for CPUs without a thread and of each CPU's thread.
   */
  async threads(): Promise<{ threads: readonly ThreadState[]; perThread: { main: AnswerTotals; cpus: readonly AnswerTotals[] } | undefined }> {
    const r = await this.call<{ threads?: readonly ThreadState[]; perThread?: { main: AnswerTotals; cpus: readonly AnswerTotals[] } }>({ cmd: 'stats' });
    return { threads: r.threads ?? [], perThread: r.perThread };
  }

  /** SIGKILL: a crashed node, no goodbye. */
  async crash(): Promise<void> {
    this.proc.child.kill('SIGKILL');
    await this.proc.kill(1000);
  }

  async stop(): Promise<void> {
    await this.proc.kill(3000);
  }

  /** Non-protocol stdout lines of the driver so far (e.g. node's --trace-gc output), then cleared. */
  takeOtherOutput(): readonly string[] {
    return this.other.splice(0);
  }
}

/** kube-proxy stand-in on a node: DNAT VIP:80 to the node's own address :8080, and an HTTP server there. */
export async function startDataPlane(lab: Lab, host: LabHost, vips: { v4: string; v6: string }): Promise<SpawnedProcess> {
  const rules = [
    'table inet bl2dp {',
    '  chain pre {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    ip daddr ${vips.v4} tcp dport 80 dnat ip to ${host.ipv4}:8080`,
    `    ip6 daddr ${vips.v6} tcp dport 80 dnat ip6 to [${host.ipv6}]:8080`,
    '  }',
    '}',
  ].join('\n');
  await lab.exec(host, ['sh', '-c', `printf '%s\\n' "$0" | nft -f -`, rules]);
  const server = lab.spawn(host, [
    'node',
    '-e',
    "require('http').createServer((q, s) => s.end(process.argv[1])).listen(8080, '::')",
    host.name,
  ]);
  // Wait until it listens.
  for (let i = 0; i < 50; i++) {
    const r = await lab.exec(host, ['curl', '-s', '-m', '1', `http://${host.ipv4}:8080/`], { check: false });
    if (r.code === 0 && r.stdout === host.name) return server;
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`HTTP server on ${host.name} did not come up`);
}
