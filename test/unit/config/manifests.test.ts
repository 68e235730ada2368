// The manifest loader: multi-document YAML, List, folders, bad YAML and unknown kinds as problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { listManifestFiles, loadManifests, parseManifests } from '../../../src/config/manifests.ts';
import { objectKey } from '../../../src/config/problems.ts';

test('manifests: multi-document YAML routes each kind to its snapshot list, with origins', () => {
  const res = parseManifests([
    {
      path: 'a.yaml',
      text: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: p, namespace: metallb-system}
spec: {addresses: [192.0.2.0/24]}
---
# a comment-only document is skipped
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: r, namespace: metallb-system}
spec: {myASN: 1, peerASN: 2, peerAddress: 192.0.2.1}
---
apiVersion: metallb.io/v1beta1
kind: BGPPeer
metadata: {name: r1}
spec: {myASN: 1, peerASN: 2, peerAddress: 192.0.2.2}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: e, namespace: ignored-for-cluster-scoped}
spec: {address: 198.51.100.1}
---
apiVersion: v1
kind: Service
metadata: {name: s}
spec: {type: LoadBalancer}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: s-abc, namespace: web}
addressType: IPv4
endpoints: []
`,
    },
  ]);
  assert.deepEqual(res.problems, []);
  assert.equal(res.snapshot.ipAddressPools.length, 1);
  assert.deepEqual(res.snapshot.bgpPeers.map((p) => [p.apiVersion, p.metadata?.namespace]), [
    ['metallb.io/v1beta2', 'metallb-system'],
    ['metallb.io/v1beta1', 'default'],
  ]);
  assert.equal(res.snapshot.eips[0]?.metadata?.namespace, undefined, 'cluster-scoped: namespace dropped');
  assert.equal(res.snapshot.services[0]?.metadata?.namespace, 'default', 'namespaced: default namespace');
  assert.equal(res.snapshot.endpointSlices.length, 1);
  assert.deepEqual(res.origins.get(objectKey({ kind: 'BGPPeer', namespace: 'metallb-system', name: 'r' })), { file: 'a.yaml', line: 8 });
  assert.deepEqual(res.origins.get(objectKey({ kind: 'IPAddressPool', namespace: 'metallb-system', name: 'p' })), { file: 'a.yaml', line: 1 });
});

test('manifests: kind List is unpacked', () => {
  const res = parseManifests([
    {
      path: 'list.yaml',
      text: `apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Node, metadata: {name: n1, labels: {rack: a}}}
- {apiVersion: v1, kind: Namespace, metadata: {name: web}}
`,
    },
  ]);
  assert.deepEqual(res.problems, []);
  assert.deepEqual(res.snapshot.nodes.map((n) => n.metadata?.name), ['n1']);
  assert.deepEqual(res.snapshot.namespaces.map((n) => n.metadata?.name), ['web']);
});

test('manifests: JSON documents are read', () => {
  const res = parseManifests([{ path: 'x.json', text: '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s","namespace":"metallb-system"},"type":"kubernetes.io/basic-auth"}' }]);
  assert.deepEqual(res.problems, []);
  assert.equal(res.snapshot.secrets[0]?.type, 'kubernetes.io/basic-auth');
});

test('manifests: a YAML error names the file and line and does not stop the other files or documents', () => {
  const res = parseManifests([
    { path: 'bad.yaml', text: 'apiVersion: v1\nkind: Node\nmetadata: {name: n1}\n---\nkind: [unclosed\n---\napiVersion: v1\nkind: Node\nmetadata: {name: n2}\n' },
    { path: 'good.yaml', text: 'apiVersion: v1\nkind: Node\nmetadata: {name: n3}\n' },
  ]);
  assert.equal(res.problems.length, 1);
  assert.equal(res.problems[0]?.kind, 'File');
  assert.equal(res.problems[0]?.name, 'bad.yaml');
  assert.match(res.problems[0]?.message ?? '', /^line [56], column \d+: YAML error/);
  assert.deepEqual(res.snapshot.nodes.map((n) => n.metadata?.name), ['n1', 'n2', 'n3']);
});

test('manifests: duplicate keys are a YAML error', () => {
  const res = parseManifests([{ path: 'dup.yaml', text: 'apiVersion: v1\nkind: Node\nkind: Namespace\nmetadata: {name: n}\n' }]);
  assert.equal(res.problems.length, 1);
  assert.match(res.problems[0]?.message ?? '', /line 3/);
});

test('manifests: unknown kinds in groups berth reads, and unknown groups, are problems; built-in kinds are ignored', () => {
  const res = parseManifests([
    {
      path: 'k.yaml',
      text: `apiVersion: metallb.io/v1beta1
