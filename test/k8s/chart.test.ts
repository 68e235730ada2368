// charts/berth against deploy/, its one source, and against a real API server: the generated files
// (CRDs, namespace, RBAC) are up to date (scripts/gen-chart.mjs --check); with the default values
// `helm template` renders exactly the objects `kubectl kustomize deploy/` does; `helm lint` passes; the
// values change what they promise; and `helm template --include-crds | kubectl apply --dry-run=server`
// is accepted by the API server. Helm v4 is built from its Go module by scripts/provision-node.sh (cached).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
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
  });
});
