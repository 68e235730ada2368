// The failover benchmark's machinery (bench/failover), one trial end to end: the benchmark's lab
// (prefix bfot: router, three nodes, LAN client, outside client, an HTTP backend per node), three berth
// speakers with liveness, the 10 ms prober on the LAN client (ARP + TCP), and one Layer 2 SIGKILL trial
// of the owner: the trial settles, its gap is a finite number, the MAC that answers at the end is
// another node's (exactly one), the TCP probes reached the backend behind the VIP, and the killed
// owner gets the VIP back when it returns. Behaviour, not timing: the figures are the benchmark's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BerthSubject, berthManifests } from '../../../bench/failover/berth.ts';
import { l2Trial } from '../../../bench/failover/cases.ts';
import { buildLab, VIPS, SERVICE_PORT } from '../../../bench/failover/lab-setup.ts';
import { Prober } from '../../../bench/failover/probes.ts';

test('bench/failover: one berth Layer 2 SIGKILL trial moves the VIP to another node, measured', { timeout: 300_000 }, async () => {
  const lab = await buildLab('bfot');
  const subject = new BerthSubject(lab, berthManifests(lab, { l2: true }));
  const client = lab.client;
  assert.ok(client);
  const prober = new Prober(lab, client, { vip: VIPS.berthL2, arp: true, tcpPort: SERVICE_PORT });
  try {
    await prober.ready();
    for (const n of lab.nodes) await subject.start(n);
    const t = await l2Trial(lab, subject, prober, 'kill', { settleWithinMs: 30_000 });
    const macs = lab.nodes.map((n) => n.mac.toLowerCase());
    const owner = lab.nodes.find((n) => n.name === t.node);
    assert.ok(owner, `the trial names the owner it killed: ${t.node}`);
    assert.equal(t.settled, true, JSON.stringify(t));
    assert.ok(t.arpGapMs !== undefined && Number.isFinite(t.arpGapMs) && t.arpGapMs > 0, `a finite ARP gap: ${JSON.stringify(t)}`);
    assert.equal(t.macsAtEnd.length, 1, `exactly one MAC answers after the takeover: ${JSON.stringify(t.macsAtEnd)}`);
    const [newMac = ''] = t.macsAtEnd;
    assert.ok(macs.includes(newMac) && newMac !== owner.mac.toLowerCase(), `another node's MAC answers: ${newMac}`);
    assert.ok(t.tcpSent > 0, 'TCP probes were sent in the window');
    // The TCP probes reach the HTTP backend behind the VIP (each one connects once the VIP is steady).
    assert.ok(prober.tcp.some((p) => p.ok), 'TCP connects to the VIP succeeded');
    // l2Trial started the owner again and waited for it: it answers alone for the VIP once more.
    assert.deepEqual(prober.macsSince(prober.arp.at(-1)?.t ?? 0), [owner.mac.toLowerCase()]);
  } finally {
    await subject.close();
    await prober.stop();
    await lab.destroy();
  }
});
