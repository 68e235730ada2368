// Who answers for a VIP on this node (src/liveness/claims.ts): the gate over the election order,
// the probe before a takeover, and the conflict resolution table, both sides of each conflict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClaims, DEFAULT_CLAIMS, type ClaimEntry, type LivenessView } from '../../../src/liveness/claims.ts';
import { electionHash } from '../../../src/l2/election.ts';

const VIP = '203.0.113.130';
const MAC = (node: string): string => `02:00:00:00:00:${node === 'a' ? '0a' : node === 'b' ? '0b' : '0c'}`;
// Tests start after the start grace and without the hand-off window (their own tests below), except
// where they say otherwise.
const claimsOf = (self: string) => {
  const c = createClaims({ self, ...DEFAULT_CLAIMS, startGraceMs: 0, handoffMs: 0 });
  c.evaluate([], view(), 0);
  return c;
};
const view = (dead: readonly string[] = [], left: readonly string[] = []): LivenessView => ({ alive: (n) => !dead.includes(n), left: (n) => left.includes(n) });
const entry = (ahead: readonly string[], behind: readonly string[] = [], vip = VIP): ClaimEntry => ({ vip, key: vip, ahead, behind });

test('the election winner answers; a node with a live node ahead does not', () => {
  assert.deepEqual([...claimsOf('a').evaluate([entry([], ['b'])], view(), 0).owned], [VIP]);
  const r = claimsOf('b').evaluate([entry(['a'], ['c'])], view(), 0);
  assert.deepEqual([...r.owned], []);
  assert.deepEqual(r.probe, []);
  assert.equal(r.wakeAt, undefined);
});

test('everyone ahead dead: probe first, take over when nobody answers within the wait', () => {
  const c = claimsOf('c');
  const e = [entry(['a', 'b'])];
  assert.deepEqual([...c.evaluate(e, view(['a']), 0).owned], [], 'b is still alive');
  const first = c.evaluate(e, view(['a', 'b']), 1000);
  assert.deepEqual(first.probe, [VIP]);
  assert.deepEqual([...first.owned], []);
  assert.equal(first.wakeAt, 1000 + DEFAULT_CLAIMS.probeWaitMs);
  const during = c.evaluate(e, view(['a', 'b']), 1100);
  assert.deepEqual(during.probe, [], 'one probe per attempt');
  assert.deepEqual([...c.evaluate(e, view(['a', 'b']), 1150).owned], [VIP]);
  // The node ahead comes back: the VIP goes back at once.
  assert.deepEqual([...c.evaluate(e, view(['a']), 1200).owned], []);
});

test('a probe answered: the VIP is held on the LAN by a node we cannot hear; we probe again later', () => {
  const c = claimsOf('b');
  const e = entry(['a']);
  c.evaluate([e], view(['a']), 0);
  assert.equal(c.observed(e, { node: 'a', mac: MAC('a') }, false, 10), 'heldElsewhere');
  const held = c.evaluate([e], view(['a']), 200);
  assert.deepEqual([...held.owned], []);
  assert.equal(held.wakeAt, 10 + DEFAULT_CLAIMS.reprobeMs);
  const again = c.evaluate([e], view(['a']), 1010);
  assert.deepEqual(again.probe, [VIP]);
  assert.deepEqual([...c.evaluate([e], view(['a']), 1160).owned], [VIP], 'the held VIP is taken once a probe goes unanswered');
});

test('a member that said it was leaving is taken over without a probe', () => {
  const r = claimsOf('b').evaluate([entry(['a'])], view(['a'], ['a']), 0);
  assert.deepEqual([...r.owned], [VIP]);
  assert.deepEqual(r.probe, []);
});

test('IPv6 VIPs are probed too (Duplicate Address Detection, RFC 4862 §5.4)', () => {
  const r = claimsOf('b').evaluate([entry(['a'], [], '2001:db8::10')], view(['a']), 0);
  assert.deepEqual([...r.owned], []);
  assert.deepEqual(r.probe, ['2001:db8::10']);
});

test('conflicts: the election order decides, the same way on both sides', () => {
  // a won; b took over while it could not hear a. Each sees the other's frames.
  const a = claimsOf('a');
  const b = claimsOf('b');
  const ea = entry([], ['b', 'c']);
  const eb = entry(['a'], ['c']);
  a.evaluate([ea], view(['b']), 0);
  b.evaluate([eb], view(['a']), 0);
  b.evaluate([eb], view(['a']), 200);
  assert.equal(a.observed(ea, { node: 'b', mac: MAC('b') }, true, 300), 'defend');
  assert.equal(b.observed(eb, { node: 'a', mac: MAC('a') }, true, 300), 'yield');
  assert.deepEqual([...b.evaluate([eb], view(['a']), 301).owned], [], 'the loser stops at once');
});

test('conflicts with an unknown MAC: the election winner defends, a node holding by takeover yields', () => {
  assert.equal(claimsOf('a').observed(entry([], ['b']), { node: undefined, mac: '02:00:00:00:00:99' }, true, 0), 'defend');
  const b = claimsOf('b');
  assert.equal(b.observed(entry(['a']), { node: undefined, mac: '02:00:00:00:00:99' }, true, 0), 'yield');
});

