// Running commands for the lab: argv only (no shell), errors that quote the command and its stderr.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';

export class LabError extends Error {
  override readonly name = 'LabError';
}

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  /** Exit status; null when killed by a signal. */
  readonly code: number | null;
}

export interface RunOptions {
  /** Default true: a non-zero exit throws LabError. */
  readonly check?: boolean;
  readonly input?: string;
  /** Default 30,000 ms. */
  readonly timeoutMs?: number;
}

export function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return Promise.reject(new LabError('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : null;
        if (err !== null && (opts.check ?? true)) {
          const why = typeof err.code === 'string' ? `${err.code} (${cmd} not installed?)` : `exit ${String(err.code ?? err.signal)}`;
          reject(new LabError(`${argv.join(' ')}: ${why}: ${stderr.trim() || stdout.trim()}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True while a process with this PID exists and is not a zombie (a zombie has exited; its parent just has not reaped it). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** SIGTERM, wait up to graceMs, then SIGKILL. Only ever called with PIDs the lab started or found in its own namespaces. */
export async function killPid(pid: number, graceMs = 3000): Promise<void> {
  if (!alive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!alive(pid)) return;
    await sleep(25);
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return;
  }
  const hard = Date.now() + 2000;
  while (Date.now() < hard && alive(pid)) await sleep(25);
}
