// deploy/ on a real Kubernetes node (test/node/harness: kubelet, containerd, kube-proxy, CNI bridge), with the
// image built from this repository's Containerfile: `kubectl apply -k` through an overlay that only changes the
// image; both workloads become Ready (their probes pass), the controller holds the Lease, a LoadBalancer
// Service with a real pod backend gets an address from the pool, kube-proxy serves it, and a pod in another
// namespace gets the backend's answer through that address. Restarting the speaker and the controller
// (`kubectl rollout restart`) changes no address.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { startNode, waitFor, type RealNode } from './harness/node.ts';
import { repoRoot } from './harness/images.ts';
import {
  appManifests, berthPods, berthProcesses, berthReady, CAP_NET_ADMIN, CAP_NET_RAW, controllerLeaseHolder, fetchThroughVip, getJson, poolManifests,
  serviceManifest, vipOf,
} from './harness/workloads.ts';

let node: RealNode | undefined;
const n = (): RealNode => {
  if (node === undefined) throw new Error('the node did not start (see the before hook)');
  return node;
};

const json = (args: readonly string[]): Promise<Record<string, unknown>> => getJson(n(), args);
const podNames = (selector: string): Promise<string[]> => berthPods(n(), selector);
const leaseHolder = (): Promise<string> => controllerLeaseHolder(n());
const workloadsReady = (): Promise<true | undefined> => berthReady(n());

