// Child processes of the harness (etcd, kube-apiserver): started with their output in a log file, a PID
// file beside it, stopped by PID (SIGTERM, then SIGKILL after a grace period). A process-exit hook kills
// whatever a crashed test left running, so no etcd or kube-apiserver outlives the test process.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
}

// The one piece of module state: live children, so the exit hook can kill them if a test forgot.
const live = new Set<ChildProcess>();
let hookInstalled = false;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

export interface StartOptions {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logPath: string;
  readonly pidPath: string;
}

export function startProcess(opts: StartOptions): Proc {
  installExitHook();
  const fd = openSync(opts.logPath, 'a');
  let child: ChildProcess;
  try {
    child = spawn(opts.binary, [...opts.args], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${opts.name}: spawn ${opts.binary} failed`);
  live.add(child);
  writeFileSync(opts.pidPath, `${String(pid)}\n`);
  let done = false;
  const exited = new Promise<string>((resolveExit) => {
    child.on('exit', (code, signal) => {
      done = true;
      live.delete(child);
      resolveExit(code !== null ? `exit ${String(code)}` : `signal ${String(signal)}`);
    });
    child.on('error', (err) => {
      done = true;
      live.delete(child);
      resolveExit(`spawn error ${err.message}`);
    });
  });
  return { name: opts.name, pid, logPath: opts.logPath, exited, hasExited: () => done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** SIGTERM, wait up to `graceMs`, then SIGKILL; resolves once the process is gone. */
export async function stopProcess(proc: Proc, graceMs = 10_000): Promise<void> {
  if (proc.hasExited()) return;
  try {
    process.kill(proc.pid, 'SIGTERM');
  } catch {
    return;
  }
  const timedOut = await Promise.race([proc.exited.then(() => false), sleep(graceMs).then(() => true)]);
  if (timedOut && !proc.hasExited()) {
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await proc.exited;
  }
}

/** The last `lines` lines of a log file, for error messages. */
export function tail(path: string, lines = 30): string {
  if (!existsSync(path)) return '(no log)';
  const all = readFileSync(path, 'utf8').trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the kernel picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => {
        if (addr !== null && typeof addr === 'object') resolvePort(addr.port);
        else reject(new Error('no port'));
      });
    });
  });
}
