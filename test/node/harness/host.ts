// Host-side helpers of the real-node harness: running commands, preconditions, and the cleanup of what a
// node leaves on the host (mounts, network namespaces, cgroups, firewall chains, a bridge). Every cleanup
// step only touches what the run recorded as its own or what did not exist before it started.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export class NodePrerequisiteError extends Error {
  override readonly name = 'NodePrerequisiteError';
}

export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; never throws for a non-zero exit (see runOk). */
export function run(cmd: string, args: readonly string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, [...args], {
    input: opts.input ?? '',
    encoding: 'utf8',
    env: opts.env ?? process.env,
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  });
  if (r.error !== undefined) return { code: 127, stdout: '', stderr: `${cmd}: ${r.error.message}` };
  return { code: r.status ?? 128, stdout: r.stdout, stderr: r.stderr };
}

export function runOk(cmd: string, args: readonly string[], opts: Parameters<typeof run>[2] = {}): string {
  const r = run(cmd, args, opts);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${String(r.code)}: ${(r.stderr || r.stdout).trim().slice(-3000)}`);
  return r.stdout;
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function which(name: string): string | undefined {
  if (name.startsWith('/')) return executable(name) ? name : undefined;
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (dir !== '' && executable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Every [command, Debian package] must be there; else one error naming all that are missing. */
export function requireCommands(list: readonly (readonly [string, string])[]): void {
  const missing = list.filter(([cmd]) => which(cmd) === undefined);
  if (missing.length > 0) {
    throw new NodePrerequisiteError(
      `the real-node test needs ${missing.map(([c, p]) => `${c} (Debian: ${p})`).join(', ')}: run ./scripts/install-deps.sh as root`,
    );
  }
}

/** Mount points at or below `dir`, deepest first. */
export function mountsBelow(dir: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const mp = line.split(' ')[4];
    if (mp === undefined) continue;
    const path = mp.replace(/\\040/g, ' ');
    if (path === dir || path.startsWith(`${dir}/`)) out.push(path);
  }
  return out.sort((a, b) => b.length - a.length);
}

export function unmountBelow(dir: string): void {
  for (let round = 0; round < 3; round++) {
    const mounts = mountsBelow(dir);
    if (mounts.length === 0) return;
    for (const m of mounts) if (run('umount', [m]).code !== 0) run('umount', ['-l', m]);
  }
}

/** Names in a directory ('' list when it does not exist). */
export function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** Removes a cgroup directory tree (children first) in every v1 hierarchy and the v2 tree, if present. */
export function removeCgroupTree(relative: string): void {
  const roots = ['/sys/fs/cgroup'];
  for (const e of listDir('/sys/fs/cgroup')) roots.push(join('/sys/fs/cgroup', e));
  const rmTree = (path: string): void => {
    for (const e of listDir(path)) {
      const p = join(path, e);
      try {
        if (statSync(p).isDirectory()) rmTree(p);
      } catch {
        // gone
      }
    }
    try {
      rmdirSync(path);
    } catch {
      // busy or gone: reported by the caller's leak check, not here
    }
  };
  for (const root of roots) {
    const p = join(root, relative);
    if (existsSync(p)) rmTree(p);
  }
}

/** Chains named KUBE-* per iptables table (iptables-nft and ip6tables-nft), for a before/after diff. */
export function kubeChains(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const tool of ['iptables', 'ip6tables']) {
    for (const table of ['filter', 'nat', 'mangle']) {
      const r = run(tool, ['-w', '-t', table, '-S']);
      if (r.code !== 0) continue;
      const set = new Set<string>();
      for (const line of r.stdout.split('\n')) {
        const m = /^-N (KUBE-\S+)/.exec(line);
        if (m?.[1] !== undefined) set.add(m[1]);
      }
      out.set(`${tool}/${table}`, set);
    }
  }
  return out;
}

/** Deletes the KUBE-* chains that are in `after` but were not in `before`, and every rule jumping to them. */
export function removeNewKubeChains(before: Map<string, Set<string>>): string[] {
  const removed: string[] = [];
  for (const [key, now] of kubeChains()) {
    const [tool = 'iptables', table = 'filter'] = key.split('/');
    const old = before.get(key) ?? new Set<string>();
    const fresh = [...now].filter((c) => !old.has(c));
    if (fresh.length === 0) continue;
    // Rules that jump to a new chain, from any chain: delete them first (-S prints them as -A ...).
    for (const line of run(tool, ['-w', '-t', table, '-S']).stdout.split('\n')) {
      if (!line.startsWith('-A ')) continue;
      if (!fresh.some((c) => line.includes(` -j ${c}`) || line.includes(` -g ${c}`))) continue;
      const args = line.slice(3).match(/(?:[^\s"]+|"[^"]*")+/g)?.map((a) => a.replace(/^"(.*)"$/, '$1')) ?? [];
      run(tool, ['-w', '-t', table, '-D', ...args]);
    }
    for (const c of fresh) run(tool, ['-w', '-t', table, '-F', c]);
    for (const c of fresh) {
      run(tool, ['-w', '-t', table, '-X', c]);
      removed.push(`${key}:${c}`);
    }
  }
  return removed;
}

export function nftTables(): Set<string> {
  const r = run('nft', ['list', 'tables']);
  return new Set(r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('table ')));
}
