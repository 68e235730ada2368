// Speaker liveness in Kubernetes mode (docs/liveness.md), frr-lab prefix `bk8sl`: two `berth speaker
// --node-name` processes in node namespaces against a real kube-apiserver, reached through the relay of
// test/k8s/speaker.test.ts (a Unix socket in the root namespace, a small TCP relay in each node
// namespace). The liveness key comes from a Secret, written to a file as the kubelet's secret volume
// would. A rogue gratuitous ARP gives a duplicateOwner Warning Event on the Service. The stated rule for
// an API server partition: liveness does not use the API server, so
//   1. the API server unreachable for every speaker moves nothing (exactly one MAC, the owner's);
//   2. the owner killed while the API server is still unreachable: the runner-up takes the VIP over.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { nodeDoc, serviceDoc, sliceDoc } from '../integration/speaker/harness.ts';
import { Recorder } from '../integration/liveness/recorder.ts';
import { electionHash } from '../../src/l2/election.ts';
import { startApiServer } from './harness/index.ts';
import { getJson, installCrds, isObject, repoRoot, type Json } from './helpers.ts';
import { eventually } from './berth-process.ts';
import { spawnNsRelay, unixToApi } from './api-relay.ts';
import { speakerMetric } from '../integration/liveness/lab-views.ts';

