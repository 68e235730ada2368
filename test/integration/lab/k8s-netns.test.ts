// berth as in a Kubernetes cluster (frr-lab/k8s-lab.ts) in the lab built by the namespace runner from
// frr-lab/topology.clab.yml, with a management network 203.0.113.208/28 on a host bridge 'blk8-mgmt' so the
// nodes reach the API server: see k8s-scenario.ts.
import { test } from 'node:test';
import { deployNetns } from '../../../frr-lab/netns.ts';
import { k8sScenario } from './k8s-scenario.ts';

test('berth in Kubernetes mode in the netns lab: API server, controllers, speakers, kube-proxy, pods; seeds, changes, a node failure', { timeout: 900_000 }, async (t) => {
  const lab = await deployNetns({ prefix: 'blk8', mgmtIpv4Subnet: '203.0.113.208/28' });
  try {
    await k8sScenario(t, lab);
  } finally {
    await lab.destroy();
  }
});
