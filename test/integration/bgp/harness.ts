// Drives speaker-proc.ts inside a lab namespace: send commands, wait for events.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Lab, LabTarget, SpawnedProcess } from '../../../frr-lab/lab.ts';
import type { Advertisement, PeerSpec } from '../../../src/bgp/speaker.ts';
import { waitFor } from '../common.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const PROC = resolve(here, 'speaker-proc.ts');

export interface ProcEvent {
  readonly event: string;
  readonly peer?: string;
  readonly state?: string;
  readonly reason?: string;
  readonly notification?: { readonly code: number; readonly subcode: number };
  readonly message?: string;
}

export class SpeakerProc {
  readonly events: ProcEvent[] = [];
  readonly stderr: string[] = [];
  readonly #proc: SpawnedProcess;
  #waiters: (() => void)[] = [];

  private constructor(proc: SpawnedProcess) {
    this.#proc = proc;
    const child = proc.child;
    if (child.stdout === null || child.stderr === null) throw new Error('speaker-proc: no stdio pipes');
    createInterface({ input: child.stdout }).on('line', (l) => {
      try {
        this.events.push(JSON.parse(l) as ProcEvent);
      } catch {
        this.events.push({ event: 'raw', message: l });
      }
      for (const w of this.#waiters.splice(0)) w();
    });
    createInterface({ input: child.stderr }).on('line', (l) => {
      this.stderr.push(l);
      if (this.stderr.length > 2000) this.stderr.shift();
    });
  }

  static async start(lab: Pick<Lab, 'spawn'>, node: LabTarget, speaker: { routerId?: string; listen?: { host?: string; port?: number }; restarting?: boolean } = {}): Promise<SpeakerProc> {
    const p = lab.spawn(node, [process.execPath, '--import', 'tsx', PROC], { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
    const s = new SpeakerProc(p);
    s.send({ op: 'start', speaker });
    await s.waitEvent('ready', (e) => e.event === 'ready', 30_000);
    return s;
  }

  send(cmd: object): void {
    this.#proc.child.stdin?.write(`${JSON.stringify(cmd)}\n`);
  }

  peers(peers: readonly PeerSpec[]): void {
    this.send({ op: 'peers', peers });
  }

  ads(ads: readonly Advertisement[]): void {
    this.send({ op: 'ads', ads });
  }

  async waitEvent(what: string, pred: (e: ProcEvent) => boolean, timeoutMs = 30_000): Promise<ProcEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(pred);
      if (hit !== undefined) return hit;
      const err = this.events.find((e) => e.event === 'error');
      if (err !== undefined) throw new Error(`speaker-proc error while waiting for ${what}: ${err.message ?? ''}`);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`speaker-proc: timed out waiting for ${what}; events ${JSON.stringify(this.events)}; last log lines:\n${this.stderr.slice(-15).join('\n')}`);
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  async stop(opts: { communication?: string; preserveRoutes?: boolean } = {}): Promise<void> {
    this.send({ op: 'stop', ...opts });
    await this.waitEvent('stopped', (e) => e.event === 'stopped', 10_000).catch(() => undefined);
    await this.#proc.kill(2000);
  }

  /** SIGKILL: no NOTIFICATION, no FIN handshake beyond what the kernel does (a crash). */
  async crash(): Promise<void> {
    process.kill(this.#proc.pid, 'SIGKILL');
    await this.#proc.kill(0);
  }
}

/** waitFor (test/integration/common.ts) with the BGP tests' argument order and pace. */
export function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  return waitFor(what, timeoutMs, fn, { everyMs });
}
