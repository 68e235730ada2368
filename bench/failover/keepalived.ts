// keepalived (VRRP, RFC 5798 via Debian's package) under test, the Layer 2 anchor: one instance per
// node namespace, priorities 150/100/50 in node order, the VIP on eth1, preemption on (the default).
// VRRP version 2 with keepalived's default advertisement interval (1 s): a backup takes over after the
// Master_Down_Interval, 3 x 1 s + Skew_Time ((256 - priority) / 256 s), RFC 5798 §6.1. Each instance
// has its own PID files in the lab's folder (the namespaces share the host's /run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import { processTree, VIPS } from './lab-setup.ts';
import type { Subject } from './subject.ts';

export const KEEPALIVED_ADVERT_S = 1;
const VRID = 51;

/** keepalived is a benchmark's anchor, not a test prerequisite: installed on demand, loudly. */
export function ensureKeepalived(): string {
  const which = (): string => spawnSync('sh', ['-c', 'command -v keepalived'], { encoding: 'utf8' }).stdout.trim();
  if (which() !== '') return which();
  process.stderr.write('bench/failover: keepalived is not installed; installing the Debian package `keepalived` (apt-get install -y keepalived)\n');
  const r = spawnSync('apt-get', ['install', '-y', 'keepalived'], { stdio: 'inherit' });
  if (r.status !== 0 || which() === '') throw new Error('bench/failover: could not install keepalived (apt-get install -y keepalived)');
  return which();
}

export class KeepalivedSubject implements Subject {
  readonly name = 'keepalived';
  readonly #lab: Lab;
  readonly #bin: string;
  readonly #procs = new Map<string, SpawnedProcess>();
  /** "Keepalived v2.2.7 (01/16,2022)", as it prints itself. */
  readonly version: string;

  constructor(lab: Lab) {
    this.#lab = lab;
    this.#bin = ensureKeepalived();
    const v = spawnSync(this.#bin, ['--version'], { encoding: 'utf8' });
    this.version = `${v.stdout}${v.stderr}`.split('\n')[0]?.trim() ?? '';
  }

  #dir(node: LabHost): string {
    const d = join(this.#lab.workDir, `keepalived-${node.name}`);
    if (!existsSync(d)) mkdirSync(d, { recursive: true });
    return d;
  }

  start(node: LabHost): Promise<void> {
    const i = this.#lab.nodes.findIndex((n) => n.name === node.name);
    const dir = this.#dir(node);
    const conf = join(dir, 'keepalived.conf');
    writeFileSync(
      conf,
      [
        'global_defs {',
        `  router_id ${node.name}`,
        '  enable_script_security',
        '}',
        'vrrp_instance bfo {',
        '  state BACKUP',
        `  interface ${node.iface}`,
        `  virtual_router_id ${VRID}`,
        `  priority ${150 - 50 * i}`,
        `  advert_int ${KEEPALIVED_ADVERT_S}`,
        `  virtual_ipaddress { ${VIPS.keepalived}/32 dev ${node.iface} }`,
        '}',
        '',
      ].join('\n'),
    );
    const argv = [this.#bin, '--dont-fork', '--log-console', '--log-detail', '--vrrp', '-f', conf, '-p', join(dir, 'keepalived.pid'), '-r', join(dir, 'vrrp.pid'), '-c', join(dir, 'checkers.pid')];
    this.#procs.set(node.name, this.#lab.spawn(node, argv));
    return Promise.resolve();
  }

  #proc(node: LabHost): SpawnedProcess {
    const p = this.#procs.get(node.name);
    if (p === undefined) throw new Error(`no keepalived on ${node.name}`);
    return p;
  }

  async signal(node: LabHost, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const p = this.#proc(node);
    // The VRRP child first: the parent restarts a child that dies, and a child outlives nothing.
    const tree = (await processTree(p.pid)).reverse();
    for (const pid of tree) process.kill(pid, sig);
    if (sig === 'SIGKILL') await p.kill(0);
  }

  async stop(node: LabHost): Promise<void> {
    const p = this.#proc(node);
    const exited = new Promise((r) => p.child.once('exit', r));
    p.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((_, rej) => setTimeout(() => rej(new Error(`keepalived on ${node.name} did not stop within 10 s of SIGTERM`)), 10_000))]);
  }

  /** VRRP has no membership view: converged when exactly one node holds the VIP. */
  async converged(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      let holders = 0;
      for (const n of this.#lab.nodes) {
        const r = await this.#lab.exec(n, ['ip', '-4', '-o', 'addr', 'show', 'dev', n.iface], { check: false });
        if (r.stdout.includes(`${VIPS.keepalived}/32`)) holders++;
      }
      if (holders === 1) return;
      if (Date.now() > until) throw new Error(`keepalived: ${holders} nodes hold ${VIPS.keepalived}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    for (const p of this.#procs.values()) await p.kill(2000);
  }
}
