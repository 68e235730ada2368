// deploy/ on a real API server: `kubectl apply -k deploy/` installs everything; the RBAC grants each
// process exactly what it needs (checked with `kubectl auth can-i` impersonating the service accounts,
// both ways: what must be allowed and what must not); the workloads carry the promised security settings;
// and the speaker Pod passes Pod Security admission in berth-system but would not in a baseline namespace.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { apiServerForFile, field, getJson, repoRoot, type Json, type JsonObject } from './helpers.ts';

const api = apiServerForFile({ setup: (k) => k.kubectlOk(['apply', '-k', join(repoRoot, 'deploy')]).then(() => undefined) });

const controller = 'system:serviceaccount:berth-system:berth-controller';
const speaker = 'system:serviceaccount:berth-system:berth-speaker';

// [who, verb, resource, namespace ('*' = all namespaces, '' = cluster-scoped), subresource, allowed]
type Check = readonly [string, string, string, string, string, boolean];

const checks: readonly Check[] = [
  // controller: allowed
  [controller, 'list', 'services', '*', '', true],
  [controller, 'watch', 'services', '*', '', true],
  [controller, 'update', 'services', 'default', 'status', true],
  [controller, 'patch', 'services', 'default', 'status', true],
  [controller, 'list', 'namespaces', '', '', true],
  [controller, 'create', 'events', 'default', '', true],
  [controller, 'create', 'events.events.k8s.io', 'default', '', true],
  [controller, 'watch', 'ipaddresspools.metallb.io', '*', '', true],
  [controller, 'list', 'bgppeers.metallb.io', '*', '', true],
  [controller, 'list', 'communities.metallb.io', '*', '', true],
  [controller, 'update', 'ipaddresspools.metallb.io', 'metallb-system', 'status', true],
  [controller, 'list', 'eips.network.kubesphere.io', '', '', true],
  [controller, 'update', 'eips.network.kubesphere.io', '', 'status', true],
  [controller, 'create', 'leases.coordination.k8s.io', 'berth-system', '', true],
  [controller, 'get', 'leases.coordination.k8s.io/berth-controller', 'berth-system', '', true],
  [controller, 'update', 'leases.coordination.k8s.io/berth-controller', 'berth-system', '', true],
  [controller, 'create', 'configurationstates.metallb.io', 'berth-system', '', true],
  [controller, 'update', 'configurationstates.metallb.io/controller', 'berth-system', 'status', true],
  // controller: denied
  [controller, 'update', 'services', 'default', '', false],
  [controller, 'delete', 'services', 'default', '', false],
  [controller, 'create', 'services', 'default', '', false],
  [controller, 'get', 'secrets', 'berth-system', '', false],
  [controller, 'list', 'configmaps', 'berth-system', '', false],
  [controller, 'get', 'configmaps', 'kube-system', '', false],
  [controller, 'list', 'nodes', '', '', false],
  [controller, 'update', 'ipaddresspools.metallb.io', 'metallb-system', '', false],
  [controller, 'delete', 'ipaddresspools.metallb.io', 'metallb-system', '', false],
  [controller, 'update', 'eips.network.kubesphere.io', '', '', false],
  [controller, 'create', 'leases.coordination.k8s.io', 'default', '', false],
  [controller, 'update', 'leases.coordination.k8s.io/someone-else', 'berth-system', '', false],
  [controller, 'update', 'configurationstates.metallb.io/speaker-node-1', 'berth-system', '', false],
  [controller, 'create', 'servicel2statuses.metallb.io', 'berth-system', '', false],
  [controller, 'create', 'pods', 'berth-system', '', false],
  [controller, 'create', 'customresourcedefinitions.apiextensions.k8s.io', '', '', false],
  // speaker: allowed
  [speaker, 'list', 'services', '*', '', true],
  [speaker, 'watch', 'endpointslices.discovery.k8s.io', '*', '', true],
  [speaker, 'list', 'nodes', '', '', true],
  [speaker, 'watch', 'namespaces', '', '', true],
  [speaker, 'list', 'l2advertisements.metallb.io', '*', '', true],
  [speaker, 'watch', 'bgpadvertisements.metallb.io', '*', '', true],
  [speaker, 'list', 'bfdprofiles.metallb.io', '*', '', true],
  [speaker, 'list', 'bgpconfs.network.kubesphere.io', '', '', true],
  [speaker, 'list', 'bgppeers.network.kubesphere.io', '', '', true],
  [speaker, 'get', 'secrets', 'berth-system', '', true],
  [speaker, 'watch', 'secrets', 'berth-system', '', true],
  [speaker, 'create', 'servicel2statuses.metallb.io', 'berth-system', '', true],
  [speaker, 'delete', 'servicel2statuses.metallb.io', 'berth-system', '', true],
  [speaker, 'update', 'servicebgpstatuses.metallb.io', 'berth-system', 'status', true],
  [speaker, 'create', 'configurationstates.metallb.io', 'berth-system', '', true],
  [speaker, 'create', 'events', 'default', '', true],
  // speaker: denied
  [speaker, 'update', 'services', 'default', 'status', false],
  [speaker, 'update', 'services', 'default', '', false],
  [speaker, 'get', 'secrets', 'kube-system', '', false],
  [speaker, 'list', 'secrets', '*', '', false],
  [speaker, 'create', 'secrets', 'berth-system', '', false],
  [speaker, 'create', 'servicel2statuses.metallb.io', 'default', '', false],
  [speaker, 'update', 'nodes', '', '', false],
  [speaker, 'create', 'leases.coordination.k8s.io', 'berth-system', '', false],
  [speaker, 'list', 'configmaps', 'berth-system', '', false],
  [speaker, 'update', 'ipaddresspools.metallb.io', 'metallb-system', 'status', false],
  [speaker, 'update', 'bgppeers.metallb.io', 'metallb-system', '', false],
  [speaker, 'list', 'pods', '*', '', false],
];

