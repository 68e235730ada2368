// A hostile BGP peer (hostile-peer.ts) against a real `berth speaker --manifests` that peers with FRR in
// the same run (issue 14 §2). Lab prefix bfz: node1 runs berth (iBGP AS 64512 to the FRR router
// 192.0.2.1, 20 VIPs announced); node2 runs the hostile peer (eBGP AS 64999, hold time 3 s), which
// plays one scenario per connection berth opens. Each scenario gets the RFC's answer:
//   - header errors (wrong marker, bad lengths, oversized, unknown type): NOTIFICATION 1/x, RFC 4271 §6.1;
//   - RFC 7606 attribute errors: treat-as-withdraw or attribute-discard (the session stays, berth logs
//     the problem), or session reset with the RFC 4271 §6.3 / RFC 4760 §7 code;
//   - a message split at every byte boundary, 10,000 UPDATEs/s: read whole, the session stays;
//   - slowloris (one octet a second): berth's hold timer expires, NOTIFICATION 4/0 (RFC 4271 §6.5);
//   - a peer that never reads: berth drops it once its queue for that peer passes its bound
//     (BERTH_BGP_MAX_UNSENT_BYTES here; 32 MiB by default, src/bgp/session.ts).
// And FRR's session never flaps and keeps every route (show bgp neighbor json, before and after).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from '../speaker/harness.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const ASN = 64512;
const HOSTILE_ASN = 64999;
const VIPS = Array.from({ length: 20 }, (_, i) => `203.0.113.${i + 1}`);
// The never-read scenario: the lab shrinks the kernel's TCP buffers (hostile netns receive, node netns
// send: a few kB), then 404 Services are announced and withdrawn in turn (about 2 kB of UPDATEs per
// turn) until berth's queue for the peer that does not read passes MAX_UNSENT. The FRR session carries
// the same churn and must keep up.
const MAX_UNSENT = 16 * 1024;
const CHURN_IPS = [...Array.from({ length: 254 }, (_, i) => `198.51.100.${i + 1}`), ...Array.from({ length: 150 }, (_, i) => `203.0.113.${i + 101}`)];
const CHURN = CHURN_IPS.length;

interface Expect {
  readonly name: string;
  /** NOTIFICATION berth must send [code, subcode]; undefined: the session must stay up. */
  readonly notification?: readonly [number, number];
  /** RFC 7606 action berth must log for a stay-up scenario. */
  readonly action?: 'treat-as-withdraw' | 'attribute-discard';
}

// Expected answers, from the RFCs (the hostile peer's comments say which rule).
const SCENARIOS: readonly Expect[] = [
  { name: 'garbage-after-open', notification: [1, 1] },
  { name: 'wrong-marker', notification: [1, 1] },
  { name: 'truncated-header-length', notification: [1, 2] },
  { name: 'keepalive-too-long', notification: [1, 2] },
  { name: 'update-too-short', notification: [1, 2] },
  { name: 'oversized', notification: [1, 2] },
  { name: 'unknown-type', notification: [1, 3] },
  { name: 'attr-flags', action: 'treat-as-withdraw' },
  { name: 'origin-value', action: 'treat-as-withdraw' },
  { name: 'missing-next-hop', action: 'treat-as-withdraw' },
  { name: 'communities-length', action: 'treat-as-withdraw' },
  { name: 'atomic-aggregate-length', action: 'attribute-discard' },
  { name: 'duplicate-origin', action: 'attribute-discard' },
  { name: 'attr-length-overrun', action: 'treat-as-withdraw' },
  { name: 'duplicate-mp-reach', notification: [3, 1] },
  { name: 'mp-reach-next-hop-length', notification: [3, 9] },
  { name: 'withdrawn-overrun', notification: [3, 1] },
  { name: 'nlri-length-33', notification: [3, 10] },
  { name: 'split-every-byte', action: 'treat-as-withdraw' },
  { name: 'flood', action: 'treat-as-withdraw' },
  { name: 'slowloris', notification: [4, 0] },
];

interface PeerEvent {
  readonly event: string;
  readonly conn?: number;
  readonly scenario?: string;
  readonly code?: number;
  readonly subcode?: number;
  readonly by?: string;
  readonly receivedBytes?: number;
  readonly [k: string]: unknown;
}

interface Neighbor {
  readonly bgpState?: string;
  readonly connectionsEstablished?: number;
  readonly connectionsDropped?: number;
  readonly bgpTimerUpEstablishedEpoch?: number;
  readonly addressFamilyInfo?: { readonly ipv4Unicast?: { readonly acceptedPrefixCounter?: number } };
}

