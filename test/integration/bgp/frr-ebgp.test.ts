// berth's speaker against a real FRR router (frr-lab, namespaces bses-*): three nodes in AS 64513,
// eBGP to the router in AS 64512 over IPv4 and IPv6. Checks what FRR and the router's kernel FIB see.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createLab, routerConfig, type Lab, type KernelRoute } from '../../../frr-lab/lab.ts';
import type { PeerSpec, Advertisement } from '../../../src/bgp/speaker.ts';
import { communityValue } from '../../../src/config/community.ts';
import { SpeakerProc, poll } from './harness.ts';

const ROUTER_V4 = '192.0.2.1';
const ROUTER_V6 = '2001:db8:1::1';
const NODE_ASN = 64513;
const VIP = '203.0.113.10';
const VIP2 = '203.0.113.11';
const VIP6 = '2001:db8:f00::10';

interface FrrPath {
  readonly peerId?: string;
  readonly origin?: string;
  readonly path?: string;
  readonly locPrf?: number;
  readonly nexthops?: readonly { readonly ip: string; readonly scope?: string }[];
}
interface FrrTable {
  readonly routes?: Record<string, readonly FrrPath[]>;
}
interface FrrPrefixDetail {
  readonly paths?: readonly {
    readonly origin?: string;
    readonly community?: { readonly list?: readonly string[] };
    readonly largeCommunity?: { readonly list?: readonly string[] };
    readonly localpref?: number;
    readonly aspath?: { readonly string?: string };
    readonly nexthops?: readonly { readonly ip: string }[];
    readonly peer?: { readonly peerId?: string };
  }[];
}

let lab: Lab;
const speakers: SpeakerProc[] = [];

function peersFor(): PeerSpec[] {
  return [
    { name: 'rt4', myAsn: NODE_ASN, peerAsn: 64512, peerAddress: ROUTER_V4 },
    { name: 'rt6', myAsn: NODE_ASN, peerAsn: 64512, peerAddress: ROUTER_V6 },
  ];
}

const ads: Advertisement[] = [
  {
    prefix: `${VIP}/32`,
    communities: [communityValue('64513:100'), communityValue('65535:65282')],
    largeCommunities: [{ globalAdmin: 64513, localData1: 7, localData2: 9 }],
  },
  { prefix: `${VIP2}/32` },
  { prefix: `${VIP6}/128`, communities: [communityValue('64513:600')] },
];

async function table(family: 4 | 6): Promise<FrrTable> {
  return lab.vtyshJson<FrrTable>(`show bgp ${family === 4 ? 'ipv4' : 'ipv6'} unicast json`);
}

function fibEntry(routes: readonly KernelRoute[], dst: string): KernelRoute | undefined {
  return routes.find((r) => r.dst === dst || r.dst === `${dst}/32` || r.dst === `${dst}/128`);
}

function fibGateways(r: KernelRoute | undefined): string[] {
  if (r === undefined) return [];
  if (r.nexthops !== undefined) return r.nexthops.map((n) => n.gateway ?? '').sort();
  return r.gateway !== undefined ? [r.gateway] : [];
}

async function frrLog(): Promise<string> {
  return readFile(lab.router?.logFile ?? '/nonexistent', 'utf8').catch(() => '');
}

