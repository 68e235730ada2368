// `berth controller` (a real child process) against a real kube-apiserver: the seed scenarios applied with
// kubectl get their EXTERNAL-IP from the right pool, with the pool annotation, the OpenELB label, Events,
// IPAddressPool / Eip status and ConfigurationState; bad input the API server cannot judge (overlapping
// pools, an invalid edit of a pool in use) is reported while everything else keeps working; Services
// that stop being berth's are released and their status cleared.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { apiServerForFile, field, getJson, installCrds, isObject, repoRoot, fixture, type Json, type JsonObject } from './helpers.ts';
import { eventually, startController, type BerthProcess } from './berth-process.ts';

let ctl: BerthProcess | undefined;
let exitCode: number | null | undefined;
const api = apiServerForFile({
  setup: async (k) => {
    await installCrds(k);
    await k.kubectlOk(['create', 'namespace', 'berth-system']);
    await k.kubectlOk(['create', 'namespace', 'metallb-system']);
    ctl = startController(k);
  },
  beforeStop: async () => {
    exitCode = await ctl?.stop();
  },
});
const example = (...p: string[]): string => join(repoRoot, 'examples', ...p);
after(() => {
  assert.equal(exitCode, 0, `controller exit code (stderr tail: ${ctl?.stderr().slice(-2000) ?? ''})`);
});

function ingressIPs(svc: JsonObject): string[] {
  const ingress = field(svc, 'status', 'loadBalancer', 'ingress');
  if (!Array.isArray(ingress)) return [];
  return (ingress as readonly Json[]).map((i) => (isObject(i) && typeof i['ip'] === 'string' ? i['ip'] : '')).filter((s) => s !== '');
}

async function svc(name: string, ns = 'default'): Promise<JsonObject> {
  return getJson(api(), ['service', name, '-n', ns]);
}

/** Waits until the Service shows exactly one IP (or `count`), and returns the Service. */
async function waitForIPs(name: string, ns = 'default', count = 1): Promise<JsonObject> {
  return eventually(`an IP on Service ${ns}/${name}`, async () => {
    const s = await svc(name, ns);
    return ingressIPs(s).length === count ? s : undefined;
  });
}

async function events(ns: string, name: string): Promise<{ reason: string; type: string; message: string; component: string }[]> {
  const list = await getJson(api(), ['events', '-n', ns, '--field-selector', `involvedObject.name=${name}`]);
  const items = (list['items'] ?? []) as readonly Json[];
  return items.filter(isObject).map((e) => ({
    reason: String(e['reason']),
    type: String(e['type']),
    message: String(e['message']),
    component: String(field(e, 'source', 'component') ?? ''),
  }));
}

async function waitForEvent(ns: string, name: string, reason: string, match: RegExp = /./): Promise<{ type: string; message: string; component: string }> {
  return eventually(`Event ${reason} on ${ns}/${name}`, async () => (await events(ns, name)).find((e) => e.reason === reason && match.test(e.message)));
}

const inRange = (ip: string, first: string, last: string): boolean => {
  const n = (s: string): number => s.split('.').reduce((a, b) => a * 256 + Number(b), 0);
  return n(ip) >= n(first) && n(ip) <= n(last);
};

