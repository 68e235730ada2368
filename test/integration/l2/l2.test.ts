// Layer 2 mode against real kernels: three node namespaces and a client on one LAN bridge (frr-lab,
// prefix bl2a). Each node runs the responder driver (real engine, AF_PACKET sockets from src/sys); the
// election decides which node owns each VIP, as every speaker would compute it. The client uses
// arping, ndisc6, its own neighbour table and curl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import { run } from '../../../frr-lab/run.ts';
import { elect, type ElectionNode } from '../../../src/l2/election.ts';
import { arpingReplies, ndisc6Replies, Responder, startDataPlane, waitFor } from './harness.ts';

const VIP4 = '203.0.113.10';
const VIP6 = '2001:db8:f00::10';
const UNOWNED4 = '203.0.113.99';
const UNOWNED6 = '2001:db8:f00::99';
const EXCLUDED4 = '203.0.113.20';

function winner(nodes: readonly LabHost[], alive: (n: LabHost) => boolean): LabHost {
  const input: ElectionNode[] = nodes.map((n) => ({ name: n.name, labels: {}, ready: true, networkUnavailable: false, taints: [], alive: alive(n) }));
  const r = elect({
    ip: VIP4, // the first ingress IP: both families go to the same node
    nodes: input,
    advertisements: [{ nodeSelectors: [], preferredNodeSelectors: [] }],
    externalTrafficPolicy: 'Cluster',
    servingEndpointNodes: nodes.map((n) => n.name),
    hasServingEndpoint: true,
  });
  assert.equal(r.kind, 'elected');
  const w = nodes.find((n) => r.kind === 'elected' && n.name === r.winner);
  assert.ok(w);
  return w;
}

