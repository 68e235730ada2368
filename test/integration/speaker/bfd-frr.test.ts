// BFD (RFC 5880/5881) between `berth speaker` (manifest mode, MetalLB BFDProfile + BGPPeer.bfdProfile)
// and FRR's bfdd, in frr-lab namespaces (prefix bbfd): two nodes in AS 64513, the router in AS 64512
// with `neighbor X bfd profile lab`. BGP hold time 180 s, so a route that goes away within the waits
// below went away because of BFD, which FRR's own reset reason confirms.
//   1. BFD Up on both sides with the negotiated intervals FRR reports (show bfd peers json); /metrics.
//   2. UDP 3784 blocked inside node2 (nft): berth's BFD goes Down, berth tears its BGP session down
//      (the router drops node2's path); the table removed: BFD Up, BGP back, the path back.
//   3. node1's speaker SIGKILLed: FRR's BFD goes Down and FRR drops node1's path from RIB and FIB.
//   4. node2's link cut (nothing reaches the router, not even a FIN): FRR's BFD goes Down, the route
//      leaves RIB and FIB, and FRR names BFD as the reason of the reset.
//   5. (prefix bbfdm) an ebgpMultiHop BGPPeer: the BFD session is RFC 5883 multihop (UDP 4784) on both sides.
//   6. (prefix bbfd6) an IPv6 BGPPeer: BFD Up over IPv6 (hop limit 255) and BGP Established; then FRR's
//      BFD shut down (AdminDown): berth's BFD goes Down, the BGP session stays (RFC 5882 §3.2).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import { planLab } from '../../../frr-lab/plan.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ROUTER_ASN = 64512;
const NODE_ASN = 64513;
const VIP = '203.0.113.10';
const HEALTH_PORT = 7473;
// berth's profile and FRR's, different on purpose so that the negotiation shows (RFC 5880 §6.8.3).
const BERTH = { receiveMs: 250, transmitMs: 200, multiplier: 3 } as const;
const FRR = { receiveMs: 300, transmitMs: 150, multiplier: 4 } as const;
const NFT_TABLE = 'bbfd_block';

interface FrrBfdPeer {
  readonly peer?: string;
  readonly status?: string;
  readonly 'remote-receive-interval'?: number;
  readonly 'remote-transmit-interval'?: number;
  readonly 'remote-detect-multiplier'?: number;
  readonly 'receive-interval'?: number;
  readonly 'transmit-interval'?: number;
  readonly 'detect-multiplier'?: number;
}

interface Variant {
  readonly multihop?: boolean;
  /** Sessions over IPv6 (hop limit 255, RFC 5881 §5). */
  readonly ipv6?: boolean;
}

function routerConf(nodes: readonly { readonly ipv4: string; readonly ipv6: string }[], opts: Variant = {}): string {
  const addr = (n: { readonly ipv4: string; readonly ipv6: string }): string => (opts.ipv6 === true ? n.ipv6 : n.ipv4);
  return [
    'frr defaults datacenter',
    'hostname lab-router',
    'log timestamp precision 3',
    '!',
    'ip forwarding',
    '!',
    // Every daemon reads this whole file and skips what it does not know; an `exit` at the top level
    // would end a daemon's configuration mode, so blocks end with `!` only.
    'bfd',
    ' profile lab',
    `  receive-interval ${FRR.receiveMs}`,
    `  transmit-interval ${FRR.transmitMs}`,
    `  detect-multiplier ${FRR.multiplier}`,
    '!',
    `router bgp ${ROUTER_ASN}`,
    ' bgp router-id 192.0.2.1',
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    ' neighbor NODES peer-group',
    ` neighbor NODES remote-as ${NODE_ASN}`,
    ' neighbor NODES timers 60 180',
    // Per neighbour: FRR 8.4 does not pass a peer group's `bfd profile` on to its members' sessions.
    ...nodes.flatMap((n) => [
      ` neighbor ${addr(n)} peer-group NODES`,
      // ebgp-multihop: FRR runs the session's BFD as RFC 5883 multihop (UDP 4784).
      ...(opts.multihop === true ? [` neighbor ${addr(n)} ebgp-multihop 2`] : []),
      ` neighbor ${addr(n)} bfd profile lab`,
    ]),
    ' !',
    ` address-family ${opts.ipv6 === true ? 'ipv6' : 'ipv4'} unicast`,
    '  neighbor NODES activate',
    '  maximum-paths 64',
    ' exit-address-family',
    '!',
    'end',
    '',
  ].join('\n');
}

