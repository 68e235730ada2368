// berth as in a Kubernetes cluster (frr-lab/k8s-lab.ts) in the lab deployed by containerlab from
// frr-lab/topology.clab.yml (the lab's own dockerd, locally built images; the API server on the management
// bridge's gateway): see k8s-scenario.ts. Docker (Debian docker.io) and containerlab (PATH or
// ../shared/tools/containerlab.sh) are required: when missing the test fails and says so.
import { test } from 'node:test';
import { deployClab } from '../../../frr-lab/clab.ts';
import { k8sScenario } from './k8s-scenario.ts';
import { TEST_CLAB_VARS } from './clab-vars.ts';

test('berth in Kubernetes mode in the containerlab lab: API server, controllers, speakers, kube-proxy, pods; seeds, changes, a node failure', { timeout: 1_200_000 }, async (t) => {
  const lab = await deployClab({ vars: TEST_CLAB_VARS });
  try {
    await k8sScenario(t, lab);
  } finally {
    await lab.destroy();
    await lab.engine.stop();
  }
});