kind: IPAdressPool
metadata: {name: typo, namespace: metallb-system}
---
apiVersion: cert-manager.io/v1
kind: Certificate
metadata: {name: c}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: web}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
---
apiVersion: metallb.io/v1beta2
kind: IPAddressPool
metadata: {name: wrong-version}
---
apiVersion: v1
kind: Service
metadata: {}
---
- just
- a list
---
kind: Node
`,
    },
  ]);
  const summary = res.problems.map((p) => [p.kind, p.name.startsWith('(unnamed') ? '(unnamed)' : p.name, p.field ?? '', p.message.slice(0, 40)]);
  assert.deepEqual(summary, [
    ['IPAdressPool', 'typo', 'kind', 'berth reads no kind "IPAdressPool" in me'],
    ['Certificate', 'c', 'kind', 'berth does not read cert-manager.io/v1 o'],
    ['IPAddressPool', 'wrong-version', 'apiVersion', 'unsupported apiVersion "metallb.io/v1bet'],
    ['Service', '(unnamed)', 'metadata.name', 'the object has no metadata.name (k.yaml:'],
    ['File', 'k.yaml', '', 'line 25: a document must be a mapping wi'],
    ['File', 'k.yaml', '', 'line 28: the document has no apiVersion '],
  ]);
  assert.deepEqual(res.ignored.map((o) => `${o.kind} ${o.namespace ?? ''}/${o.name}`), ['Deployment web/d', 'ConfigMap /cm']);
});

test('manifests: the same object twice is reported; the later one is used', () => {
  const node = (v: string): string => `apiVersion: v1\nkind: Node\nmetadata: {name: n, labels: {v: "${v}"}}\n`;
  const res = parseManifests([
    { path: 'a.yaml', text: node('1') },
    { path: 'b.yaml', text: node('2') },
  ]);
  assert.equal(res.problems.length, 1);
  assert.match(res.problems[0]?.message ?? '', /defined twice \(a\.yaml:1 and b\.yaml:1\)/);
  assert.deepEqual(res.snapshot.nodes.map((n) => n.metadata?.labels?.['v']), ['2']);
});

// The clone's examples folder, found from this file so the test passes from any working directory.
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

test('manifests: a folder is read recursively, sorted, *.yaml/*.yml/*.json only', () => {
  const files = listManifestFiles(`${EXAMPLES}metallb-bgp`);
  assert.deepEqual(
    files,
    ['bgpadvertisement.yaml', 'bgppeer.yaml', 'pool.yaml', 'service.yaml'].map((f) => `${EXAMPLES}metallb-bgp/${f}`),
  );
  const all = listManifestFiles(`${EXAMPLES}broken`);
  assert.ok(all.length >= 8, 'nested folders are walked');
  assert.deepEqual([...all].sort(), all, 'sorted');
  const res = loadManifests(`${EXAMPLES}metallb-bgp`);
  assert.deepEqual(res.problems, []);
  assert.equal(res.snapshot.bgpPeers.length, 1);
});

test('manifests: a missing path throws (bad usage), it is not a problem', () => {
  assert.throws(() => loadManifests(`${EXAMPLES}does-not-exist`));
});
