// Connection collision detection (RFC 4271 §6.8). Two TCP connections to the same peer can exist at
// once: the one we initiated (outgoing) and the one the peer initiated (incoming). The driver runs one
// FSM per connection and asks this function which one to keep.
import type { SessionState } from './types.ts';

export interface ConnectionView {
  readonly state: SessionState;
  /** The peer's BGP Identifier, known once its OPEN was received (OpenConfirm on). */
  readonly peerRouterId?: number;
}

export type CollisionVerdict =
  /** No collision yet (or nothing to decide): keep both for now. */
  | { readonly kind: 'none' }
  /** Close this connection with Cease / Connection Collision Resolution (RFC 4486 §4 subcode 7). */
  | { readonly kind: 'dump'; readonly which: 'incoming' | 'outgoing' };

/**
 * RFC 4271 §6.8: a collision is decided once an OPEN has arrived on one connection while the other is
 * in OpenSent or OpenConfirm. The BGP Identifiers are compared as unsigned 32-bit integers; when ours
 * is lower, the connection we initiated is closed, otherwise the one the peer initiated. A connection
 * that collides with one already Established is always the one closed (CollisionDetectEstablishedState
 * is false), and that is the newer connection.
 */
export function resolveCollision(
  localRouterId: number,
  outgoing: ConnectionView,
  incoming: ConnectionView,
): CollisionVerdict {
  const opening = (s: SessionState): boolean => s === 'OpenSent' || s === 'OpenConfirm';
  if (outgoing.state === 'Established') return opening(incoming.state) ? { kind: 'dump', which: 'incoming' } : { kind: 'none' };
  if (incoming.state === 'Established') return opening(outgoing.state) ? { kind: 'dump', which: 'outgoing' } : { kind: 'none' };
  if (!opening(outgoing.state) || !opening(incoming.state)) return { kind: 'none' };
  // The peer's identifier is learnt from whichever connection got its OPEN first (OpenConfirm).
  const peerId = outgoing.peerRouterId ?? incoming.peerRouterId;
  if (peerId === undefined) return { kind: 'none' };
  return (localRouterId >>> 0) < (peerId >>> 0)
    ? { kind: 'dump', which: 'outgoing' }
    : { kind: 'dump', which: 'incoming' };
}