async function frrNeighbor(lab: Lab, ip: string): Promise<Neighbor | undefined> {
  return (await lab.vtyshJson<Record<string, Neighbor>>(`show bgp neighbor ${ip} json`))[ip];
}

function config(node: Parameters<typeof nodeDoc>[0], hostileIp: string, churn: boolean): string[] {
  return [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/24", "198.51.100.0/24"]}',
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 9s}`,
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: hostile, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${HOSTILE_ASN}, peerAddress: ${hostileIp}, holdTime: 3s, connectTime: 2s}`,
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool]}',
    nodeDoc(node),
    ...VIPS.map((ip, i) => serviceDoc(`svc-${i}`, { statusIPs: [ip] })),
    ...(churn ? CHURN_IPS.map((ip, i) => serviceDoc(`churn-${i}`, { statusIPs: [ip] })) : []),
  ];
}

function status(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? NaN) / 1024;
}

test('a hostile BGP peer gets the RFC answer to each attack; the FRR session never flaps and keeps every route', { timeout: 600_000 }, async () => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bfz', nodes: 2, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      const [node, hostileHost] = lab.nodes;
      assert.ok(node !== undefined && hostileHost !== undefined);
      // Small TCP buffers (per network namespace, min default max): the never-read scenario fills them
      // with a test-sized amount of churn.
      await lab.exec(hostileHost, ['sysctl', '-qw', 'net.ipv4.tcp_rmem=4096 4096 4096']);
      await lab.exec(node, ['sysctl', '-qw', 'net.ipv4.tcp_wmem=4096 8192 8192']);
      const events: PeerEvent[] = [];
      const names = [...SCENARIOS.map((s) => s.name), 'never-read'];
      const peer = lab.spawn(hostileHost, [process.execPath, '--import', 'tsx', resolve(here, 'hostile-peer.ts'), hostileHost.ipv4, String(HOSTILE_ASN), names.join(',')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
      const pout = peer.child.stdout;
      assert.ok(pout !== null);
      createInterface({ input: pout }).on('line', (l) => events.push(JSON.parse(l) as PeerEvent));
      const peerTail = (): Promise<string> => Promise.resolve(`${events.slice(-10).map((e) => JSON.stringify(e)).join('\n')}\n${peer.output().stderr.slice(-2000)}`);
      await waitFor('the hostile peer listening', 30_000, async () => (events.some((e) => e.event === 'listening') ? true : undefined), peerTail);

      dir.write('config.yaml', config(node, hostileHost.ipv4, false));
      const s = new SpeakerProcess(lab, node, dir.path, [], { BERTH_BGP_MAX_UNSENT_BYTES: String(MAX_UNSENT) });
      const tail = async (): Promise<string> => `${s.tail(30)}\n--- hostile peer:\n${await peerTail()}`;
      try {
        await waitFor('all 20 VIPs at FRR', 60_000, async () => ((await frrNeighbor(lab, node.ipv4))?.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter === VIPS.length ? true : undefined), tail);
        const before = await frrNeighbor(lab, node.ipv4);
        assert.equal(before?.bgpState, 'Established');

        const figures: string[] = [];
        for (const [i, sc] of SCENARIOS.entries()) {
          const conn = i + 1;
          const mark = s.lines.length;
          if (sc.notification !== undefined) {
            const closed = await waitFor(`${sc.name}: berth closes the connection`, 60_000, async () => events.find((e) => e.event === 'closed' && e.conn === conn), tail);
            const got = events.filter((e) => e.event === 'notification' && e.conn === conn).map((e) => [e.code, e.subcode]);
            assert.deepEqual(got, [sc.notification], `${sc.name}: NOTIFICATION(s) berth sent`);
            assert.equal(closed.by, 'berth', `${sc.name}: berth closed the session`);
            if (sc.name === 'slowloris') figures.push(`slowloris: hold timer expired after ${String(events.find((e) => e.event === 'notification' && e.conn === conn)?.['afterMs'])} ms`);
          } else {
            await waitFor(`${sc.name}: berth keeps talking (2 KEEPALIVEs after the attack)`, 60_000, async () => (events.some((e) => e.event === 'keepalives-after' && e.conn === conn) ? true : undefined), tail);
            assert.deepEqual(events.filter((e) => e.event === 'notification' && e.conn === conn), [], `${sc.name}: no NOTIFICATION from berth`);
            // Positive signal that berth read the UPDATE whole and applied RFC 7606 (logged at debug).
            const problems = await waitFor(`${sc.name}: berth logs the ${sc.action ?? ''} problem`, 30_000, async () => {
              const p = s.lines.slice(mark).filter((l) => l['msg'] === 'UPDATE attribute problem' && l['peer'] === 'hostile');
              return p.length > 0 ? p : undefined;
            }, tail);
            assert.ok(problems.every((p) => p['action'] === sc.action), `${sc.name}: actions ${problems.map((p) => String(p['action'])).join(',')}`);
            const sent = events.find((e) => e.event === 'sent' && e.conn === conn);
            if (sc.name === 'flood') {
              figures.push(`flood: ${String(sent?.['updates'])} UPDATEs in ${String(sent?.['seconds'])} s (${String(sent?.['perSecond'])}/s)`);
              assert.ok(Number(sent?.['updates']) >= 30_000);
            }
            if (sc.name === 'split-every-byte') assert.equal(sent?.['writes'], sent?.['octets']);
          }
        }

        // Never reads: berth's queue for the peer grows with churn until it passes its bound.
        const nr = SCENARIOS.length + 1;
        await waitFor('never-read: the session is up', 60_000, async () => (events.some((e) => e.event === 'sent' && e.conn === nr) ? true : undefined), tail);
        const rssBefore = status(s.pid, 'VmRSS');
        let rounds = 0;
        const dropped = (): Record<string, unknown> | undefined => s.lines.find((l) => l['msg'] === 'send buffer over its bound: dropping the connection');
        while (dropped() === undefined) {
          rounds += 1;
          assert.ok(rounds <= 60, `berth never dropped the peer that does not read after ${rounds} rounds of churn\n${await tail()}`);
          const churn = rounds % 2 === 1;
          dir.write('config.yaml', config(node, hostileHost.ipv4, churn));
          const want = VIPS.length + (churn ? CHURN : 0);
          await waitFor(`churn round ${rounds}: FRR has ${want} routes`, 60_000, async () => (dropped() !== undefined || (await frrNeighbor(lab, node.ipv4))?.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter === want ? true : undefined), tail);
        }
        const d = dropped();
        assert.equal(d?.['peer'], 'hostile');
        assert.ok(Number(d?.['queued']) > MAX_UNSENT && Number(d?.['queued']) <= MAX_UNSENT + 1024 * 1024, `queued ${String(d?.['queued'])} octets when dropped`);
        // berth reconnects: the next connection is a fresh session ("behave").
        await waitFor('berth reconnects to the hostile peer', 60_000, async () => (events.some((e) => e.event === 'established' && (e.conn ?? 0) > nr) ? true : undefined), tail);
        figures.push(`never-read: dropped after ${rounds} churn rounds with ${String(d?.['queued'])} octets queued (bound ${MAX_UNSENT}); RSS ${rssBefore.toFixed(0)} -> ${status(s.pid, 'VmRSS').toFixed(0)} MiB, peak ${status(s.pid, 'VmHWM').toFixed(0)} MiB`);

        // Back to the 20 VIPs: FRR must hold exactly them, on the session it had from the start.
        if (rounds % 2 === 1) dir.write('config.yaml', config(node, hostileHost.ipv4, false));
        await waitFor('FRR back to the 20 VIPs', 60_000, async () => ((await frrNeighbor(lab, node.ipv4))?.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter === VIPS.length ? true : undefined), tail);
        const after = await frrNeighbor(lab, node.ipv4);
        assert.equal(after?.bgpState, 'Established');
        assert.equal(after?.connectionsEstablished, before?.connectionsEstablished, 'FRR: the session was never re-established');
        assert.equal(after?.connectionsDropped ?? 0, before?.connectionsDropped ?? 0, 'FRR: the session never dropped');
        // FRR derives the epoch from now - uptime, so it moves by a second with rounding; a flap would move
        // it to the re-establishment, minutes after `before` was read.
        const moved = Math.abs((after?.bgpTimerUpEstablishedEpoch ?? 0) - (before?.bgpTimerUpEstablishedEpoch ?? 0));
        assert.ok(moved <= 1, `FRR: the session's Established time moved by ${moved} s (a flap)`);
        for (const vip of VIPS) {
          const r = await lab.vtyshJson<{ paths?: readonly { valid?: boolean }[] }>(`show bgp ipv4 unicast ${vip}/32 json`);
          assert.ok((r.paths ?? []).some((p) => p.valid === true), `FRR lost ${vip}`);
        }
        assert.ok(s.running, 'berth is still running');
        for (const f of figures) process.stdout.write(`# ${f}\n`);
      } finally {
        await s.stop().catch(() => undefined);
        await peer.kill(1000);
      }
    });
  } finally {
    dir.remove();
  }
});
