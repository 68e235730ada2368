// deploy/crds on a real API server: the CRDs install and are structural, the user-promised seed
// manifests and the documentation-shaped examples apply unchanged and come back with every field they
// sent (nothing pruned), defaults are filled in, printer columns show, and the None conversion between
// BGPPeer v1beta1/v1beta2 and Eip v1alpha1/v1alpha2 behaves as deploy/crds documents it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { apiServerForFile,
  assertSubset, crdDir, field, fixture, getJson, installCrds, isObject, loadYamlFile, type Json, type JsonObject,
} from './helpers.ts';

const api = apiServerForFile({
  setup: async (k) => {
    await installCrds(k);
    for (const ns of ['metallb-system', 'seed-002']) await k.kubectlOk(['create', 'namespace', ns]);
  },
});

const appliedFiles = new Map<string, Promise<string>>();

/**
 * Applies a fixture file unchanged (`kubectl apply -f FILE`, in `namespace` when given, as a user whose
 * current namespace it is), once per API server. Every test that reads a fixture's objects calls this
 * itself, so each test passes alone and in any order.
 */
function applied(file: string, namespace = 'default'): Promise<string> {
  const key = `${namespace}/${file}`;
  let done = appliedFiles.get(key);
  if (done === undefined) {
    done = api().kubectlOk(['apply', ...(namespace === 'default' ? [] : ['-n', namespace]), '-f', fixture(file)]);
    appliedFiles.set(key, done);
  }
  return done;
}

/** The MetalLB objects the printer-column and conversion tests read: the seed 004 pools and the examples. */
const metallbFixtures = (): Promise<string[]> => Promise.all([applied('seed-004-metallb-l2-bgp-zh.yaml'), applied('metallb-examples.yaml')]);

/** applied(), then checks every object the file holds came back with all its fields. */
async function applyAndCompare(file: string, namespace = 'default'): Promise<void> {
  await applied(file, namespace);
  for (const sent of loadYamlFile(fixture(file))) {
    const kind = String(sent['kind']);
    const group = String(sent['apiVersion']).split('/');
    const resource = group.length === 2 ? `${kind.toLowerCase()}.${group[1] ?? ''}.${group[0] ?? ''}` : kind.toLowerCase();
    const name = String(field(sent, 'metadata', 'name'));
    const ns = field(sent, 'metadata', 'namespace');
    const stored = await getJson(api(), [resource, name, '-n', typeof ns === 'string' ? ns : namespace]);
    assertSubset(sent['spec'] ?? {}, stored['spec'], `${file} ${kind}/${name} spec`);
  }
}

describe('CRDs', () => {
  test('all twelve install, are Established, and keep their names, scope and versions', async () => {
    const list = await getJson(api(), ['crd', '-l', 'app.kubernetes.io/part-of=berth']);
    const items = (list['items'] as readonly JsonObject[]).map((crd) => {
      const conditions = field(crd, 'status', 'conditions') as readonly JsonObject[];
      const established = conditions.find((c) => c['type'] === 'Established');
      assert.equal(established?.['status'], 'True', `${String(field(crd, 'metadata', 'name'))} not Established`);
      assert.ok(!conditions.some((c) => c['type'] === 'NonStructuralSchema'), 'non-structural schema');
      const versions = (field(crd, 'spec', 'versions') as readonly JsonObject[])
        .map((v) => `${String(v['name'])}${v['storage'] === true ? '*' : ''}`).join(',');
      return `${String(field(crd, 'metadata', 'name'))} ${String(field(crd, 'spec', 'scope'))} ${versions}`;
    });
    assert.deepEqual(items.sort(), [
      'bfdprofiles.metallb.io Namespaced v1beta1*',
      'bgpadvertisements.metallb.io Namespaced v1beta1*',
      'bgpconfs.network.kubesphere.io Cluster v1alpha2*',
      'bgppeers.metallb.io Namespaced v1beta2*,v1beta1',
      'bgppeers.network.kubesphere.io Cluster v1alpha2*',
      'communities.metallb.io Namespaced v1beta1*',
      'configurationstates.metallb.io Namespaced v1beta1*',
      'eips.network.kubesphere.io Cluster v1alpha2*,v1alpha1',
      'ipaddresspools.metallb.io Namespaced v1beta1*',
      'l2advertisements.metallb.io Namespaced v1beta1*',
      'servicebgpstatuses.metallb.io Namespaced v1beta1*',
      'servicel2statuses.metallb.io Namespaced v1beta1*',
    ]);
    assert.equal(readdirSync(crdDir).filter((f) => f.endsWith('.yaml')).length, 12);
  });
});

