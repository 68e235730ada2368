// The benchmark's output: the summary table (case | berth | keepalived | MetalLB | ratio) and every
// trial's figures. The figure of a Layer 2 row is the longest ARP gap at the LAN client; of a BGP row
// the TCP loss span at the outside client (from the first lost connect to the next connected one after
// the last lost: with ECMP only the flows hashed to the failed node are lost, so the longest gap
// between two connected probes would hide the outage).
import type { Trial } from './cases.ts';

export const SUBJECTS = ['berth', 'keepalived', 'MetalLB'] as const;

export class Results {
  /** row -> subject -> trials (insertion order is print order). */
  readonly rows = new Map<string, Map<string, Trial[]>>();
  /** row -> subject -> why there is no figure. */
  readonly na = new Map<string, Map<string, string>>();

  add(row: string, subject: string, t: Trial): void {
    const r = this.rows.get(row) ?? new Map<string, Trial[]>();
    this.rows.set(row, r);
    r.set(subject, [...(r.get(subject) ?? []), t]);
  }

  notApplicable(row: string, subject: string, why: string): void {
    if (!this.rows.has(row)) this.rows.set(row, new Map());
    const r = this.na.get(row) ?? new Map<string, string>();
    this.na.set(row, r);
    r.set(subject, why);
  }
}

const isL2 = (row: string): boolean => row.startsWith('L2');

/** The figure of one trial for its row. */
export function figure(row: string, t: Trial): number {
  return (isL2(row) ? t.arpGapMs : t.tcpLossSpanMs) ?? Number.NaN;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] ?? Number.NaN) : ((s[m - 1] ?? Number.NaN) + (s[m] ?? Number.NaN)) / 2;
}

const ms = (x: number): string => (Number.isNaN(x) ? '?' : x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`);

interface Cell {
  readonly text: string;
  /** The median, when every trial settled on one answering MAC (else no figure to compare with). */
  readonly median: number | undefined;
  /** Trials that ended with more than one MAC answering for the VIP. */
  readonly split: number;
}

function cell(row: string, trials: readonly Trial[] | undefined, na: string | undefined): Cell {
  if (trials === undefined || trials.length === 0) return { text: na === undefined ? '-' : `n/a (${na})`, median: undefined, split: 0 };
  const f = trials.map((t) => figure(row, t));
  const unsettled = trials.filter((t) => !t.settled).length;
  const lost = trials.reduce((s, t) => s + t.tcpLost, 0);
  const split = trials.filter((t) => t.macsAtEnd.length > 1).length;
  const m = median(f);
  const flags = [unsettled > 0 ? `${unsettled} not settled: >=` : '', split > 0 ? `${split} ended with 2 MACs answering` : ''].filter((x) => x !== '');
  return { text: `${ms(m)} / ${ms(Math.max(...f))}; lost ${lost}${flags.length > 0 ? ` (${flags.join('; ')})` : ''}`, median: unsettled > 0 || split > 0 ? undefined : m, split };
}

export function printTables(r: Results, o: { readonly trials: number; readonly notes: readonly string[]; readonly seconds: number }): string {
  const out: string[] = [];
  out.push(`bench/failover (${new Date().toISOString()}, node ${process.version}, ${o.trials} trials per case, ${o.seconds} s)`);
  out.push('Figure: Layer 2 = longest gap between ARP answers at the LAN client (probe every 10 ms); BGP = TCP loss span at the outside client (first lost connect to the next connected one after the last lost; 0 = none lost).');
  out.push('Cells: median / max of the trials; "lost" = TCP connects lost in all trials together.');
  out.push('');
  out.push('| case | berth | keepalived | MetalLB | berth vs best anchor |');
  out.push('|---|---|---|---|---|');
  for (const [row, subjects] of r.rows) {
    const na = r.na.get(row);
    const cells = SUBJECTS.map((s) => cell(row, subjects.get(s), na?.get(s)));
    const berth = cells[0]?.median;
    const anchors = cells.slice(1).map((c) => c.median).filter((x): x is number => x !== undefined);
    const best = anchors.length === 0 ? undefined : Math.min(...anchors);
    const excluded = SUBJECTS.slice(1).filter((_, i) => (cells[i + 1]?.split ?? 0) > 0);
    const why = excluded.length > 0 ? ` (not compared: ${excluded.join(', ')}, two MACs answering)` : '';
    const ratio = (berth === undefined || best === undefined ? 'n/a' : berth === 0 && best === 0 ? 'both 0' : berth === 0 ? `0 vs ${ms(best)}` : best >= berth ? `${(best / berth).toFixed(1)}x shorter` : `${(berth / best).toFixed(2)}x longer`) + why;
    out.push(`| ${row} | ${cells.map((c) => c.text).join(' | ')} | ${ratio} |`);
  }
  out.push('');
  out.push('Every trial (node hit; ARP gap, from when after the failure; TCP gap; TCP lost of sent; loss span; route gone from the router FIB; MACs answering at the end):');
  for (const [row, subjects] of r.rows) {
    for (const [s, trials] of subjects) {
      out.push(`  ${row} | ${s}:`);
      for (const t of trials) {
        const parts = [
          t.node,
          t.arpGapMs === undefined ? undefined : `ARP gap ${ms(t.arpGapMs)}${t.arpGapAtMs === undefined ? '' : ` from ${Math.round(t.arpGapAtMs)} ms`}`,
          t.tcpGapMs === undefined ? undefined : `TCP gap ${ms(t.tcpGapMs)}`,
          `lost ${t.tcpLost}/${t.tcpSent}`,
          t.tcpLossSpanMs === undefined ? undefined : `loss span ${ms(t.tcpLossSpanMs)}`,
          t.routeGoneMs === undefined ? undefined : `route gone ${ms(t.routeGoneMs)}`,
          t.macsAtEnd.length === 0 ? undefined : `MACs ${t.macsAtEnd.join(',')}`,
          t.baselineArpGapMs === undefined ? undefined : `(ARP gap before the failure ${ms(t.baselineArpGapMs)})`,
          t.note,
        ].filter((x) => x !== undefined);
        out.push(`    ${parts.join('; ')}`);
      }
    }
  }
  if (o.notes.length > 0) out.push('', ...[...new Set(o.notes)].map((n) => `note: ${n}`));
  return out.join('\n');
}