describe('berth speaker <-> FRR, eBGP, three nodes', { timeout: 300_000 }, () => {
  before(async () => {
    // The default lab router, plus IPv6 unicast on the IPv4 peer group so that one IPv4 session can
    // carry both families (dualStackAddressFamily).
    const conf = routerConfig({ asn: 64512, routerId: ROUTER_V4, nodes: [], nodeAsn: NODE_ASN, bfd: false }).replace(
      '  neighbor NODES6 activate',
      '  neighbor NODES6 activate\n  neighbor NODES activate',
    );
    assert.ok(conf.includes('address-family ipv6 unicast\n  neighbor NODES6 activate\n  neighbor NODES activate'), 'router config edit applied');
    lab = await createLab({ prefix: 'bses', nodes: 3, router: { asn: 64512, nodeAsn: NODE_ASN, frrConfig: conf } });
    for (const n of lab.nodes) {
      const s = await SpeakerProc.start(lab, n);
      s.peers(peersFor());
      s.ads(ads);
      speakers.push(s);
    }
  });

  after(async () => {
    for (const s of speakers) await s.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('sessions come up over IPv4 and IPv6 on every node', async () => {
    for (const s of speakers) {
      await s.waitEvent('rt4 Established', (e) => e.event === 'established' && e.peer === 'rt4');
      await s.waitEvent('rt6 Established', (e) => e.event === 'established' && e.peer === 'rt6');
    }
    const sum = await lab.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { state?: string }> }; ipv6Unicast?: { peers?: Record<string, { state?: string }> } }>(
      'show bgp summary json',
    );
    for (const n of lab.nodes) {
      assert.equal(sum.ipv4Unicast?.peers?.[n.ipv4]?.state, 'Established', `FRR: ${n.ipv4}`);
      assert.equal(sum.ipv6Unicast?.peers?.[n.ipv6]?.state, 'Established', `FRR: ${n.ipv6}`);
    }
  });

  it('FRR has each IPv4 VIP from every node: next hop = node, ORIGIN IGP, AS_PATH 64513, communities', async () => {
    const t = await poll('three paths for the VIP', async () => {
      const x = await table(4);
      return (x.routes?.[`${VIP}/32`]?.length ?? 0) === 3 && (x.routes?.[`${VIP2}/32`]?.length ?? 0) === 3 ? x : undefined;
    });
    const paths = t.routes?.[`${VIP}/32`] ?? [];
    assert.deepEqual(paths.map((p) => p.nexthops?.[0]?.ip).sort(), lab.nodes.map((n) => n.ipv4).sort());
    for (const p of paths) {
      assert.equal(p.origin, 'IGP');
      assert.equal(p.path, String(NODE_ASN));
    }
    const detail = await lab.vtyshJson<FrrPrefixDetail>(`show bgp ipv4 unicast ${VIP}/32 json`);
    for (const p of detail.paths ?? []) {
      assert.deepEqual(p.community?.list, ['64513:100', 'noAdvertise']);
      assert.deepEqual(p.largeCommunity?.list, ['64513:7:9']);
    }
    const detail2 = await lab.vtyshJson<FrrPrefixDetail>(`show bgp ipv4 unicast ${VIP2}/32 json`);
    assert.equal(detail2.paths?.[0]?.community, undefined, 'no communities when none are configured');
  });

  it('FRR has the IPv6 VIP with the node as global next hop and its link-local address', async () => {
    const t = await poll('three IPv6 paths', async () => {
      const x = await table(6);
      return (x.routes?.[`${VIP6}/128`]?.length ?? 0) === 3 ? x : undefined;
    });
    const paths = t.routes?.[`${VIP6}/128`] ?? [];
    assert.deepEqual(paths.map((p) => p.nexthops?.find((h) => h.scope === 'global')?.ip).sort(), lab.nodes.map((n) => n.ipv6).sort());
    for (const p of paths) {
      assert.ok(p.nexthops?.some((h) => h.scope === 'link-local' && h.ip.startsWith('fe80:')), 'link-local next hop (RFC 2545 §3)');
      assert.equal(p.origin, 'IGP');
    }
    const detail = await lab.vtyshJson<FrrPrefixDetail>(`show bgp ipv6 unicast ${VIP6}/128 json`);
    assert.deepEqual(detail.paths?.[0]?.community?.list, ['64513:600']);
  });

  it('the router kernel FIB has ECMP routes with three next hops', async () => {
    const v4 = await poll('ECMP v4', async () => {
      const r = fibEntry(await lab.routes('router'), VIP);
      return fibGateways(r).length === 3 ? r : undefined;
    });
    assert.deepEqual(fibGateways(v4), lab.nodes.map((n) => n.ipv4).sort());
    const v6 = await poll('ECMP v6', async () => {
      const r = fibEntry(await lab.routes('router', { family: 6 }), VIP6);
      return fibGateways(r).length === 3 ? r : undefined;
    });
    assert.equal(fibGateways(v6).length, 3);
  });

  it('removing a VIP withdraws it from FRR and the FIB; the others stay', async () => {
    const rest = ads.filter((a) => a.prefix !== `${VIP2}/32`);
    for (const s of speakers) s.ads(rest);
    await poll('VIP2 withdrawn', async () => ((await table(4)).routes?.[`${VIP2}/32`] === undefined ? true : undefined));
    await poll('VIP2 out of the FIB', async () => (fibEntry(await lab.routes('router'), VIP2) === undefined ? true : undefined));
    assert.equal((await table(4)).routes?.[`${VIP}/32`]?.length, 3);
    for (const s of speakers) s.ads(ads);
    await poll('VIP2 back', async () => ((await table(4)).routes?.[`${VIP2}/32`]?.length === 3 ? true : undefined));
  });

  it('`clear bgp * soft in` sends ROUTE-REFRESH and the table is re-sent', async () => {
    const before = speakers.map((s) => s.stderr.filter((l) => l.includes('ROUTE-REFRESH answered')).length);
    await lab.vtysh('clear bgp * soft in');
    await poll('every node answered', async () =>
      speakers.every((s, i) => s.stderr.filter((l) => l.includes('ROUTE-REFRESH answered')).length >= (before[i] ?? 0) + 2) ? true : undefined,
    );
    const line = speakers[0]?.stderr.filter((l) => l.includes('ROUTE-REFRESH answered')).at(-1) ?? '';
    const parsed = JSON.parse(line) as { prefixes?: number; enhanced?: boolean };
    assert.ok((parsed.prefixes ?? 0) >= 1);
    assert.equal((await table(4)).routes?.[`${VIP}/32`]?.length, 3);
  });

  it('FRR hold timer expires when a speaker goes silent (SIGSTOP); the session comes back after', async () => {
    const node = lab.nodes[0];
    const s = speakers[0];
    assert.ok(node !== undefined && s !== undefined);
    const pid = await speakerPid(node.ns);
    process.kill(pid, 'SIGSTOP');
    try {
      // FRR "datacenter" defaults: hold 9 s.
      await poll('node1 path gone', async () => {
        const paths = (await table(4)).routes?.[`${VIP}/32`] ?? [];
        return paths.length === 2 && !paths.some((p) => p.nexthops?.[0]?.ip === node.ipv4) ? true : undefined;
      }, 30_000);
      assert.match(await frrLog(), new RegExp(`sent to neighbor ${node.ipv4.replace(/\./g, '\\.')} 4/0 \\(Hold Timer Expired\\)`));
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await poll('three paths again', async () => ((await table(4)).routes?.[`${VIP}/32`]?.length === 3 ? true : undefined), 60_000);
  });

  /** Marker, length 21, type NOTIFICATION (3), code 4, subcode 0 (RFC 4271 §4.1, §4.5). */
  const HOLD_EXPIRED = Buffer.concat([Buffer.alloc(16, 0xff), Buffer.from([0, 21, 3, 4, 0])]);

  it('our hold timer expires when FRR goes silent toward one node: NOTIFICATION Hold Timer Expired on the wire', async () => {
    // Drop every segment carrying data from FRR to node2's IPv4 session (nftables in node2's namespace),
    // but let pure ACKs through (IP length 52 = a bare ACK with TCP timestamps; a KEEPALIVE segment is
    // 71): FRR's KEEPALIVEs stop arriving, so our hold timer expires. The capture on node2's link shows
    // our NOTIFICATION 4/0 leaving. (FRR's own hold timer may fire too: TCP retransmissions can delay
    // our keepalives, so its log is not the witness here.)
    const node = lab.nodes[1];
    const s = speakers[1];
    assert.ok(node !== undefined && s !== undefined);
    const mark = s.events.length;
    const cap = await lab.tcpdump(node, 'eth1', 'hold-ours.pcap', ['tcp', 'port', '179', 'and', 'host', ROUTER_V4]);
    await lab.exec(node, ['nft', 'add table inet bses']);
    try {
      await lab.exec(node, ['nft', 'add chain inet bses in { type filter hook input priority 0 ; }']);
      await lab.exec(node, ['nft', `add rule inet bses in ip saddr ${ROUTER_V4} tcp sport 179 ip length > 60 drop`]);
      const down = await s.waitEvent('down by our hold timer', (e) => s.events.indexOf(e) >= mark && e.event === 'down' && e.peer === 'rt4', 30_000);
      assert.equal(down.reason, 'HoldTimerExpired');
      assert.deepEqual([down.notification?.code, down.notification?.subcode], [4, 0]);
      // tcpdump writes each packet as it sees it (-U): wait until our NOTIFICATION is in the file.
      await poll('the NOTIFICATION in the capture', async () => ((await readFile(cap.file)).includes(HOLD_EXPIRED) ? true : undefined), 10_000);
    } finally {
      await cap.stop();
      await lab.exec(node, ['nft', 'delete table inet bses'], { check: false });
    }
    assert.ok((await readFile(cap.file)).includes(HOLD_EXPIRED), 'NOTIFICATION Hold Timer Expired in the capture');
    await s.waitEvent('re-established', (e) => s.events.indexOf(e) >= mark && e.event === 'established' && e.peer === 'rt4', 60_000);
    await poll('three paths again', async () => ((await table(4)).routes?.[`${VIP}/32`]?.length === 3 ? true : undefined), 60_000);
  });

  it('wrong peer AS in either direction: OPEN Message Error / Bad Peer AS (2/2)', async () => {
    const s = speakers[2];
    assert.ok(s !== undefined);
    // We expect AS 65000 but FRR is 64512: we send 2/2.
    let mark = s.events.length;
    s.peers([{ name: 'bad', myAsn: NODE_ASN, peerAsn: 65000, peerAddress: ROUTER_V4 }]);
    const rejected = await s.waitEvent('our 2/2', (e) => s.events.indexOf(e) >= mark && e.event === 'state' && e.peer === 'bad' && e.reason === 'OpenRejected');
    assert.deepEqual([rejected.notification?.code, rejected.notification?.subcode], [2, 2]);
    await poll('FRR logs the Bad Peer AS NOTIFICATION', async () => (/2\/2.*Bad Peer AS|Bad Peer AS/i.test(await frrLog()) ? true : undefined), 20_000);
    // FRR expects 64513 but we say 64999: FRR sends 2/2.
    mark = s.events.length;
    s.peers([{ name: 'bad2', myAsn: 64999, peerAsn: 64512, peerAddress: ROUTER_V4 }]);
    const heard = await s.waitEvent('FRR 2/2', (e) => s.events.indexOf(e) >= mark && e.peer === 'bad2' && e.reason === 'NotificationReceived');
    assert.deepEqual([heard.notification?.code, heard.notification?.subcode], [2, 2]);
    s.peers(peersFor());
    await s.waitEvent('back up', (e) => s.events.indexOf(e) >= mark && e.event === 'established' && e.peer === 'rt4');
  });

  it('dual stack over one IPv4 session: the IPv6 VIP carries the node\'s global and link-local IPv6 next hops', async () => {
    const node = lab.nodes[2];
    const s = speakers[2];
    assert.ok(node !== undefined && s !== undefined);
    const mark = s.events.length;
    s.peers([{ name: 'rt4', myAsn: NODE_ASN, peerAsn: 64512, peerAddress: ROUTER_V4, dualStackAddressFamily: true }]);
    await s.waitEvent('dual-stack session', (e) => s.events.indexOf(e) >= mark && e.event === 'established' && e.peer === 'rt4');
    const path = await poll('IPv6 VIP learnt over the IPv4 session', async () => {
      const paths = (await table(6)).routes?.[`${VIP6}/128`] ?? [];
      return paths.find((p) => p.peerId === node.ipv4);
    });
    assert.ok(path.nexthops?.some((h) => h.scope === 'global' && h.ip === node.ipv6), `global next hop ${node.ipv6}: ${JSON.stringify(path.nexthops)}`);
    assert.ok(path.nexthops?.some((h) => h.scope === 'link-local' && h.ip.startsWith('fe80:')), 'link-local next hop from the same interface');
    s.peers(peersFor());
    await s.waitEvent('back to two sessions', (e) => s.events.indexOf(e) >= mark && e.event === 'established' && e.peer === 'rt6');
  });

});

async function speakerPid(ns: string): Promise<number> {
  const { execFile } = await import('node:child_process');
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ip', ['netns', 'pids', ns], (err, stdout) => (err === null ? resolve(stdout) : reject(err))),
  );
  for (const p of out.split(/\s+/).filter(Boolean)) {
    const cmd = await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '');
    if (cmd.includes('speaker-proc.ts')) return Number(p);
  }
  throw new Error(`no speaker-proc in ${ns}`);
}
