// Whether this speaker process is a restart of a previous one, for the graceful restart R bit
// (RFC 4724 §4.1: "Restart State (R): ... set to 1 to indicate that the BGP speaker has restarted";
// a speaker that merely starts must not claim it, or a peer would keep no-longer-meant stale routes).
//
// The honest evidence is a small state file: each run writes it at start (this boot's id and its pid)
// and removes it on a drain (SIGTERM: Cease, routes withdrawn). The next start finds it only after a
// planned restart (the process stopped with stop({ preserveRoutes }), the file kept) or a crash; in both
// cases peers that negotiated graceful restart may still hold our routes as stale, and the file names
// the same boot (a reboot changes /proc/sys/kernel/random/boot_id, and /run is emptied anyway).
// The decision is pure (`isRestart`); the file I/O is injected (`RestartStateIo`, `fileRestartStateIo`).
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import os from 'node:os';

export interface RestartState {
  /** /proc/sys/kernel/random/boot_id of the boot the previous run started in. */
  readonly bootId: string;
  readonly pid: number;
  /** ISO time the previous run started. */
  readonly startedAt: string;
}

export interface RestartStateIo {
  /** The file's text, undefined when absent. */
  read(path: string): string | undefined;
  write(path: string, text: string): void;
  remove(path: string): void;
  /** This boot's id; undefined when unknown (then no start counts as a restart). */
  bootId(): string | undefined;
}

/** Where the state lives by default: /run/berth (root), else $XDG_RUNTIME_DIR/berth, else the temp dir. */
export function defaultRestartStatePath(env: NodeJS.ProcessEnv = process.env, uid: number = process.getuid?.() ?? -1): string {
  if (uid === 0) return '/run/berth/speaker-restart.json';
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime !== undefined && runtime !== '') return join(runtime, 'berth', 'speaker-restart.json');
  return join(os.tmpdir(), `berth-${uid}`, 'speaker-restart.json');
}

/** Pure: the previous run's state file text says this start is a restart within the same boot. */
export function isRestart(previous: string | undefined, bootId: string | undefined): boolean {
  if (previous === undefined || bootId === undefined || bootId === '') return false;
  try {
    const s = JSON.parse(previous) as Partial<RestartState>;
    return typeof s.bootId === 'string' && s.bootId === bootId;
  } catch {
    return false;
  }
}

export interface RestartTracker {
  /** This run restarted a previous one (set the R bit, SpeakerOptions.restarting). */
  readonly restarting: boolean;
  readonly path: string;
  /** A drain: the next start is a fresh one (no R bit). */
  drained(): void;
}

/** Reads the previous state, then records this run. Never throws: an unwritable path is reported in
 * `problem` and the start counts as fresh. */
export function beginRun(path: string, io: RestartStateIo, now: Date = new Date(), pid: number = process.pid): RestartTracker & { readonly problem?: string } {
  const bootId = io.bootId();
  let restarting = false;
  let problem: string | undefined;
  try {
    restarting = isRestart(io.read(path), bootId);
    const state: RestartState = { bootId: bootId ?? '', pid, startedAt: now.toISOString() };
    io.write(path, `${JSON.stringify(state)}\n`);
  } catch (e) {
    problem = e instanceof Error ? e.message : String(e);
  }
  return {
    restarting,
    path,
    ...(problem !== undefined ? { problem } : {}),
    drained() {
      try {
        io.remove(path);
      } catch {
        // Nothing to undo: a leftover file only makes the next start claim a restart within this boot.
      }
    },
  };
}

/** The real files. */
export const fileRestartStateIo: RestartStateIo = {
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  },
  write(path, text) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileSync(path, text, { mode: 0o644 });
  },
  remove(path) {
    rmSync(path, { force: true });
  },
  bootId() {
    try {
      return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      return undefined;
    }
  },
};
