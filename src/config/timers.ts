// BGP timer rules shared by both dialects (MetalLB api/v1beta2/bgppeer_types.go; internal/config config.parseTimers):
//   RFC 4271 §4.2: the hold time is 0 or at least 3 seconds.
//   Only holdTime set   -> keepalive = hold / 3 (RFC 4271 §10 suggests one third of the hold time).
//   Only keepalive set  -> hold = 3 * keepalive.
//   keepalive <= hold.

import type { Report } from './read.ts';

export const MIN_HOLD_TIME_S = 3;

export interface Timers {
  readonly holdTime: number | undefined;
  readonly keepaliveTime: number | undefined;
}

export interface TimerFields {
  readonly hold: string;
  readonly keepalive: string;
}

/** Both inputs in whole seconds (already rounded); undefined = unset. */
export function resolveTimers(hold: number | undefined, keepalive: number | undefined, fields: TimerFields, report: Report): Timers | undefined {
  if (hold !== undefined && hold !== 0 && hold < MIN_HOLD_TIME_S) {
    report(fields.hold, `hold time ${hold}s is invalid: use 0 (no keepalives) or at least ${MIN_HOLD_TIME_S}s (RFC 4271 §4.2)`);
    return undefined;
  }
  if (hold === undefined && keepalive === undefined) return { holdTime: undefined, keepaliveTime: undefined };
  if (hold !== undefined && keepalive === undefined) return { holdTime: hold, keepaliveTime: Math.floor(hold / 3) };
  if (hold === undefined && keepalive !== undefined) {
    const derived = keepalive * 3;
    if (derived !== 0 && derived < MIN_HOLD_TIME_S) {
      report(fields.keepalive, `keepalive ${keepalive}s gives a hold time of ${derived}s, below ${MIN_HOLD_TIME_S}s: raise it or set the hold time`);
      return undefined;
    }
    return { holdTime: derived, keepaliveTime: keepalive };
  }
  if (hold !== undefined && keepalive !== undefined && keepalive > hold) {
    report(fields.keepalive, `keepalive ${keepalive}s is longer than the hold time ${hold}s: it must be at most the hold time (usually a third)`);
    return undefined;
  }
  return { holdTime: hold, keepaliveTime: keepalive };
}
