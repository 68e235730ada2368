// Runs inside a namespace of its own for thread-failure.test.ts: a per-CPU pool whose threads fail to
// start, a port on the loopback, ARP requests for an owned address sent there. Prints one JSON line.
import { createCpuAnswerers } from '../../../src/l2/cpu-answerers.ts';
import { openSendSocket } from '../../../src/sys/index.ts';
import { createLogger } from '../../../src/log.ts';
import { KERNEL_ARP_REQUEST } from '../../unit/l2/vectors.ts';

const pool = createCpuAnswerers({ threadEntry: new URL('../../fixtures/l2/failing-thread.mjs', import.meta.url), logger: createLogger({ level: 'warn', name: 'thread-failure' }) });
const vip = '192.0.2.11'; // the request's target
pool.openPort('4|lo', 'lo', 4, '00:00:00:00:00:00', (ip) => ip === vip);
await pool.setVips('4|lo', [vip]);
const states = await pool.threads(); // resolves for threads that failed too
const sender = openSendSocket('lo');
for (let i = 0; i < 5; i++) {
  sender.send(KERNEL_ARP_REQUEST);
  await new Promise((r) => setTimeout(r, 50));
}
// Wait for the main thread's answers (the positive signal), bounded for a hung pool; the test checks the count.
for (const deadline = Date.now() + 10_000; pool.perThread().main.arpReplies < 5 && Date.now() < deadline; ) {
  await new Promise((r) => setTimeout(r, 20));
}
const settledAfter = await Promise.race([pool.setVips('4|lo', [vip]).then(() => true), new Promise((r) => setTimeout(() => r(false), 2000))]);
process.stdout.write(`${JSON.stringify({ states, perThread: pool.perThread(), settledAfter })}\n`);
sender.close();
await pool.close();