async function arping(lab: Lab, ip: string, count = 3): Promise<string[]> {
  // -W: gap between requests; arping waits up to a second after the last one for late replies.
  const r = await lab.exec('client', ['arping', '-c', String(count), '-W', '0.3', '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

async function ndisc6(lab: Lab, ip: string): Promise<string[]> {
  // -m: wait for and print every answer, so a second responder would show up.
  const r = await lab.exec('client', ['ndisc6', '-m', '-n', '-r', '1', '-w', '1500', ip, 'eth1'], { check: false, timeoutMs: 20_000 });
  return ndisc6Replies(r.stdout);
}

async function neighMac(lab: Lab, ip: string, family: 4 | 6): Promise<string | undefined> {
  const entries = await lab.neigh('client', { family, dev: 'eth1' });
  return entries.find((e) => e.dst === ip)?.lladdr?.toLowerCase();
}

test('layer 2 mode against real kernel neighbour tables', { timeout: 240_000 }, async (t) => {
  await withLab({ prefix: 'bl2a', nodes: 3, client: true }, async (lab) => {
    const responders = new Map<string, Responder>();
    for (const n of lab.nodes) {
      responders.set(n.name, await Responder.start(lab, n, { burst: 5, interval: 500, refresh: 0 }));
      await startDataPlane(lab, n, { v4: VIP4, v6: VIP6 });
    }
    const r = (h: LabHost): Responder => {
      const x = responders.get(h.name);
      assert.ok(x, h.name);
      return x;
    };
    const alive = new Set(lab.nodes.map((n) => n.name));
    const owner = winner(lab.nodes, (n) => alive.has(n.name));
    for (const n of lab.nodes) {
      const reply = await r(n).own(n === owner ? [{ vip: VIP4 }, { vip: VIP6 }] : []);
      assert.deepEqual(reply.problems, []);
    }

    await t.test('arping gets exactly one reply per request, from the elected node', async () => {
      const macs = await arping(lab, VIP4, 3);
      assert.deepEqual(macs, [owner.mac, owner.mac, owner.mac]);
      for (const n of lab.nodes) {
        const s = await r(n).stats();
        assert.equal(s.arpReplies, n === owner ? 3 : 0, n.name);
      }
    });

    /**
     * ndisc6 -m also prints the unsolicited NAs of a running announcement burst, so "exactly one
     * answer" is checked on the responders' counters: one NS sent, one NA from the owner, none from
     * anyone else.
     */
    const ndpExactlyOne = async (from: LabHost): Promise<void> => {
      const before = new Map<string, number>();
      for (const n of lab.nodes) if (alive.has(n.name)) before.set(n.name, (await r(n).stats()).ndpReplies);
      const macs = await ndisc6(lab, VIP6);
      assert.deepEqual([...new Set(macs)], [from.mac]);
      for (const n of lab.nodes) {
        if (!alive.has(n.name)) continue;
        const delta = (await r(n).stats()).ndpReplies - (before.get(n.name) ?? 0);
        assert.equal(delta, n === from ? 1 : 0, `NS answered by ${n.name}`);
      }
    };

    await t.test('ndisc6 gets exactly one advertisement, from the elected node', async () => {
      await ndpExactlyOne(owner);
    });

    await t.test('curl reaches the owner through its DNAT; the client kernel caches the owner MAC', async () => {
      const v4 = await lab.exec('client', ['curl', '-s', '-m', '5', `http://${VIP4}/`]);
      assert.equal(v4.stdout, owner.name);
      const v6 = await lab.exec('client', ['curl', '-s', '-m', '5', '-g', `http://[${VIP6}]/`]);
      assert.equal(v6.stdout, owner.name);
      assert.equal(await neighMac(lab, VIP4, 4), owner.mac);
      assert.equal(await neighMac(lab, VIP6, 6), owner.mac);
    });

    await t.test('a VIP nobody owns gets no reply', async () => {
      assert.deepEqual(await arping(lab, UNOWNED4, 2), []);
      assert.deepEqual(await ndisc6(lab, UNOWNED6), []);
    });

    await t.test('a VIP on an excluded interface is not answered (and is, once the exclusion is lifted)', async () => {
      // A second LAN port on the owner named like a container veth, which the default list excludes.
      const nodeNs = lab.nsOf(owner);
      const swNs = lab.plan.switchNs;
      await run(['ip', 'link', 'add', 'vethbl2', 'netns', nodeNs, 'type', 'veth', 'peer', 'name', 'pbl2', 'netns', swNs]);
      await lab.exec('switch', ['ip', 'link', 'set', 'pbl2', 'master', lab.plan.bridge, 'up']);
      await lab.exec(owner, ['ip', 'link', 'set', 'vethbl2', 'up']);
      const vethMac = (await lab.exec(owner, ['cat', '/sys/class/net/vethbl2/address'])).stdout.trim();
      const onVeth = { vip: EXCLUDED4, request: { kind: 'names', names: ['vethbl2'] } as const };

      const excluded = await r(owner).own([{ vip: VIP4 }, { vip: VIP6 }, onVeth]);
      assert.deepEqual(
        excluded.problems.map((p) => [p.vip, p.reason]),
        [[EXCLUDED4, 'noInterface']],
      );
      assert.deepEqual(await arping(lab, EXCLUDED4, 2), []);
      assert.deepEqual(await arping(lab, VIP4, 1), [owner.mac], 'the other VIPs are unaffected');

      // Control: the same request with an exclusion list that spares veth* is answered from that port.
      const lifted = await r(owner).own([{ vip: VIP4 }, { vip: VIP6 }, onVeth], { exclude: ['^lo$'] });
      assert.deepEqual(lifted.problems, []);
      assert.deepEqual(await arping(lab, EXCLUDED4, 2), [vethMac, vethMac]);

      assert.deepEqual((await r(owner).own([{ vip: VIP4 }, { vip: VIP6 }])).problems, []);
      assert.deepEqual(await arping(lab, EXCLUDED4, 1), []);
    });

    let next: LabHost | undefined;
    await t.test('owner crashes: the new owner moves the client entry by gratuitous ARP / unsolicited NA alone', async () => {
      // The client holds entries for both VIPs pointing at the owner.
      await lab.exec('client', ['curl', '-s', '-m', '5', `http://${VIP4}/`]);
      await lab.exec('client', ['curl', '-s', '-m', '5', '-g', `http://[${VIP6}]/`]);
      assert.equal(await neighMac(lab, VIP4, 4), owner.mac);
      assert.equal(await neighMac(lab, VIP6, 6), owner.mac);
      await r(owner).crash();
      alive.delete(owner.name);
      const successor = winner(lab.nodes, (n) => alive.has(n.name));
      next = successor;
      assert.notEqual(successor.name, owner.name);
      assert.deepEqual((await r(successor).own([{ vip: VIP4 }, { vip: VIP6 }])).problems, []);
      await waitFor('client IPv4 entry to move', 5000, async () => ((await neighMac(lab, VIP4, 4)) === successor.mac ? true : undefined));
      await waitFor('client IPv6 entry to move', 5000, async () => ((await neighMac(lab, VIP6, 6)) === successor.mac ? true : undefined));
      // The client never asked: the successor answered no request at all.
      const s = await r(successor).stats();
      assert.equal(s.arpReplies, 0);
      assert.equal(s.ndpReplies, 0);
      assert.ok(s.announcementsSent >= 3, `announcements sent: ${s.announcementsSent}`);
      // And traffic follows.
      assert.equal((await lab.exec('client', ['curl', '-s', '-m', '5', `http://${VIP4}/`])).stdout, successor.name);
      assert.equal((await lab.exec('client', ['curl', '-s', '-m', '5', '-g', `http://[${VIP6}]/`])).stdout, successor.name);
    });

    await t.test('old owner returns and wins again: the loser stops answering at once', async () => {
      assert.ok(next);
      const successor = next;
      const back = await Responder.start(lab, owner, { burst: 5, interval: 500, refresh: 0 });
      responders.set(owner.name, back);
      alive.add(owner.name);
      assert.equal(winner(lab.nodes, (n) => alive.has(n.name)).name, owner.name);
      // Every speaker applies the new result: the loser releases, the winner takes.
      // The loser keeps another VIP, so its socket stays open and sees the requests it must refuse.
      await r(successor).own([{ vip: '203.0.113.30' }]);
      const loserBefore = await r(successor).stats();
      await back.own([{ vip: VIP4 }, { vip: VIP6 }]);
      await waitFor('the owner answering again', 10_000, async () => ((await arping(lab, VIP4, 1)).includes(owner.mac) ? true : undefined));
      assert.deepEqual(await arping(lab, VIP4, 3), [owner.mac, owner.mac, owner.mac]);
      await ndpExactlyOne(owner);
      const loser = await r(successor).stats();
      assert.equal(loser.arpReplies - loserBefore.arpReplies, 0);
      assert.equal(loser.ndpReplies - loserBefore.ndpReplies, 0);
      const refused = (loser.drops['arp:notOwned'] ?? 0) - (loserBefore.drops['arp:notOwned'] ?? 0);
      assert.ok(refused >= 3, `the loser saw the requests and dropped them as notOwned (${refused})`);
    });

    for (const x of responders.values()) await x.stop();
  });
});
