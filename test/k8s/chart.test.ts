// charts/berth against deploy/, its one source, and against a real API server: the generated files
// (CRDs, namespace, RBAC) are up to date (scripts/gen-chart.mjs --check); with the default values
// `helm template` renders exactly the objects `kubectl kustomize deploy/` does; `helm lint` passes; the
// values change what they promise (with speaker.liveness on it renders the DaemonSet of deploy/ plus the
// deploy/liveness kustomize Component); and `helm template --include-crds | kubectl apply --dry-run=server`
// is accepted by the API server. Helm v4 is built from its Go module by scripts/provision-node.sh (cached).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { apiServerForFile, loadYaml, repoRoot, type JsonObject } from './helpers.ts';

const chart = join(repoRoot, 'charts/berth');

function provisioned(): string {
  const r = spawnSync('bash', [join(repoRoot, 'scripts/provision-node.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 3_600_000 });
  if (r.status !== 0) throw new Error(`scripts/provision-node.sh failed (exit ${String(r.status)}): it builds helm from its Go module`);
  return r.stdout.trim().split('\n').pop() ?? '';
}
let helmBin: string | undefined;
const helmPath = (): string => (helmBin ??= join(provisioned(), 'helm'));

function helm(args: readonly string[]): string {
  const r = spawnSync(helmPath(), [...args], { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: '/nonexistent-berth-test', HELM_CONFIG_HOME: '/nonexistent-berth-test' } });
  if (r.status !== 0) throw new Error(`helm ${args.join(' ')} exited ${String(r.status)}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const key = (o: JsonObject): string => {
  const m = o['metadata'] as JsonObject;
  return `${String(o['kind'])}/${String(m['namespace'] ?? '')}/${String(m['name'])}`;
};
const byKey = (objs: readonly JsonObject[]): Map<string, JsonObject> => new Map(objs.map((o) => [key(o), o]));
type Container = { command: string[]; image: string; livenessProbe: { httpGet: { port: number } } };
const containerOf = (objs: readonly JsonObject[], kind: string): Container => {
  const o = objs.find((x) => x['kind'] === kind) as unknown as { spec: { template: { spec: { containers: Container[] } } } };
  const c = o.spec.template.spec.containers[0];
  assert.ok(c !== undefined);
  return c;
};

const api = apiServerForFile();

describe('charts/berth', () => {
  test('the generated files are up to date with deploy/', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'scripts/gen-chart.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
  });

  test('helm lint passes', () => {
    const out = helm(['lint', '--strict', chart]);
    assert.match(out, /1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  test('with the default values it renders exactly the objects of deploy/', async () => {
    const kustomized = loadYaml(await api().kubectlOk(['kustomize', join(repoRoot, 'deploy')]));
    const rendered = loadYaml(helm(['template', 'berth', chart, '--include-crds']));
    const want = byKey(kustomized);
    const got = byKey(rendered);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
    for (const [k, o] of want) assert.deepEqual(got.get(k), o, k);
  });

  test('values: image, loadBalancerClass, log level, metrics ports, speaker placement, ServiceMonitor', () => {
    const objs = loadYaml(helm([
      'template', 'berth', chart, '--set', 'image.repository=registry.example/berth', '--set', 'image.tag=9.9.9',
      '--set', 'loadBalancerClass=example.org/berth', '--set', 'logLevel=debug', '--set', 'controller.metricsPort=18000',
      '--set', 'speaker.nodeSelector.role=edge', '--set', 'speaker.tolerations=null', '--set', 'serviceMonitor.enabled=true',
      '--set', 'controller.replicas=3',
    ]));
    const c = containerOf(objs, 'Deployment');
    const s = containerOf(objs, 'DaemonSet');
    assert.equal(c.image, 'registry.example/berth:9.9.9');
    assert.equal(s.image, 'registry.example/berth:9.9.9');
    assert.deepEqual(c.command, ['berth', 'controller', '--lb-class', 'example.org/berth', '--log-level', 'debug', '--health-port', '18000']);
    assert.deepEqual(s.command, ['berth', 'speaker', '--lb-class', 'example.org/berth', '--log-level', 'debug']);
    assert.equal(c.livenessProbe.httpGet.port, 18000);
    const ds = objs.find((o) => o['kind'] === 'DaemonSet') as unknown as { spec: { template: { spec: { nodeSelector: unknown; tolerations?: unknown } } } };
    assert.deepEqual(ds.spec.template.spec.nodeSelector, { 'kubernetes.io/os': 'linux', role: 'edge' });
    assert.equal(ds.spec.template.spec.tolerations, undefined);
    assert.equal(objs.filter((o) => o['kind'] === 'ServiceMonitor').length, 2);
    const d = objs.find((o) => o['kind'] === 'Deployment') as unknown as { spec: { replicas: number } };
    assert.equal(d.spec.replicas, 3);
  });

  test('with speaker.liveness on (existing Secret) it renders the DaemonSet of deploy/ plus the deploy/liveness Component', async () => {
    const overlay = mkdtempSync(join(tmpdir(), 'berth-chart-liveness-'));
    try {
      writeFileSync(join(overlay, 'kustomization.yaml'), `resources: [${relative(overlay, join(repoRoot, 'deploy'))}]\ncomponents: [${relative(overlay, join(repoRoot, 'deploy/liveness'))}]\n`);
      const kustomized = byKey(loadYaml(await api().kubectlOk(['kustomize', overlay])));
      const rendered = byKey(loadYaml(helm(['template', 'berth', chart, '--include-crds', '--set', 'speaker.liveness.enabled=true', '--set', 'speaker.liveness.existingSecret=berth-liveness'])));
      assert.deepEqual([...rendered.keys()].sort(), [...kustomized.keys()].sort());
      for (const [k, o] of kustomized) assert.deepEqual(rendered.get(k), o, k);
      const ds = kustomized.get('DaemonSet/berth-system/berth-speaker');
      assert.ok(JSON.stringify(ds).includes('--liveness-secret-file'), 'the Component turned liveness on');
    } finally {
      rmSync(overlay, { recursive: true, force: true });
    }
  });

  test('values: dialects, liveness port/interval and its generated Secret, BFD profiles', () => {
    const objs = loadYaml(helm([
      'template', 'berth', chart, '--set', 'dialects.metallb.namespace=metallb-system', '--set', 'dialects.openelb.enabled=false',
      '--set', 'speaker.liveness.enabled=true', '--set', 'speaker.liveness.port=7000', '--set', 'speaker.liveness.intervalMs=250',
      '--set-json', 'bfdProfiles={"fast":{"receiveInterval":100,"transmitInterval":100,"detectMultiplier":3}}',
    ]));
    const dialects = ['--metallb-namespace', 'metallb-system', '--openelb', 'off'];
    assert.deepEqual(containerOf(objs, 'Deployment').command, ['berth', 'controller', ...dialects]);
    assert.deepEqual(containerOf(objs, 'DaemonSet').command, [
      'berth', 'speaker', ...dialects, '--liveness-secret-file', '/etc/berth/liveness/key', '--liveness-port', '7000', '--liveness-interval-ms', '250',
    ]);
    const secret = objs.find((o) => o['kind'] === 'Secret') as unknown as { metadata: { name: string; namespace: string }; data: { key: string } };
    assert.deepEqual([secret.metadata.namespace, secret.metadata.name], ['berth-system', 'berth-liveness']);
    assert.ok(Buffer.from(secret.data.key, 'base64').length >= 16, 'a key of at least 16 octets (src/liveness/packet.ts parseKey)');
    const ds = objs.find((o) => o['kind'] === 'DaemonSet') as unknown as { spec: { template: { spec: { volumes: { name: string; secret?: { secretName: string } }[] } } } };
    assert.equal(ds.spec.template.spec.volumes.find((v) => v.name === 'liveness')?.secret?.secretName, 'berth-liveness');
    const bfd = objs.find((o) => o['kind'] === 'BFDProfile') as unknown as { metadata: { name: string; namespace: string }; spec: Record<string, number> };
    assert.deepEqual([bfd.metadata.namespace, bfd.metadata.name, bfd.spec['receiveInterval']], ['metallb-system', 'fast', 100]);
    // An existing Secret: no Secret rendered, the volume names it.
    const own = loadYaml(helm(['template', 'berth', chart, '--set', 'speaker.liveness.enabled=true', '--set', 'speaker.liveness.existingSecret=mine']));
    assert.equal(own.filter((o) => o['kind'] === 'Secret').length, 0);
    assert.match(JSON.stringify(own.find((o) => o['kind'] === 'DaemonSet')), /"secretName":"mine"/);
  });

  test('helm template --include-crds | kubectl apply --dry-run=server is accepted', async () => {
    const crds = helm(['show', 'crds', chart]);
    await api().kubectlOk(['apply', '--server-side', '-f', '-'], { stdin: crds });
    // Namespaced objects cannot be dry-run into a namespace that does not exist yet: the chart's Namespace
    // for real first (kubectl create namespace ... would lack its Pod Security label).
    const docs = loadYaml(helm(['template', 'berth', chart]));
    const ns = docs.filter((o) => o['kind'] === 'Namespace');
    assert.equal(ns.length, 1);
    await api().kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: ns }) });
    const out = await api().kubectlOk(['apply', '--dry-run=server', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }) });
    assert.match(out, /deployment\.apps\/berth-controller created \(server dry run\)/);
    assert.match(out, /daemonset\.apps\/berth-speaker created \(server dry run\)/);
    // The optional objects: the generated liveness Secret and a BFDProfile (checked by the CRD's schema and CEL).
    const extra = loadYaml(helm(['template', 'berth', chart, '--set', 'speaker.liveness.enabled=true', '--set-json', 'bfdProfiles={"fast":{"receiveInterval":100}}', '-s', 'templates/liveness-secret.yaml', '-s', 'templates/bfdprofiles.yaml']));
    const extraOut = await api().kubectlOk(['apply', '--dry-run=server', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: extra }) });
    assert.match(extraOut, /secret\/berth-liveness created \(server dry run\)/);
    assert.match(extraOut, /bfdprofile\.metallb\.io\/fast created \(server dry run\)/);
  });
});
