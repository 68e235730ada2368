// Hand-off before stop (src/liveness/handoff.ts): a released VIP is answered until another MAC announces
// it, at most handoffMs; a lost conflict drops it at once. A scenario table whose state carries from
// row to row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHandoff, HANDOFF_MAX_MS, type HandoffStep } from '../../../src/liveness/handoff.ts';

const A = '203.0.113.10';
const B = '203.0.113.11';
const IF = ['eth0'] as const;
const owned = (...vips: string[]): Map<string, readonly string[]> => new Map(vips.map((v) => [v, IF]));

type Row =
  | { readonly name: string; readonly at: number; readonly step: { readonly before: readonly string[]; readonly now: readonly string[]; readonly yielded?: readonly string[] }; readonly releasing: readonly string[]; readonly dropped?: readonly string[]; readonly wakeAt?: number }
  | { readonly name: string; readonly at: number; readonly foreign: string; readonly mac?: string; readonly ended: boolean; readonly releasing: readonly string[] };

const ROWS: readonly Row[] = [
  { name: 'owning A and B', at: 0, step: { before: [], now: [A, B] }, releasing: [] },
  { name: 'the plan moves A away (cordon): A is released, answered on', at: 100, step: { before: [A, B], now: [B] }, releasing: [A], wakeAt: 100 + HANDOFF_MAX_MS },
  { name: 'a frame for B from another MAC (a conflict, not a hand-off): nothing ends', at: 150, foreign: B, ended: false, releasing: [A] },
  { name: "the next owner's gratuitous ARP for A: A's hand-off ends", at: 160, foreign: A, ended: true, releasing: [] },
  { name: 'the next evaluation answers B only', at: 160, step: { before: [B], now: [B] }, releasing: [] },
  { name: 'another MAC announced B just before our plan moved B (its plan came first)', at: 200, foreign: B, mac: '02:00:00:00:00:0c', ended: false, releasing: [] },
  { name: '... so B is dropped at once', at: 250, step: { before: [B], now: [] }, releasing: [], dropped: [`nextOwnerAnnouncedBefore:${B} from 02:00:00:00:00:0c`] },
  { name: 'owning A again', at: 3000, step: { before: [], now: [A] }, releasing: [] },
  { name: 'A lost in a conflict: dropped at once, not handed off', at: 3100, step: { before: [A], now: [], yielded: [A] }, releasing: [] },
  { name: 'owning A and B again', at: 5000, step: { before: [], now: [A, B] }, releasing: [] },
  { name: 'stopping: both released', at: 5100, step: { before: [A, B], now: [] }, releasing: [A, B], wakeAt: 5100 + HANDOFF_MAX_MS },
  { name: 'A owned again before anyone announced it: no longer released', at: 5200, step: { before: [], now: [A] }, releasing: [B], wakeAt: 5100 + HANDOFF_MAX_MS },
  { name: 'nobody announces B: dropped when handoffMs is over', at: 5100 + HANDOFF_MAX_MS, step: { before: [A], now: [A] }, releasing: [], dropped: ['timeout:' + B] },
];

test('hand-off scenario: release, the next owner announces, the bound, conflicts', () => {
  const h = createHandoff({ handoffMs: HANDOFF_MAX_MS });
  for (const row of ROWS) {
    if ('foreign' in row) {
      assert.equal(h.foreign(row.foreign, row.mac ?? '02:00:00:00:00:0b', row.at), row.ended, row.name);
    } else {
      const r: HandoffStep = h.step(owned(...row.step.before), new Set(row.step.now), new Set(row.step.yielded ?? []), row.at);
      assert.deepEqual(
        r.dropped.map((d) => `${d.reason}:${d.vip}${d.otherMac === undefined ? '' : ` from ${d.otherMac}`}`),
        row.dropped ?? [],
        row.name,
      );
      assert.equal(r.wakeAt, row.wakeAt, row.name);
      assert.deepEqual([...r.releasing.keys()].sort(), [...row.releasing].sort(), row.name);
    }
    assert.deepEqual([...h.releasing().keys()].sort(), [...row.releasing].sort(), row.name);
    for (const ifaces of h.releasing().values()) assert.deepEqual(ifaces, IF, row.name);
  }
});

test('prune forgets what was seen of VIPs no longer wanted', () => {
  const h = createHandoff({ handoffMs: HANDOFF_MAX_MS });
  h.foreign(A, '02:00:00:00:00:0b', 0);
  h.prune(() => false);
  // Without the earlier sighting, releasing A waits for an announcement.
  const r = h.step(owned(A), new Set(), new Set(), 10);
  assert.deepEqual([...r.releasing.keys()], [A]);
});
