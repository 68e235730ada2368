// The end-to-end checks of berth in the lab as a Kubernetes cluster (frr-lab/k8s-lab.ts), run through each
// runner (k8s-netns.test.ts, k8s-containerlab.test.ts): the real kube-apiserver + etcd, `berth controller` x2
// (leader-elected), `berth speaker --node-name` + kube-proxy (nftables) on three nodes, pods in their own
// network namespaces behind Services without selectors, an FRR router (eBGP, ECMP), a LAN client and an
// outside client behind the router. Every seed scenario, then changes, then a node failure.
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { bgpPaths, clientNeighbour, curl, routerNextHops } from '../../../frr-lab/berth-lab.ts';
import { LAB_NODES, NODE_IPS, startK8s, startWorkload, type K8sLab, type K8sService, type LabNode } from '../../../frr-lab/k8s-lab.ts';
import type { LabHandle } from '../../../frr-lab/topology.ts';
import { arpingReplies, waitFor } from '../common.ts';

const COMMUNITIES = '64512:100 64512:200';

async function arpingMacs(lab: LabHandle, ip: string, count: number): Promise<string[]> {
  const r = await lab.exec('client', ['arping', '-c', String(count), '-w', String(count + 1), '-i', 'eth1', ip], { check: false, timeoutMs: 20_000 });
  return arpingReplies(r.stdout);
}

const ipsOf = (nodes: readonly LabNode[]): string[] => nodes.map((n) => NODE_IPS[n]).sort();

/** Answers of n connections from a host, counted. */
async function answers(lab: LabHandle, host: string, ip: string, port: number, n: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const a = (await curl(lab, host, ip, port)) || '(no answer)';
    out.set(a, (out.get(a) ?? 0) + 1);
  }
  return out;
}

export async function k8sScenario(t: TestContext, lab: LabHandle): Promise<void> {
  const k: K8sLab = await startK8s(lab);
  try {
    await scenario(t, lab, k);
  } finally {
    await k.stop();
  }
}

