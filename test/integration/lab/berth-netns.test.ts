// berth in the lab built by the namespace runner from frr-lab/topology.clab.yml (no Docker): see berth-scenario.ts.
import { test } from 'node:test';
import { deployNetns } from '../../../frr-lab/netns.ts';
import { berthScenario } from './berth-scenario.ts';

test('berth speaker --manifests in the netns lab: seed manifests, BGP ECMP, Layer 2, edits', { timeout: 600_000 }, async (t) => {
  const lab = await deployNetns({ prefix: 'blabn' });
  try {
    await berthScenario(t, lab);
  } finally {
    await lab.destroy();
  }
});
