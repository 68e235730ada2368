// Per-CPU answering: ARP requests and Neighbor Solicitations answered on the CPU they arrive on.
//
// Why: the kernel answers for its own addresses in softirq, on the CPU that received the request. A
// responder thread that sleeps on another CPU has to be woken there first (an inter-processor wake-up,
// 30 µs on the 2-vCPU test VM, more than the whole rest of the round trip; docs/layer2.md). So, per
// (interface, family) port, a fanout group of AF_PACKET sockets in PACKET_FANOUT_CPU mode
// (src/sys openFanoutSockets: member i gets the frames received on CPU i), and one worker thread per
// member (answer-thread.ts), pinned to its CPU, answering with the same answerFrame as the engine's own
// thread. Ownership is pushed to every thread as whole VIP lists per port; setVips resolves when all
// threads have applied it (the engine announces a VIP only after that, so the first request a
// gratuitous ARP provokes is answered). Counters are read from shared memory, without a round trip.
//
// Threads: one per online CPU, at most `maxThreads` (default 4: a thread costs about 11 MiB of RSS,
// docs/layer2.md). With fewer threads than CPUs a request from CPU c goes to member c % threads, so no
// thread is pinned then (pinning would only move the wake-up; the threads still keep answering off the
// main thread, away from BGP and Kubernetes work). A thread whose CPU is outside the process's
// affinity mask runs unpinned too.
import { Worker } from 'node:worker_threads';
import { cpus } from 'node:os';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { EtherType as SysEtherType, PacketFilter, closeFd, openFanoutSockets, threadAffinity } from '../sys/index.ts';
import type { MacAddress } from './addresses.ts';
import { COUNTER_SLOTS, sumCounters, type AnswerTotals, type Family } from './answer.ts';

/** workerData of an answer thread. */
export interface AnswerThreadData {
  readonly cpu: number;
  readonly pin: boolean;
  readonly logLevel: string;
  readonly logBindings: Readonly<Record<string, unknown>>;
  readonly counters: SharedArrayBuffer;
  /** Byte offset of this thread's block (COUNTER_SLOTS float64s). */
  readonly counterOffset: number;
  readonly counterSlots: number;
}

export type ToAnswerThread =
  | { readonly op: 'open'; readonly key: string; readonly fd: number; readonly iface: string; readonly family: Family; readonly mac: MacAddress }
  | { readonly op: 'vips'; readonly key: string; readonly vips: readonly string[]; readonly seq: number }
  | { readonly op: 'close'; readonly key: string }
  | { readonly op: 'stop' };

export type FromAnswerThread =
  | { readonly op: 'ready'; readonly cpu: number; readonly pinned: boolean; readonly error?: string }
  | { readonly op: 'applied'; readonly seq: number };

/** What the engine needs from answering off its own thread (a fake in unit tests). */
export interface AnsweringThreads {
  /** Starts answering frames of (iface, family) on the threads. Throws when the sockets cannot be opened. */
  openPort(key: string, iface: string, family: Family, mac: MacAddress): void;
  /** The VIPs answered on a port from now on; resolves when every thread has them. */
  setVips(key: string, vips: readonly string[]): Promise<void>;
  closePort(key: string): void;
  totals(): AnswerTotals;
  /** Stops the threads (their sockets close with them). */
  close(): Promise<void>;
}

export interface ThreadState {
  readonly cpu: number;
  readonly pinned: boolean;
  readonly error?: string;
}

export interface CpuAnswerers extends AnsweringThreads {
  readonly threads: number;
  /** Resolves when every thread has started, with whether it could pin itself. */
  ready(): Promise<readonly ThreadState[]>;
  /** Totals of each thread, in CPU order (tests, diagnostics). */
  perThread(): readonly AnswerTotals[];
}

/** Default of maxThreads (and of `berth speaker --l2-threads`). */
export const DEFAULT_MAX_ANSWER_THREADS = 4;

export interface CpuAnswerersOptions {
  /** At most this many threads (default DEFAULT_MAX_ANSWER_THREADS); the count is min(online CPUs, this). */
  readonly maxThreads?: number;
  readonly logger?: Logger;
}