test('a defence is sent at most once per DEFEND_INTERVAL (RFC 5227 §2.4(c)) per claiming MAC', () => {
  const a = claimsOf('a');
  const e = entry([], ['b']);
  assert.equal(a.observed(e, { node: undefined, mac: '02:00:00:00:00:99' }, true, 0), 'defend');
  assert.equal(a.observed(e, { node: undefined, mac: '02:00:00:00:00:99' }, true, 5000), 'defendedRecently');
  assert.equal(a.observed(e, { node: 'b', mac: MAC('b') }, true, 5000), 'defend', 'another claimant is answered');
  assert.equal(a.observed(e, { node: undefined, mac: '02:00:00:00:00:99' }, true, DEFAULT_CLAIMS.defendIntervalMs), 'defend');
});

test('two nodes that both think they won (different views of the candidates): the lower hash keeps it', () => {
  const [first = '', second = ''] = ['x', 'y'].sort((p, q) => Buffer.compare(electionHash(p, VIP), electionHash(q, VIP)));
  const winner = claimsOf(first);
  const loser = claimsOf(second);
  assert.equal(winner.observed(entry([]), { node: second, mac: MAC(second) }, true, 0), 'defend');
  assert.equal(loser.observed(entry([]), { node: first, mac: MAC(first) }, true, 0), 'yield');
  // The yielded winner-of-its-own-view probes again later, like a takeover.
  assert.deepEqual([...loser.evaluate([entry([])], view(), 10).owned], []);
  assert.deepEqual(loser.evaluate([entry([])], view(), DEFAULT_CLAIMS.reprobeMs).probe, [VIP]);
});

test('frames for VIPs we neither answer for nor probe for are ignored', () => {
  const b = claimsOf('b');
  assert.equal(b.observed(entry(['a']), { node: 'a', mac: MAC('a') }, false, 0), 'ignore');
  assert.equal(b.observed(undefined, { node: 'a', mac: MAC('a') }, true, 0), 'ignore');
  assert.equal(b.observed(entry([]), { node: 'b', mac: MAC('b') }, true, 0), 'ignore', 'our own MAC on another interface');
});

test('start: nothing is answered, and no conflict acted on, for the grace after the first evaluation', () => {
  const c = createClaims({ self: 'a', ...DEFAULT_CLAIMS });
  const first = c.evaluate([entry([], ['b'])], view(), 1000);
  assert.deepEqual([...first.owned], []);
  assert.equal(first.wakeAt, 1000 + DEFAULT_CLAIMS.startGraceMs);
  assert.equal(c.observed(entry([], ['b']), { node: 'b', mac: MAC('b') }, false, 1100), 'ignore');
  assert.deepEqual([...c.evaluate([entry([], ['b'])], view(), 1000 + DEFAULT_CLAIMS.startGraceMs).owned], [VIP]);
});

test('leaving: frames from a member that left are no conflict, and a leaving node defends nothing', () => {
  // b took a's VIP because a said it was leaving; a still answers for a moment.
  const b = claimsOf('b');
  assert.equal(b.observed(entry(['a']), { node: 'a', mac: MAC('a'), left: true }, true, 0), 'ignore');
  const a = claimsOf('a');
  a.leaving();
  assert.equal(a.observed(entry([], ['b']), { node: 'b', mac: MAC('b') }, true, 0), 'ignore');
});

test('hand-off: a new owner takes a known member\'s answers as its hand-off for handoffMs; an announcement or an unknown MAC is a conflict at once', () => {
  // b becomes the winner at 5000 (a was cordoned: a is no longer in b's window); a answers until it
  // sees b's announcement (handoff.ts).
  const won = entry([], ['c']);
  const fresh = (): ReturnType<typeof createClaims> => {
    const c = createClaims({ self: 'b', ...DEFAULT_CLAIMS, startGraceMs: 0 });
    c.evaluate([], view(), 0);
    assert.deepEqual([...c.evaluate([won], view(), 5000).owned], [VIP]);
    return c;
  };
  const weWin = Buffer.compare(electionHash('b', VIP), electionHash('a', VIP)) < 0;
  const b = fresh();
  assert.equal(b.observed(won, { node: 'a', mac: MAC('a') }, true, 5000 + DEFAULT_CLAIMS.handoffMs - 1), 'ignore', 'a hands over');
  assert.equal(b.observed(won, { node: undefined, mac: '02:00:00:00:00:ff' }, true, 5001), 'defend', 'a rogue MAC is no hand-off');
  // After the window a's answers are a conflict again: a is outside b's window, the hash decides.
  assert.equal(b.observed(won, { node: 'a', mac: MAC('a') }, true, 5000 + DEFAULT_CLAIMS.handoffMs), weWin ? 'defend' : 'yield');
  // An announcement from a is a conflict at once.
  assert.equal(fresh().observed(won, { node: 'a', mac: MAC('a'), announcement: true }, true, 5001), weWin ? 'defend' : 'yield');
  // The window starts again only when the VIP is owned anew.
  const c = fresh();
  c.evaluate([], view(), 7000);
  c.evaluate([won], view(), 8000);
  assert.equal(c.observed(won, { node: 'a', mac: MAC('a') }, true, 8500), 'ignore');
  assert.equal(c.observed(won, { node: 'a', mac: MAC('a') }, true, 9000), weWin ? 'defend' : 'yield');
});