function manifests(nodes: readonly LabHost[], opts: Variant = {}): string[] {
  return [
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/26"]}',
    `apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast, namespace: metallb-system}\nspec: {receiveInterval: ${BERTH.receiveMs}, transmitInterval: ${BERTH.transmitMs}, detectMultiplier: ${BERTH.multiplier}}`,
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${NODE_ASN}, peerASN: ${ROUTER_ASN}, peerAddress: ${opts.ipv6 === true ? '"2001:db8:1::1"' : '192.0.2.1'}, holdTime: 180s, bfdProfile: fast${opts.multihop === true ? ', ebgpMultiHop: true' : ''}}`,
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool]}',
    ...nodes.map((n) => nodeDoc(n)),
    serviceDoc('svc-a', { statusIPs: [VIP] }),
  ];
}

let lab: Lab;
const dir = new ManifestDir();
const speakers = new Map<string, SpeakerProcess>();

async function bfdPeers(): Promise<readonly FrrBfdPeer[]> {
  return lab.vtyshJson<FrrBfdPeer[]>('show bfd peers json');
}

async function bfdPeer(address: string): Promise<FrrBfdPeer | undefined> {
  return (await bfdPeers()).find((p) => p.peer === address);
}

/** The next hops FRR has for the VIP in its RIB (valid paths). */
async function ribNextHops(): Promise<string[]> {
  const r = await lab.vtyshJson<{ paths?: readonly { valid?: boolean; nexthops?: readonly { ip: string }[] }[] }>(`show bgp ipv4 unicast ${VIP}/32 json`);
  return (r.paths ?? [])
    .filter((p) => p.valid === true)
    .flatMap((p) => (p.nexthops ?? []).map((h) => h.ip))
    .sort();
}

/** The gateways of the VIP's route in the router's kernel FIB. */
async function fibNextHops(): Promise<string[]> {
  const route = (await lab.routes('router')).find((r) => r.dst === VIP || r.dst === `${VIP}/32`);
  if (route === undefined) return [];
  if (route.nexthops !== undefined) return route.nexthops.map((h) => h.gateway ?? '').sort();
  return route.gateway === undefined ? [] : [route.gateway];
}

/** Why FRR last reset the session: FRR sends Cease / BFD Down (RFC 9384 subcode 10, "060A") itself. */
async function resetReason(address: string): Promise<string> {
  const n = await lab.vtyshJson<Record<string, { lastResetDueTo?: string; lastNotificationReason?: string; lastErrorCodeSubcode?: string }>>(`show bgp neighbors ${address} json`);
  const x = n[address];
  return [x?.lastResetDueTo, x?.lastNotificationReason, x?.lastErrorCodeSubcode].filter((v) => v !== undefined).join(' / ');
}

async function metrics(node: LabHost): Promise<string> {
  const r = await lab.exec(node, ['curl', '-sS', '--max-time', '5', `http://127.0.0.1:${HEALTH_PORT}/metrics`], { check: false });
  return r.stdout;
}

function node(i: number): LabHost {
  const n = lab.nodes[i];
  assert.ok(n !== undefined, `lab node ${i}`);
  return n;
}

