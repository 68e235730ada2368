// Per-CPU answering: ARP requests and Neighbor Solicitations answered on the CPU they arrive on.
//
// Why: the kernel answers for its own addresses in softirq, on the CPU that received the request. A
// responder thread that sleeps on another CPU has to be woken there first (an inter-processor wake-up,
// 30 µs on the 2-vCPU test VM, more than the whole rest of the round trip; docs/layer2.md). So, per
// (interface, family) port, a fanout group of AF_PACKET sockets in PACKET_FANOUT_CPU mode with one
// member per CPU (src/sys openFanoutSockets: member c gets the frames received on CPU c), and a worker
// thread per CPU (answer-thread.ts), pinned to it, answering that CPU's members with the same
// answerFrame as the engine's own thread.
//
// When threads start: on a machine with at most `maxThreads` CPUs, every CPU's thread starts with the
// first port (the node's first layer 2 VIP; a BGP-only node never starts one). On a bigger machine they
// start on demand: this thread holds every member (one shared receive area) and answers what arrives
// itself, and the first request a CPU delivers that gets an answer starts that CPU's thread. Either
// way a new thread gets the current VIP lists, then adopts the CPU's members of every port once it
// runs (until then this thread answers). So a big node pays for threads (about 11 MiB each) only on the
// CPUs its NIC delivers ARP/NDP to (on real hardware often one or two, since these frames carry no
// flow hash). Past the cap, members stay here.
//
// Ownership is pushed to the threads as whole VIP lists per port; setVips resolves when every started
// thread has applied it (the engine announces a VIP only after that). Members held here answer from the
// engine's own ownership lookup, so they follow setOwned at once. Counters are read from shared memory.
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { siblingModule, startModuleWorker } from '../threads.ts';
import type { Logger } from '../log.ts';
import { silentLogger } from '../log.ts';
import { EtherType as SysEtherType, closeFd, createReceiveArea, openFanoutSockets, openPacketSocket, threadAffinity, type PacketSocket } from '../sys/index.ts';
import type { MacAddress } from './addresses.ts';
import { answerFrame, COUNTER_SLOTS, sumCounters, type AnswerPort, type AnswerTotals, type Family } from './answer.ts';
import { createReplyScratch } from './frame-bytes.ts';
import { responderFilter } from './af-packet-transport.ts';

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
  /**
   * Starts answering frames of (iface, family) per CPU. `owns` is the engine's own lookup, used while
   * a CPU has no thread yet. Throws when the sockets cannot be opened.
   */
  openPort(key: string, iface: string, family: Family, mac: MacAddress, owns: (ip: string) => boolean): void;
  /** The VIPs answered on a port from now on; resolves when every started thread has them. */
  setVips(key: string, vips: readonly string[]): Promise<void>;
  closePort(key: string): void;
  totals(): AnswerTotals;
  /** Stops the threads and closes every socket. */
  close(): Promise<void>;
}

export interface ThreadState {
  readonly cpu: number;
  readonly pinned: boolean;
  readonly error?: string;
}

export interface CpuAnswerers extends AnsweringThreads {
  /** The threads started so far (each once it has reported whether it could pin itself), by CPU. */
  threads(): Promise<readonly ThreadState[]>;
  /** Threads running now (started, not failed). */
  running(): number;
  /** Totals of what this thread answered (CPUs without a thread) and of each CPU's thread. */
  perThread(): { readonly main: AnswerTotals; readonly cpus: readonly AnswerTotals[] };
}

/** Default cap on answer threads (and of `berth speaker --l2-threads`). */
export const DEFAULT_MAX_ANSWER_THREADS = 8;

export interface CpuAnswerersOptions {
  /** At most this many threads (default DEFAULT_MAX_ANSWER_THREADS); 0 is not allowed here (no pool). */
  readonly maxThreads?: number;
  readonly logger?: Logger;
  /** The thread's entry module; default answer-thread. Tests point it at one that fails to start. */
  readonly threadEntry?: URL;
}

/** Highest online CPU id + 1 (PACKET_FANOUT_CPU picks member `cpu % members`). */
export function cpuSlotCount(online = readOnline()): number {
  let max = -1;
  for (const part of online.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (m === null) continue;
    max = Math.max(max, Number(m[2] ?? m[1]));
  }
  return max >= 0 ? max + 1 : Math.max(1, cpus().length);
}

function readOnline(): string {
  try {
    return readFileSync('/sys/devices/system/cpu/online', 'utf8');
  } catch {
    return '';
  }
}

const threadUrl = siblingModule(import.meta.url, 'answer-thread');
function startWorker(data: AnswerThreadData, name: string, entry = threadUrl): Worker {
  return startModuleWorker(entry, data, name);
}

interface Thread {
  readonly worker: Worker;
  applied: number;
  state: ThreadState | undefined;
  /** Resolves when it runs, or when it failed to start. */
  readonly ready: Promise<void>;
  /** It could not start: it holds nothing and never will. */
  failed: boolean;
}