describe('seed scenarios applied with kubectl', () => {
  test('Porter layer 2 (seed "Use Porter in Layer 2 Mode"): Eip + annotated Service', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', fixture('seed-001-porter-layer2.yaml')]);
    const s = await waitForIPs('porter-layer2-svc');
    const [ip] = ingressIPs(s);
    assert.ok(ip !== undefined && inRange(ip, '192.168.0.91', '192.168.0.100'), `IP ${String(ip)} is from porter-layer2-eip`);
    // kubectl get svc shows it.
    const table = await k8s.kubectlOk(['get', 'svc', 'porter-layer2-svc']);
    assert.match(table, new RegExp(`porter-layer2-svc\\s+LoadBalancer\\s+\\S+\\s+${ip.replace(/\./g, '\\.')}\\s`), table);
    assert.equal(field(s, 'metadata', 'labels', 'eip.openelb.kubesphere.io/v1alpha2'), 'porter-layer2-eip', 'OpenELB Eip label');
    assert.equal(field(s, 'metadata', 'annotations', 'metallb.io/ip-allocated-from-pool'), 'porter-layer2-eip');
    const ev = await waitForEvent('default', 'porter-layer2-svc', 'IPAllocated');
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.message, `Assigned IP ["${ip}"]`);
    assert.equal(ev.component, 'berth-controller');
    // Eip.status (OpenELB api/v1alpha2/eip_types.go).
    const eip = await eventually('Eip status', async () => {
      const e = await getJson(k8s, ['eip', 'porter-layer2-eip']);
      return field(e, 'status', 'usage') === 1 ? e : undefined;
    });
    assert.deepEqual(field(eip, 'status', 'used'), { [ip]: 'default/porter-layer2-svc' });
    assert.equal(field(eip, 'status', 'poolSize'), 10);
    assert.equal(field(eip, 'status', 'firstIP'), '192.168.0.91');
    assert.equal(field(eip, 'status', 'lastIP'), '192.168.0.100');
    assert.equal(field(eip, 'status', 'occupied'), false);
    assert.equal(field(eip, 'status', 'v4'), true);

    // Deleting the Service releases the IP: the Eip counts it no more.
    await k8s.kubectlOk(['delete', 'service', 'porter-layer2-svc']);
    await eventually('Eip usage back to 0', async () => {
      const e = await getJson(k8s, ['eip', 'porter-layer2-eip']);
      return field(e, 'status', 'usage') === 0 && Object.keys((field(e, 'status', 'used') ?? {}) as object).length === 0 ? true : undefined;
    });
    await k8s.kubectlOk(['delete', '-f', fixture('seed-001-porter-layer2.yaml'), '--ignore-not-found']);
  });

  test('MetalLB L2 (seed "L2&BGP 模式说明"): IPAddressPool + L2Advertisement + Service', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', example('metallb-l2')]);
    const s = await waitForIPs('metallb1-cluster');
    const [ip] = ingressIPs(s);
    assert.ok(ip !== undefined && inRange(ip, '192.168.10.0', '192.168.10.255'), `IP ${String(ip)} is from demo-pool's first range`);
    assert.equal(field(s, 'metadata', 'annotations', 'metallb.io/ip-allocated-from-pool'), 'demo-pool');
    assert.equal(field(s, 'metadata', 'labels', 'eip.openelb.kubesphere.io/v1alpha2'), undefined, 'no OpenELB label on a MetalLB Service');
    const table = await k8s.kubectlOk(['get', 'svc', 'metallb1-cluster']);
    assert.ok(table.includes(ip), table);
    await waitForEvent('default', 'metallb1-cluster', 'IPAllocated', new RegExp(ip.replace(/\./g, '\\.')));
    // IPAddressPool.status: automatic allocation never hands out a CIDR's network and broadcast addresses
    // (nor the IPv6 subnet-router anycast address), docs/allocator.md: (256 - 2) + 5 - 1 IPv4, 16 - 1 IPv6.
    const pool = await eventually('IPAddressPool status', async () => {
      const p = await getJson(k8s, ['ipaddresspool', 'demo-pool', '-n', 'metallb-system']);
      return field(p, 'status', 'assignedIPv4') === 1 ? p : undefined;
    });
    assert.deepEqual(field(pool, 'status'), { assignedIPv4: 1, assignedIPv6: 0, availableIPv4: 258, availableIPv6: 15 });
    const cs = await getJson(k8s, ['configurationstate', 'controller', '-n', 'berth-system']);
    assert.equal(field(cs, 'status', 'result'), 'Valid');
    assert.equal(field(cs, 'metadata', 'labels', 'metallb.io/component-type'), 'controller');
    await k8s.kubectlOk(['delete', '-f', example('metallb-l2')]);
  });

  test('MetalLB BGP: BGPPeer + BGPAdvertisement + IPAddressPool + Service', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', example('metallb-bgp')]);
    const s = await waitForIPs('metallb-demo');
    const [ip] = ingressIPs(s);
    assert.ok(ip !== undefined && inRange(ip, '192.168.10.0', '192.168.10.255'), `IP ${String(ip)} from bgp-pool`);
    // The pool and Service watches are separate streams: the Service may be seen before demo-pool's
    // deletion (same range), and then moves to bgp-pool keeping its IP (MetalLB internal/allocator/allocator.go SetPools).
    await eventually('annotation names bgp-pool', async () => {
      const cur = await svc('metallb-demo');
      return field(cur, 'metadata', 'annotations', 'metallb.io/ip-allocated-from-pool') === 'bgp-pool' && ingressIPs(cur)[0] === ip ? true : undefined;
    });
    await waitForEvent('default', 'metallb-demo', 'IPAllocated');
    await k8s.kubectlOk(['delete', '-f', example('metallb-bgp')]);
  });
});

