// One per-CPU answer thread: the body of a worker_thread that cpu-answerers.ts starts for CPU `cpu`.
//
// It pins itself to its CPU, adopts member `cpu` of each port's fanout group (the socket the kernel
// hands the frames it receives on that CPU; until then the main thread held it) and answers them with
// answerFrame, the code the engine runs on its own thread. So a request is answered on the CPU it arrived on: no wake-up of another
// CPU, which costs more than everything else a reply takes (docs/layer2.md, "Per-CPU answering").
// Ownership comes as messages (whole VIP lists per port, acknowledged with their sequence number);
// counters go to this thread's block of a shared array; logs go to stderr as JSON lines shaped like the
// main thread's pino lines (a thread is kept small: it imports only what answering needs, ~10 MiB less
// than pino and the whole of src/sys).
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { openPacketSocket, pinCurrentThread, type PacketSocket } from '../sys/packet.ts';
import { EtherType } from './constants.ts';
import { answerFrame, type AnswerLog, type AnswerPort } from './answer.ts';
import { createReplyScratch } from './frame-bytes.ts';
import type { FromAnswerThread, ToAnswerThread, AnswerThreadData } from './cpu-answerers.ts';

const data = workerData as AnswerThreadData;
const port = parentPort;
if (port === null) throw new Error('answer-thread.ts runs only as a worker thread');
const post = (m: FromAnswerThread): void => port.postMessage(m);

// pino's level numbers; a line is written synchronously to stderr, like createLogger's destination.
const LEVELS: Readonly<Record<string, number>> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity };
const threshold = LEVELS[data.logLevel] ?? 30;
const line = (level: number, obj: Record<string, unknown>, msg: string): void => {
  if (level < threshold) return;
  writeSync(2, `${JSON.stringify({ level, time: Date.now(), ...data.logBindings, cpu: data.cpu, ...obj, msg })}\n`);
};
const log: AnswerLog = {
  isLevelEnabled: (level) => (LEVELS[level] ?? 0) >= threshold,
  debug: (obj, msg) => line(20, obj, msg),
  warn: (obj, msg) => line(40, obj, msg),
};
const counters = new Float64Array(data.counters, data.counterOffset, data.counterSlots);

let pinned = false;
let pinError: string | undefined;
if (data.pin) {
  try {
    pinCurrentThread(data.cpu);
    pinned = true;
  } catch (e) {
    pinError = String(e);
  }
}

interface ThreadPort extends AnswerPort {
  readonly socket: PacketSocket;
}
const ports = new Map<string, ThreadPort>();
/** VIPs per port key; may arrive before the port's socket (a thread started late gets them first). */
const owned = new Map<string, ReadonlySet<string>>();

function open(m: Extract<ToAnswerThread, { op: 'open' }>): void {
  const socket = openPacketSocket({
    ifname: m.iface,
    etherType: m.family === 4 ? EtherType.arp : EtherType.ipv6,
    fd: m.fd,
    keepAlive: false,
    // Frames arrive from the event loop only, after `self` below exists.
    onFrame: (f) => answerFrame(self, f.frame, counters, log),
  });
  const key = m.key;
  const self: ThreadPort = {
    iface: m.iface,
    family: m.family,
    socket,
    ctx: { mac: m.mac, owns: (ip) => owned.get(key)?.has(ip) === true },
    scratch: createReplyScratch(),
    send: (frame) => socket.send(frame),
  };
  ports.set(m.key, self);
}

port.on('message', (m: ToAnswerThread) => {
  switch (m.op) {
    case 'open':
      try {
        open(m);
      } catch (e) {
        log.warn({ iface: m.iface, err: String(e) }, 'l2: answer thread cannot adopt its socket');
      }
      return;
    case 'vips':
      owned.set(m.key, new Set(m.vips));
      post({ op: 'applied', seq: m.seq });
      return;
    case 'close': {
      const p = ports.get(m.key);
      ports.delete(m.key);
      owned.delete(m.key);
      p?.socket.close();
      return;
    }
    case 'stop':
      for (const p of ports.values()) p.socket.close();
      ports.clear();
      port.close();
      return;
    default: {
      const never: never = m;
      log.warn({ message: JSON.stringify(never) }, 'l2: answer thread got an unknown message');
    }
  }
});

post({ op: 'ready', cpu: data.cpu, pinned, ...(pinError === undefined ? {} : { error: pinError }) });
