// `berth controller --openelb off --metallb-namespace metallb-system` (the chart's `dialects` values) against a
// real kube-apiserver that has only MetalLB's CRDs: the controller watches no OpenELB resource (their CRDs are
// absent, and it still allocates), leaves the Services that lb.kubesphere.io/v1alpha1 hands to OpenELB alone,
// and refuses a metallb.io pool outside its namespace with a ConfigurationError Event naming the field; and
// `berth speaker --openelb off` on the same API server becomes ready (its caches sync without those CRDs).
// The speaker runs in the test's own namespace with no layer 2 or BGP configuration, so it sends nothing.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { apiServerForFile, crdDir, field, getJson, isObject, type Json } from './helpers.ts';
import { eventually, startBerth, startController, type BerthProcess } from './berth-process.ts';
import { freePort } from './harness/process.ts';

let ctl: BerthProcess | undefined;
let exitCode: number | null | undefined;
const api = apiServerForFile({
  setup: async (k) => {
    const metallbOnly = readdirSync(crdDir).filter((f) => f.startsWith('metallb.io_')).flatMap((f) => ['-f', join(crdDir, f)]);
    await k.kubectlOk(['apply', ...metallbOnly]);
    await k.kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=berth']);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    ctl = startController(k, ['--openelb', 'off', '--metallb-namespace', 'metallb-system']);
  },
  beforeStop: async () => {
    exitCode = await ctl?.stop();
  },
});
after(() => {
  assert.equal(exitCode, 0, `controller exit code (stderr tail: ${ctl?.stderr().slice(-2000) ?? ''})`);
});

const list = (items: readonly unknown[]): string => JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
const pool = (name: string, namespace: string, range: string): unknown => ({
  apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name, namespace }, spec: { addresses: [range] },
});
const service = (name: string, annotations: Record<string, string> = {}): unknown => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', annotations },
  spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
});

async function ingress(name: string): Promise<string[]> {
  const s = await getJson(api(), ['service', name, '-n', 'default']);
  const items = field(s, 'status', 'loadBalancer', 'ingress');
  return Array.isArray(items) ? (items as readonly Json[]).filter(isObject).map((i) => String(i['ip'])) : [];
}

describe('dialect switches on a real API server without the OpenELB CRDs', () => {
  test('--openelb off: allocates for MetalLB Services; the one handed to OpenELB stays without an address', async () => {
    assert.equal((await api().kubectl(['get', 'crd', 'eips.network.kubesphere.io'])).code === 0, false, 'no OpenELB CRDs on this API server');
    // The OpenELB Service first: when the MetalLB one (queued after it) has its address, it was considered.
    await api().kubectlOk(['apply', '-f', '-'], { stdin: list([service('openelb-svc', { 'lb.kubesphere.io/v1alpha1': 'openelb', 'eip.openelb.kubesphere.io/v1alpha2': 'eip1' })]) });
    await api().kubectlOk(['apply', '-f', '-'], { stdin: list([pool('in-ns', 'metallb-system', '198.51.100.0/28'), service('metallb-svc')]) });
    const ips = await eventually('an address on default/metallb-svc', async () => {
      const got = await ingress('metallb-svc');
      return got.length > 0 ? got : undefined;
    });
    assert.match(ips[0] ?? '', /^198\.51\.100\.([1-9]|1[0-4])$/);
    assert.deepEqual(await ingress('openelb-svc'), [], 'left to OpenELB');
  });

  test('--metallb-namespace: a pool elsewhere is refused with an Event naming metadata.namespace, and hands out nothing', async () => {
    await api().kubectlOk(['apply', '-f', '-'], { stdin: list([pool('elsewhere', 'default', '203.0.113.0/28')]) });
    const ev = await eventually('a ConfigurationError Event on default/elsewhere', async () => {
      const evs = await getJson(api(), ['events', '-n', 'default', '--field-selector', 'involvedObject.name=elsewhere']);
      return ((evs['items'] ?? []) as readonly Json[]).filter(isObject).find((e) => e['reason'] === 'ConfigurationError');
    });
    assert.match(String(ev['message']), /metadata\.namespace.*read from namespace "metallb-system" only/);
    await api().kubectlOk(['apply', '-f', '-'], { stdin: list([{ ...(service('wants-elsewhere', { 'metallb.io/address-pool': 'elsewhere' }) as object) }]) });
    const failed = await eventually('AllocationFailed on default/wants-elsewhere', async () => {
      const evs = await getJson(api(), ['events', '-n', 'default', '--field-selector', 'involvedObject.name=wants-elsewhere']);
      return ((evs['items'] ?? []) as readonly Json[]).filter(isObject).find((e) => e['reason'] === 'AllocationFailed');
    });
    assert.match(String(failed['message']), /elsewhere/);
    assert.deepEqual(await ingress('wants-elsewhere'), []);
  });
});

test('berth speaker --openelb off becomes ready on an API server without the OpenELB CRDs', async () => {
  const port = await freePort();
  const state = mkdtempSync(join(tmpdir(), 'berth-dialects-'));
  const speaker = startBerth([
    'speaker', '--kubeconfig', api().kubeconfigPath, '--node-name', 'dialects-node', '--namespace', 'berth-system',
    '--health-port', String(port), '--l2-threads', '0', '--openelb', 'off', '--metallb-namespace', 'metallb-system',
  ], { env: { ...process.env, BERTH_RESTART_STATE: join(state, 'speaker-restart.json') } });
  try {
    await eventually('the speaker /readyz answering 200', async () => {
      const r = await fetch(`http://127.0.0.1:${String(port)}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined);
      return r?.status === 200 ? true : undefined;
    }, 60_000);
  } finally {
    const code = await speaker.stop();
    rmSync(state, { recursive: true, force: true });
    assert.equal(code, 0, `speaker exit code (stderr tail: ${speaker.stderr().slice(-2000)})`);
  }
});