describe('RBAC: least privilege per process (kubectl auth can-i as the service accounts)', { concurrency: 4 }, () => {
  for (const [who, verb, resource, ns, sub, allowed] of checks) {
    const whoName = who.split(':').pop() ?? who;
    const where = ns === '*' ? 'in all namespaces' : ns === '' ? 'cluster-wide' : `in ${ns}`;
    test(`${whoName} ${allowed ? 'can' : 'cannot'} ${verb} ${resource}${sub === '' ? '' : `/${sub}`} ${where}`, async () => {
      const args = ['auth', 'can-i', verb, resource, `--as=${who}`];
      if (ns === '*') args.push('--all-namespaces');
      else if (ns !== '') args.push('-n', ns);
      if (sub !== '') args.push(`--subresource=${sub}`);
      const res = await api().kubectl(args);
      assert.equal(res.stdout.trim(), allowed ? 'yes' : 'no', res.stderr);
      assert.equal(res.code, allowed ? 0 : 1);
    });
  }
});

function container(workload: JsonObject): JsonObject {
  const containers = field(workload, 'spec', 'template', 'spec', 'containers') as readonly JsonObject[];
  assert.equal(containers.length, 1);
  const [c] = containers;
  assert.ok(c !== undefined);
  return c;
}

describe('workloads', () => {
  test('kubectl apply -k installs every CRD of deploy/crds', async () => {
    const files = readdirSync(join(repoRoot, 'deploy/crds')).filter((f) => f.endsWith('.yaml'));
    const crds = await getJson(api(), ['crd', '-l', 'app.kubernetes.io/part-of=berth']);
    const names = (crds['items'] as readonly JsonObject[]).map((c) => String(field(c, 'metadata', 'name')));
    assert.equal(names.length, files.length, `installed: ${names.join(', ')}; files: ${files.join(', ')}`);
    for (const f of files) {
      const [group, plural] = f.replace(/\.yaml$/, '').split('_');
      assert.ok(names.includes(`${plural ?? ''}.${group ?? ''}`), `${f} not installed by the kustomization`);
    }
  });

  test('the namespace, service accounts and both workloads exist', async () => {
    const ns = await getJson(api(), ['namespace', 'berth-system']);
    assert.equal(field(ns, 'metadata', 'labels', 'pod-security.kubernetes.io/enforce'), 'privileged');
    for (const sa of ['berth-controller', 'berth-speaker']) await getJson(api(), ['serviceaccount', sa, '-n', 'berth-system']);
  });

  test('controller: Deployment running `berth controller` as non-root with no capabilities', async () => {
    const d = await getJson(api(), ['deployment', 'berth-controller', '-n', 'berth-system']);
    const c = container(d);
    assert.equal(c['image'], 'ghcr.io/berth-lb/berth:0.1.0');
    assert.deepEqual(c['command'], ['berth', 'controller']);
    assert.equal(field(d, 'spec', 'template', 'spec', 'serviceAccountName'), 'berth-controller');
    assert.equal(field(d, 'spec', 'template', 'spec', 'securityContext', 'runAsNonRoot'), true);
    assert.deepEqual(field(c, 'securityContext', 'capabilities'), { drop: ['ALL'] } as Json);
    assert.equal(field(c, 'securityContext', 'allowPrivilegeEscalation'), false);
    assert.equal(field(c, 'securityContext', 'readOnlyRootFilesystem'), true);
    const env = (c['env'] as readonly JsonObject[]).map((e) => e['name']);
    assert.ok(env.includes('BERTH_NAMESPACE') && env.includes('BERTH_LEASE_NAME'), env.join(','));
    // The probes hit the ports `berth controller` serves by default (src/cli/controller.ts --health-port).
    assert.deepEqual(field(c, 'livenessProbe', 'httpGet'), { path: '/healthz', port: 17472, scheme: 'HTTP' } as Json);
    assert.deepEqual(field(c, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 17472, scheme: 'HTTP' } as Json);
    // Prometheus scrape hints point at /metrics on that same port.
    assert.deepEqual(field(d, 'spec', 'template', 'metadata', 'annotations'), { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '17472', 'prometheus.io/path': '/metrics' } as Json);
  });

  test('speaker: DaemonSet on the host network with NET_RAW and NET_ADMIN only, not privileged, no escalation', async () => {
    const d = await getJson(api(), ['daemonset', 'berth-speaker', '-n', 'berth-system']);
    const pod = field(d, 'spec', 'template', 'spec');
    const c = container(d);
    assert.deepEqual(c['command'], ['berth', 'speaker']);
    assert.equal(field(pod, 'hostNetwork'), true);
    assert.equal(field(pod, 'serviceAccountName'), 'berth-speaker');
    // UID 0 so the two capabilities reach the process (no ambient capabilities for other UIDs in
    // Kubernetes); no_new_privs and a bounding set of exactly those two (deploy/README.md "Privileges").
    assert.equal(field(c, 'securityContext', 'runAsUser'), 0);
    assert.equal(field(c, 'securityContext', 'allowPrivilegeEscalation'), false);
    assert.equal(field(c, 'securityContext', 'readOnlyRootFilesystem'), true);
    assert.equal(field(pod, 'securityContext', 'seccompProfile', 'type'), 'RuntimeDefault');
    assert.equal(field(c, 'securityContext', 'privileged'), false);
    assert.deepEqual(field(c, 'securityContext', 'capabilities'), { drop: ['ALL'], add: ['NET_RAW', 'NET_ADMIN'] } as Json);
    const env = (c['env'] as readonly JsonObject[]).map((e) => e['name']);
    assert.ok(env.includes('BERTH_NODE_NAME'), env.join(','));
    // Graceful-restart state on an emptyDir: a restarted container knows it restarted (RFC 4724 R bit).
    const stateEnv = (c['env'] as readonly JsonObject[]).find((e) => e['name'] === 'BERTH_RESTART_STATE');
    assert.equal(stateEnv?.['value'], '/run/berth/speaker-restart.json');
    assert.deepEqual(c['volumeMounts'], [{ name: 'run', mountPath: '/run/berth' }] as Json);
    assert.deepEqual(field(pod, 'volumes'), [{ name: 'run', emptyDir: {} }] as Json);
    // src/cli/speaker-k8s.ts --health-port default.
    assert.deepEqual(field(c, 'livenessProbe', 'httpGet'), { path: '/healthz', port: 17473, scheme: 'HTTP' } as Json);
    assert.deepEqual(field(c, 'readinessProbe', 'httpGet'), { path: '/readyz', port: 17473, scheme: 'HTTP' } as Json);
    assert.deepEqual(field(d, 'spec', 'template', 'metadata', 'annotations'), { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '17473', 'prometheus.io/path': '/metrics' } as Json);
  });

  test('a speaker Pod is admitted in berth-system and refused by Pod Security in a baseline namespace', async () => {
    const d = await getJson(api(), ['daemonset', 'berth-speaker', '-n', 'berth-system']);
    const pod = (namespace: string): string => JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'speaker-probe', namespace },
      spec: { ...(field(d, 'spec', 'template', 'spec') as JsonObject), nodeName: 'node-1' },
    });
    const ok = await api().kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: pod('berth-system') });
    assert.equal(ok.code, 0, ok.stderr);
    await api().kubectlOk(['create', 'namespace', 'baseline']);
    await api().kubectlOk(['label', 'namespace', 'baseline', 'pod-security.kubernetes.io/enforce=baseline']);
    await api().kubectlOk(['create', 'serviceaccount', 'berth-speaker', '-n', 'baseline']);
    const refused = await api().kubectl(['create', '--dry-run=server', '-f', '-'], { stdin: pod('baseline') });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /violates PodSecurity "baseline:latest": .*host namespaces/);
  });
});