interface Port {
  readonly key: string;
  readonly iface: string;
  readonly family: Family;
  readonly mac: MacAddress;
  vips: readonly string[];
  /** Members this thread still holds, by CPU (the rest were handed to that CPU's thread). */
  readonly held: Map<number, PacketSocket>;
}

export function createCpuAnswerers(opts: CpuAnswerersOptions = {}): CpuAnswerers {
  const log = opts.logger ?? silentLogger();
  const slots = cpuSlotCount();
  const maxThreads = Math.max(1, opts.maxThreads ?? DEFAULT_MAX_ANSWER_THREADS);
  const allowed = new Set(threadAffinity());
  // Blocks 0..slots-1: the CPUs' threads; block `slots`: this thread.
  const shared = new SharedArrayBuffer((slots + 1) * COUNTER_SLOTS * Float64Array.BYTES_PER_ELEMENT);
  const blocks = Array.from({ length: slots + 1 }, (_, i) => new Float64Array(shared, i * COUNTER_SLOTS * 8, COUNTER_SLOTS));
  const mainBlock = blocks[slots] ?? new Float64Array(COUNTER_SLOTS);
  const area = createReceiveArea();
  const threads = new Map<number, Thread>();
  const ports = new Map<string, Port>();
  const waiters: { seq: number; resolve: () => void }[] = [];
  let seq = 0;
  let closing = false;
  /** CPUs whose hand-over is scheduled or waiting for their thread to boot. */
  const pendingHandOver = new Set<number>();

  const settle = (): void => {
    let done = seq;
    for (const t of threads.values()) done = Math.min(done, t.applied);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i];
      if (w !== undefined && w.seq <= done) {
        waiters.splice(i, 1);
        w.resolve();
      }
    }
  };

  function startThread(cpu: number): Thread {
    const data: AnswerThreadData = {
      cpu,
      pin: allowed.has(cpu),
      logLevel: log.level,
      logBindings: log.bindings(),
      counters: shared,
      counterOffset: cpu * COUNTER_SLOTS * 8,
      counterSlots: COUNTER_SLOTS,
    };
    const worker = startWorker(data, `berth-l2-cpu${cpu}`, opts.threadEntry);
    worker.unref();
    let readyResolve: () => void = () => undefined;
    const t: Thread = { worker, applied: 0, state: undefined, ready: new Promise((r) => (readyResolve = r)), failed: false };
    worker.on('message', (m: FromAnswerThread) => {
      if (t.failed) return;
      if (m.op === 'ready') {
        t.state = m.error === undefined ? { cpu: m.cpu, pinned: m.pinned } : { cpu: m.cpu, pinned: m.pinned, error: m.error };
        if (m.error !== undefined) log.warn({ cpu, err: m.error }, 'l2: answer thread runs unpinned');
        readyResolve();
      } else {
        t.applied = Math.max(t.applied, m.seq);
        settle();
      }
    });
    worker.on('error', (err) => {
      if (t.state === undefined) {
        // It never ran, so it holds no member: this CPU's requests stay with the main thread (which
        // never hands them over now: the failed thread stays in the map, and counts as up to date).
        t.failed = true;
        t.applied = Number.POSITIVE_INFINITY;
        t.state = { cpu, pinned: false, error: `could not start: ${String(err)}` };
        log.error({ cpu, err: String(err) }, 'l2: answer thread could not start; this CPU\'s requests are answered on the main thread');
        readyResolve();
        settle();
        return;
      }
      // A responder bug must not pass silently (like a throwing handler on the engine's own thread).
      log.error({ cpu, err: String(err) }, 'l2: answer thread failed');
      process.nextTick(() => {
        throw err;
      });
    });
    worker.on('exit', (code) => {
      if (!closing) log.error({ cpu, code }, 'l2: answer thread exited');
    });
    threads.set(cpu, t);
    log.info({ cpu, pinned: data.pin }, 'l2: answer thread started for requests arriving on this CPU');
    return t;
  }

  /** Gives CPU `cpu`'s members of every port to its thread (started now if it is not running). */
  function handOver(cpu: number): void {
    if (closing) return;
    let t = threads.get(cpu);
    if (t?.failed === true) return;
    if (t === undefined) {
      if (threads.size >= maxThreads) return;
      t = startThread(cpu);
      // The current lists first: a frame must never meet a port the thread has no list for. (It holds
      // no member before it has them, so it is up to date until the next setVips.)
      t.applied = seq;
      for (const p of ports.values()) t.worker.postMessage({ op: 'vips', key: p.key, vips: p.vips, seq } satisfies ToAnswerThread);
    }
    if (t.state === undefined) {
      // Keep answering here while the thread boots (tens of ms); hand the members over once it runs.
      pendingHandOver.add(cpu);
      void t.ready.then(() => {
        pendingHandOver.delete(cpu);
        handOver(cpu);
      });
      return;
    }
    for (const p of ports.values()) {
      const s = p.held.get(cpu);
      if (s === undefined) continue;
      p.held.delete(cpu);
      const fd = s.detach();
      t.worker.postMessage({ op: 'open', key: p.key, fd, iface: p.iface, family: p.family, mac: p.mac } satisfies ToAnswerThread);
    }
  }

  /** Not yet scheduled, and the CPU has a thread that did not fail or may still get one (the cap). */
  const mayHandOver = (cpu: number): boolean => {
    if (pendingHandOver.has(cpu)) return false;
    const t = threads.get(cpu);
    return t === undefined ? threads.size < maxThreads : !t.failed;
  };

  function hold(p: Port, cpu: number, fd: number, owns: (ip: string) => boolean): void {
    const socket = openPacketSocket({
      ifname: p.iface,
      etherType: p.family === 4 ? SysEtherType.ARP : SysEtherType.IPv6,
      fd,
      keepAlive: false,
      receiveArea: area,
      // Frames arrive from the event loop only, after `answer` below exists.
      onFrame: (f) => {
        // A CPU gets its thread when it delivers a request we answer (the LAN's other ARP/NDP traffic,
        // dropped, stays here), after this wakeup's frames (they are in the shared area).
        if (answerFrame(answer, f.frame, mainBlock, log) && mayHandOver(cpu)) {
          pendingHandOver.add(cpu);
          setImmediate(() => {
            pendingHandOver.delete(cpu);
            handOver(cpu);
          });
        }
      },
    });
    const answer: AnswerPort = { iface: p.iface, family: p.family, ctx: { mac: p.mac, owns }, scratch: createReplyScratch(), send: (frame) => socket.send(frame) };
    p.held.set(cpu, socket);
  }

  const broadcast = (m: ToAnswerThread): void => {
    for (const t of threads.values()) t.worker.postMessage(m);
  };

  return {
    threads: async () => {
      const all = [...threads.entries()].sort(([a], [b]) => a - b);
      await Promise.all(all.map(([, t]) => t.ready));
      return all.map(([cpu, t]) => t.state ?? { cpu, pinned: false });
    },
    openPort(key, iface, family, mac, owns) {
      const etherType = family === 4 ? SysEtherType.ARP : SysEtherType.IPv6;
      const filter = responderFilter(etherType);
      const fds = openFanoutSockets({ ifname: iface, etherType, ...(filter === undefined ? {} : { filter }), members: slots });
      const p: Port = { key, iface, family, mac, vips: [], held: new Map() };
      ports.set(key, p);
      let next = 0;
      try {
        for (; next < fds.length; next++) {
          const fd = fds[next] ?? -1;
          // Only a running thread gets the fd at once; for a booting one this thread holds it until
          // the hand-over that follows the boot (a thread that then fails to start never had it).
          const t = threads.get(next);
          if (t === undefined || t.failed || t.state === undefined) hold(p, next, fd, owns);
          else t.worker.postMessage({ op: 'open', key, fd, iface, family, mac } satisfies ToAnswerThread);
        }
      } catch (e) {
        for (const fd of fds.slice(next)) closeFd(fd);
        for (const s of p.held.values()) s.close();
        ports.delete(key);
        broadcast({ op: 'close', key });
        throw e;
      }
      // A machine with no more CPUs than the cap gets every CPU's thread now, with its first port:
      // booting one takes about 43 ms of CPU (210 ms through tsx; docs/layer2.md), better spent before the
      // first request than during it. Bigger machines start them on demand (see above).
      if (slots <= maxThreads) for (let cpu = 0; cpu < slots; cpu++) if (!threads.has(cpu)) handOver(cpu);
    },
    setVips(key, vips) {
      const p = ports.get(key);
      if (p !== undefined) p.vips = vips;
      seq++;
      const mine = seq;
      broadcast({ op: 'vips', key, vips, seq: mine });
      return new Promise<void>((resolve) => {
        waiters.push({ seq: mine, resolve });
        settle();
      });
    },
    closePort(key) {
      const p = ports.get(key);
      ports.delete(key);
      if (p !== undefined) for (const s of p.held.values()) s.close();
      broadcast({ op: 'close', key });
    },
    totals: () => sumCounters(blocks),
    running: () => [...threads.values()].filter((t) => t.state !== undefined && !t.failed).length,
    perThread: () => ({ main: sumCounters([mainBlock]), cpus: blocks.slice(0, slots).map((b) => sumCounters([b])) }),
    async close() {
      if (closing) return;
      closing = true;
      for (const p of ports.values()) for (const s of p.held.values()) s.close();
      ports.clear();
      await Promise.all(
        [...threads.values()].map(
          ({ worker }) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 1000);
              worker.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              worker.postMessage({ op: 'stop' } satisfies ToAnswerThread);
            }),
        ),
      );
      for (const w of waiters.splice(0)) w.resolve();
    },
  };
}
