// Periodic re-announcement and DAD defence against a real Linux client (frr-lab, prefix bl2c): a node
// owning VIPs with a 1 s refresh, and a client whose neighbour entries were pointed elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { Responder, waitFor } from './harness.ts';

const VIP4 = '203.0.113.40';
const VIP6 = '2001:db8:f00::40';
const DAD6 = '2001:db8:f00::41';
const BOGUS = '02:00:00:00:99:99';

async function neighMac(lab: Lab, ip: string, family: 4 | 6): Promise<string | undefined> {
  const entries = await lab.neigh('client', { family, dev: 'eth1' });
  return entries.find((e) => e.dst === ip)?.lladdr?.toLowerCase();
}

test('layer 2 refresh and DAD defence', { timeout: 120_000 }, async (t) => {
  await withLab({ prefix: 'bl2c', nodes: 1, client: true }, async (lab) => {
    const node = lab.nodes[0];
    assert.ok(node);
    const responder = await Responder.start(lab, node, { burst: 1, interval: 1000, refresh: 1000 });
    try {
      assert.deepEqual((await responder.own([{ vip: VIP4 }, { vip: VIP6 }, { vip: DAD6 }])).problems, []);

      await t.test('a stale client entry pointing elsewhere is corrected by the periodic announcement alone', async () => {
        for (const [ip, family] of [
          [VIP4, 4],
          [VIP6, 6],
        ] as const) {
          await lab.exec('client', ['ip', ...(family === 6 ? ['-6'] : []), 'neigh', 'replace', ip, 'lladdr', BOGUS, 'dev', 'eth1', 'nud', 'stale']);
          assert.equal(await neighMac(lab, ip, family), BOGUS);
        }
        // With burst 1 the first announcement is long gone; only the 1 s refresh can fix the entries.
        await waitFor('IPv4 entry corrected', 5000, async () => ((await neighMac(lab, VIP4, 4)) === node.mac ? true : undefined));
        await waitFor('IPv6 entry corrected', 5000, async () => ((await neighMac(lab, VIP6, 6)) === node.mac ? true : undefined));
        const s = await responder.stats();
        assert.equal(s.arpReplies, 0, 'the client never asked');
        assert.equal(s.ndpReplies, 0, 'the client never asked');
      });

      await t.test('refresh stops with ownership', async () => {
        await responder.own([{ vip: DAD6 }]);
        await lab.exec('client', ['ip', 'neigh', 'replace', VIP4, 'lladdr', BOGUS, 'dev', 'eth1', 'nud', 'stale']);
        // Positive signal, no pause: the responder keeps refreshing (DAD6), and four announcements later a
        // refresh round that still covered VIP4 would have corrected the client's entry (as above).
        const before = (await responder.stats()).announcementsSent;
        await waitFor('four more refresh announcements', 30_000, async () => ((await responder.stats()).announcementsSent >= before + 4 ? true : undefined));
        assert.equal(await neighMac(lab, VIP4, 4), BOGUS, 'a VIP no longer owned is not announced');
      });

      await t.test('a client configuring an owned IPv6 VIP fails duplicate address detection', async () => {
        await lab.exec('client', ['sysctl', '-q', '-w', 'net.ipv6.conf.eth1.accept_dad=1']);
        // The kernel delays the first DAD probe by a random 0..router_solicitation_delay (1 s); DAD6 is
        // also refreshed every second, and an unsolicited NA landing in that delay fails DAD without any
        // probe (RFC 4862 §5.4.4). Probe at once, so this test sees berth answer the probe itself.
        await lab.exec('client', ['sysctl', '-q', '-w', 'net.ipv6.conf.eth1.router_solicitation_delay=0']);
        await lab.exec('client', ['ip', '-6', 'addr', 'add', `${DAD6}/64`, 'dev', 'eth1']);
        const flags = await waitFor('DAD to finish', 10_000, async () => {
          const out = (await lab.exec('client', ['ip', '-6', '-o', 'addr', 'show', 'dev', 'eth1'])).stdout;
          const line = out.split('\n').find((l) => l.includes(`${DAD6}/64`));
          return line !== undefined && !line.includes('tentative') ? line : line?.includes('dadfailed') === true ? line : undefined;
        });
        assert.match(flags, /dadfailed/);
        assert.ok((await responder.stats()).ndpReplies >= 1, 'berth answered the DAD probe');
      });
    } finally {
      await responder.stop();
    }
  });
});
