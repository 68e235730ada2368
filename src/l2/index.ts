// Public face of layer 2 mode. Codecs, responder cores and announcements are pure; the engine takes an
// injected transport factory and timers; election and interface selection are pure functions.
export * from './addresses.ts';
export * from './constants.ts';
export * from './errors.ts';
export * from './ethernet.ts';
export * from './arp.ts';
export * from './ipv6.ts';
export * from './ndp-options.ts';
export * from './neighbor-solicitation.ts';
export * from './neighbor-advertisement.ts';
export * from './icmpv6.ts';
export * from './arp-responder.ts';
export * from './ndp-responder.ts';
export * from './announcements.ts';
export * from './transport.ts';
export * from './engine.ts';
// The election's selectors are the shared Kubernetes label selectors.
export { selectorMatches, type LabelSelector, type LabelSelectorRequirement, type Labels } from '../labels/selector.ts';
export * from './election.ts';
export * from './interfaces.ts';
export * from './af-packet-transport.ts';