describe('user manifests apply unchanged and keep every field', () => {
  test('seed 000: Porter layer2 Eip, Service and Deployment', () => applyAndCompare('seed-000-porter-layer2-zh.yaml'));
  test('seed 001: Porter layer2 Eip, Deployment and Service', () => applyAndCompare('seed-001-porter-layer2.yaml'));
  test('seed 002: PorterLB layer2 Eip, Deployment and Service with the eip annotation', () =>
    applyAndCompare('seed-002-porterlb-layer2.yaml', 'seed-002'));
  test('seed 004: MetalLB IPAddressPools, L2Advertisement, BGPAdvertisement, BGPPeer, Service', () =>
    applyAndCompare('seed-004-metallb-l2-bgp-zh.yaml'));
  test('MetalLB examples: every kind, v1beta1 and v1beta2 BGPPeers, communities, BFD', () =>
    applyAndCompare('metallb-examples.yaml'));
  test('OpenELB examples: BgpConf, BgpPeer with string timers, Eips (v1alpha1 too)', () =>
    applyAndCompare('kubesphere-examples.yaml'));
  test('the seed Eip keeps the Service annotation it is named by', async () => {
    await applied('seed-002-porterlb-layer2.yaml', 'seed-002');
    const svc = await getJson(api(), ['service', 'porter-layer2-svc', '-n', 'seed-002']);
    assert.equal(field(svc, 'metadata', 'annotations', 'eip.porter.kubesphere.io/v1alpha2'), 'porter-layer2-eip');
    const eip = await getJson(api(), ['eips.network.kubesphere.io', 'porter-layer2-eip']);
    assert.deepEqual(eip['spec'], { address: '192.168.0.91-192.168.0.100', interface: 'eth0', protocol: 'layer2' });
  });
});

describe('defaults', () => {
  const apply = (obj: JsonObject): Promise<string> => api().kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify(obj) });

  test('IPAddressPool: autoAssign true, avoidBuggyIPs false', async () => {
    await apply({ apiVersion: 'metallb.io/v1beta1', kind: 'IPAddressPool', metadata: { name: 'defaults', namespace: 'default' },
      spec: { addresses: ['203.0.113.0/28'] } });
    const pool = await getJson(api(), ['ipaddresspools.metallb.io', 'defaults']);
    assert.deepEqual(pool['spec'], { addresses: ['203.0.113.0/28'], autoAssign: true, avoidBuggyIPs: false });
  });

  test('BGPAdvertisement: aggregation lengths 32 and 128', async () => {
    await apply({ apiVersion: 'metallb.io/v1beta1', kind: 'BGPAdvertisement', metadata: { name: 'defaults', namespace: 'default' }, spec: {} });
    const adv = await getJson(api(), ['bgpadvertisements.metallb.io', 'defaults']);
    assert.deepEqual(adv['spec'], { aggregationLength: 32, aggregationLengthV6: 128 });
  });

  test('BGPPeer v1beta2: peerPort 179, disableMP and dualStackAddressFamily false', async () => {
    await apply({ apiVersion: 'metallb.io/v1beta2', kind: 'BGPPeer', metadata: { name: 'defaults', namespace: 'default' },
      spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1' } });
    const peer = await getJson(api(), ['bgppeers.v1beta2.metallb.io', 'defaults']);
    assert.deepEqual(peer['spec'], {
      myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', peerPort: 179, disableMP: false, dualStackAddressFamily: false,
    });
  });

  test('Eip: protocol is not defaulted (absent means bgp, and the config compiler must see "absent")', async () => {
    await apply({ apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name: 'no-protocol' }, spec: { address: '203.0.113.50' } });
    const eip = await getJson(api(), ['eips.network.kubesphere.io', 'no-protocol']);
    assert.deepEqual(eip['spec'], { address: '203.0.113.50' });
  });
});

