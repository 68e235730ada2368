// One per-CPU answer thread: the body of a worker_thread that cpu-answerers.ts starts for CPU `cpu`.
//
// It pins itself to its CPU, adopts member `cpu` of each port's fanout group (the socket the kernel
// hands the frames it receives on that CPU) and answers them with answerFrame, the code the engine
// runs on its own thread. So a request is answered on the CPU it arrived on: no wake-up of another
// CPU, which costs more than everything else a reply takes (docs/layer2.md, "Per-CPU answering").
// Ownership comes as messages (whole VIP lists per port, acknowledged with their sequence number);
// counters go to this thread's block of a shared array; logs go to stderr like the main thread's.
import { parentPort, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { openPacketSocket, pinCurrentThread, type PacketSocket } from '../sys/index.ts';
import { EtherType } from './constants.ts';
import { answerFrame, type AnswerPort } from './answer.ts';
import { createReplyScratch } from './frame-bytes.ts';
import type { FromAnswerThread, ToAnswerThread, AnswerThreadData } from './cpu-answerers.ts';

const data = workerData as AnswerThreadData;
const port = parentPort;
if (port === null) throw new Error('answer-thread.ts runs only as a worker thread');
const post = (m: FromAnswerThread): void => port.postMessage(m);

const log = pino({ level: data.logLevel, base: { ...data.logBindings, cpu: data.cpu } }, pino.destination({ fd: 2, sync: true }));
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
  owned: ReadonlySet<string>;
}
const ports = new Map<string, ThreadPort>();

function open(m: Extract<ToAnswerThread, { op: 'open' }>): void {
  const socket = openPacketSocket({
    ifname: m.iface,
    etherType: m.family === 4 ? EtherType.arp : EtherType.ipv6,
    fd: m.fd,
    keepAlive: false,
    // Frames arrive from the event loop only, after `self` below exists.
    onFrame: (f) => answerFrame(self, f.frame, counters, log),
  });
  const owned: ReadonlySet<string> = new Set();
  const self: ThreadPort = {
    iface: m.iface,
    family: m.family,
    socket,
    owned,
    ctx: { mac: m.mac, owns: (ip) => self.owned.has(ip) },
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
    case 'vips': {
      const p = ports.get(m.key);
      if (p !== undefined) p.owned = new Set(m.vips);
      post({ op: 'applied', seq: m.seq });
      return;
    }
    case 'close': {
      const p = ports.get(m.key);
      ports.delete(m.key);
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
