// berth in the lab deployed by containerlab from frr-lab/topology.clab.yml (the lab's own dockerd, locally built
// images): see berth-scenario.ts. Docker (Debian docker.io) and containerlab (PATH or
// ../shared/tools/containerlab.sh) are required: when missing the test fails and says so.
import { test } from 'node:test';
import { deployClab } from '../../../frr-lab/clab.ts';
import { berthScenario } from './berth-scenario.ts';
import { TEST_CLAB_VARS } from './clab-vars.ts';

test('berth speaker --manifests in the containerlab lab: seed manifests, BGP ECMP, Layer 2, edits', { timeout: 1_200_000 }, async (t) => {
  const lab = await deployClab({ vars: TEST_CLAB_VARS });
  try {
    await berthScenario(t, lab);
  } finally {
    await lab.destroy();
    await lab.engine.stop();
  }
});
