// Answering one received frame: the responder's verdict (arp-responder.ts / ndp-responder.ts, pure),
// then send the reply or count the drop reason. Shared by the engine's own thread and the per-CPU
// answer threads (cpu-answerers.ts), so both answer and count identically.
//
// Counters live in a Float64Array (one block per thread; a block of a SharedArrayBuffer for the
// per-CPU threads, read by the engine without a message round trip): each slot has one writer.
import type { MacAddress } from './addresses.ts';
import { ArpDropReason, respondArp } from './arp-responder.ts';
import { NdpDropReason, respondNdp } from './ndp-responder.ts';
import type { ReplyScratch } from './frame-bytes.ts';

export type Family = 4 | 6;
export type DropReason = ArpDropReason | NdpDropReason;

/** What answering logs (a pino Logger is one; the answer threads use a smaller one). */
export interface AnswerLog {
  isLevelEnabled(level: 'debug'): boolean;
  debug(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
}

/** What answering needs of one (interface, family) port. */
export interface AnswerPort {
  readonly iface: string;
  readonly family: Family;
  /** Responder context and reply buffer, made once per port: nothing is allocated for them per frame. */
  readonly ctx: { readonly mac: MacAddress; readonly owns: (ip: string) => boolean };
  readonly scratch: ReplyScratch;
  send(frame: Buffer): void;
}

const ARP_REPLIES = 0;
const NDP_REPLIES = 1;
const SEND_ERRORS = 2;
const FIRST_DROP = 3;
const arpReasons = Object.values(ArpDropReason);
const ndpReasons = Object.values(NdpDropReason);
/** "arp:<reason>" / "ndp:<reason>" by slot; and slot by reason per family. */
const dropNames: readonly string[] = [...arpReasons.map((r) => `arp:${r}`), ...ndpReasons.map((r) => `ndp:${r}`)];
const dropSlot: Readonly<Record<Family, ReadonlyMap<DropReason, number>>> = {
  4: new Map(arpReasons.map((r, i) => [r, FIRST_DROP + i])),
  6: new Map(ndpReasons.map((r, i) => [r, FIRST_DROP + arpReasons.length + i])),
};

/** Slots per counter block. */
export const COUNTER_SLOTS = FIRST_DROP + dropNames.length;

export interface AnswerTotals {
  readonly arpReplies: number;
  readonly ndpReplies: number;
  readonly sendErrors: number;
  /** Dropped frames by "arp:<reason>" / "ndp:<reason>"; reasons never seen are absent. */
  readonly drops: Readonly<Record<string, number>>;
}

/** Sums counter blocks (each COUNTER_SLOTS long). */
export function sumCounters(blocks: readonly Float64Array[]): AnswerTotals {
  const at = (slot: number): number => blocks.reduce((s, b) => s + (b[slot] ?? 0), 0);
  const drops: Record<string, number> = {};
  dropNames.forEach((name, i) => {
    const n = at(FIRST_DROP + i);
    if (n > 0) drops[name] = n;
  });
  return { arpReplies: at(ARP_REPLIES), ndpReplies: at(NDP_REPLIES), sendErrors: at(SEND_ERRORS), drops };
}

/**
 * The responder's verdict on `frame`, acted on: reply sent, or drop counted (and logged at debug).
 * True when a reply went out.
 */
export function answerFrame(port: AnswerPort, frame: Buffer, counters: Float64Array, log: AnswerLog): boolean {
  const family = port.family;
  const verdict = family === 4 ? respondArp(frame, port.ctx, port.scratch) : respondNdp(frame, port.ctx, port.scratch);
  if (verdict.kind === 'drop') {
    const slot = dropSlot[family].get(verdict.reason) ?? FIRST_DROP;
    counters[slot] = (counters[slot] ?? 0) + 1;
    if (log.isLevelEnabled('debug')) log.debug({ iface: port.iface, reason: verdict.reason, detail: verdict.detail }, `l2: ${family === 4 ? 'arp' : 'ndp'} frame dropped`);
    return false;
  }
  try {
    port.send(verdict.frame);
  } catch (e) {
    counters[SEND_ERRORS] = (counters[SEND_ERRORS] ?? 0) + 1;
    log.warn({ vip: verdict.vip, iface: port.iface, err: String(e) }, `l2: sending ${family === 4 ? 'arp' : 'ndp'} reply failed`);
    return false;
  }
  const slot = family === 4 ? ARP_REPLIES : NDP_REPLIES;
  counters[slot] = (counters[slot] ?? 0) + 1;
  return true;
}

/** Counts a failed send of our own (announcements) in a block. */
export function countSendError(counters: Float64Array): void {
  counters[SEND_ERRORS] = (counters[SEND_ERRORS] ?? 0) + 1;
}
