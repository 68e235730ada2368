// berth's speaker against GoBGP (gobgpd 3.x) as the router: eBGP over IPv4 and over IPv6 (MP-BGP, the
// node's global next hop), iBGP with LOCAL_PREF, communities (RFC 1997), large
// communities (RFC 8092), withdraw. What GoBGP received is read with `gobgp [-a ipv6] global rib -j`,
// whose attributes are GoBGP's own decoding of berth's bytes. Namespaces bint2-*: node1 plays the
// router (gobgpd), node2 runs berth.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import type { PeerSpec } from '../../../src/bgp/speaker.ts';
import { SpeakerProc, poll } from '../bgp/harness.ts';
import { startGobgp, type Gobgp, type GobgpAttr, type GobgpPath } from './peers.ts';

const GOBGP_ASN = 64512;
const NODE_ASN = 64513;
const IBGP_SRC = '192.0.2.22';
const community = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;
// BGP path attribute type codes (IANA "BGP Path Attributes"), as GoBGP's JSON labels them.
const ATTR = { ORIGIN: 1, AS_PATH: 2, NEXT_HOP: 3, MED: 4, LOCAL_PREF: 5, COMMUNITIES: 8, MP_REACH_NLRI: 14, LARGE_COMMUNITY: 32 } as const;

let lab: Lab;
let gobgp: Gobgp;
let speaker: SpeakerProc | undefined;
let rt: LabHost;
let node: LabHost;

function neighbor(address: string, asn: number, family: 'ipv4-unicast' | 'ipv6-unicast'): string {
  return [
    '[[neighbors]]',
    '  [neighbors.config]',
    `    neighbor-address = "${address}"`,
    `    peer-as = ${asn}`,
    '  [neighbors.timers.config]',
    '    connect-retry = 1',
    '    hold-time = 9',
    '    keepalive-interval = 3',
    '  [[neighbors.afi-safis]]',
    '    [neighbors.afi-safis.config]',
    `      afi-safi-name = "${family}"`,
  ].join('\n');
}

const peers = (): PeerSpec[] => [
  { name: 'e4', myAsn: NODE_ASN, peerAsn: GOBGP_ASN, peerAddress: rt.ipv4, holdTimeSec: 9 },
  { name: 'e6', myAsn: NODE_ASN, peerAsn: GOBGP_ASN, peerAddress: rt.ipv6, holdTimeSec: 9 },
  { name: 'i4', myAsn: GOBGP_ASN, peerAsn: GOBGP_ASN, peerAddress: rt.ipv4, sourceAddress: IBGP_SRC, holdTimeSec: 9 },
];

const attr = (p: GobgpPath, type: number): GobgpAttr | undefined => p.attrs.find((a) => a.type === type);

/** The paths GoBGP holds for one prefix from one neighbor. */
async function pathsFrom(family: 'ipv4' | 'ipv6', prefix: string, from: string): Promise<GobgpPath[]> {
  const rib = await gobgp.rib(family);
  return (rib[prefix] ?? []).filter((p) => p['neighbor-ip'] === from);
}

async function one(family: 'ipv4' | 'ipv6', prefix: string, from: string): Promise<GobgpPath> {
  return poll(`${prefix} from ${from} in GoBGP`, async () => {
    const ps = await pathsFrom(family, prefix, from);
    return ps.length === 1 ? ps[0] : undefined;
  });
}

