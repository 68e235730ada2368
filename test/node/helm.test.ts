// charts/berth on a real Kubernetes node (test/node/harness), with the image built from this repository:
// `helm install` makes both workloads Ready, the controller holds the Lease, a LoadBalancer Service gets an
// address from a pool that a pod in another namespace reaches through kube-proxy; `helm upgrade` turning on
// speaker liveness (the chart's generated key, kept by the next upgrade) restarts the speaker with it and changes
// no address; `helm uninstall` then leaves nothing of berth but its CRDs (Helm never deletes crds/).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startNode, waitFor, type RealNode } from './harness/node.ts';
import { repoRoot } from './harness/images.ts';
import { appManifests, berthPods, berthReady, controllerLeaseHolder, fetchThroughVip, poolManifests, vipOf } from './harness/workloads.ts';

let node: RealNode | undefined;
const n = (): RealNode => {
  if (node === undefined) throw new Error('the node did not start (see the before hook)');
  return node;
};

async function helmOk(args: readonly string[]): Promise<string> {
  const r = await n().helm(args);
  if (r.code !== 0) throw new Error(`helm ${args.join(' ')} exited ${String(r.code)}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const crdNames = async (): Promise<string[]> =>
  (await n().kubectlOk(['get', 'crd', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ').filter((x) => x.endsWith('metallb.io') || x.endsWith('kubesphere.io')).sort();

describe('charts/berth on a real node', { timeout: 1_800_000 }, () => {
  before(async () => {
    node = await startNode();
    const [repository = '', tag = ''] = node.berthImage.split(':');
    await helmOk(['install', 'berth', join(repoRoot, 'charts/berth'), '--set', `image.repository=${repository}`, '--set', `image.tag=${tag}`]);
  });

  after(async () => {
    await node?.stop();
  });

  test('helm install: both workloads Ready, one controller holds the Lease', async () => {
    await waitFor('2/2 controllers and 1/1 speaker Ready', 240_000, () => berthReady(n()), () => n().logs(10));
    const controllers = await berthPods(n(), 'app.kubernetes.io/component=controller');
    await waitFor('a Lease holder among the controllers', 60_000, async () => (controllers.includes(await controllerLeaseHolder(n())) ? true : undefined));
    assert.match(await helmOk(['status', 'berth']), /STATUS: deployed/);
  });

  test('a LoadBalancer Service gets an address from the pool, served through kube-proxy', async () => {
    await n().kubectlOk(['apply', '-f', '-'], { stdin: poolManifests() });
    await n().kubectlOk(['apply', '-f', '-'], { stdin: appManifests(n().berthImage) });
    await n().kubectlOk(['rollout', 'status', 'deployment/web', '-n', 'berth-node-app', '--timeout=180s'], { timeoutMs: 200_000 });
    const vip = await waitFor('the Service status', 60_000, () => vipOf(n()));
    assert.match(vip, /^198\.51\.100\.(20[0-7])$/);
    assert.match(await fetchThroughVip(n(), vip, 'helm'), /^hello from web-/);
  });

  let vip = '';
  test('helm upgrade --set speaker.liveness.enabled=true: the speaker heartbeats with the generated key, kept by the next upgrade; no address changes', async () => {
    vip = (await vipOf(n())) ?? '';
    assert.notEqual(vip, '', 'needs the previous test');
    const chart = join(repoRoot, 'charts/berth');
    await helmOk(['upgrade', 'berth', chart, '--reuse-values', '--set', 'speaker.liveness.enabled=true']);
    await n().kubectlOk(['rollout', 'status', '-n', 'berth-system', 'daemonset/berth-speaker', '--timeout=180s'], { timeoutMs: 200_000 });
    await waitFor('workloads Ready after the upgrade', 120_000, () => berthReady(n()));
    const logs = await waitFor('the new speaker logging liveness', 60_000, async () => {
      const r = await n().kubectl(['logs', '-n', 'berth-system', 'daemonset/berth-speaker']);
      return r.code === 0 && r.stdout.includes('liveness: heartbeats on') ? r.stdout : undefined;
    });
    assert.match(logs, /"port":7947.*liveness: heartbeats on/);
    const key = async (): Promise<string> => n().kubectlOk(['get', 'secret', 'berth-liveness', '-n', 'berth-system', '-o', 'jsonpath={.data.key}']);
    const first = await key();
    assert.ok(Buffer.from(first, 'base64').length >= 16);
    await helmOk(['upgrade', 'berth', chart, '--reuse-values']);
    assert.equal(await key(), first, 'the key survives an upgrade (lookup)');
    assert.equal(await vipOf(n()), vip, 'the Service kept its address');
  });

  test('helm uninstall leaves nothing but the CRDs', async () => {
    const crdsBefore = await crdNames();
    assert.equal(crdsBefore.length, 12, crdsBefore.join(','));
    // The test's own objects first (a pool in berth-system would otherwise keep nothing alive, but be explicit).
    await n().kubectlOk(['delete', 'namespace', 'berth-node-app', 'berth-node-client', '--wait=false']);
    await helmOk(['uninstall', 'berth', '--wait', '--timeout', '180s']);
    await waitFor('namespace berth-system gone', 180_000, async () => ((await n().kubectl(['get', 'namespace', 'berth-system'])).code !== 0 ? true : undefined));
    for (const kind of ['clusterrole', 'clusterrolebinding']) {
      const names = (await n().kubectlOk(['get', kind, '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
      assert.deepEqual(names.filter((x) => x.startsWith('berth')), [], `${kind} left behind`);
    }
    assert.equal((await n().helm(['status', 'berth'])).code === 0, false, 'the release is gone');
    assert.deepEqual(await crdNames(), crdsBefore, 'the CRDs stay');
  });
});