describe('Services that fail or stop being berth\'s', () => {
  test('a Service naming a missing pool gets AllocationFailed (Warning) and no IP', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: small, namespace: metallb-system}
spec: {addresses: [203.0.113.10-203.0.113.11]}
---
apiVersion: v1
kind: Service
metadata: {name: wants-missing, annotations: {metallb.io/address-pool: nope}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    const ev = await waitForEvent('default', 'wants-missing', 'AllocationFailed');
    assert.equal(ev.type, 'Warning');
    assert.match(ev.message, /^Failed to allocate IP for "default\/wants-missing": .*nope/);
    assert.deepEqual(ingressIPs(await svc('wants-missing')), []);
  });

  test('pool exhausted: the third Service waits, and gets the IP the moment one is freed', async () => {
    const k8s = api();
    for (const n of ['fill-a', 'fill-b', 'fill-c']) {
      await k8s.kubectlOk(['apply', '-f', '-'], {
        stdin: `apiVersion: v1
kind: Service
metadata: {name: ${n}, annotations: {metallb.io/address-pool: small}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
      });
    }
    const a = ingressIPs(await waitForIPs('fill-a'));
    const b = ingressIPs(await waitForIPs('fill-b'));
    assert.notDeepEqual(a, b);
    await waitForEvent('default', 'fill-c', 'AllocationFailed', /no available IPs/);
    assert.deepEqual(ingressIPs(await svc('fill-c')), []);
    // Making fill-a a ClusterIP Service: berth clears its status and annotation, and fill-c gets the IP.
    await k8s.kubectlOk(['patch', 'service', 'fill-a', '--type=merge', '-p', '{"spec":{"type":"ClusterIP"}}']);
    const c = await waitForIPs('fill-c');
    assert.deepEqual(ingressIPs(c), a, 'fill-c takes the freed IP');
    const cleared = await eventually('fill-a cleared', async () => {
      const s = await svc('fill-a');
      return ingressIPs(s).length === 0 && field(s, 'metadata', 'annotations', 'metallb.io/ip-allocated-from-pool') === undefined ? s : undefined;
    });
    assert.equal(field(cleared, 'spec', 'type'), 'ClusterIP');
    await k8s.kubectlOk(['delete', 'service', 'fill-a', 'fill-b', 'fill-c', 'wants-missing']);
    await k8s.kubectlOk(['delete', 'ipaddresspool', 'small', '-n', 'metallb-system']);
  });

  test('an invalid request gets LoadBalancerFailed; a deprecated annotation works and gets deprecatedAnnotation', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: req, namespace: metallb-system}
spec: {addresses: [203.0.113.64/28]}
---
apiVersion: v1
kind: Service
metadata: {name: two-v4, annotations: {metallb.io/loadBalancerIPs: "203.0.113.66, 203.0.113.67"}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: old-spelling, annotations: {metallb.universe.tf/address-pool: req}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    const bad = await waitForEvent('default', 'two-v4', 'LoadBalancerFailed');
    assert.equal(bad.type, 'Warning');
    assert.match(bad.message, /one IPv4 and one IPv6/);
    assert.deepEqual(ingressIPs(await svc('two-v4')), []);
    const old = await waitForIPs('old-spelling');
    assert.ok(inRange(ingressIPs(old)[0] ?? '', '203.0.113.64', '203.0.113.79'), 'the deprecated pool annotation is honoured');
    const dep = await waitForEvent('default', 'old-spelling', 'deprecatedAnnotation');
    assert.equal(dep.type, 'Warning');
    assert.match(dep.message, /metallb\.universe\.tf\/address-pool/);
    await k8s.kubectlOk(['delete', 'service', 'two-v4', 'old-spelling']);
    await k8s.kubectlOk(['delete', 'ipaddresspool', 'req', '-n', 'metallb-system']);
  });

  test('a Service of another loadBalancerClass is left alone', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: any, namespace: metallb-system}
spec: {addresses: [203.0.113.32/28]}
---
apiVersion: v1
kind: Service
metadata: {name: foreign}
spec: {type: LoadBalancer, loadBalancerClass: example.com/other, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: mine}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    await waitForIPs('mine');
    assert.deepEqual(ingressIPs(await svc('foreign')), [], 'foreign Service untouched');
    assert.deepEqual(await events('default', 'foreign'), []);
    await k8s.kubectlOk(['delete', 'service', 'foreign', 'mine']);
    await k8s.kubectlOk(['delete', 'ipaddresspool', 'any', '-n', 'metallb-system']);
  });
});

// examples/broken/overlapping-pools without its last object (a bare IP, which the CRD's CEL rejects),
// plus a valid pool teal.
const OVERLAPPING = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: blue, namespace: metallb-system}
spec: {addresses: [198.51.100.0/24]}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: green, namespace: metallb-system}
spec: {addresses: [198.51.100.128/25, 203.0.113.0/28]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: red}
spec: {address: 198.51.100.250-198.51.100.255, protocol: bgp}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: teal, namespace: metallb-system}
spec: {addresses: [192.0.2.0/28], autoAssign: false}
`;

describe('bad input the API server cannot judge', () => {
  /** The overlapping pools and a Service on blue with its IP: what both tests start from. */
  async function overlappingWithOnBlue(): Promise<JsonObject> {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', '-'], { stdin: OVERLAPPING });
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Service
metadata: {name: on-blue, annotations: {metallb.io/address-pool: blue}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    return waitForIPs('on-blue');
  }

  /** Removes what overlappingWithOnBlue() made, so that every other test sees a valid configuration. */
  async function removeOverlapping(): Promise<void> {
    const k8s = api();
    await k8s.kubectlOk(['delete', 'service', 'on-blue', 'on-blue-2', '--ignore-not-found']);
    await k8s.kubectlOk(['delete', '--ignore-not-found', '-f', '-'], { stdin: OVERLAPPING });
    await eventually('ConfigurationState Valid again', async () => {
      const c = await getJson(k8s, ['configurationstate', 'controller', '-n', 'berth-system']);
      return field(c, 'status', 'result') === 'Valid' ? true : undefined;
    });
  }

  test('overlapping pools: ConfigurationState Invalid and Warning Events name them; the valid pool keeps working', async (t) => {
    const k8s = api();
    t.after(removeOverlapping);
    const s = await overlappingWithOnBlue();
    const [ip] = ingressIPs(s);
    assert.ok(ip !== undefined && inRange(ip, '198.51.100.0', '198.51.100.255'), String(ip));
    const cs = await eventually('ConfigurationState Invalid', async () => {
      const c = await getJson(k8s, ['configurationstate', 'controller', '-n', 'berth-system']);
      return field(c, 'status', 'result') === 'Invalid' ? c : undefined;
    });
    const summary = String(field(cs, 'status', 'errorSummary'));
    assert.match(summary, /IPAddressPool metallb-system\/green/);
    assert.match(summary, /Eip red/);
    assert.doesNotMatch(summary, /^IPAddressPool metallb-system\/(blue|teal) /m, 'blue and teal are valid');
    const conds = field(cs, 'status', 'conditions') as readonly JsonObject[];
    assert.equal(conds[0]?.['type'], 'poolReconcilerValid');
    assert.equal(conds[0]?.['status'], 'False');
    assert.equal(conds[0]?.['reason'], 'ConfigurationError');
    const ev = await waitForEvent('metallb-system', 'green', 'ConfigurationError');
    assert.equal(ev.type, 'Warning');
    // `kubectl get configurationstate` prints Result.
    assert.match(await k8s.kubectlOk(['get', 'configurationstate', '-n', 'berth-system']), /controller\s+Invalid/);
  });

  test('an invalid edit of a pool in use keeps its last valid version in force', async (t) => {
    const k8s = api();
    t.after(removeOverlapping);
    await overlappingWithOnBlue();
    const before = ingressIPs(await svc('on-blue'));
    // blue grows into teal, a pool in force: the change is rejected and blue's old version stays.
    await k8s.kubectlOk(['patch', 'ipaddresspool', 'blue', '-n', 'metallb-system', '--type=merge', '-p', '{"spec":{"addresses":["198.51.100.0/24","192.0.2.0/27"]}}']);
    await eventually('blue reported stale', async () => {
      const c = await getJson(k8s, ['configurationstate', 'controller', '-n', 'berth-system']);
      const sum = String(field(c, 'status', 'errorSummary'));
      return /IPAddressPool metallb-system\/blue.*last valid version stays in force/.test(sum) ? true : undefined;
    });
    // A new Service on blue is still served from the old range, and on-blue keeps its IP.
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Service
metadata: {name: on-blue-2, annotations: {metallb.io/address-pool: blue}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    const s2 = await waitForIPs('on-blue-2');
    assert.ok(inRange(ingressIPs(s2)[0] ?? '', '198.51.100.0', '198.51.100.255'), 'blue v1 range');
    assert.deepEqual(ingressIPs(await svc('on-blue')), before, 'on-blue keeps its IP');
  });
});

describe("issue 11: users' manifests apply unchanged", () => {
  test('a migrated peer (passwordSecret: {}), docs advertisements naming absent pools and a Porter 0.3 Eip all work; warnings leave the configuration Valid', async () => {
    const k8s = api();
    await k8s.kubectlOk(['apply', '-f', '-'], {
      stdin: `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ipv4-pool, namespace: metallb-system}
spec: {addresses: [192.0.2.128/28]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: docs, namespace: metallb-system}
spec: {ipAddressPools: [ipv4-pool, ipv6-pool]}
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: migrated, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, password: pw, passwordSecret: {}}
---
apiVersion: network.kubesphere.io/v1alpha1
kind: Eip
metadata: {name: porter03}
spec: {address: 203.0.113.255-203.0.114.1, protocol: layer2}
---
apiVersion: v1
kind: Service
metadata: {name: docs-svc, annotations: {metallb.io/address-pool: ipv4-pool}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata:
  name: porter03-svc
  annotations: {lb.kubesphere.io/v1alpha1: porter, protocol.porter.kubesphere.io/v1alpha1: layer2, eip.porter.kubesphere.io/v1alpha2: porter03}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`,
    });
    const [docsIP] = ingressIPs(await waitForIPs('docs-svc'));
    assert.ok(docsIP !== undefined && inRange(docsIP, '192.0.2.128', '192.0.2.143'), String(docsIP));
    // usingKnownIPs defaults to false in v1alpha1 (Porter 0.3): .255 and .0 are skipped.
    assert.deepEqual(ingressIPs(await waitForIPs('porter03-svc')), ['203.0.114.1']);
    const cs = await eventually('ConfigurationState Valid with the warning listed', async () => {
      const c = await getJson(k8s, ['configurationstate', 'controller', '-n', 'berth-system']);
      return field(c, 'status', 'result') === 'Valid' && /ipv6-pool/.test(String(field(c, 'status', 'errorSummary'))) ? c : undefined;
    });
    const summary = String(field(cs, 'status', 'errorSummary'));
    assert.match(summary, /^warning: L2Advertisement metallb-system\/docs spec\.ipAddressPools\[1\]: no valid IPAddressPool or Eip named "ipv6-pool"/m);
    assert.doesNotMatch(summary, /BGPPeer|Eip porter03/, 'the migrated peer and the Porter 0.3 Eip are valid');
    await k8s.kubectlOk(['delete', 'service', 'docs-svc', 'porter03-svc']);
    await k8s.kubectlOk(['delete', 'l2advertisement', 'docs', '-n', 'metallb-system']);
    await k8s.kubectlOk(['delete', 'bgppeer.metallb.io', 'migrated', '-n', 'metallb-system']);
    await k8s.kubectlOk(['delete', 'ipaddresspool', 'ipv4-pool', '-n', 'metallb-system']);
    await k8s.kubectlOk(['delete', 'eip', 'porter03']);
  });
});