describe('printer columns', () => {
  /** The table kubectl prints, as header cells and rows split on runs of 2+ spaces. */
  async function table(args: readonly string[]): Promise<{ header: string[]; rows: string[][] }> {
    const out = await api().kubectlOk(['get', ...args]);
    const [head = '', ...rest] = out.trimEnd().split('\n');
    const split = (line: string): string[] => line.trim().split(/\s{2,}/);
    return { header: split(head), rows: rest.map(split) };
  }

  test('kubectl get ipaddresspools shows Auto Assign, Avoid Buggy IPs and Addresses', async () => {
    await metallbFixtures();
    const t = await table(['ipaddresspools', '-n', 'metallb-system']);
    assert.deepEqual(t.header, ['NAME', 'AUTO ASSIGN', 'AVOID BUGGY IPS', 'ADDRESSES', 'AGE']);
    const demo = t.rows.find((r) => r[0] === 'demo-pool');
    assert.ok(demo !== undefined, `no demo-pool row in ${JSON.stringify(t.rows)}`);
    assert.deepEqual(demo.slice(0, 4), ['demo-pool', 'true', 'false', '["192.168.10.0/24","192.168.9.1-192.168.9.5","fc00:f853:0ccd:e799::/124"]']);
    const prod = t.rows.find((r) => r[0] === 'production');
    assert.equal(prod?.[2], 'true', 'avoidBuggyIPs of the production pool');
  });

  test('kubectl get bgppeers.metallb.io shows Address, ASN, BFD Profile and Multi Hops', async () => {
    await metallbFixtures();
    const t = await table(['bgppeers.metallb.io', '-n', 'metallb-system']);
    assert.deepEqual(t.header, ['NAME', 'ADDRESS', 'ASN', 'BFD PROFILE', 'MULTI HOPS', 'AGE']);
    assert.deepEqual(t.rows.find((r) => r[0] === 'router-a')?.slice(0, 5), ['router-a', '192.0.2.1', '64513', 'fast', 'true']);
  });

  test('kubectl get l2advertisements hides Node Selectors unless -o wide', async () => {
    await metallbFixtures();
    const narrow = await table(['l2advertisements', '-n', 'metallb-system']);
    assert.deepEqual(narrow.header, ['NAME', 'IPADDRESSPOOLS', 'IPADDRESSPOOL SELECTORS', 'INTERFACES', 'AGE']);
    const wide = await table(['l2advertisements', '-n', 'metallb-system', '-o', 'wide']);
    assert.ok(wide.header.includes('NODE SELECTORS'), wide.header.join('|'));
  });

  test('kubectl get eips shows cidr, usage and total', async () => {
    await applied('seed-000-porter-layer2-zh.yaml');
    const t = await table(['eips']);
    assert.deepEqual(t.header, ['NAME', 'CIDR', 'USAGE', 'TOTAL', 'AGE']);
    assert.equal(t.rows.find((r) => r[0] === 'eip-sample-layer2')?.[1], '172.22.0.188-172.22.0.200');
  });

  test('kubectl get bfdprofiles and configurationstates show their columns', async () => {
    await metallbFixtures();
    const bfd = await table(['bfdprofiles', '-n', 'metallb-system']);
    assert.deepEqual(bfd.header, ['NAME', 'PASSIVE MODE', 'TRANSMIT INTERVAL', 'RECEIVE INTERVAL', 'MULTIPLIER', 'AGE']);
    assert.deepEqual(bfd.rows[0]?.slice(0, 5), ['fast', 'true', '100', '100', '3']);
  });
});

