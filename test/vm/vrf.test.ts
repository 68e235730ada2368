// BGPPeer spec.vrf against FRR, in a qemu guest whose Debian kernel has VRF (the host's may not):
// test/vm/guest.ts boots it, test/vm/vrf-guest.ts runs inside and prints one BERTH-VM-CHECK line per
// check; each is asserted here as its own test. What the guest checks (see vrf-guest.ts): a node netns
// with VRF "red" enslaving one uplink and a second uplink in the default VRF, `berth speaker --manifests`
// with a vrf: red BGPPeer and a plain one, FRR (-N instance) in a router netns; both sessions
// Established, the VIP in FRR's RIB with the VRF interface's address as next hop over the VRF session,
// BFD with the VRF peer up at FRR, and no route to the VRF peer in the node's main table (so a session that ignored vrf, not bound to
// the VRF device, could not come up: connect() fails with "network unreachable").
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runInGuest, REPO_ROOT, type GuestRun } from './guest.ts';

interface GuestCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

const EXPECTED = [
  'the main table of the node has no route to the VRF peer',
  'VRF red routes to the VRF peer over its enslaved uplink',
  'FRR: the session in the default VRF (198.51.100.2) is Established',
  'FRR: the session over the VRF uplink (192.0.2.2) is Established',
  '203.0.113.10/32 from the default-VRF peer has 198.51.100.2 as next hop',
  '203.0.113.10/32 from the VRF peer has the VRF interface\'s address 192.0.2.2 as next hop',
  'FRR: BFD with the VRF peer (192.0.2.2) is up',
];

let run: GuestRun;
let checks: GuestCheck[] = [];

describe('BGPPeer vrf in a qemu guest with a VRF kernel', { timeout: 420_000 }, () => {
  before(async () => {
    run = await runInGuest({
      command: [process.execPath, '--import', 'tsx', 'test/vm/vrf-guest.ts'],
      cwd: REPO_ROOT,
      timeoutMs: 400_000,
    });
    checks = run.lines.filter((l) => l.startsWith('BERTH-VM-CHECK ')).map((l) => JSON.parse(l.slice('BERTH-VM-CHECK '.length)) as GuestCheck);
  });

  it('the guest ran the scenario to the end and exited 0', (t) => {
    const uptime = run.lines.map((l) => /^\[\s*(\d+\.\d+)\] reboot: Power down/.exec(l)?.[1]).find((x) => x !== undefined);
    t.diagnostic(`guest: ${run.accel}, ${(run.elapsedMs / 1000).toFixed(1)} s from qemu start to power-off (guest clock ${uptime ?? '?'} s)`);
    const failed = checks.filter((c) => !c.ok);
    assert.equal(run.exitCode, 0, `guest exit ${run.exitCode} (${run.accel}, ${run.elapsedMs} ms); failed: ${JSON.stringify(failed)}\n${run.lines.slice(-60).join('\n')}`);
    assert.deepEqual(checks.map((c) => c.name), EXPECTED, 'every check reported, in order');
  });

  for (const name of EXPECTED) {
    it(name, () => {
      const c = checks.find((x) => x.name === name);
      assert.ok(c !== undefined, `the guest did not report "${name}"`);
      assert.ok(c.ok, `${name}: ${c.detail}`);
    });
  }
});