describe('BFD: berth speaker <-> FRR bfdd', { timeout: 300_000 }, () => {
  before(async () => {
    // The node addresses are fixed by the plan: FRR gets one neighbour line per node from the start.
    const plan = planLab({ prefix: 'bbfd', nodes: 2, router: true, client: false, externalClient: false });
    lab = await createLab({ prefix: 'bbfd', nodes: 2, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN, bfd: true, frrConfig: routerConf(plan.nodes) } });
  });

  after(async () => {
    for (const s of speakers.values()) if (s.running) await s.stop().catch(() => undefined);
    await lab?.destroy();
    dir.remove();
  });

  it('comes Up with the negotiated intervals on both sides', async () => {
    dir.write('config.yaml', manifests(lab.nodes));
    for (const n of lab.nodes) speakers.set(n.name, new SpeakerProcess(lab, n, dir.path, ['--health-port', String(HEALTH_PORT)]));
    for (const n of lab.nodes) {
      const p = await waitFor(`FRR: BFD peer ${n.ipv4} up`, 60_000, async () => {
        const x = await bfdPeer(n.ipv4);
        return x?.status === 'up' ? x : undefined;
      }, async () => `${JSON.stringify(await bfdPeers())}\n${speakers.get(n.name)?.tail() ?? ''}`);
      const all = JSON.stringify(p);
      // What FRR learnt from berth's packets: berth's profile (RFC 5880 §4.1 fields).
      assert.equal(p['remote-receive-interval'], BERTH.receiveMs, `berth Required Min RX: ${all}`);
      assert.equal(p['remote-transmit-interval'], BERTH.transmitMs, `berth Desired Min TX (after the Poll that leaves the 1 s start rate): ${all}`);
      assert.equal(p['remote-detect-multiplier'], BERTH.multiplier, all);
      assert.equal(p['receive-interval'], FRR.receiveMs, all);
      assert.equal(p['transmit-interval'], FRR.transmitMs, all);
      assert.equal(p['detect-multiplier'], FRR.multiplier, all);
    }
    await waitFor('both next hops in the RIB and FIB', 60_000, async () => {
      const want = lab.nodes.map((n) => n.ipv4).sort();
      return JSON.stringify(await ribNextHops()) === JSON.stringify(want) && JSON.stringify(await fibNextHops()) === JSON.stringify(want) ? true : undefined;
    }, async () => JSON.stringify([await ribNextHops(), await fibNextHops()]));
    // berth's side: Up, and the detection time it runs = FRR's multiplier x max(our RX, FRR's TX) (§6.8.4).
    const text = await waitFor('berth_bfd_session_up 1', 30_000, async () => {
      const m = await metrics(node(0));
      return m.includes('berth_bfd_session_up{peer="router"} 1') ? m : undefined;
    });
    const detect = (FRR.multiplier * Math.max(BERTH.receiveMs, FRR.transmitMs)) / 1000;
    assert.match(text, new RegExp(`berth_bfd_detection_time_seconds\\{peer="router"\\} ${detect}\\b`));
    assert.match(text, /berth_bfd_session_state\{peer="router",state="Up"\} 1/);
  });

  it('BFD Down on the berth side (UDP 3784 blocked) tears the BGP session down; BFD Up brings it back', async () => {
    const n2 = node(1);
    const s2 = speakers.get(n2.name);
    assert.ok(s2 !== undefined);
    await lab.exec(n2, ['nft', '-f', '-'], {
      input: `table inet ${NFT_TABLE} {\n chain input {\n  type filter hook input priority 0; policy accept;\n  udp dport 3784 drop\n }\n}\n`,
    });
    try {
      await waitFor('berth tears the session down', 30_000, async () => (s2.lines.some((l) => String(l['msg']).includes('BGP session torn down: BFD is down')) ? true : undefined), async () => s2.tail());
      await waitFor("node2's path gone from the router", 30_000, async () => (!(await ribNextHops()).includes(n2.ipv4) ? true : undefined), async () => JSON.stringify(await ribNextHops()));
      assert.deepEqual(await ribNextHops(), [node(0).ipv4], "node1's path stays");
    } finally {
      await lab.exec(n2, ['nft', 'delete', 'table', 'inet', NFT_TABLE], { check: false });
    }
    await waitFor('FRR: BFD up again', 60_000, async () => ((await bfdPeer(n2.ipv4))?.status === 'up' ? true : undefined), async () => JSON.stringify(await bfdPeers()));
    await waitFor("node2's path back", 60_000, async () => ((await ribNextHops()).includes(n2.ipv4) ? true : undefined), async () => s2.tail());
    const m = await metrics(n2);
    assert.match(m, /berth_bfd_session_down_events_total\{peer="router"\} 1\b/);
  });

  it("a SIGKILLed speaker: FRR's BFD goes Down and the node's route leaves the RIB and the FIB", async () => {
    const n1 = node(0);
    const s1 = speakers.get(n1.name);
    assert.ok(s1 !== undefined);
    assert.ok((await fibNextHops()).includes(n1.ipv4), 'node1 in the FIB before');
    await s1.signal('SIGKILL');
    await waitFor("FRR: node1's BFD peer down", 30_000, async () => ((await bfdPeer(n1.ipv4))?.status === 'down' ? true : undefined), async () => JSON.stringify(await bfdPeers()));
    await waitFor("node1's path gone from RIB and FIB", 30_000, async () => {
      const rib = await ribNextHops();
      const fib = await fibNextHops();
      return !rib.includes(n1.ipv4) && !fib.includes(n1.ipv4) ? { rib, fib } : undefined;
    }, async () => JSON.stringify([await ribNextHops(), await fibNextHops()]));
    assert.deepEqual(await fibNextHops(), [node(1).ipv4]);
  });

  it("node2's link cut: only BFD can tell; FRR drops node2's route from RIB and FIB", async (t) => {
    const n2 = node(1);
    assert.deepEqual(await fibNextHops(), [n2.ipv4], 'node2 in the FIB before');
    // No FIN, no NOTIFICATION reaches the router: without BFD the route would stay for the 180 s hold time.
    const cut = performance.now();
    await lab.exec(n2, ['ip', 'link', 'set', n2.iface, 'down']);
    await waitFor("FRR: node2's BFD peer down", 30_000, async () => ((await bfdPeer(n2.ipv4))?.status === 'down' ? true : undefined), async () => JSON.stringify(await bfdPeers()));
    await waitFor("node2's route gone from RIB and FIB", 30_000, async () => ((await ribNextHops()).length === 0 && (await fibNextHops()).length === 0 ? true : undefined), async () => JSON.stringify([await ribNextHops(), await fibNextHops()]));
    // A figure for docs/bfd.md, not an assertion (the poll runs every 250 ms).
    t.diagnostic(`link cut -> route gone from the router's FIB: ${Math.round(performance.now() - cut)} ms (FRR's detection time ${(BERTH.multiplier * Math.max(FRR.receiveMs, BERTH.transmitMs))} ms)`);
    const reason = await resetReason(n2.ipv4);
    assert.match(reason, /BFD|060A/i, `FRR reset the session because of BFD: ${reason}`);
  });
});

