// The BGP finite state machine (RFC 4271 §8): a pure `step(fsm, event) -> { fsm, actions, reason }`.
// fsm/types.ts     states, events, actions, reasons (plain data)
// fsm/step.ts      the transition function
// fsm/negotiate.ts OPEN validation and capability negotiation
// fsm/collision.ts connection collision resolution (RFC 4271 §6.8)
export * from './fsm/types.ts';
export { step, initialFsm, idleHoldMs, LARGE_HOLD_TIME_SEC } from './fsm/step.ts';
export { negotiate, keepaliveFor, AS_TRANS, type NegotiationResult } from './fsm/negotiate.ts';
export { resolveCollision, type CollisionVerdict, type ConnectionView } from './fsm/collision.ts';
export * from './fsm/notifications.ts';
