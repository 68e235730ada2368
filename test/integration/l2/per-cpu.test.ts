// Per-CPU answering against a real kernel (frr-lab, prefix bl2p): two node namespaces and a client on
// one LAN bridge. node1's driver answers per CPU (src/l2/cpu-answerers.ts, the speaker's default),
// node2's on its main thread (--l2-threads 0). A request sent from a client process pinned to CPU c is
// received by the kernel on CPU c (veth and bridge forward in the sender's softirq), so
// PACKET_FANOUT_CPU must hand it to CPU c's member: held by the main thread until that CPU's first
// request, which starts CPU c's thread; from then on answered by that thread alone.
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

test('per-CPU answering: threads start for the CPUs requests arrive on, and answer only their CPU', { timeout: 120_000 }, async (t) => {
  const online = cpus().length;
  await withLab({ prefix: 'bl2p', nodes: 2, client: true }, async (lab) => {
    const [node1, node2] = lab.nodes;
    assert.ok(node1 !== undefined && node2 !== undefined);
    const threaded = await Responder.start(lab, node1, { burst: 1, interval: 1000, refresh: 0 });
    const inline = await Responder.start(lab, node2, { burst: 1, interval: 1000, refresh: 0, threads: 0 });
    assert.deepEqual((await threaded.own([{ vip: VIP4 }, { vip: VIP6 }])).problems, []);
    assert.deepEqual((await inline.own([{ vip: INLINE4 }])).problems, []);
    const counts = async (): Promise<{ main: number; cpus: number[] }> => {
      const p = (await threaded.threads()).perThread;
      assert.ok(p !== undefined, 'the driver runs the per-CPU pool');
      return { main: p.main.arpReplies, cpus: p.cpus.map((x) => x.arpReplies) };
    };

    await t.test('no thread before any request', async () => {
      assert.deepEqual((await threaded.threads()).threads, []);
    });

    await t.test("a CPU's first request starts its thread, pinned to it; nothing else does", async () => {
      for (let cpu = 0; cpu < online; cpu++) {
        const before = await counts();
        assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 3), [node1.mac, node1.mac, node1.mac], `replies to requests sent on CPU ${cpu}`);
        const after = await counts();
        const others = after.cpus.map((n, i) => (i === cpu ? 0 : n - (before.cpus[i] ?? 0)));
        assert.deepEqual(others, others.map(() => 0), `threads of other CPUs answered nothing for CPU ${cpu}`);
        assert.equal(after.main - before.main + (after.cpus[cpu] ?? 0) - (before.cpus[cpu] ?? 0), 3, `CPU ${cpu}: main + its thread answered all`);
        const started = (await threaded.threads()).threads;
        assert.deepEqual(
          started.map((s) => ({ cpu: s.cpu, pinned: s.pinned })),
          Array.from({ length: cpu + 1 }, (_, c) => ({ cpu: c, pinned: true })),
        );
      }
    });

    await t.test('with its thread running, a CPU\'s requests are answered by that thread alone', async () => {
      for (let cpu = 0; cpu < online; cpu++) {
        const before = await counts();
        assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 4), [node1.mac, node1.mac, node1.mac, node1.mac]);
        const after = await counts();
        assert.equal(after.main, before.main, `CPU ${cpu}: the main thread answered nothing`);
        const delta = after.cpus.map((n, i) => n - (before.cpus[i] ?? 0));
        assert.deepEqual(delta, delta.map((_, i) => (i === cpu ? 4 : 0)), `replies per thread for CPU ${cpu}`);
      }
      // The engine's totals include the threads' (what `stats` reports to users).
      assert.equal((await threaded.stats()).arpReplies, 7 * online);
    });

    await t.test('neighbor solicitations are answered through the same members', async () => {
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
      assert.deepEqual((await threaded.own([{ vip: VIP6 }])).problems, []);
      for (let cpu = 0; cpu < online; cpu++) assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 2), [], `CPU ${cpu}`);
      // The IPv4 port is closed with its last VIP; the IPv6 port stays and the threads keep running.
      assert.equal((await threaded.threads()).threads.length, online);
    });

    await threaded.stop();
    await inline.stop();
  });
});