async function scenario(t: TestContext, lab: LabHandle, k: K8sLab): Promise<void> {
  const logs = async (): Promise<string> => `${await k.logs()}\n--- router\n${await lab.vtysh('show bgp summary').catch((e: unknown) => String(e))}`;
  const macOf = (node: string): string => k.macs.get(node) ?? '?';
  const nodeOfMac = (mac: string): string => [...k.macs].find(([, m]) => m === mac)?.[0] ?? `not a node (${mac})`;
  const opts = { describe: logs, everyMs: 250 };
  const svc = async (name: string): Promise<K8sService & { ip: string; port: number }> => {
    const s = (await k.services()).find((x) => x.name === name);
    assert.ok(s !== undefined && s.ips[0] !== undefined, `${name} has an address`);
    return { ...s, ip: s.ips[0], port: s.ports[0] ?? 0 };
  };
  const nextHopsAre = (ip: string, nodes: readonly LabNode[]): Promise<true> =>
    waitFor(`${ip}/32 at the router with next hops ${nodes.join(' ')}`, 90_000, async () => ((await routerNextHops(lab, `${ip}/32`)).join() === ipsOf(nodes).join() ? true : undefined), opts);
  const ownerIs = (ip: string, node: LabNode): Promise<true> =>
    waitFor(`only ${node} answering ARP for ${ip}`, 60_000, async () => {
      const macs = await arpingMacs(lab, ip, 2);
      return macs.length > 0 && macs.every((m) => m === macOf(node)) ? true : undefined;
    }, opts);

  await startWorkload(k);

  await t.test('the controller (two replicas, one leader) gives each Service an address from its pool', async () => {
    const leader = await k.controllerLeader();
    assert.ok(leader === 'controller-node1' || leader === 'controller-node2', `Lease holder ${String(leader)}`);
    const got = (await k.services()).map((s) => [s.name, s.ips.join(), s.modes.join('+'), s.policy]);
    assert.deepEqual(got.map(([n, , m, p]) => [n, m, p]), [
      ['metallb-demo', 'bgp', 'Cluster'],
      ['metallb-local', 'bgp', 'Local'],
      ['metallb1-cluster', 'l2', 'Cluster'],
      ['porter-layer2-svc', 'l2', 'Cluster'],
      ['porter-local', 'l2', 'Local'],
    ]);
    for (const [name, ip] of got) {
      const want = name?.startsWith('metallb-') === true ? /^203\.0\.113\.([0-9]|[1-5][0-9]|6[0-3])$/ : name === 'metallb1-cluster' ? /^192\.0\.2\.1(6[0-9]|7[0-5])$/ : /^192\.0\.2\.(9[1-9]|100)$/;
      assert.match(ip ?? '', want, `${String(name)}: ${String(ip)} from its pool`);
    }
  });

  await t.test('BGP, Cluster: one next hop per node with the communities; the outside client reaches both pods through kube-proxy', async () => {
    const s = await svc('metallb-demo');
    await nextHopsAre(s.ip, LAB_NODES);
    const paths = await bgpPaths(lab, `${s.ip}/32`);
    assert.equal(paths.length, 3);
    for (const p of paths) assert.equal(p.community?.string, COMMUNITIES);
    const seen = await answers(lab, 'ext', s.ip, s.port, 15);
    for (const a of seen.keys()) assert.match(a, /^pod demo-[ab] on node[12]$/, `answers ${JSON.stringify([...seen])}`);
    assert.equal(seen.size, 2, `ECMP + kube-proxy reach both pods: ${JSON.stringify([...seen])}`);
  });

  await t.test('BGP, Local: next hops only the nodes with a local pod; the outside client reaches only those pods', async () => {
    const s = await svc('metallb-local');
    await nextHopsAre(s.ip, ['node1', 'node3']);
    const seen = await answers(lab, 'ext', s.ip, s.port, 15);
    assert.deepEqual([...seen.keys()].sort(), ['pod local-a on node1', 'pod local-b on node3'], `answers ${JSON.stringify([...seen])}`);
  });

  await t.test('Layer 2, Cluster: the LAN client resolves each VIP to the elected node\'s MAC and reaches the pods', async () => {
    const pinned = await svc('metallb1-cluster'); // the seed's nodeSelectors pin it (kind-control-plane -> node2)
    await ownerIs(pinned.ip, 'node2');
    const n = await clientNeighbour(lab, pinned.ip);
    assert.equal(n?.mac, macOf('node2'));
    assert.equal(await curl(lab, 'client', pinned.ip, pinned.port), 'pod l2c-a on node3', 'node2 forwards to the pod on node3');
    const porter = await svc('porter-layer2-svc');
    const macs = await waitFor(`an ARP answer for ${porter.ip}`, 60_000, async () => {
      const m = await arpingMacs(lab, porter.ip, 3);
      return m.length > 0 ? m : undefined;
    }, opts);
    assert.equal(new Set(macs).size, 1, `one node answers for ${porter.ip}: ${macs.join()}`);
    assert.ok(LAB_NODES.some((x) => macOf(x) === macs[0]), `${porter.ip} answered by a node: ${String(macs[0])}`);
    const seen = await answers(lab, 'client', porter.ip, porter.port, 6);
    for (const a of seen.keys()) assert.match(a, /^pod porter-[ab] on node[13]$/);
  });

  await t.test('Layer 2, Local: the VIP is answered by the node with the pod', async () => {
    const s = await svc('porter-local');
    await ownerIs(s.ip, 'node3');
    assert.equal(await curl(lab, 'client', s.ip, s.port), 'pod pl-a on node3');
  });

  await t.test('moving Local pods between nodes: next hops and the Layer 2 owner follow', async () => {
    const bgp = await svc('metallb-local');
    await k.addPod('local-c', 'node2');
    await k.setEndpoints('metallb-local', ['local-c', 'local-b']);
    await k.removePod('local-a');
    await nextHopsAre(bgp.ip, ['node2', 'node3']);
    const seen = await answers(lab, 'ext', bgp.ip, bgp.port, 10);
    assert.deepEqual([...seen.keys()].sort(), ['pod local-b on node3', 'pod local-c on node2'], `answers ${JSON.stringify([...seen])}`);
    const l2 = await svc('porter-local');
    await k.addPod('pl-b', 'node1');
    await k.setEndpoints('porter-local', ['pl-b']);
    await k.removePod('pl-a');
    await ownerIs(l2.ip, 'node1');
    assert.equal(await curl(lab, 'client', l2.ip, l2.port), 'pod pl-b on node1');
  });

  await t.test('changing the BGPAdvertisement\'s communities changes what the router sees', async () => {
    const s = await svc('metallb-demo');
    await k.kubectl(['patch', 'bgpadvertisement', 'local', '-n', 'metallb-system', '--type=merge', '-p', JSON.stringify({ spec: { communities: ['64512:300'] } })]);
    await waitFor('the new communities on the three paths', 60_000, async () => {
      const paths = await bgpPaths(lab, `${s.ip}/32`);
      return paths.length === 3 && paths.every((p) => p.community?.string === '64512:300') ? true : undefined;
    }, opts);
  });

  await t.test('deleting Services removes the route and the ARP answer', async () => {
    const [bgp, l2] = [await svc('metallb-local'), await svc('porter-local')];
    await k.kubectl(['delete', 'service', 'metallb-local', 'porter-local', '-n', 'default']);
    await waitFor(`${bgp.ip}/32 withdrawn`, 60_000, async () => ((await bgpPaths(lab, `${bgp.ip}/32`)).length === 0 ? true : undefined), opts);
    assert.deepEqual(await routerNextHops(lab, `${bgp.ip}/32`), []);
    await waitFor(`no ARP answer for ${l2.ip}`, 60_000, async () => ((await arpingMacs(lab, l2.ip, 2)).length === 0 ? true : undefined), opts);
    assert.equal(await curl(lab, 'ext', bgp.ip, bgp.port), '');
    // The others stay.
    const demo = await svc('metallb-demo');
    assert.deepEqual(await routerNextHops(lab, `${demo.ip}/32`), ipsOf(LAB_NODES));
  });

  await t.test('a node fails (killed): the LAN client\'s and the outside client\'s traffic resume on the others', async () => {
    const porter = await svc('porter-layer2-svc');
    const demo = await svc('metallb-demo');
    const macs = await arpingMacs(lab, porter.ip, 2);
    const victim = nodeOfMac(macs[0] ?? '') as LabNode;
    assert.ok(LAB_NODES.includes(victim), `${porter.ip} owner: ${String(macs[0])}`);
    const others = LAB_NODES.filter((n) => n !== victim);
    // The pods of both Services on the two other nodes (what the scheduler would have done after the failure).
    const [a, b] = others as [LabNode, LabNode];
    for (const [pod, node] of [['porter-c', a], ['porter-d', b], ['demo-c', a], ['demo-d', b]] as const) await k.addPod(pod, node);
    await k.setEndpoints('porter-layer2-svc', ['porter-c', 'porter-d']);
    await k.setEndpoints('metallb-demo', ['demo-c', 'demo-d']);
    await waitFor('kube-proxy on the nodes sending to the new pods', 30_000, async () => (/^pod (porter-[cd])/.test(await curl(lab, 'client', porter.ip, porter.port)) ? true : undefined), opts);
    assert.equal(await curl(lab, 'client', porter.ip, porter.port).then((x) => /^pod porter-[cd] on /.test(x)), true);

    const t0 = Date.now();
    await lab.killHost(victim);
    // Layer 2: speaker liveness moves the VIP (docs/liveness.md); the client's traffic resumes.
    await waitFor(`${porter.ip} answered by ${others.join(' or ')}`, 30_000, async () => {
      const m = await arpingMacs(lab, porter.ip, 1);
      return m.length > 0 && others.some((x) => macOf(x) === m[0]) ? true : undefined;
    }, opts);
    const l2Moved = Date.now() - t0;
    await waitFor(`the LAN client reaching ${porter.ip} again`, 30_000, async () => (/^pod porter-[cd] on /.test(await curl(lab, 'client', porter.ip, porter.port)) ? true : undefined), opts);
    const l2Back = Date.now() - t0;
    // BGP: the router drops the dead node's next hop (hold timer 9 s); the outside client's traffic resumes.
    await nextHopsAre(demo.ip, others);
    const bgpGone = Date.now() - t0;
    const seen = await answers(lab, 'ext', demo.ip, demo.port, 10);
    assert.deepEqual([...seen.keys()].filter((x) => !/^pod demo-[cd] on /.test(x)), [], `outside answers after the failure: ${JSON.stringify([...seen])}`);
    const l2Seen = await answers(lab, 'client', porter.ip, porter.port, 6);
    assert.deepEqual([...l2Seen.keys()].filter((x) => !/^pod porter-[cd] on /.test(x)), [], `LAN answers after the failure: ${JSON.stringify([...l2Seen])}`);
    // The controllers: a Lease holder that is not on the dead node (the standby takes over when it was).
    await waitFor(`a controller Lease holder other than controller-${victim}`, 60_000, async () => {
      const h = await k.controllerLeader();
      return h !== undefined && h !== `controller-${victim}` ? true : undefined;
    }, opts);
    t.diagnostic(`${lab.runner}: killed ${victim}; ARP owner moved after ${String(l2Moved)} ms, LAN client answered after ${String(l2Back)} ms, router next hop gone after ${String(bgpGone)} ms`);
  });
}
