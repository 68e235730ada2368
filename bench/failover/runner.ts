// The phases of the failover benchmark: every Layer 2 case against one system on the LAN client,
// every BGP case against one system on the outside client, --trials times each.
import type { Lab } from '../../frr-lab/lab.ts';
import type { BerthBgp } from './berth.ts';
import { bgpTrial, L2_CASE_TITLES, l2Trial, type BgpCase, type L2Case, type TrialLimits } from './cases.ts';
import { SERVICE_PORT, type RouterVariant } from './lab-setup.ts';
import { Prober } from './probes.ts';
import type { Subject } from './subject.ts';
import type { Results } from './table.ts';

const log = (s: string): void => void process.stderr.write(`bfo ${new Date().toISOString()} ${s}\n`);

export interface RunOptions {
  readonly trials: number;
  readonly l2Cases: readonly L2Case[];
  readonly bgpCases: readonly BgpCase[];
}

/** BFD as MetalLB-FRR's documented profile: 300 ms x 3, both sides. */
export const BFD_300X3 = { receiveMs: 300, transmitMs: 300, multiplier: 3 } as const;

export interface BgpVariant {
  readonly key: string;
  readonly title: string;
  readonly berth: BerthBgp;
  readonly router: RouterVariant;
  /** How long a hard failure may take to leave the router's FIB. */
  readonly settleWithinMs: number;
}

/** The router's BFD sessions with every node are Up (FRR `show bfd peers json`). */
export async function bfdUp(lab: Lab): Promise<boolean> {
  const peers = await lab.vtyshJson<{ peer?: string; status?: string }[]>('show bfd peers json');
  return lab.nodes.every((n) => peers.some((p) => p.peer === n.ipv4 && p.status === 'up'));
}

// The router's own hold time is long (180 s) so that the node's side decides the negotiated one
// (RFC 4271 §4.2: the smaller of the two).
export const BGP_VARIANTS: readonly BgpVariant[] = [
  { key: 'hold3', title: 'hold time 3 s', berth: { holdTimeS: 3 }, router: { timers: [60, 180] }, settleWithinMs: 20_000 },
  { key: 'bfd', title: 'BFD 300 ms x 3', berth: { bfd: BFD_300X3 }, router: { timers: [60, 180], bfd: BFD_300X3 }, settleWithinMs: 20_000 },
  { key: 'default', title: "default (hold 90 s)", berth: {}, router: { timers: [60, 180] }, settleWithinMs: 120_000 },
];

export async function runL2(lab: Lab, subject: Subject, vip: string, results: Results, settleWithinMs: number, o: RunOptions): Promise<void> {
  const client = lab.client;
  if (client === undefined) throw new Error('no LAN client');
  const prober = new Prober(lab, client, { vip, arp: true, tcpPort: SERVICE_PORT });
  try {
    await prober.ready();
    for (const n of lab.nodes) await subject.start(n);
    for (const kase of o.l2Cases) {
      for (let i = 0; i < o.trials; i++) {
        const t = await l2Trial(lab, subject, prober, kase, { settleWithinMs });
        log(`${subject.name} ${kase} #${i + 1}: ARP gap ${t.arpGapMs?.toFixed(0)} ms, TCP gap ${t.tcpGapMs?.toFixed(0)} ms, TCP lost ${t.tcpLost}/${t.tcpSent}, MACs at the end ${t.macsAtEnd.join(' ')}${t.note === undefined ? '' : ` (${t.note})`}`);
        results.add(L2_CASE_TITLES[kase], subject.name, t);
      }
    }
  } finally {
    await subject.close();
    await prober.stop();
  }
}

export async function runBgp(lab: Lab, subject: Subject, vip: string, row: (c: BgpCase) => string, results: Results, limits: TrialLimits, o: RunOptions): Promise<void> {
  const outside = lab.externalClient;
  if (outside === undefined) throw new Error('no outside client');
  const prober = new Prober(lab, outside, { vip, tcpPort: SERVICE_PORT });
  try {
    await prober.ready();
    for (const n of lab.nodes) await subject.start(n);
    for (const kase of o.bgpCases) {
      for (let i = 0; i < o.trials; i++) {
        const victim = lab.nodes[i % lab.nodes.length];
        if (victim === undefined) throw new Error('no nodes');
        const t = await bgpTrial(lab, subject, prober, kase, victim, limits);
        log(`${subject.name} ${row(kase)} #${i + 1} (${victim.name}): TCP lost ${t.tcpLost}/${t.tcpSent} over ${t.tcpLossSpanMs?.toFixed(0)} ms, route gone after ${t.routeGoneMs?.toFixed(0) ?? '-'} ms${t.note === undefined ? '' : ` (${t.note})`}`);
        results.add(row(kase), subject.name, t);
      }
    }
  } finally {
    await subject.close();
    await prober.stop();
  }
}

