// Structured logs (pino, JSON on stderr). Stable keys across the code base: peer, vip, node, reason,
// state, iface, object, field. No console.* outside src/cli.
import { pino, type Logger, type Level } from 'pino';

export type { Logger };

export interface LogOptions {
  readonly level?: Level | 'silent';
  readonly name?: string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  return pino(
    { level: opts.level ?? 'info', base: opts.name === undefined ? {} : { component: opts.name } },
    pino.destination({ fd: 2, sync: true }),
  );
}

/** A logger that drops everything: for unit tests of cores that want a logger injected. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