// Compiled (dist/): the thread's .js file. From source (tsx): Node 20 does not apply the parent's
// --import loader hooks to worker threads, so the thread registers tsx itself, then loads the .ts file.
const fromSource = import.meta.url.endsWith('.ts');
const threadUrl = new URL(`./answer-thread${fromSource ? '.ts' : '.js'}`, import.meta.url);
function startThread(data: AnswerThreadData, name: string): Worker {
  if (!fromSource) return new Worker(threadUrl, { workerData: data, name });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(threadUrl.href)}); });`;
  return new Worker(boot, { eval: true, workerData: data, name });
}

export function createCpuAnswerers(opts: CpuAnswerersOptions = {}): CpuAnswerers {
  const log = opts.logger ?? silentLogger();
  const online = cpus().length;
  const n = Math.max(1, Math.min(online, opts.maxThreads ?? DEFAULT_MAX_ANSWER_THREADS));
  const allowed = new Set(threadAffinity());
  const shared = new SharedArrayBuffer(n * COUNTER_SLOTS * Float64Array.BYTES_PER_ELEMENT);
  const blocks = Array.from({ length: n }, (_, i) => new Float64Array(shared, i * COUNTER_SLOTS * 8, COUNTER_SLOTS));
  let seq = 0;
  let closing = false;
  const applied = new Array<number>(n).fill(0);
  const waiters: { seq: number; resolve: () => void }[] = [];
  const states: (ThreadState | undefined)[] = new Array<ThreadState | undefined>(n).fill(undefined);
  let readyResolve: (s: readonly ThreadState[]) => void = () => undefined;
  const readyPromise = new Promise<readonly ThreadState[]>((r) => (readyResolve = r));

  const settle = (): void => {
    const done = Math.min(...applied);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w !== undefined && w.seq <= done) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  const workers = blocks.map((_, cpu) => {
    const data: AnswerThreadData = {
      cpu,
      pin: n === online && allowed.has(cpu),
      logLevel: log.level,
      logBindings: log.bindings(),
      counters: shared,
      counterOffset: cpu * COUNTER_SLOTS * 8,
      counterSlots: COUNTER_SLOTS,
    };
    const w = startThread(data, `berth-l2-cpu${cpu}`);
    w.unref();
    w.on('message', (m: FromAnswerThread) => {
      if (m.op === 'ready') {
        const s: ThreadState = m.error === undefined ? { cpu: m.cpu, pinned: m.pinned } : { cpu: m.cpu, pinned: m.pinned, error: m.error };
        states[cpu] = s;
        if (s.error !== undefined) log.warn({ cpu, err: s.error }, 'l2: answer thread runs unpinned');
        if (states.every((x) => x !== undefined)) readyResolve(states as ThreadState[]);
      } else {
        applied[cpu] = Math.max(applied[cpu] ?? 0, m.seq);
        settle();
      }
    });
    // A responder bug must not pass silently (like a throwing handler on the engine's own thread).
    w.on('error', (err) => {
      log.error({ cpu, err: String(err) }, 'l2: answer thread failed');
      process.nextTick(() => {
        throw err;
      });
    });
    w.on('exit', (code) => {
      if (!closing) log.error({ cpu, code }, 'l2: answer thread exited');
    });
    return w;
  });
  const send = (m: ToAnswerThread): void => {
    for (const w of workers) w.postMessage(m);
  };

  return {
    threads: n,
    ready: () => readyPromise,
    openPort(key, iface, family, mac) {
      const fds = openFanoutSockets({
        ifname: iface,
        etherType: family === 4 ? SysEtherType.ARP : SysEtherType.IPv6,
        // In-kernel filters: the IPv6 sockets would otherwise wake a thread for every IPv6 frame.
        filter: family === 4 ? PacketFilter.arpRequest : PacketFilter.neighborSolicitation,
        members: n,
      });
      fds.forEach((fd, i) => {
        const w = workers[i];
        if (w === undefined) closeFd(fd);
        else w.postMessage({ op: 'open', key, fd, iface, family, mac } satisfies ToAnswerThread);
      });
    },
    setVips(key, vips) {
      seq++;
      const mine = seq;
      send({ op: 'vips', key, vips, seq: mine });
      return new Promise<void>((resolve) => {
        waiters.push({ seq: mine, resolve });
        settle();
      });
    },
    closePort(key) {
      send({ op: 'close', key });
    },
    totals: () => sumCounters(blocks),
    perThread: () => blocks.map((b) => sumCounters([b])),
    async close() {
      if (closing) return;
      closing = true;
      await Promise.all(
        workers.map(
          (w) =>
            new Promise<void>((resolve) => {
              const t = setTimeout(() => void w.terminate().then(() => resolve()), 1000);
              w.once('exit', () => {
                clearTimeout(t);
                resolve();
              });
              w.postMessage({ op: 'stop' } satisfies ToAnswerThread);
            }),
        ),
      );
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}
