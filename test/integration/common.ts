// Helpers every integration test area uses: waiting for a condition, and reading the neighbour replies
// that arping and ndisc6 print. Pure Node, no lab: the lab itself is frr-lab/lab.ts.

import { sleep } from '../../frr-lab/run.ts';

export { sleep };

export interface WaitOptions {
  /** Called once on timeout; its text is appended to the error (logs, a FIB dump...). */
  readonly describe?: () => Promise<string>;
  /** Pause between polls (default 100 ms). */
  readonly everyMs?: number;
}

/** Polls `fn` until it returns a value that is not undefined, or throws after timeoutMs with the last error seen. */
export async function waitFor<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, opts: WaitOptions = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const extra = opts.describe === undefined ? '' : `\n${await opts.describe().catch((e: unknown) => String(e))}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}${extra}`);
    }
    await sleep(opts.everyMs ?? 100);
  }
}

/** Replies arping printed, as lower-case MACs ("42 bytes from 02:b1:00:00:01:0b (203.0.113.10): ..."). */
export function arpingReplies(stdout: string): string[] {
  return [...stdout.matchAll(/bytes from ([0-9a-f:]{17}) /gi)].map((m) => (m[1] ?? '').toLowerCase());
}

/** MACs ndisc6 printed ("Target link-layer address: 02:B1:00:00:01:0B"), lower case. */
export function ndisc6Replies(stdout: string): string[] {
  return [...stdout.matchAll(/Target link-layer address: ([0-9A-Fa-f:]{17})/g)].map((m) => (m[1] ?? '').toLowerCase());
}

/**
 * One counter from the text of /proc/net/snmp or /proc/net/netstat (per network namespace): `table` is the
 * line prefix ("Tcp", "TcpExt"), a header line of names followed by a line of values.
 */
export function procNetCounter(text: string, table: string, name: string): number {
  const lines = text.split('\n').filter((l) => l.startsWith(`${table}:`));
  const names = (lines[0] ?? '').trim().split(/\s+/);
  const at = names.indexOf(name);
  if (at <= 0) throw new Error(`no ${table} ${name} in the counters read`);
  return Number((lines[1] ?? '').trim().split(/\s+/)[at]);
}
