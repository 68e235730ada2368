// Runs `berth controller` / `berth speaker` as real child processes against the harness API server, keeps
// their JSON logs, and stops them by PID (SIGTERM, then SIGKILL).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { repoRoot, type Json, type JsonObject } from './helpers.ts';
import type { ApiServer } from './harness/index.ts';
import { waitFor } from '../integration/common.ts';

export interface BerthProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Parsed JSON log lines so far. */
  logs(): JsonObject[];
  /** Log lines whose msg equals `msg`. */
  logged(msg: string): JsonObject[];
  /** SIGTERM and wait for the exit; SIGKILL after `graceMs`. Resolves the exit code. */
  stop(graceMs?: number): Promise<number | null>;
  kill(): Promise<number | null>;
  readonly exited: Promise<number | null>;
  stderr(): string;
}

export function startBerth(args: readonly string[], opts: { readonly env?: NodeJS.ProcessEnv; readonly wrap?: readonly string[] } = {}): BerthProcess {
  const cmd = [...(opts.wrap ?? []), process.execPath, join(repoRoot, 'bin/berth.mjs'), ...args];
  const child = spawn(cmd[0] ?? process.execPath, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  let err = '';
  const lines: JsonObject[] = [];
  let partial = '';
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    err += c;
    if (err.length > 4_000_000) err = err.slice(-2_000_000);
    partial += c;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const p of parts) {
      try {
        const v = JSON.parse(p) as Json;
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) lines.push(v as JsonObject);
      } catch {
        // not JSON: kept in stderr()
      }
    }
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const pid = child.pid;
  assert.ok(pid !== undefined, 'berth did not start');
  const stop = async (graceMs = 10_000): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const code = await exited;
    clearTimeout(t);
    return code;
  };
  return {
    pid,
    child,
    logs: () => lines,
    logged: (msg) => lines.filter((l) => l['msg'] === msg),
    stop,
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
    exited,
    stderr: () => err,
  };
}

export function startController(k: ApiServer, extra: readonly string[] = []): BerthProcess {
  return startBerth([
    'controller',
    '--kubeconfig', k.kubeconfigPath,
    '--namespace', 'berth-system',
    '--health-port', '0',
    '--lease-duration', '4',
    '--renew-deadline', '3',
    '--retry-period', '0.5',
    ...extra,
  ]);
}

/** Polls `probe` until it returns a value other than undefined; fails with `what` and the last error (waitFor of test/integration/common.ts). */
export function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 250): Promise<T> {
  return waitFor(what, timeoutMs, probe, { everyMs });
}
