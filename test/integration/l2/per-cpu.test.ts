// Per-CPU answering against a real kernel (frr-lab, prefix bl2p): three node namespaces and a client on
// one LAN bridge. A request sent from a client process pinned to CPU c is received by the kernel on
// CPU c (veth and bridge forward in the sender's softirq), so PACKET_FANOUT_CPU must hand it to CPU c's
// member. node1's driver answers per CPU as the speaker does by default (src/l2/cpu-answerers.ts: this
// machine has no more CPUs than the cap, so every CPU's thread starts with the first VIP); node2's on
// its main thread (--l2-threads 0); node3's with a cap of one thread, below the CPU count, so threads
// start on demand: CPU c's member stays with the main thread until CPU c delivers a request it answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { arpingReplies, ndisc6Replies, Responder } from './harness.ts';

const VIP4 = '203.0.113.30';
const VIP6 = '2001:db8:f00::30';
const INLINE4 = '203.0.113.31';
const CAPPED4 = '203.0.113.32';

async function arpingFrom(lab: Lab, cpu: number, ip: string, count: number): Promise<string[]> {
  const r = await lab.exec('client', ['taskset', '-c', String(cpu), 'arping', '-c', String(count), '-W', '0.2', '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

test("per-CPU answering: each CPU's requests are answered by that CPU's thread", { timeout: 180_000 }, async (t) => {
  const online = cpus().length;
  assert.ok(online >= 2, `this test needs at least 2 CPUs (on-demand threads below the CPU count); the machine has ${online}`);
  await withLab({ prefix: 'bl2p', nodes: 3, client: true }, async (lab) => {
    const [node1, node2, node3] = lab.nodes;
    assert.ok(node1 !== undefined && node2 !== undefined && node3 !== undefined);
    const perCpu = await Responder.start(lab, node1, { burst: 1, interval: 1000, refresh: 0 });
    const inline = await Responder.start(lab, node2, { burst: 1, interval: 1000, refresh: 0, threads: 0 });
    const capped = await Responder.start(lab, node3, { burst: 1, interval: 1000, refresh: 0, threads: 1 });
    const counts = async (r: Responder): Promise<{ main: number; cpus: number[] }> => {
      const p = (await r.threads()).perThread;
      assert.ok(p !== undefined, 'the driver runs the per-CPU pool');
      return { main: p.main.arpReplies, cpus: p.cpus.map((x) => x.arpReplies) };
    };
    const pinned = (r: Responder) => r.threads().then((x) => x.threads.map((s) => ({ cpu: s.cpu, pinned: s.pinned })));
    const allCpus = Array.from({ length: online }, (_, cpu) => ({ cpu, pinned: true }));

    await t.test('no thread before the first VIP; with it, one per CPU, each pinned', async () => {
      assert.deepEqual(await pinned(perCpu), []);
      assert.deepEqual((await perCpu.own([{ vip: VIP4 }, { vip: VIP6 }])).problems, []);
      assert.deepEqual(await pinned(perCpu), allCpus);
    });

    await t.test('requests sent on CPU c are answered by thread c alone', async () => {
      for (let cpu = 0; cpu < online; cpu++) {
        const before = await counts(perCpu);
        assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 4), [node1.mac, node1.mac, node1.mac, node1.mac], `replies to requests sent on CPU ${cpu}`);
        const after = await counts(perCpu);
        assert.equal(after.main, before.main, `CPU ${cpu}: the main thread answered nothing`);
        const delta = after.cpus.map((n, i) => n - (before.cpus[i] ?? 0));
        assert.deepEqual(delta, delta.map((_, i) => (i === cpu ? 4 : 0)), `replies per thread for CPU ${cpu}`);
      }
      // The engine's totals include the threads' (what `stats` reports to users).
      assert.equal((await perCpu.stats()).arpReplies, 4 * online);
    });

    await t.test('neighbor solicitations are answered through the same members', async () => {
      const r = await lab.exec('client', ['ndisc6', '-m', '-n', '-r', '1', '-w', '1500', VIP6, 'eth1'], { check: false, timeoutMs: 20_000 });
      assert.deepEqual(ndisc6Replies(r.stdout), [node1.mac]);
      assert.equal((await perCpu.stats()).ndpReplies, 1);
    });

    await t.test('the main-thread mode (--l2-threads 0) answers the same way, and has no threads', async () => {
      assert.deepEqual((await inline.own([{ vip: INLINE4 }])).problems, []);
      assert.deepEqual(await arpingFrom(lab, 0, INLINE4, 2), [node2.mac, node2.mac]);
      assert.deepEqual((await inline.threads()).threads, []);
      assert.equal((await inline.stats()).arpReplies, 2);
    });

    await t.test('below the CPU count, a thread starts for the CPU whose request was answered, up to the cap', async () => {
      assert.deepEqual((await capped.own([{ vip: CAPPED4 }])).problems, []);
      assert.deepEqual(await pinned(capped), [], 'no thread before a request');
      // Other ARP traffic the member sees (announcements of the other nodes) starts nothing: only answers do.
      const before = await counts(capped);
      assert.deepEqual(await arpingFrom(lab, 1, CAPPED4, 3), [node3.mac, node3.mac, node3.mac]);
      const mid = await counts(capped);
      assert.equal(mid.main - before.main + (mid.cpus[1] ?? 0), 3, 'CPU 1: the main thread, then its thread, answered all');
      assert.deepEqual(await pinned(capped), [{ cpu: 1, pinned: true }]);
      // With its thread running, CPU 1's requests go to it alone; CPU 0's stay with the main thread (cap 1).
      assert.deepEqual(await arpingFrom(lab, 1, CAPPED4, 2), [node3.mac, node3.mac]);
      assert.deepEqual(await arpingFrom(lab, 0, CAPPED4, 2), [node3.mac, node3.mac]);
      const after = await counts(capped);
      assert.deepEqual([after.main - mid.main, (after.cpus[1] ?? 0) - (mid.cpus[1] ?? 0), after.cpus[0]], [2, 2, 0]);
      assert.deepEqual(await pinned(capped), [{ cpu: 1, pinned: true }], 'the cap holds');
    });

    await t.test('a VIP given up is not answered by any thread', async () => {
      assert.deepEqual((await perCpu.own([{ vip: VIP6 }])).problems, []);
      for (let cpu = 0; cpu < online; cpu++) assert.deepEqual(await arpingFrom(lab, cpu, VIP4, 2), [], `CPU ${cpu}`);
      // The IPv4 port is closed with its last VIP; the IPv6 port stays and the threads keep running.
      assert.equal((await perCpu.threads()).threads.length, online);
    });

    await perCpu.stop();
    await inline.stop();
    await capped.stop();
  });
});
