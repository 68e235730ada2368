// berth's speaker against BIRD 2 as the router: eBGP over IPv4, eBGP over IPv6 (MP-BGP, RFC 4760, with
// the RFC 2545 global + link-local next hop), iBGP (LOCAL_PREF), communities (RFC 1997), large
// communities (RFC 8092), withdraw, and a peer that does not speak 4-octet AS (RFC 6793: 2-octet
// AS_PATH encoding). What BIRD received is read
// with `birdc show route all`. Namespaces bint1-*: node1 plays the router (BIRD), node2 runs berth.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import type { PeerSpec } from '../../../src/bgp/speaker.ts';
import { SpeakerProc, poll } from '../bgp/harness.ts';
import { startBird, type Bird, type BirdRoute } from './peers.ts';

const BIRD_ASN = 64512;
const NODE_ASN = 64513;
const AS4_ONLY = 4_200_000_001; // a large-community global admin that needs 4 octets
const IBGP_SRC = '192.0.2.22'; // second address of the berth node, for the iBGP session
const OLD16_SRC = '192.0.2.24'; // third address, for the session with a 2-octet-AS (OLD) BIRD
const NODE_ASN16 = 64514;
const community = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;

let lab: Lab;
let bird: Bird;
let speaker: SpeakerProc | undefined;
let rt: LabHost;
let node: LabHost;
let nodeLinkLocal: string;

function birdConfig(rtHost: LabHost, n: LabHost): string {
  return [
    `router id ${rtHost.ipv4};`,
    'protocol device { scan time 1; }',
    `protocol bgp e4 { local ${rtHost.ipv4} as ${BIRD_ASN}; neighbor ${n.ipv4} as ${NODE_ASN}; connect retry time 1; ipv4 { import all; export none; }; }`,
    `protocol bgp e6 { local ${rtHost.ipv6} as ${BIRD_ASN}; neighbor ${n.ipv6} as ${NODE_ASN}; connect retry time 1; ipv6 { import all; export none; }; }`,
    `protocol bgp i4 { local ${rtHost.ipv4} as ${BIRD_ASN}; neighbor ${IBGP_SRC} as ${BIRD_ASN}; direct; connect retry time 1; ipv4 { gateway direct; import all; export none; }; }`,
    // BIRD without the 4-octet AS capability (`enable as4 off`): an OLD speaker to berth (RFC 6793).
    // (BIRD cannot play the OLD side for a peer whose AS needs 4 octets: it still reads the capability's
    // AS and answers Bad Peer AS; exabgp.test.ts covers that case.)
    `protocol bgp old16 { local ${rtHost.ipv4} as ${BIRD_ASN}; neighbor ${OLD16_SRC} as ${NODE_ASN16}; enable as4 off; connect retry time 1; ipv4 { import all; export none; }; }`,
    '',
  ].join('\n');
}

const peers = (): PeerSpec[] => [
  { name: 'e4', myAsn: NODE_ASN, peerAsn: BIRD_ASN, peerAddress: rt.ipv4, holdTimeSec: 9 },
  { name: 'e6', myAsn: NODE_ASN, peerAsn: BIRD_ASN, peerAddress: rt.ipv6, holdTimeSec: 9 },
  { name: 'i4', myAsn: BIRD_ASN, peerAsn: BIRD_ASN, peerAddress: rt.ipv4, sourceAddress: IBGP_SRC, holdTimeSec: 9 },
  { name: 'old16', myAsn: NODE_ASN16, peerAsn: BIRD_ASN, peerAddress: rt.ipv4, sourceAddress: OLD16_SRC, holdTimeSec: 9 },
];

async function routesFor(protocol: string, prefix: string, table = 'master4'): Promise<BirdRoute[]> {
  return (await bird.routes({ protocol, table })).filter((r) => r.prefix === prefix);
}

async function one(protocol: string, prefix: string, table = 'master4'): Promise<BirdRoute> {
  return poll(`${prefix} from ${protocol} in BIRD`, async () => {
    const rs = await routesFor(protocol, prefix, table);
    return rs.length === 1 ? rs[0] : undefined;
  });
}

