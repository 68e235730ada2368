// Boots a throwaway qemu guest with a Debian kernel (scripts/provision-vm.sh) to run ONE command with
// kernel features the host's kernel may lack (VRF). The guest's root filesystem is the host's, exported
// read-only over virtio-9p, with tmpfs over /tmp, /run, /etc/frr, /var/log, /var/tmp and /root
// (test/vm/initramfs-init.sh): node, FRR and this repository are simply the host's. One writable share:
// tsx's compile cache, kept in the provisioned folder between boots. The working directory (the
// repository) is also shared on its own, so it is seen wherever the clone is (even under /tmp). The guest has no network
// device at all (-nodefaults, no -netdev). Its console is the serial port, read here line by line; the
// command's exit status comes back as the line `BERTH-VM-EXIT <code>`.
//
// Accelerator: BERTH_VM_ACCEL=tcg|kvm, default tcg (qemu's emulator: needs nothing from the host). kvm
// needs /dev/kvm and fails loudly without it. Why tcg is the default (docs/testing-vm.md, measured): on the
// machine this was built on /dev/kvm exists and qemu enables it, but the guest runs about a thousand times
// slower than under tcg (nested virtualization without hardware help): the kernel's decompressor alone
// did not finish in 5 minutes, while a tcg guest boots, runs the command and powers off in under a minute.
import { execFile, spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';

export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const PROVISION = resolve(REPO_ROOT, 'scripts/provision-vm.sh');
const EXIT_LINE = /^BERTH-VM-EXIT (\d+)\s*$/;
const ERROR_LINE = /^BERTH-VM-ERROR (.*)$/;

export type Accel = 'kvm' | 'tcg';

export interface GuestRun {
  /** The command's exit status inside the guest. */
  readonly exitCode: number;
  /** Every console line (kernel messages included). */
  readonly lines: readonly string[];
  readonly accel: Accel;
  readonly elapsedMs: number;
}

export interface GuestOptions {
  /** argv: absolute program path first; each word must be free of spaces (kernel command line). */
  readonly command: readonly string[];
  /** Working directory inside the guest (a host path). */
  readonly cwd: string;
  readonly timeoutMs: number;
  /** Guest memory in MiB; default 1024. */
  readonly memoryMiB?: number;
  readonly onLine?: (line: string) => void;
}

export function guestAccel(): Accel {
  const a = process.env['BERTH_VM_ACCEL'] ?? 'tcg';
  if (a !== 'kvm' && a !== 'tcg') throw new Error(`BERTH_VM_ACCEL must be kvm or tcg, got ${JSON.stringify(a)}`);
  if (a === 'kvm') {
    try {
      accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    } catch {
      throw new Error('BERTH_VM_ACCEL=kvm but /dev/kvm is missing or not accessible (unset BERTH_VM_ACCEL to emulate with tcg)');
    }
  }
  return a;
}

/** scripts/provision-vm.sh: the folder with vmlinuz and initrd.img (downloads the kernel package once). */
export function provisionGuest(): Promise<string> {
  return new Promise((res, rej) => {
    execFile('bash', [PROVISION], { timeout: 600_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err !== null) rej(new Error(`scripts/provision-vm.sh failed: ${stderr.trim().split('\n').slice(-5).join('\n')}`));
      else res(stdout.trim().split('\n').pop() ?? '');
    });
  });
}

export async function runInGuest(o: GuestOptions): Promise<GuestRun> {
  const accel = guestAccel();
  for (const w of [...o.command, o.cwd]) if (/\s/.test(w) || w === '') throw new Error(`guest command word ${JSON.stringify(w)}: no spaces allowed (kernel command line)`);
  const dir = await provisionGuest();
  const [program, ...args] = o.command;
  if (program === undefined) throw new Error('runInGuest: empty command');
  // tsx's compile cache (os.tmpdir()/tsx-0 for root) kept on the host between boots: emulated, compiling
  // the sources again costs a minute.
  const cache = `${dir}/tsx-cache`;
  mkdirSync(cache, { recursive: true });
  const append = ['console=ttyS0', 'quiet', 'panic=-1', 'berth.cache=1', 'berth.work=1', `berth.run=${program}`, ...args.map((a) => `berth.arg=${a}`), `berth.cwd=${o.cwd}`].join(' ');
  const qemuArgs = [
    ...(accel === 'kvm' ? ['-accel', 'kvm', '-cpu', 'host'] : ['-accel', 'tcg']),
    '-m', String(o.memoryMiB ?? 1024), '-smp', '2',
    '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', `${dir}/vmlinuz`, '-initrd', `${dir}/initrd.img`, '-append', append,
    '-fsdev', 'local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap',
    '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
    // The working directory again, on its own: the init script mounts it over the tmpfs mounts, so a
    // clone under /tmp or /root is seen too.
    '-fsdev', `local,id=berthwork,path=${o.cwd},security_model=none,readonly=on,multidevs=remap`,
    '-device', 'virtio-9p-pci,fsdev=berthwork,mount_tag=berthwork',
    '-fsdev', `local,id=berthcache,path=${cache},security_model=none`,
    '-device', 'virtio-9p-pci,fsdev=berthcache,mount_tag=berthcache',
  ];
  const started = Date.now();
  const child = spawn('qemu-system-x86_64', qemuArgs, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let exitCode: number | undefined;
  let guestError: string | undefined;
  const take = (l: string): void => {
    const line = l.replace(/\r$/, '');
    lines.push(line);
    o.onLine?.(line);
    const m = EXIT_LINE.exec(line);
    if (m?.[1] !== undefined) exitCode = Number(m[1]);
    const e = ERROR_LINE.exec(line);
    if (e?.[1] !== undefined) guestError = e[1];
  };
  if (child.stdout !== null) createInterface({ input: child.stdout }).on('line', take);
  if (child.stderr !== null) createInterface({ input: child.stderr }).on('line', (l) => take(`qemu: ${l}`));
  const status = await new Promise<{ code: number | null; timedOut: boolean; spawnError?: Error }>((res) => {
    const timer = setTimeout(() => {
      // Our own child, by its PID.
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
      res({ code: null, timedOut: true });
    }, o.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      res({ code: null, timedOut: false, spawnError: err });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      res({ code, timedOut: false });
    });
  });
  const tail = (): string => lines.slice(-30).join('\n');
  if (status.spawnError !== undefined) throw new Error(`qemu-system-x86_64 did not start (apt-get install qemu-system-x86): ${status.spawnError.message}`);
  if (status.timedOut) throw new Error(`guest (${accel}) did not power off within ${o.timeoutMs} ms; last console lines:\n${tail()}`);
  if (guestError !== undefined) throw new Error(`guest init failed: ${guestError}\n${tail()}`);
  if (exitCode === undefined) throw new Error(`guest (${accel}) stopped (qemu exit ${String(status.code)}) without a BERTH-VM-EXIT line; last console lines:\n${tail()}`);
  return { exitCode, lines, accel, elapsedMs: Date.now() - started };
}