const VIP = '203.0.113.140';
const PORT = 17948;
const HEALTH = 17483;

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: l2-pool, namespace: metallb-system}
spec: {addresses: ["203.0.113.128/26"]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-adv, namespace: metallb-system}
spec: {ipAddressPools: [l2-pool], interfaces: [eth1]}
`;

const metric = (lab: Lab, node: LabHost, name: string): Promise<number> => speakerMetric(lab, node, HEALTH, name);

test('speaker liveness (Kubernetes mode): an API server partition moves nothing; the owner killed during it moves the VIP', { timeout: 300_000 }, async () => {
  const k = await startApiServer();
  let relay: Server | undefined;
  try {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    await withLab({ prefix: 'bk8sl', nodes: 2, client: true }, async (lab) => {
      const client = lab.client;
      assert.ok(client);
      await lab.exec('client', ['ip', 'route', 'add', '203.0.113.128/26', 'dev', client.iface]);
      const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
      for (const n of lab.nodes) {
        await k.kubectlOk(['apply', '-f', '-'], { stdin: nodeDoc(n) });
        await k.kubectlOk(['patch', 'node', n.name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { addresses: [{ type: 'InternalIP', address: n.ipv4 }], conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'test', lastHeartbeatTime: now, lastTransitionTime: now }] } })]);
      }
      await k.kubectlOk(['apply', '-f', '-'], { stdin: CONFIG });
      await k.kubectlOk(['apply', '-f', '-'], { stdin: [serviceDoc('web'), sliceDoc('web', lab.nodes.map((n) => n.name))].join('\n---\n') });
      // The IP as the controller would write it.
      await k.kubectlOk(['patch', 'service', 'web', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: VIP }] } } })]);
      // The key in a Secret; the file is what the DaemonSet's secret volume would hold.
      await k.kubectlOk(['-n', 'berth-system', 'create', 'secret', 'generic', 'berth-liveness', '--from-literal=key=bk8sl-liveness-key-0123456789abcdef']);
      const encoded = (await k.kubectlOk(['-n', 'berth-system', 'get', 'secret', 'berth-liveness', '-o', 'jsonpath={.data.key}']));
      const keyFile = join(lab.workDir, 'liveness-key');
      writeFileSync(keyFile, Buffer.from(encoded.trim(), 'base64'));

      const sock = join(k.dir, 'api.sock');
      relay = await unixToApi(sock, k.port);
      const relays = new Map<string, SpawnedProcess>(lab.nodes.map((n) => [n.name, spawnNsRelay(lab, n, k.port, sock)]));
      const speakers = new Map<string, SpawnedProcess>();
      const [ownerName = '', nextName = ''] = lab.nodes.map((n) => n.name).sort((a, b) => Buffer.compare(electionHash(a, VIP), electionHash(b, VIP)));
      const owner = lab.nodes.find((n) => n.name === ownerName)!;
      const next = lab.nodes.find((n) => n.name === nextName)!;
      const log = (name: string): string => speakers.get(name)?.output().stderr ?? '';
      try {
        for (const n of lab.nodes) {
          await eventually(`the relay in ${n.name}`, async () => ((await lab.exec(n, ['ss', '-ltnH', `sport = :${String(k.port)}`], { check: false })).stdout.includes('127.0.0.1') ? true : undefined), 10_000, 100);
          speakers.set(
            n.name,
            lab.spawn(n, ['/usr/bin/env', `BERTH_RESTART_STATE=${join(lab.workDir, `${n.name}-restart.json`)}`, process.execPath, join(repoRoot, 'bin/berth.mjs'), 'speaker', '--node-name', n.name, '--kubeconfig', k.kubeconfigPath, '--namespace', 'berth-system', '--health-port', String(HEALTH), '--l2-threads', '0', '--liveness-secret-file', keyFile, '--liveness-port', String(PORT)], { cwd: repoRoot }),
          );
        }
        const rec = new Recorder(lab, client, VIP);
        await rec.from(owner.mac.toLowerCase(), 0, `${ownerName} answering`).catch((e: unknown) => {
          throw new Error(`${String(e)}\n${ownerName}:\n${log(ownerName).slice(-3000)}`);
        });
        for (const n of lab.nodes) await eventually(`${n.name} hearing the other speaker`, async () => ((await metric(lab, n, 'berth_liveness_member_up')) === 1 ? true : undefined), 20_000, 200);
        assert.deepEqual(await rec.onlyOne(owner.mac.toLowerCase(), rec.mark), [owner.mac.toLowerCase()]);

        // A rogue gratuitous ARP for the VIP: the owner defends it and says so in a Warning Event on the Service.
        rec.inject('02:00:5e:00:53:99');
        const ev = await eventually('a duplicateOwner Event on the Service', async () => {
          const list = await getJson(k, ['events', '--field-selector', 'involvedObject.name=web,reason=duplicateOwner']);
          const items = ((list['items'] ?? []) as readonly Json[]).filter(isObject);
          return items.find((e) => e['type'] === 'Warning');
        }, 20_000, 250);
        assert.match(String(ev['message']), new RegExp(`another MAC answers for ${VIP.replace(/\./g, '\\.')}: node "${ownerName}" \\(${owner.mac.toLowerCase()}\\) and an unknown host \\(02:00:5e:00:53:99\\)`));
        assert.deepEqual(await rec.onlyOne(owner.mac.toLowerCase(), rec.mark), [owner.mac.toLowerCase()]);

        // 1. The API server unreachable for every speaker: nothing moves.
        for (const r of relays.values()) await r.kill(1000);
        for (const n of lab.nodes) await eventually(`${n.name} noticing the API server is gone`, async () => (/list\/watch failed|ECONNREFUSED|ENOENT|cannot/.test(log(n.name)) ? true : undefined), 30_000, 250);
        assert.deepEqual(await rec.onlyOne(owner.mac.toLowerCase(), rec.mark, 40), [owner.mac.toLowerCase()]);
        assert.equal(await metric(lab, next, 'berth_liveness_member_up'), 1, 'liveness does not depend on the API server');

        // 2. The owner killed during the partition: the runner-up takes over by liveness alone.
        const m = rec.mark;
        const killed = Date.now();
        speakers.get(ownerName)?.child.kill('SIGKILL');
        const first = await rec.from(next.mac.toLowerCase(), m, `${nextName} answering with the API server unreachable`);
        process.stderr.write(`bk8sl: SIGKILL -> first frame from the new owner ${first.wall - killed} ms (API server unreachable)\n`);
        assert.deepEqual(await rec.onlyOne(next.mac.toLowerCase(), rec.mark), [next.mac.toLowerCase()]);
        assert.ok((await metric(lab, next, 'berth_l2_takeovers_total')) >= 1);
      } finally {
        for (const s of speakers.values()) await s.kill(3000);
        for (const r of relays.values()) await r.kill(1000);
      }
    });
  } finally {
    relay?.close();
    await k.stop();
  }
});