describe('berth speaker <-> BIRD 2', { timeout: 240_000 }, () => {
  before(async () => {
    lab = await createLab({ prefix: 'bint1', nodes: 2, router: false });
    const [a, b] = lab.nodes;
    assert.ok(a !== undefined && b !== undefined);
    rt = a;
    node = b;
    for (const src of [IBGP_SRC, OLD16_SRC]) await lab.exec(node, ['ip', 'addr', 'add', `${src}/24`, 'dev', node.iface]);
    const addrs = JSON.parse((await lab.exec(node, ['ip', '-j', '-6', 'addr', 'show', 'dev', node.iface, 'scope', 'link'])).stdout) as {
      addr_info?: { local?: string }[];
    }[];
    const ll = addrs[0]?.addr_info?.find((x) => x.local?.startsWith('fe80:') === true)?.local;
    assert.ok(ll !== undefined, 'the node has a link-local address on its LAN port');
    nodeLinkLocal = ll;
    bird = await startBird(lab, rt, 'bird', birdConfig(rt, node));
    speaker = await SpeakerProc.start(lab, node, { routerId: node.ipv4 });
    speaker.peers(peers());
    speaker.ads([
      { prefix: '203.0.113.10/32', communities: [community(64512, 100), community(64513, 200)], largeCommunities: [{ globalAdmin: NODE_ASN, localData1: 1, localData2: 2 }], peers: ['e4'] },
      { prefix: '203.0.113.11/32', peers: ['e4'] },
      { prefix: '2001:db8:f00::10/128', communities: [community(64512, 600)], largeCommunities: [{ globalAdmin: AS4_ONLY, localData1: 6, localData2: 6 }], peers: ['e6'] },
      { prefix: '203.0.113.20/32', localPref: 250, communities: [community(64512, 20)], peers: ['i4'] },
      { prefix: '203.0.113.21/32', peers: ['i4'] },
      { prefix: '203.0.113.31/32', communities: [community(64514, 31)], peers: ['old16'] },
    ]);
    for (const p of ['e4', 'e6', 'i4', 'old16']) {
      await speaker.waitEvent(`${p} Established`, (e) => e.event === 'established' && e.peer === p, 60_000);
    }
  });

  after(async () => {
    await speaker?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('BIRD sees every session Established', async () => {
    for (const p of ['e4', 'e6', 'i4', 'old16']) {
      assert.equal(await poll(`${p} up in BIRD`, async () => ((await bird.state(p)) === 'Established' ? 'Established' : undefined)), 'Established');
    }
  });

  it('eBGP IPv4: next hop = the node, ORIGIN IGP, AS_PATH = our AS, communities and large communities', async () => {
    const r = await one('e4', '203.0.113.10/32');
    assert.equal(r.attrs['BGP.origin'], 'IGP');
    assert.equal(r.attrs['BGP.as_path'], String(NODE_ASN));
    assert.equal(r.attrs['BGP.next_hop'], node.ipv4);
    assert.equal(r.via, node.ipv4);
    assert.equal(r.attrs['BGP.community'], '(64512,100) (64513,200)');
    assert.equal(r.attrs['BGP.large_community'], `(${NODE_ASN}, 1, 2)`);
    // (No LOCAL_PREF check here: BIRD gives eBGP routes a default BGP.local_pref of 100 on import; the
    // ExaBGP test reads the raw attributes and checks that berth sends none to an external peer.)
    const plain = await one('e4', '203.0.113.11/32');
    assert.equal(plain.attrs['BGP.community'], undefined);
    assert.equal(plain.attrs['BGP.large_community'], undefined);
    // Advertisements select peers: the iBGP-only VIP never went to e4.
    assert.equal((await routesFor('e4', '203.0.113.20/32')).length, 0);
  });

  it('eBGP IPv6 (MP_REACH_NLRI): global + link-local next hop of the node, communities', async () => {
    const r = await one('e6', '2001:db8:f00::10/128', 'master6');
    assert.equal(r.attrs['BGP.origin'], 'IGP');
    assert.equal(r.attrs['BGP.as_path'], String(NODE_ASN));
    // RFC 2545 §3: both addresses in a 32-octet next hop; BIRD prints them space-separated.
    assert.equal(r.attrs['BGP.next_hop'], `${node.ipv6} ${nodeLinkLocal}`);
    assert.equal(r.attrs['BGP.community'], '(64512,600)');
    assert.equal(r.attrs['BGP.large_community'], `(${AS4_ONLY}, 6, 6)`);
    assert.equal((await routesFor('e6', '203.0.113.10/32')).length, 0, 'no IPv4 NLRI on the IPv6 session without dual-stack');
  });

  it('iBGP: LOCAL_PREF as configured (default 100), empty AS_PATH, next hop = the session address', async () => {
    const r = await one('i4', '203.0.113.20/32');
    assert.equal(r.attrs['BGP.local_pref'], '250');
    assert.equal(r.attrs['BGP.as_path'], '');
    assert.equal(r.attrs['BGP.origin'], 'IGP');
    assert.equal(r.attrs['BGP.next_hop'], IBGP_SRC);
    assert.equal(r.attrs['BGP.community'], '(64512,20)');
    const d = await one('i4', '203.0.113.21/32');
    assert.equal(d.attrs['BGP.local_pref'], '100');
  });

  it('2-octet-AS peer, berth AS fits 2 octets: a plain 2-octet AS_PATH (RFC 6793 §4.2.2), no AS4_PATH', async () => {
    const r = await one('old16', '203.0.113.31/32');
    assert.equal(r.attrs['BGP.as_path'], String(NODE_ASN16));
    assert.equal(r.attrs['BGP.as4_path'], undefined);
    assert.equal(r.attrs['BGP.next_hop'], OLD16_SRC);
    assert.equal(r.attrs['BGP.community'], '(64514,31)');
  });

  it('withdraw: a VIP removed from the advertisements leaves BIRD; the others stay', async () => {
    assert.ok(speaker !== undefined);
    speaker.ads([
      { prefix: '203.0.113.11/32', peers: ['e4'] },
      { prefix: '203.0.113.21/32', peers: ['i4'] },
    ]);
    await poll('203.0.113.10/32 withdrawn', async () => ((await routesFor('e4', '203.0.113.10/32')).length === 0 ? true : undefined));
    await poll('IPv6 VIP withdrawn (MP_UNREACH_NLRI)', async () => ((await routesFor('e6', '2001:db8:f00::10/128', 'master6')).length === 0 ? true : undefined));
    await poll('iBGP VIP withdrawn', async () => ((await routesFor('i4', '203.0.113.20/32')).length === 0 ? true : undefined));
    await poll('2-octet peer VIP withdrawn', async () => ((await routesFor('old16', '203.0.113.31/32')).length === 0 ? true : undefined));
    assert.equal((await routesFor('e4', '203.0.113.11/32')).length, 1);
    assert.equal((await routesFor('i4', '203.0.113.21/32')).length, 1);
    for (const p of ['e4', 'e6', 'i4', 'old16']) assert.equal(await bird.state(p), 'Established', `${p} stayed up through the withdraw`);
  });
});