describe('BFD multihop (RFC 5883) for an ebgpMultiHop BGPPeer: berth speaker <-> FRR bfdd', { timeout: 180_000 }, () => {
  let mlab: Lab | undefined;
  const mdir = new ManifestDir();
  let speaker: SpeakerProcess | undefined;

  after(async () => {
    if (speaker?.running === true) await speaker.stop().catch(() => undefined);
    await mlab?.destroy();
    mdir.remove();
  });

  it('comes Up as a multihop session on both sides', async () => {
    const plan = planLab({ prefix: 'bbfdm', nodes: 1, router: true, client: false, externalClient: false });
    const m = await createLab({ prefix: 'bbfdm', nodes: 1, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN, bfd: true, frrConfig: routerConf(plan.nodes, { multihop: true }) } });
    mlab = m;
    const n = m.nodes[0];
    assert.ok(n !== undefined);
    mdir.write('config.yaml', manifests(m.nodes, { multihop: true }));
    const s = new SpeakerProcess(m, n, mdir.path);
    speaker = s;
    const peer = await waitFor('FRR: multihop BFD peer up', 60_000, async () => {
      const x = (await m.vtyshJson<FrrBfdPeer[]>('show bfd peers json')).find((y) => y.peer === n.ipv4);
      return x?.status === 'up' ? x : undefined;
    }, async () => `${await m.vtysh('show bfd peers')}\n${s.tail()}`);
    assert.equal((peer as { multihop?: boolean }).multihop, true, JSON.stringify(peer));
    assert.equal(peer['remote-receive-interval'], BERTH.receiveMs);
    assert.ok(s.lines.some((l) => l['msg'] === 'BFD session starting' && l['multihop'] === true), 'berth ran the session as multihop');
    assert.ok(s.lines.some((l) => l['msg'] === 'BFD: listening' && l['port'] === 4784), 'berth listened on 4784');
  });
});

