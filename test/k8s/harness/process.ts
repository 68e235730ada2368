// Child processes of the harness (etcd, kube-apiserver): started with their output in a log file, a PID
// file beside it, stopped by PID (SIGTERM, then SIGKILL after a grace period).
//
// Three safety nets so no etcd or kube-apiserver outlives its test: an exit hook (also run on SIGINT,
// SIGTERM and SIGHUP) kills the live children by PID and removes their temp dirs; and sweepStale() finds
// the temp dirs of test processes that died without running it (SIGKILL), kills the PIDs recorded there
// (only if that PID's command line still names the dir, so a reused PID is never touched) and removes them.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, writeFileSync, readFileSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export interface Proc {
  readonly name: string;
  readonly pid: number;
  readonly logPath: string;
  /** Resolves with the exit code (or the signal name) once the process has ended. */
  readonly exited: Promise<string>;
  hasExited(): boolean;
}

// The one piece of module state: live children and their temp dirs, for the exit hook.
const live = new Set<ChildProcess>();
const dirs = new Set<string>();
let hookInstalled = false;

function killLeftovers(): void {
  for (const child of live) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

const exitSignals = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

function installExitHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  process.on('exit', killLeftovers);
  for (const [signal, code] of Object.entries(exitSignals)) {
    process.once(signal, () => {
      killLeftovers();
      process.exit(code);
    });
  }
}

/** Marks a temp dir as owned by this process: removed by the exit hook, swept if this process dies. */
export function ownDir(dir: string): void {
  installExitHook();
  dirs.add(dir);
  writeFileSync(join(dir, 'owner.pid'), `${String(process.pid)}\n`);
}

/** The harness removed the dir itself. */
export function releaseDir(dir: string): void {
  dirs.delete(dir);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The PID in a PID file; undefined when the file is missing or holds no PID. */
export function readPid(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Cleans up after harness runs whose test process died without its exit hook: for every `prefix*` dir
 * in `root` whose owner.pid is dead, SIGKILLs the etcd / kube-apiserver PIDs recorded there when their
 * command line still mentions the dir, then removes the dir. Returns the dirs removed.
 */
export function sweepStale(root: string, prefix: string): string[] {
  const removed: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(root).filter((e) => e.startsWith(prefix));
  } catch {
    return removed;
  }
  for (const entry of entries) {
    const dir = join(root, entry);
    const owner = readPid(join(dir, 'owner.pid'));
    if (owner === undefined || pidAlive(owner)) continue;
    for (const name of ['kube-apiserver.pid', 'etcd.pid']) {
      const pid = readPid(join(dir, name));
      if (pid === undefined) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmdline.includes(dir)) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
    rmSync(dir, { recursive: true, force: true });
    removed.push(dir);
  }
  return removed;
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
