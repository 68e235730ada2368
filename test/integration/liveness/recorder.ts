// The LAN client of the liveness tests (test/integration/liveness, test/k8s/liveness.test.ts): runs
// arp-recorder.ts in the client namespace for the whole test and keeps what it saw.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost, SpawnedProcess } from '../../../frr-lab/lab.ts';
import { waitFor } from '../common.ts';

const RECORDER = fileURLToPath(new URL('./arp-recorder.ts', import.meta.url));

export interface Seen {
  readonly t: number;
  readonly wall: number;
  readonly op: string;
  readonly mac: string;
  /** Requests the recorder had sent when the frame arrived. */
  readonly seq: number;
}

export class Recorder {
  readonly seen: Seen[] = [];
  readonly proc: SpawnedProcess;
  constructor(lab: Lab, client: LabHost, vip: string, vip6?: string) {
    this.proc = lab.spawn(client, [process.execPath, '--import', 'tsx', RECORDER, client.iface, client.mac.toLowerCase(), client.ipv4, vip, '50', ...(vip6 === undefined ? [] : [vip6])], { stdio: ['pipe', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../../', import.meta.url)) });
    createInterface({ input: this.proc.child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { t: number; op: string; mac: string; seq: number };
      this.seen.push({ ...o, wall: Date.now() });
    });
  }
  get mark(): number {
    return this.seen.length;
  }
  /** A crafted gratuitous ARP for the VIP from `mac`. */
  inject(mac: string): void {
    this.proc.child.stdin?.write(`garp ${mac}\n`);
  }

  /** A crafted unsolicited Neighbor Advertisement for the IPv6 VIP from `mac`. */
  inject6(mac: string): void {
    this.proc.child.stdin?.write(`una ${mac}\n`);
  }
  /** Waits for a frame from `mac` (a reply or an announcement) recorded at or after `from`. */
  async from(mac: string, from: number, what: string): Promise<Seen> {
    return waitFor(what, 20_000, async () => this.seen.slice(from).find((s) => s.mac === mac && s.op !== 'injected'), { describe: async () => this.tail(from), everyMs: 50 });
  }
  /**
   * Settled: `n` replies from `mac` after `from`, and no frame from any other MAC in between. Returns
   * the MACs that answered in that window.
   */
  async onlyOne(mac: string, from: number, n = 20): Promise<string[]> {
    await waitFor(`${n} replies from ${mac}`, 20_000, async () => (this.seen.slice(from).filter((s) => s.mac === mac && s.op === 'reply').length >= n ? true : undefined), { describe: async () => this.tail(from), everyMs: 50 });
    return [...new Set(this.seen.slice(from).filter((s) => s.op !== 'injected').map((s) => s.mac))];
  }
  tail(from: number): string {
    return this.seen.slice(Math.max(from, this.seen.length - 40)).map((s) => JSON.stringify(s)).join('\n');
  }
}