describe('BFD over IPv6 (hop limit 255): berth speaker <-> FRR bfdd', { timeout: 180_000 }, () => {
  let vlab: Lab | undefined;
  const vdir = new ManifestDir();
  let speaker: SpeakerProcess | undefined;

  after(async () => {
    if (speaker?.running === true) await speaker.stop().catch(() => undefined);
    await vlab?.destroy();
    vdir.remove();
  });

  it('comes Up over IPv6 on both sides, BGP Established', async () => {
    const plan = planLab({ prefix: 'bbfd6', nodes: 1, router: true, client: false, externalClient: false });
    const v = await createLab({ prefix: 'bbfd6', nodes: 1, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN, bfd: true, frrConfig: routerConf(plan.nodes, { ipv6: true }) } });
    vlab = v;
    const n = v.nodes[0];
    assert.ok(n !== undefined);
    vdir.write('config.yaml', manifests(v.nodes, { ipv6: true }));
    const s = new SpeakerProcess(v, n, vdir.path);
    speaker = s;
    const peer = await waitFor('FRR: IPv6 BFD peer up', 60_000, async () => {
      const x = (await v.vtyshJson<FrrBfdPeer[]>('show bfd peers json')).find((y) => y.peer === n.ipv6);
      return x?.status === 'up' ? x : undefined;
    }, async () => `${await v.vtysh('show bfd peers')}\n${s.tail()}`);
    assert.equal(peer['remote-receive-interval'], BERTH.receiveMs);
    await waitFor('BGP Established over IPv6', 60_000, async () => {
      const nb = await v.vtyshJson<Record<string, { bgpState?: string }>>(`show bgp neighbors ${n.ipv6} json`);
      return nb[n.ipv6]?.bgpState === 'Established' ? true : undefined;
    }, async () => s.tail());
    assert.ok(s.lines.some((l) => l['msg'] === 'BFD: listening' && l['port'] === 3784 && l['family'] === 6), 'berth listened on IPv6 3784');
  });

  it("FRR turns its BFD off (AdminDown): berth's BFD goes Down but the BGP session stays (RFC 5882 §3.2)", async () => {
    const v = vlab;
    const s = speaker;
    assert.ok(v !== undefined && s !== undefined);
    const n = v.nodes[0];
    assert.ok(n !== undefined);
    await v.vtysh(['configure terminal', 'bfd', 'profile lab', 'shutdown']);
    await waitFor('berth sees the AdminDown', 30_000, async () => (s.lines.some((l) => String(l['msg']).includes('the peer signalled AdminDown')) ? true : undefined), async () => s.tail());
    // The gate acts in the same turn as the state change: had it torn the session down, berth would
    // have logged it by now.
    assert.equal(s.lines.some((l) => String(l['msg']).includes('BGP session torn down')), false, s.tail());
    const nb = await v.vtyshJson<Record<string, { bgpState?: string }>>(`show bgp neighbors ${n.ipv6} json`);
    assert.equal(nb[n.ipv6]?.bgpState, 'Established');
  });
});