describe('real requests with the service accounts\' own tokens', () => {
  const as = async (sa: string): Promise<string> => api().serviceAccountKubeconfig('berth-system', sa);

  test('the controller writes Service status but not the Service', async () => {
    await api().kubectlOk(['wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=berth']);
    await api().kubectlOk(['create', 'service', 'loadbalancer', 'web', '--tcp=80:8080', '-n', 'default']);
    const kubeconfig = await as('berth-controller');
    const status = { status: { loadBalancer: { ingress: [{ ip: '203.0.113.10' }] } } };
    await api().kubectlOk(['patch', 'service', 'web', '-n', 'default', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)],
      { kubeconfig });
    const ip = await api().kubectlOk(['get', 'service', 'web', '-n', 'default', '-o', 'jsonpath={.status.loadBalancer.ingress[0].ip}']);
    assert.equal(ip, '203.0.113.10');
    const spec = await api().kubectl(['label', 'service', 'web', '-n', 'default', 'x=y'], { kubeconfig });
    assert.notEqual(spec.code, 0);
    assert.match(spec.stderr, /forbidden: User "system:serviceaccount:berth-system:berth-controller" cannot patch resource "services"/);
  });

  test('the controller holds its Lease and nobody else\'s', async () => {
    const kubeconfig = await as('berth-controller');
    const lease = (name: string): string => JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'berth-system' },
      spec: { holderIdentity: 'berth-controller-0', leaseDurationSeconds: 15 },
    });
    await api().kubectlOk(['create', '-f', '-'], { stdin: lease('berth-controller'), kubeconfig });
    await api().kubectlOk(['patch', 'lease', 'berth-controller', '-n', 'berth-system', '--type=merge', '-p', '{"spec":{"holderIdentity":"berth-controller-1"}}'],
      { kubeconfig });
    await api().kubectlOk(['create', '-f', '-'], { stdin: lease('kube-scheduler') });
    const other = await api().kubectl(['patch', 'lease', 'kube-scheduler', '-n', 'berth-system', '--type=merge', '-p', '{"spec":{"holderIdentity":"x"}}'],
      { kubeconfig });
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /cannot (get|patch) resource "leases"/);
  });

  test('the speaker writes its status objects in berth-system only, and reads Secrets there only', async () => {
    const kubeconfig = await as('berth-speaker');
    const l2status = (namespace: string): string => JSON.stringify({
      apiVersion: 'metallb.io/v1beta1', kind: 'ServiceL2Status', metadata: { generateName: 'l2-', namespace },
    });
    const created = await api().kubectlOk(['create', '-f', '-', '-o', 'name'], { stdin: l2status('berth-system'), kubeconfig });
    assert.match(created, /^servicel2status\.metallb\.io\/l2-/);
    const elsewhere = await api().kubectl(['create', '-f', '-'], { stdin: l2status('default'), kubeconfig });
    assert.notEqual(elsewhere.code, 0);
    assert.match(elsewhere.stderr, /cannot create resource "servicel2statuses"/);

    await api().kubectlOk(['create', 'secret', 'generic', 'peer-password', '-n', 'berth-system', '--type=kubernetes.io/basic-auth', '--from-literal=password=s3cret']);
    await api().kubectlOk(['create', 'secret', 'generic', 'elsewhere', '-n', 'kube-system', '--from-literal=password=x']);
    await api().kubectlOk(['get', 'secret', 'peer-password', '-n', 'berth-system'], { kubeconfig });
    const foreign = await api().kubectl(['get', 'secret', 'elsewhere', '-n', 'kube-system'], { kubeconfig });
    assert.notEqual(foreign.code, 0);
    assert.match(foreign.stderr, /cannot get resource "secrets" in API group "" in the namespace "kube-system"/);
  });
});