describe('conversion None between served versions', () => {
  test('a v1beta1 BGPPeer reads back as v1beta2 with the same fields and the v1beta2 defaults', async () => {
    await metallbFixtures();
    const v1 = await getJson(api(), ['bgppeers.v1beta1.metallb.io', 'legacy', '-n', 'metallb-system']);
    const v2 = await getJson(api(), ['bgppeers.v1beta2.metallb.io', 'legacy', '-n', 'metallb-system']);
    assert.equal(v2['apiVersion'], 'metallb.io/v1beta2');
    assertSubset(v1['spec'] as Json, v2['spec'], 'v1beta2 view');
    // Stored as v1beta2, whose default applies when the object is read: both views show 179.
    assert.equal(field(v2, 'spec', 'peerPort'), 179);
    assert.equal(field(v1, 'spec', 'peerPort'), 179);
  });

  test('a v1beta1 peerPort 0 (refused by v1beta2) stays editable through v1beta2 (validation ratcheting)', async () => {
    await api().kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify({
      apiVersion: 'metallb.io/v1beta1', kind: 'BGPPeer', metadata: { name: 'port-zero', namespace: 'default' },
      spec: { myASN: 64512, peerASN: 64513, peerAddress: '192.0.2.1', peerPort: 0 } }) });
    assert.equal(field(await getJson(api(), ['bgppeers.v1beta2.metallb.io', 'port-zero']), 'spec', 'peerPort'), 0);
    await api().kubectlOk(['patch', 'bgppeers.v1beta2.metallb.io', 'port-zero', '--type=merge', '-p', '{"spec":{"holdTime":"30s"}}']);
    const changed = await api().kubectl(['patch', 'bgppeers.v1beta2.metallb.io', 'port-zero', '--type=merge', '-p', '{"spec":{"peerPort":20000}}']);
    assert.notEqual(changed.code, 0, 'a changed field is still validated');
    assert.ok(changed.stderr.includes('should be less than or equal to 16384'), changed.stderr);
  });

  test('using v1beta1 prints the deprecation warning', async () => {
    await metallbFixtures();
    const res = await api().kubectl(['get', 'bgppeers.v1beta1.metallb.io', '-n', 'metallb-system']);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(res.stderr.includes('metallb.io/v1beta1 BGPPeer is deprecated, please use metallb.io/v1beta2'), res.stderr);
  });

  test('v1beta2-only fields are not visible through v1beta1 but stay stored (documented loss on v1beta1 writes)', async () => {
    await metallbFixtures();
    const v1 = await getJson(api(), ['bgppeers.v1beta1.metallb.io', 'router-b', '-n', 'metallb-system']);
    for (const f of ['vrf', 'dynamicASN', 'disableMP']) assert.equal(field(v1, 'spec', f), undefined, `${f} through v1beta1`);
    const v2 = await getJson(api(), ['bgppeers.v1beta2.metallb.io', 'router-b', '-n', 'metallb-system']);
    assert.equal(field(v2, 'spec', 'vrf'), 'red');
    assert.equal(field(v2, 'spec', 'dynamicASN'), 'external');
  });

  test('an Eip created as v1alpha1 reads as v1alpha2 and the reverse', async () => {
    await Promise.all([applied('kubesphere-examples.yaml'), applied('seed-001-porter-layer2.yaml')]);
    const v2 = await getJson(api(), ['eips.v1alpha2.network.kubesphere.io', 'eip-v1alpha1']);
    // v1alpha1 defaults usingKnownIPs to false (Porter 0.3: skip .0/.255), so the stored object says so.
    assert.deepEqual(v2['spec'], { address: '198.51.100.64/28', protocol: 'bgp', usingKnownIPs: false });
    const v1 = await getJson(api(), ['eips.v1alpha1.network.kubesphere.io', 'porter-layer2-eip']);
    assert.equal(v1['apiVersion'], 'network.kubesphere.io/v1alpha1');
    assert.deepEqual(v1['spec'], { address: '192.168.0.91-192.168.0.100', protocol: 'layer2' }, 'interface is v1alpha2-only');
  });

  test('status subresources: spec writes cannot set status', async () => {
    await api().kubectlOk(['apply', '-f', '-'], { stdin: JSON.stringify({
      apiVersion: 'network.kubesphere.io/v1alpha2', kind: 'Eip', metadata: { name: 'status-test' },
      spec: { address: '203.0.113.60' }, status: { usage: 5 } }) });
    const eip = await getJson(api(), ['eips', 'status-test']);
    assert.ok(!isObject(eip['status']) || eip['status']['usage'] === undefined, JSON.stringify(eip['status']));
    await api().kubectlOk(['patch', 'eips', 'status-test', '--subresource=status', '--type=merge', '-p', '{"status":{"usage":1,"poolSize":1}}']);
    const after = await getJson(api(), ['eips', 'status-test']);
    assert.equal(field(after, 'status', 'usage'), 1);
  });
});
