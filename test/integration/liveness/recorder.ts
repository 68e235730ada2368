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
  /** A gratuitous ARP (an announcement), not an answer to a request. */
  readonly g?: boolean;
}

export class Recorder {
  readonly seen: Seen[] = [];
  readonly proc: SpawnedProcess;
  /** An ARP request for `vip` every `everyMs` (default 50). */
  constructor(lab: Lab, client: LabHost, vip: string, vip6?: string, everyMs = 50) {
    this.proc = lab.spawn(client, [process.execPath, '--import', 'tsx', RECORDER, client.iface, client.mac.toLowerCase(), client.ipv4, vip, String(everyMs), ...(vip6 === undefined ? [] : [vip6])], { stdio: ['pipe', 'pipe', 'pipe'], cwd: fileURLToPath(new URL('../../../', import.meta.url)) });
    createInterface({ input: this.proc.child.stdout! }).on('line', (l) => {
      const o = JSON.parse(l) as { t: number; op: string; mac: string; seq: number; g?: boolean };
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
  /**
   * The requests sent between `from` and the last frame seen (the last `inFlight` left out: their
   * answers may be on the way) that no MAC answered. ARP carries no request id, so each MAC's answers
   * are matched to requests greedily: an answer that arrived when `seq` requests had been sent answers
   * the latest request <= seq that this MAC has not answered yet (an answer arriving late takes the
   * slot of the request it overtook, which then takes the earlier one). A MAC answers a request at most
   * once, so a request missing in every MAC's matching was not answered: a lost probe.
   */
  lost(from: number, inFlight = 5): { readonly first: number; readonly last: number; readonly lost: readonly number[] } {
    const window = this.seen.slice(from);
    const first = (window[0]?.seq ?? 0) + 1;
    const last = (window.at(-1)?.seq ?? 0) - inFlight;
    const answered = new Set<number>();
    const byMac = new Map<string, Set<number>>();
    for (const s of window) {
      if (s.op !== 'reply' || s.g === true) continue;
      let mine = byMac.get(s.mac);
      if (mine === undefined) byMac.set(s.mac, (mine = new Set()));
      for (let q = s.seq; q >= first; q--) {
        if (mine.has(q)) continue;
        mine.add(q);
        answered.add(q);
        break;
      }
    }
    const lost: number[] = [];
    for (let q = first; q <= last; q++) if (!answered.has(q)) lost.push(q);
    return { first, last, lost };
  }

  tail(from: number): string {
    return this.seen.slice(Math.max(from, this.seen.length - 40)).map((s) => JSON.stringify(s)).join('\n');
  }
}