describe('deploy/ on a real node', { timeout: 1_800_000 }, () => {
  before(async () => {
    node = await startNode();
    const overlay = join(node.dir, 'overlay');
    mkdirSync(overlay);
    // README.md "Install", kustomize: the same overlay, word for word but the path and the image.
    writeFileSync(join(overlay, 'kustomization.yaml'), [
      `resources: [${relative(overlay, join(repoRoot, 'deploy'))}]`,
      'images:',
      '- name: ghcr.io/berth-lb/berth',
      `  newName: ${node.berthImage.split(':')[0] ?? ''}`,
      `  newTag: ${node.berthImage.split(':')[1] ?? ''}`,
      '',
    ].join('\n'));
    await node.kubectlOk(['apply', '--server-side', '-k', overlay], { timeoutMs: 120_000 });
  });

  after(async () => {
    await node?.stop();
  });

  test('the controller Deployment and the speaker DaemonSet become Ready, running the built image', async () => {
    await waitFor('2/2 controllers and 1/1 speaker Ready', 240_000, workloadsReady, () => n().logs(10));
    for (const sel of ['app.kubernetes.io/component=controller', 'app.kubernetes.io/component=speaker']) {
      const pods = await json(['get', 'pods', '-n', 'berth-system', '-l', sel]);
      for (const p of pods['items'] as Record<string, unknown>[]) {
        const statuses = (p['status'] as { containerStatuses: { image: string; ready: boolean; restartCount: number }[] }).containerStatuses;
        for (const s of statuses) {
          assert.ok(s.image.endsWith(n().berthImage.replace(/^localhost\//, '')), `${sel}: ${s.image}`);
          assert.equal(s.ready, true);
          assert.equal(s.restartCount, 0, `${sel}: restarted (crash loop?)`);
        }
      }
    }
  });

  test('the kernel sees what the manifests promise: controller UID 65532 with no capabilities, speaker only NET_RAW and NET_ADMIN', () => {
    const controllers = berthProcesses('controller');
    const speakers = berthProcesses('speaker');
    assert.equal(controllers.length, 2, 'two controller processes on the node');
    assert.equal(speakers.length, 1, 'one speaker process on the node');
    for (const c of controllers) {
      assert.equal(c.uid, 65532);
      assert.equal(c.capEff, 0n, `controller ${String(c.pid)} CapEff`);
      assert.equal(c.capBnd, 0n, `controller ${String(c.pid)} CapBnd`);
      assert.equal(c.noNewPrivs, true);
    }
    const two = (1n << CAP_NET_RAW) | (1n << CAP_NET_ADMIN);
    for (const s of speakers) {
      assert.equal(s.uid, 0);
      assert.equal(s.capEff, two, `speaker CapEff 0x${s.capEff.toString(16)}`);
      assert.equal(s.capBnd, two, `speaker CapBnd 0x${s.capBnd.toString(16)}`);
      assert.equal(s.noNewPrivs, true);
    }
  });

  test('one controller holds the Lease berth-system/berth-controller', async () => {
    const controllers = await podNames('app.kubernetes.io/component=controller');
    const holder = await waitFor('a Lease holder', 60_000, async () => {
      const h = await leaseHolder();
      return controllers.includes(h) ? h : undefined;
    });
    assert.ok(controllers.includes(holder), `${holder} not in ${controllers.join(',')}`);
  });

  let vip = '';
  test('a LoadBalancer Service gets an address from the pool and a pod in another namespace gets the answer through it', async () => {
    await n().kubectlOk(['apply', '-f', '-'], { stdin: poolManifests() });
    await n().kubectlOk(['apply', '-f', '-'], { stdin: appManifests(n().berthImage) });
    await n().kubectlOk(['rollout', 'status', 'deployment/web', '-n', 'berth-node-app', '--timeout=180s'], { timeoutMs: 200_000 });
    vip = await waitFor('the Service status', 60_000, () => vipOf(n()));
    assert.match(vip, /^198\.51\.100\.(20[0-7])$/, 'the address comes from the pool 198.51.100.200/29');
    const svc = await json(['get', 'service', 'web', '-n', 'berth-node-app']);
    assert.equal((svc['metadata'] as { annotations?: Record<string, string> }).annotations?.['metallb.io/ip-allocated-from-pool'], 'node-test-pool');
    const backends = (await n().kubectlOk(['get', 'pods', '-n', 'berth-node-app', '-l', 'app=web', '-o', 'jsonpath={.items[*].metadata.name}'])).split(' ');
    const answer = await fetchThroughVip(n(), vip, 'first');
    assert.ok(backends.some((b) => answer === `hello from ${b}`), `answer ${JSON.stringify(answer)} is not from a backend (${backends.join(',')})`);
  });

  test('kubectl rollout restart of the speaker and the controller changes no address', async () => {
    assert.notEqual(vip, '', 'needs the previous test');
    const before = new Set(await podNames('app.kubernetes.io/component=controller'));
    const speakerBefore = new Set(await podNames('app.kubernetes.io/component=speaker'));
    await n().kubectlOk(['rollout', 'restart', '-n', 'berth-system', 'daemonset/berth-speaker', 'deployment/berth-controller']);
    await n().kubectlOk(['rollout', 'status', '-n', 'berth-system', 'daemonset/berth-speaker', '--timeout=180s'], { timeoutMs: 200_000 });
    await n().kubectlOk(['rollout', 'status', '-n', 'berth-system', 'deployment/berth-controller', '--timeout=180s'], { timeoutMs: 200_000 });
    await waitFor('workloads Ready after the restart', 120_000, workloadsReady);
    // Old pods linger while they terminate: wait until only new ones are listed.
    const after = await waitFor('the old controller and speaker pods gone', 120_000, async () => {
      const c = await podNames('app.kubernetes.io/component=controller');
      const s = await podNames('app.kubernetes.io/component=speaker');
      return c.length === 2 && s.length === 1 && c.every((p) => !before.has(p)) && s.every((p) => !speakerBefore.has(p)) ? c : undefined;
    });
    // A new controller took the Lease (and so has read the cluster and re-derived every allocation).
    await waitFor('a new controller holding the Lease', 60_000, async () => (after.includes(await leaseHolder()) ? true : undefined));
    // A new Service allocated by the new leader proves it reconciles; the old one must keep its address.
    await n().kubectlOk(['apply', '-f', '-'], { stdin: serviceManifest('web2') });
    const vip2 = await waitFor('the second Service status', 60_000, () => vipOf(n(), 'web2'));
    assert.notEqual(vip2, vip);
    assert.equal(await vipOf(n()), vip, 'the first Service kept its address');
    const answer = await fetchThroughVip(n(), vip, 'after-restart');
    assert.match(answer, /^hello from web-/);
  });
});

