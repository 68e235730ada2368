// Per-CPU answering against a real kernel (frr-lab, prefix bl2p): two node namespaces and a client on
// one LAN bridge. node1's driver answers on one pinned thread per CPU (src/l2/cpu-answerers.ts, the
// speaker's default), node2's on its main thread (--l2-threads 0). A request sent from a client process
// pinned to CPU c is received by the kernel on CPU c (veth and bridge forward in the sender's softirq),
// so PACKET_FANOUT_CPU must hand it to the thread of CPU c, and only to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { arpingReplies, ndisc6Replies, Responder } from './harness.ts';

const VIP4 = '203.0.113.30';
const VIP6 = '2001:db8:f00::30';
const INLINE4 = '203.0.113.31';

async function arpingFrom(lab: Lab, cpu: number, ip: string, count: number): Promise<string[]> {
  const r = await lab.exec('client', ['taskset', '-c', String(cpu), 'arping', '-c', String(count), '-W', '0.2', '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

test('per-CPU answer threads: a request is answered by the thread of the CPU it arrived on', { timeout: 120_000 }, async (t) => {
  const online = cpus().length;
  await withLab({ prefix: 'bl2p', nodes: 2, client: true }, async (lab) => {
    const [node1, node2] = lab.nodes;
    assert.ok(node1 !== undefined && node2 !== undefined);
    const threaded = await Responder.start(lab, node1, { burst: 1, interval: 1000, refresh: 0 });
    const inline = await Responder.start(lab, node2, { burst: 1, interval: 1000, refresh: 0, threads: 0 });
    assert.deepEqual((await threaded.own([{ vip: VIP4 }, { vip: VIP6 }])).problems, []);
    assert.deepEqual((await inline.own([{ vip: INLINE4 }])).problems, []);

    await t.test('one thread per online CPU, each pinned to its CPU', async () => {
      const { threads } = await threaded.threads();
      assert.deepEqual(
        threads.map((s) => ({ cpu: s.cpu, pinned: s.pinned })),
        Array.from({ length: Math.min(online, 4) }, (_, cpu) => ({ cpu, pinned: online <= 4 })),
      );
    });

    await t.test('requests sent on CPU c are answered by thread c alone (c mod threads)', async () => {
      for (let cpu = 0; cpu < online; cpu++) {
        const before = (await threaded.threads()).perThread.map((x) => x.arpReplies);
        const macs = await arpingFrom(lab, cpu, VIP4, 4);
        assert.deepEqual(macs, [node1.mac, node1.mac, node1.mac, node1.mac], `replies to requests sent on CPU ${cpu}`);
        const after = (await threaded.threads()).perThread.map((x) => x.arpReplies);
        const delta = after.map((n, i) => n - (before[i] ?? 0));
        // Member c % threads (PACKET_FANOUT_CPU); on a machine with at most 4 CPUs, thread c itself.
        assert.deepEqual(delta, delta.map((_, i) => (i === cpu % delta.length ? 4 : 0)), `replies per thread for CPU ${cpu}`);
      }
      // The engine's totals include the threads' (what `stats` reports to users).
      const s = await threaded.stats();
      assert.equal(s.arpReplies, 4 * online);
    });

    await t.test('neighbor solicitations are answered by the threads too', async () => {
      const r = await lab.exec('client', ['ndisc6', '-m', '-n', '-r', '1', '-w', '1500', VIP6, 'eth1'], { check: false, timeoutMs: 20_000 });
      assert.deepEqual(ndisc6Replies(r.stdout), [node1.mac]);
      assert.equal((await threaded.stats()).ndpReplies, 1);
    });

    await t.test('the main-thread mode (--l2-threads 0) answers the same way, and has no threads', async () => {
      assert.deepEqual(await arpingFrom(lab, 0, INLINE4, 2), [node2.mac, node2.mac]);
      assert.deepEqual((await inline.threads()).threads, []);
      assert.equal((await inline.stats()).arpReplies, 2);
    });

    await t.test('a VIP given up is not answered by any thread', async () => {
      assert.deepEqual((await threaded.own([])).problems, []);
      for (let cpu = 0; cpu < online; cpu++) assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 2), [], `CPU ${cpu}`);
    });

    await threaded.stop();
    await inline.stop();
  });
});