describe('berth speaker <-> GoBGP', { timeout: 240_000 }, () => {
  before(async () => {
    lab = await createLab({ prefix: 'bint2', nodes: 2, router: false });
    const [a, b] = lab.nodes;
    assert.ok(a !== undefined && b !== undefined);
    rt = a;
    node = b;
    await lab.exec(node, ['ip', 'addr', 'add', `${IBGP_SRC}/24`, 'dev', node.iface]);
    gobgp = await startGobgp(
      lab,
      rt,
      'gobgpd',
      [
        '[global.config]',
        `  as = ${GOBGP_ASN}`,
        `  router-id = "${rt.ipv4}"`,
        neighbor(node.ipv4, NODE_ASN, 'ipv4-unicast'),
        neighbor(node.ipv6, NODE_ASN, 'ipv6-unicast'),
        neighbor(IBGP_SRC, GOBGP_ASN, 'ipv4-unicast'),
        '',
      ].join('\n'),
    );
    speaker = await SpeakerProc.start(lab, node, { routerId: node.ipv4 });
    speaker.peers(peers());
    speaker.ads([
      { prefix: '203.0.113.10/32', communities: [community(64512, 100), community(65535, 65281)], largeCommunities: [{ globalAdmin: NODE_ASN, localData1: 7, localData2: 8 }], peers: ['e4'] },
      { prefix: '203.0.113.0/28', localPref: 500, peers: ['e4'] },
      { prefix: '2001:db8:f00::10/128', communities: [community(64512, 600)], largeCommunities: [{ globalAdmin: NODE_ASN, localData1: 6, localData2: 6 }], peers: ['e6'] },
      { prefix: '2001:db8:f00:0:1::/80', peers: ['e6'] },
      { prefix: '203.0.113.20/32', localPref: 250, communities: [community(64512, 20)], peers: ['i4'] },
    ]);
    for (const p of ['e4', 'e6', 'i4']) {
      await speaker.waitEvent(`${p} Established`, (e) => e.event === 'established' && e.peer === p, 60_000);
    }
  });

  after(async () => {
    await speaker?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('GoBGP sees every session established', async () => {
    for (const n of [node.ipv4, node.ipv6, IBGP_SRC]) {
      assert.equal(await poll(`${n} established in GoBGP`, async () => ((await gobgp.state(n)) === 'established' ? 'established' : undefined)), 'established');
    }
  });

  it('eBGP IPv4: NEXT_HOP = the node, ORIGIN IGP, AS_PATH [our AS], communities, large communities, no LOCAL_PREF', async () => {
    const p = await one('ipv4', '203.0.113.10/32', node.ipv4);
    assert.equal(attr(p, ATTR.ORIGIN)?.['value'], 0, 'ORIGIN IGP');
    assert.deepEqual(attr(p, ATTR.AS_PATH)?.['as_paths'], [{ segment_type: 2, num: 1, asns: [NODE_ASN] }]);
    assert.equal(attr(p, ATTR.NEXT_HOP)?.['nexthop'], node.ipv4);
    assert.deepEqual(attr(p, ATTR.COMMUNITIES)?.['communities'], [community(64512, 100), community(65535, 65281)]);
    assert.deepEqual(attr(p, ATTR.LARGE_COMMUNITY)?.['value'], [{ ASN: NODE_ASN, LocalData1: 7, LocalData2: 8 }]);
    assert.equal(attr(p, ATTR.LOCAL_PREF), undefined, 'RFC 4271 §5.1.5: no LOCAL_PREF toward an external peer');
    assert.equal(attr(p, ATTR.MED), undefined);
    const agg = await one('ipv4', '203.0.113.0/28', node.ipv4);
    assert.equal(attr(agg, ATTR.LOCAL_PREF), undefined, 'a localPref in the advertisement is still not sent over eBGP');
    assert.equal(attr(agg, ATTR.COMMUNITIES), undefined);
  });

  it('eBGP IPv6: MP_REACH_NLRI with the node\'s global next hop (RFC 4760, RFC 2545 §3)', async () => {
    const p = await one('ipv6', '2001:db8:f00::10/128', node.ipv6);
    const mp = attr(p, ATTR.MP_REACH_NLRI);
    assert.ok(mp !== undefined, `MP_REACH_NLRI in ${JSON.stringify(p.attrs)}`);
    assert.equal(mp['nexthop'], node.ipv6);
    // GoBGP's JSON prints only the global address of a 32-octet next hop; the link-local half is
    // checked where the peer shows it (bird.test.ts: BGP.next_hop '<global> <link-local>').
    assert.equal(attr(p, ATTR.ORIGIN)?.['value'], 0);
    assert.deepEqual(attr(p, ATTR.AS_PATH)?.['as_paths'], [{ segment_type: 2, num: 1, asns: [NODE_ASN] }]);
    assert.deepEqual(attr(p, ATTR.COMMUNITIES)?.['communities'], [community(64512, 600)]);
    assert.deepEqual(attr(p, ATTR.LARGE_COMMUNITY)?.['value'], [{ ASN: NODE_ASN, LocalData1: 6, LocalData2: 6 }]);
    assert.equal(attr(p, ATTR.NEXT_HOP), undefined, 'no IPv4 NEXT_HOP attribute with IPv6-only NLRI');
    await one('ipv6', '2001:db8:f00:0:1::/80', node.ipv6);
  });

  it('iBGP: LOCAL_PREF as configured, empty AS_PATH, next hop = the session address', async () => {
    const p = await one('ipv4', '203.0.113.20/32', IBGP_SRC);
    assert.equal(attr(p, ATTR.LOCAL_PREF)?.['value'], 250);
    const path = attr(p, ATTR.AS_PATH)?.['as_paths'];
    assert.ok(path === undefined || (Array.isArray(path) && path.length === 0), `empty AS_PATH, got ${JSON.stringify(path)}`);
    assert.equal(attr(p, ATTR.NEXT_HOP)?.['nexthop'], IBGP_SRC);
    assert.deepEqual(attr(p, ATTR.COMMUNITIES)?.['communities'], [community(64512, 20)]);
    assert.equal((await pathsFrom('ipv4', '203.0.113.10/32', IBGP_SRC)).length, 0, 'advertisements select their peers');
  });

  it('withdraw (IPv4 withdrawn routes and MP_UNREACH_NLRI); the sessions stay up', async () => {
    assert.ok(speaker !== undefined);
    speaker.ads([
      { prefix: '203.0.113.0/28', localPref: 500, peers: ['e4'] },
      { prefix: '2001:db8:f00:0:1::/80', peers: ['e6'] },
    ]);
    await poll('IPv4 withdraw', async () => ((await pathsFrom('ipv4', '203.0.113.10/32', node.ipv4)).length === 0 ? true : undefined));
    await poll('IPv6 withdraw', async () => ((await pathsFrom('ipv6', '2001:db8:f00::10/128', node.ipv6)).length === 0 ? true : undefined));
    await poll('iBGP withdraw', async () => ((await pathsFrom('ipv4', '203.0.113.20/32', IBGP_SRC)).length === 0 ? true : undefined));
    assert.equal((await pathsFrom('ipv4', '203.0.113.0/28', node.ipv4)).length, 1);
    assert.equal((await pathsFrom('ipv6', '2001:db8:f00:0:1::/80', node.ipv6)).length, 1);
    for (const n of [node.ipv4, node.ipv6, IBGP_SRC]) assert.equal(await gobgp.state(n), 'established');
  });
});
