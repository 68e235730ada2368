// Typed errors of src/sys. A SysError wraps a failed syscall (code is the errno name, e.g. 'EPERM');
// AddonMissingError says the native addon was never built.

export const SysErrorKind = {
  /** A syscall failed: `code` holds the errno name. */
  syscall: 'syscall',
  /** Bad arguments from the caller (not an IP address, name too long, ...). */
  invalid: 'invalid',
  /** connectTcp gave up waiting. */
  timeout: 'timeout',
  /** The socket or listener was already closed. */
  closed: 'closed',
} as const;
export type SysErrorKind = (typeof SysErrorKind)[keyof typeof SysErrorKind];

export class SysError extends Error {
  override readonly name = 'SysError';
  readonly kind: SysErrorKind;
  /** errno name ('EPERM', 'ECONNREFUSED', ...) for kind 'syscall'; otherwise the kind in capitals. */
  readonly code: string;
  readonly syscall: string | undefined;

  constructor(kind: SysErrorKind, message: string, opts: { code?: string; syscall?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.code = opts.code ?? kind.toUpperCase();
    this.syscall = opts.syscall;
  }
}

export class AddonMissingError extends Error {
  override readonly name = 'AddonMissingError';
}

/** Turns what the addon threw (an Error with code/syscall, or a TypeError) into a SysError. */
export function toSysError(err: unknown, what: string): SysError {
  if (err instanceof SysError) return err;
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; syscall?: unknown };
    if (typeof e.code === 'string') {
      const opts: { code: string; syscall?: string; cause: unknown } = { code: e.code, cause: err };
      if (typeof e.syscall === 'string') opts.syscall = e.syscall;
      return new SysError(SysErrorKind.syscall, `${what}: ${e.message}`, opts);
    }
    return new SysError(SysErrorKind.invalid, `${what}: ${e.message}`, { cause: err });
  }
  return new SysError(SysErrorKind.invalid, `${what}: ${String(err)}`);
}
