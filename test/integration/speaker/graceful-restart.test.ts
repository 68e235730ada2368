// `berth speaker` stopping and starting (RFC 4724), in one node namespace of frr-lab (prefix bspgr)
// against the FRR router (iBGP, AS 64512, FRR's default graceful-restart helper mode):
//   SIGUSR2   planned restart: no NOTIFICATION, the router keeps the route (stale), the state file stays;
//   restart   the new process says it restarted (R bit), the route is fresh again;
//   SIGTERM   drain: the router withdraws the route at once, the state file is removed;
//   a start after the drain is fresh (no R bit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ASN = 64512;
const VIP = '203.0.113.10';

interface FrrPath {
  readonly stale?: boolean;
  readonly valid?: boolean;
}

async function paths(lab: Lab): Promise<readonly FrrPath[]> {
  const r = await lab.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ipv4 unicast ${VIP}/32 json`);
  return r.paths ?? [];
}

test('berth speaker: SIGUSR2 restarts keeping the routes, the next start sets the R bit; SIGTERM drains', { timeout: 180_000 }, async () => {
  const dir = new ManifestDir();
  const stateDir = mkdtempSync(join(tmpdir(), 'bspgr-state-'));
  const statePath = join(stateDir, 'speaker-restart.json');
  try {
    await withLab({ prefix: 'bspgr', nodes: 1, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      const node = lab.nodes[0];
      assert.ok(node !== undefined);
      dir.write('config.yaml', [
        'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/26"]}',
        `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 9s, enableGracefulRestart: true}`,
        'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool]}',
        nodeDoc(node),
        serviceDoc('svc-a', { statusIPs: [VIP] }),
      ]);
      const start = (): SpeakerProcess => new SpeakerProcess(lab, node, dir.path, ['--graceful-restart-state', statePath]);
      const restartLogged = (s: SpeakerProcess): boolean => s.lines.some((l) => String(l['msg']).includes('graceful restart R bit set'));

      // 1. A fresh start: no R bit; the route arrives.
      let s = start();
      await waitFor('the VIP at the router', 30_000, async () => ((await paths(lab)).some((p) => p.valid === true) ? true : undefined), async () => s.tail());
      assert.ok(existsSync(statePath), 'the state file is written at start');
      assert.equal(JSON.parse(readFileSync(statePath, 'utf8')).bootId, readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
      assert.equal(restartLogged(s), false, 'a first start is not a restart');

      // 2. SIGUSR2: no NOTIFICATION, so the router keeps the route as stale (RFC 4724 §4.2).
      assert.equal(await s.signal('SIGUSR2'), 0);
      assert.ok(existsSync(statePath), 'a planned restart keeps the state file');
      await waitFor('the route kept as stale', 15_000, async () => ((await paths(lab)).some((p) => p.stale === true) ? true : undefined), async () => JSON.stringify(await paths(lab)));

      // 3. The new process is a restart (R bit) and refreshes the route (End-of-RIB clears stale).
      s = start();
      await waitFor('the restart logged', 15_000, async () => (restartLogged(s) ? true : undefined), async () => s.tail());
      await waitFor('the route fresh again', 30_000, async () => {
        const ps = await paths(lab);
        return ps.length === 1 && ps[0]?.valid === true && ps[0].stale !== true ? true : undefined;
      }, async () => JSON.stringify(await paths(lab)));

      // 4. SIGTERM drains: Cease, the router withdraws at once; the next start is fresh.
      assert.equal(await s.stop(), 0);
      assert.equal(existsSync(statePath), false, 'a drain removes the state file');
      await waitFor('the route withdrawn', 10_000, async () => ((await paths(lab)).length === 0 ? true : undefined), async () => JSON.stringify(await paths(lab)));
      s = start();
      await waitFor('the VIP back', 30_000, async () => ((await paths(lab)).some((p) => p.valid === true) ? true : undefined), async () => s.tail());
      assert.equal(restartLogged(s), false, 'a start after a drain is fresh');
      assert.equal(await s.stop(), 0);
    });
  } finally {
    dir.remove();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
