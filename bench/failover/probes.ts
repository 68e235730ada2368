// The benchmark's view of a prober (prober.ts) running in a lab namespace: what it saw, kept in
// arrays, and the figures of one trial window. The statistics are pure functions of those arrays.
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';

const PROBER = fileURLToPath(new URL('./prober.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PROBE_EVERY_MS = 10;
/** A TCP probe not connected within this is lost (a SYN to a dead node is never answered). */
export const TCP_TIMEOUT_MS = 500;

export interface ArpSeen {
  readonly t: number;
  readonly mac: string;
}

export interface TcpProbe {
  readonly seq: number;
  readonly sent: number;
  readonly ok: boolean;
  readonly ms: number;
}

/** What one trial window shows (times in ms). */
export interface WindowFigures {
  /** ARP: the longest time between two frames from the VIP (undefined without ARP probes). */
  readonly arpGapMs: number | undefined;
  /** Where the longest ARP gap began, in ms after `from` (negative: it began with the last answer before). */
  readonly arpGapAtMs: number | undefined;
  /** TCP: the longest time between the sending of two connected probes. */
  readonly tcpGapMs: number | undefined;
  /** TCP: from the first lost probe to the next connected probe after the last lost one (0: none lost). */
  readonly tcpLossSpanMs: number | undefined;
  readonly tcpLost: number;
  readonly tcpSent: number;
  /** MACs that sent ARP frames for the VIP in the last settle period of the window. */
  readonly macsAtEnd: readonly string[];
}

/** The longest distance between consecutive times, counting from `from` to `to` at both ends. */
export function longestGap(times: readonly number[], from: number, to: number): number {
  return longestGapAt(times, from, to).gap;
}

/** The longest gap and where it began. */
export function longestGapAt(times: readonly number[], from: number, to: number): { gap: number; at: number } {
  let last = from;
  let best = { gap: 0, at: from };
  for (const t of times) {
    if (t < from) continue;
    if (t > to) break;
    if (t - last > best.gap) best = { gap: t - last, at: last };
    last = t;
  }
  return to - last > best.gap ? { gap: to - last, at: last } : best;
}

/**
 * The window's figures. ARP and TCP gaps start at the last answer before `from` (the failure), so a
 * gap that began with the failure is counted whole.
 */
export function windowFigures(arp: readonly ArpSeen[], tcp: readonly TcpProbe[], from: number, to: number, settleMs: number): WindowFigures {
  const arpTimes = arp.map((a) => a.t);
  const lastArpBefore = arpTimes.filter((t) => t <= from).at(-1) ?? from;
  const okSent = tcp.filter((p) => p.ok).map((p) => p.sent);
  const lastOkBefore = okSent.filter((t) => t <= from).at(-1) ?? from;
  const inWindow = tcp.filter((p) => p.sent >= from && p.sent <= to);
  const lost = inWindow.filter((p) => !p.ok);
  let span = 0;
  const firstLost = lost[0];
  const lastLost = lost.at(-1);
  if (firstLost !== undefined && lastLost !== undefined) {
    const nextOk = inWindow.find((p) => p.ok && p.sent > lastLost.sent);
    span = (nextOk?.sent ?? to) - firstLost.sent;
  }
  const arpGap = longestGapAt(arpTimes, lastArpBefore, to);
  return {
    arpGapMs: arp.length === 0 ? undefined : arpGap.gap,
    arpGapAtMs: arp.length === 0 ? undefined : arpGap.at - from,
    tcpGapMs: tcp.length === 0 ? undefined : longestGap(okSent, lastOkBefore, to),
    tcpLossSpanMs: tcp.length === 0 ? undefined : span,
    tcpLost: lost.length,
    tcpSent: inWindow.length,
    macsAtEnd: [...new Set(arp.filter((a) => a.t >= to - settleMs && a.t <= to).map((a) => a.mac))].sort(),
  };
}

export interface ProberOptions {
  readonly vip: string;
  /** ARP probes from this host's LAN interface. */
  readonly arp?: boolean;
  /** TCP probes to this port. */
  readonly tcpPort?: number;
}

/** A prober running in `host` for as long as the benchmark runs. */
export class Prober {
  readonly arp: ArpSeen[] = [];
  readonly tcp: TcpProbe[] = [];
  readonly proc: SpawnedProcess;
  readonly vip: string;
  #ready: Promise<void>;

  constructor(lab: Lab, host: LabHost, o: ProberOptions) {
    this.vip = o.vip;
    const args = ['--every', String(PROBE_EVERY_MS), '--timeout', String(TCP_TIMEOUT_MS), ...(o.arp === true ? ['--arp', `${host.iface},${host.mac.toLowerCase()},${host.ipv4}`] : []), ...(o.tcpPort === undefined ? [] : ['--tcp', String(o.tcpPort)]), o.vip];
    this.proc = lab.spawn(host, [process.execPath, '--import', 'tsx', PROBER, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    this.#ready = new Promise((resolve, reject) => {
      this.proc.child.once('exit', (code) => reject(new Error(`prober for ${o.vip} in ${host.name} exited (${String(code)}): ${this.proc.output().stderr.slice(-2000)}`)));
      createInterface({ input: this.proc.child.stdout! }).on('line', (l) => {
        const f = l.split(' ');
        if (f[0] === 'a') this.arp.push({ t: Number(f[1]), mac: f[2] ?? '' });
        else if (f[0] === 't') this.tcp.push({ seq: Number(f[1]), sent: Number(f[2]), ok: f[3] === '1', ms: Number(f[4]) });
        else if (f[0] === 'ready') resolve();
      });
    });
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  /** Forget what was seen before `t` (keeps memory flat over a long run). */
  trim(t: number): void {
    const a = this.arp.findIndex((x) => x.t >= t);
    this.arp.splice(0, a < 0 ? this.arp.length : a);
    const p = this.tcp.findIndex((x) => x.sent >= t);
    this.tcp.splice(0, p < 0 ? this.tcp.length : p);
  }

  /**
   * Settled at `now`: during the last `ms` every ARP gap was short (with ARP), `mac` (when given)
   * answered ARP, and every TCP probe sent in the `ms` before the last TCP_TIMEOUT_MS (whose outcomes
   * are all known by now) connected.
   */
  settled(now: number, ms: number, mac?: string): boolean {
    const from = now - ms;
    const arp = this.arp.filter((a) => a.t >= from);
    if (this.arp.length > 0 || mac !== undefined) {
      if (longestGap(arp.map((a) => a.t), from, now) > 5 * PROBE_EVERY_MS) return false;
      if (mac !== undefined && !arp.some((a) => a.mac === mac)) return false;
    }
    const tcp = this.tcp.filter((p) => p.sent >= from - TCP_TIMEOUT_MS && p.sent < now - TCP_TIMEOUT_MS);
    if (this.tcp.length > 0 && (tcp.length < ms / PROBE_EVERY_MS / 2 || tcp.some((p) => !p.ok))) return false;
    return true;
  }

  /** The MACs that answered ARP since `t`. */
  macsSince(t: number): string[] {
    return [...new Set(this.arp.filter((a) => a.t >= t).map((a) => a.mac))].sort();
  }

  stop(): Promise<void> {
    return this.proc.kill(1000);
  }
}
