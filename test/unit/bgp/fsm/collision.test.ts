import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { resolveCollision } from '../../../../src/bgp/fsm.ts';

describe('connection collision (RFC 4271 §6.8)', () => {
  const low = 0x0a000001;
  const high = 0xc0000202; // above 2^31: compared unsigned
  const cases = [
    { name: 'local id lower -> close the connection we initiated', local: low, out: { state: 'OpenConfirm' as const, peerRouterId: high }, inc: { state: 'OpenSent' as const }, want: { kind: 'dump', which: 'outgoing' } },
    { name: 'local id higher -> close the connection the peer initiated', local: high, out: { state: 'OpenSent' as const }, inc: { state: 'OpenConfirm' as const, peerRouterId: low }, want: { kind: 'dump', which: 'incoming' } },
    { name: 'no OPEN received yet -> undecided', local: low, out: { state: 'OpenSent' as const }, inc: { state: 'OpenSent' as const }, want: { kind: 'none' } },
    { name: 'other connection still connecting -> undecided', local: low, out: { state: 'Connect' as const }, inc: { state: 'OpenConfirm' as const, peerRouterId: high }, want: { kind: 'none' } },
    { name: 'outgoing Established -> the new incoming one is closed', local: low, out: { state: 'Established' as const, peerRouterId: high }, inc: { state: 'OpenSent' as const }, want: { kind: 'dump', which: 'incoming' } },
    { name: 'incoming Established -> the new outgoing one is closed', local: high, out: { state: 'OpenSent' as const }, inc: { state: 'Established' as const, peerRouterId: low }, want: { kind: 'dump', which: 'outgoing' } },
    { name: 'Established and the other connection already gone -> nothing to do', local: low, out: { state: 'Idle' as const }, inc: { state: 'Established' as const, peerRouterId: high }, want: { kind: 'none' } },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(resolveCollision(c.local, c.out, c.inc), c.want));
  }
});
