// The failover benchmark's figures (bench/failover/probes.ts, table.ts) from made-up probe records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { longestGap, longestGapAt, windowFigures, type TcpProbe } from '../../../bench/failover/probes.ts';
import { figure, median, Results, printTables } from '../../../bench/failover/table.ts';

const every10 = (from: number, to: number): number[] => Array.from({ length: (to - from) / 10 + 1 }, (_, i) => from + i * 10);
const tcp = (sent: readonly number[], lost: (t: number) => boolean): TcpProbe[] => sent.map((s, i) => ({ seq: i, sent: s, ok: !lost(s), ms: 1 }));

test('longestGap counts from the window start to its end', () => {
  assert.equal(longestGap([], 0, 100), 100);
  assert.equal(longestGap([10, 20, 30], 0, 40), 10);
  assert.equal(longestGap([10, 20, 430, 440], 0, 440), 410);
  // times outside the window are ignored; the tail to `to` counts
  assert.equal(longestGap([-50, 10, 20], 0, 500), 480);
  assert.deepEqual(longestGapAt([10, 20, 430, 440], 0, 440), { gap: 410, at: 20 });
});

test('windowFigures: an L2 outage (one gap) and a BGP partial outage (every third probe lost)', () => {
  const arp = [...every10(0, 1000), ...every10(1400, 3000)].map((t) => ({ t, mac: t < 1400 ? 'a' : 'b' }));
  const probes = tcp(every10(0, 3000), (t) => t > 1000 && t < 1400);
  const f = windowFigures(arp, probes, 1005, 3000, 1000);
  assert.equal(f.arpGapMs, 400); // from the last answer before the failure (1000) to 1400
  assert.equal(f.arpGapAtMs, -5); // it began with that answer, 5 ms before the failure
  assert.equal(f.tcpLost, 39);
  assert.equal(f.tcpLossSpanMs, 1400 - 1010);
  assert.equal(f.tcpGapMs, 400);
  assert.deepEqual(f.macsAtEnd, ['b']);
  const ecmp = tcp(every10(0, 3000), (t) => t >= 1000 && t < 2000 && (t / 10) % 3 === 0);
  const g = windowFigures([], ecmp, 1000, 3000, 1000);
  assert.equal(g.arpGapMs, undefined);
  assert.equal(g.tcpLost, 33); // 1020, 1050, ..., 1980
  assert.equal(g.tcpLossSpanMs, 1990 - 1020); // first lost 1020; the next connected after the last lost (1980) is 1990
  assert.ok((g.tcpGapMs ?? 0) <= 20, 'the gap between connected probes hides a partial outage');
  const none = windowFigures([], tcp(every10(0, 100), () => false), 0, 100, 50);
  assert.equal(none.tcpLossSpanMs, 0);
});

test('the table: median/max, not-settled and two-MAC trials kept out of the ratio', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  const base = { arpGapAtMs: undefined, tcpGapMs: 10, tcpLossSpanMs: 0, tcpLost: 0, tcpSent: 100, node: 'node1', settled: true } as const;
  const r = new Results();
  for (const g of [400, 420, 500]) r.add('L2: x', 'berth', { ...base, arpGapMs: g, macsAtEnd: ['b'] });
  for (const g of [3600, 3700, 3650]) r.add('L2: x', 'keepalived', { ...base, arpGapMs: g, macsAtEnd: ['c'] });
  for (const g of [50, 60, 70]) r.add('L2: y', 'berth', { ...base, arpGapMs: g, macsAtEnd: ['b'] });
  for (const g of [30, 30, 30]) r.add('L2: y', 'keepalived', { ...base, arpGapMs: g, macsAtEnd: ['a', 'c'] });
  for (const g of [88, 89, 80]) r.add('L2: w', 'berth', { ...base, arpGapMs: g, macsAtEnd: ['b'] });
  for (const g of [84, 137, 70]) r.add('L2: w', 'MetalLB', { ...base, arpGapMs: g, macsAtEnd: ['b'] });
  r.notApplicable('BGP: z', 'MetalLB', 'no BFD');
  r.add('BGP: z', 'berth', { ...base, arpGapMs: undefined, tcpLossSpanMs: 700, macsAtEnd: [] });
  assert.equal(figure('BGP: z', { ...base, arpGapMs: 5, tcpLossSpanMs: 700, macsAtEnd: [] }), 700);
  const out = printTables(r, { trials: 3, notes: ['n', 'n'], seconds: 1 });
  assert.match(out, /\| L2: x \| 420 ms \/ 500 ms; lost 0 \| 3650 ms \/ 3700 ms; lost 0 \| - \| 8\.7x shorter \|/);
  assert.match(out, /\| L2: y \| 60 ms \/ 70 ms; lost 0 \| 30 ms \/ 30 ms; lost 0 \(3 ended with 2 MACs answering\) \| - \| n\/a \(not compared: keepalived, two MACs answering\) \|/);
  assert.match(out, /\| L2: w \| 88 ms \/ 89 ms; lost 0 \| - \| 84 ms \/ 137 ms; lost 0 \| 1\.05x longer \|/);
  assert.match(out, /\| BGP: z \| 700 ms \/ 700 ms; lost 0 \| - \| n\/a \(no BFD\) \| n\/a \|/);
  assert.equal(out.split('note: n').length - 1, 1, 'notes printed once');
});
