// berth's speaker against ExaBGP 4 as the router, and against hostile peers:
//  - what ExaBGP received, from its JSON API (a process that writes every message to a file): eBGP over
//    IPv4 and IPv6, ORIGIN, AS_PATH, next hop, communities, large communities, no LOCAL_PREF, withdraw;
//  - ExaBGP sends an UPDATE whose COMMUNITIES attribute is malformed (length not a multiple of 4):
//    RFC 7606 §7.8 treat-as-withdraw, berth keeps the session (no NOTIFICATION, still sends updates);
//  - ExaBGP sends an UPDATE whose MP_REACH_NLRI is truncated: RFC 7606 §7.11 session reset, berth sends
//    NOTIFICATION 3/9 (seen in a capture; ExaBGP 4.2 neither reports it on its API nor takes the next
//    connection, so "back up" is checked by the garbage case) and retries;
//  - an OLD ExaBGP (no 4-octet AS capability) while berth's AS is 4200000001: AS_TRANS + AS4_PATH;
//  - a raw TCP peer (garbage-peer.ts) sends bytes that are not BGP after the OPEN exchange: berth sends
//    NOTIFICATION Message Header Error / Connection Not Synchronized (RFC 4271 §6.1) and reconnects.
// Namespaces bint3-*: node1 hosts ExaBGP (192.0.2.11, 2001:db8:1::11) and the garbage peer
// (192.0.2.31); node2 runs berth (192.0.2.12, plus 192.0.2.22 for the session that gets reset).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createInterface } from 'node:readline';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLab, type Capture, type Lab, type LabHost, type SpawnedProcess } from '../../../frr-lab/lab.ts';
import type { PeerSpec } from '../../../src/bgp/speaker.ts';
import { SpeakerProc, poll } from '../bgp/harness.ts';
import { API_BLOCK, startExabgp, type Exabgp, type ExabgpMessage } from './peers.ts';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const EXA_ASN = 64512;
const NODE_ASN = 64513;
const RESET_SRC = '192.0.2.22';
const GARBAGE_ADDR = '192.0.2.31';
const OLD_SRC = '192.0.2.23'; // berth's address for the session with an OLD (2-octet AS) ExaBGP
const AS4_ONLY = 4_200_000_001; // berth's AS on that session: needs 4 octets
const AS_TRANS = 23456; // RFC 6793 §9
const community = (hi: number, lo: number): number => ((hi << 16) | lo) >>> 0;
// RFC 4271 §4.5 / §6: NOTIFICATION error codes and the subcodes this test expects.
const NOTIFICATION_TYPE = 3;
const ERR = { HEADER: 1, UPDATE: 3 } as const;
const HEADER_ERR_NOT_SYNCHRONIZED = 1;
const UPDATE_ERR_OPTIONAL_ATTRIBUTE = 9; // RFC 4271 §6.3, the subcode RFC 4760 §7 names for MP_REACH errors

let lab: Lab;
let exa: Exabgp;
let speaker: SpeakerProc | undefined;
let garbage: SpawnedProcess | undefined;
let oldCapture: Capture | undefined;
const garbageEvents: { event: string; conn?: number; received?: string }[] = [];
let rt: LabHost;
let node: LabHost;
let nodeLinkLocal: string;

function exaNeighbor(peer: string, local: string, family: 'ipv4 unicast' | 'ipv6 unicast', o: { peerAs?: number; asn4?: boolean } = {}): string {
  return [
    `neighbor ${peer} {`,
    `  router-id ${rt.ipv4};`,
    `  local-address ${local};`,
    `  local-as ${EXA_ASN};`,
    `  peer-as ${o.peerAs ?? NODE_ASN};`,
    ...(o.asn4 === false ? ['  capability { asn4 disable; }'] : []),
    '  hold-time 9;',
    '  passive true;',
    `  family { ${family}; }`,
    `  ${API_BLOCK}`,
    '}',
  ].join('\n');
}

const peers = (): PeerSpec[] => [
  { name: 'x4', myAsn: NODE_ASN, peerAsn: EXA_ASN, peerAddress: rt.ipv4, holdTimeSec: 9, connectTimeSec: 2 },
  { name: 'x6', myAsn: NODE_ASN, peerAsn: EXA_ASN, peerAddress: rt.ipv6, holdTimeSec: 9, connectTimeSec: 2 },
  { name: 'reset', myAsn: NODE_ASN, peerAsn: EXA_ASN, peerAddress: rt.ipv4, sourceAddress: RESET_SRC, holdTimeSec: 9, connectTimeSec: 2 },
  { name: 'old', myAsn: AS4_ONLY, peerAsn: EXA_ASN, peerAddress: rt.ipv4, sourceAddress: OLD_SRC, holdTimeSec: 9, connectTimeSec: 2 },
  { name: 'junk', myAsn: NODE_ASN, peerAsn: EXA_ASN, peerAddress: GARBAGE_ADDR, holdTimeSec: 9, connectTimeSec: 2 },
];

type Update = NonNullable<NonNullable<NonNullable<ExabgpMessage['neighbor']>['message']>['update']>;

/** Updates ExaBGP received from one neighbor address, in order. */
async function updatesFrom(peer: string): Promise<Update[]> {
  return (await exa.messages()).flatMap((m) =>
    m.type === 'update' && m.neighbor?.address?.peer === peer && m.neighbor.message?.update !== undefined ? [m.neighbor.message.update] : [],
  );
}

/** The last announcement of `prefix` from `peer`, with its attributes and next hop. */
async function announced(peer: string, family: 'ipv4 unicast' | 'ipv6 unicast', prefix: string): Promise<{ attribute: Readonly<Record<string, unknown>>; nextHop: string } | undefined> {
  let hit: { attribute: Readonly<Record<string, unknown>>; nextHop: string } | undefined;
  for (const u of await updatesFrom(peer)) {
    for (const [nh, nlris] of Object.entries(u.announce?.[family] ?? {})) {
      if (nlris.some((n) => n.nlri === prefix)) hit = { attribute: u.attribute ?? {}, nextHop: nh };
    }
    if ((u.withdraw?.[family] ?? []).some((n) => n.nlri === prefix)) hit = undefined;
  }
  return hit;
}

async function notificationsTo(peer: string): Promise<{ code: number; subcode: number }[]> {
  return (await exa.messages()).flatMap((m) =>
    m.type === 'notification' && m.neighbor?.address?.peer === peer && m.neighbor.message?.notification !== undefined
      ? [m.neighbor.message.notification]
      : [],
  );
}

describe('berth speaker <-> ExaBGP, and hostile peers', { timeout: 300_000 }, () => {
  before(async () => {
    lab = await createLab({ prefix: 'bint3', nodes: 2, router: false });
    const [a, b] = lab.nodes;
    assert.ok(a !== undefined && b !== undefined);
    rt = a;
    node = b;
    for (const src of [RESET_SRC, OLD_SRC]) await lab.exec(node, ['ip', 'addr', 'add', `${src}/24`, 'dev', node.iface]);
    await lab.exec(rt, ['ip', 'addr', 'add', `${GARBAGE_ADDR}/24`, 'dev', rt.iface]);
    const addrs = JSON.parse((await lab.exec(node, ['ip', '-j', '-6', 'addr', 'show', 'dev', node.iface, 'scope', 'link'])).stdout) as {
      addr_info?: { local?: string }[];
    }[];
    const ll = addrs[0]?.addr_info?.find((x) => x.local?.startsWith('fe80:') === true)?.local;
    assert.ok(ll !== undefined, 'the node has a link-local address on its LAN port');
    nodeLinkLocal = ll;
    exa = await startExabgp(
      lab,
      rt,
      'exabgp',
      [
        exaNeighbor(node.ipv4, rt.ipv4, 'ipv4 unicast'),
        exaNeighbor(node.ipv6, rt.ipv6, 'ipv6 unicast'),
        exaNeighbor(RESET_SRC, rt.ipv4, 'ipv4 unicast'),
        // An OLD speaker (no 4-octet AS capability): it knows berth as AS_TRANS.
        exaNeighbor(OLD_SRC, rt.ipv4, 'ipv4 unicast', { peerAs: AS_TRANS, asn4: false }),
      ].join('\n'),
      [rt.ipv4, rt.ipv6],
    );
    garbage = lab.spawn(rt, [process.execPath, '--import', 'tsx', resolve(here, 'garbage-peer.ts'), GARBAGE_ADDR, String(EXA_ASN)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const gout = garbage.child.stdout;
    assert.ok(gout !== null);
    createInterface({ input: gout }).on('line', (l) => garbageEvents.push(JSON.parse(l) as (typeof garbageEvents)[number]));
    await poll('garbage peer listening', async () => (garbageEvents.some((e) => e.event === 'listening') ? true : undefined), 30_000, 100);
    oldCapture = await lab.tcpdump(node, node.iface, 'old.pcap', ['tcp', 'port', '179', 'and', 'host', OLD_SRC]);
    speaker = await SpeakerProc.start(lab, node, { routerId: node.ipv4 });
    speaker.peers(peers());
    speaker.ads([
      { prefix: '203.0.113.10/32', localPref: 300, communities: [community(64512, 100), community(65535, 65282)], largeCommunities: [{ globalAdmin: NODE_ASN, localData1: 1, localData2: 2 }], peers: ['x4'] },
      { prefix: '2001:db8:f00::10/128', communities: [community(64512, 600)], peers: ['x6'] },
      { prefix: '203.0.113.30/32', peers: ['old'] },
    ]);
    for (const p of ['x4', 'x6', 'reset']) {
      await speaker.waitEvent(`${p} Established`, (e) => e.event === 'established' && e.peer === p, 90_000).catch((e: unknown) => {
        throw new Error(`${String(e)}\nExaBGP log: ${exa.logFile}\n${JSON.stringify(exa.proc.output()).slice(-2000)}`);
      });
    }
  });

  after(async () => {
    await speaker?.stop().catch(() => undefined);
    await garbage?.kill(1000);
    await oldCapture?.stop().catch(() => undefined);
    await lab?.destroy();
  });

  it('ExaBGP receives IPv4: ORIGIN IGP, AS_PATH [our AS], next hop = the node, communities, large communities, no LOCAL_PREF', async () => {
    const r = await poll('203.0.113.10/32 at ExaBGP', () => announced(node.ipv4, 'ipv4 unicast', '203.0.113.10/32'));
    assert.equal(r.nextHop, node.ipv4);
    assert.equal(r.attribute['origin'], 'igp');
    assert.deepEqual(r.attribute['as-path'], [NODE_ASN]);
    assert.deepEqual(r.attribute['community'], [
      [64512, 100],
      [65535, 65282],
    ]);
    assert.deepEqual(r.attribute['large-community'], [[NODE_ASN, 1, 2]]);
    assert.equal(r.attribute['local-preference'], undefined, 'RFC 4271 §5.1.5: LOCAL_PREF never goes to an external peer');
    assert.equal(r.attribute['med'], undefined);
  });

  it('ExaBGP receives IPv6 over MP_REACH_NLRI with the node\'s link-local next hop (RFC 2545 §3)', async () => {
    const r = await poll('2001:db8:f00::10/128 at ExaBGP', () => announced(node.ipv6, 'ipv6 unicast', '2001:db8:f00::10/128'));
    // ExaBGP 4.2 names a 32-octet (global + link-local) next hop by its link-local half; a 16-octet one
    // by the global address. berth sends both, so ExaBGP shows the node's link-local address.
    assert.equal(r.nextHop, nodeLinkLocal);
    assert.equal(r.attribute['origin'], 'igp');
    assert.deepEqual(r.attribute['as-path'], [NODE_ASN]);
    assert.deepEqual(r.attribute['community'], [[64512, 600]]);
  });

  it('OLD (2-octet AS) peer while berth\'s AS needs 4 octets: AS_TRANS in OPEN and AS_PATH, the real AS in AS4_PATH (RFC 6793 §4.2.2)', async () => {
    assert.ok(speaker !== undefined);
    const s = speaker;
    await s.waitEvent('old Established', (e) => e.event === 'established' && e.peer === 'old', 30_000).catch((e: unknown) => {
      const refused = s.events.find((x) => x.peer === 'old' && x.notification !== undefined);
      throw new Error(
        'berth did not establish with a 2-octet-AS peer while its own AS needs 4 octets (RFC 6793 §4.2 says it must, via AS_TRANS)' +
          (refused !== undefined ? `; NOTIFICATION ${JSON.stringify(refused.notification)} (${refused.reason ?? ''})` : `; ${String(e)}`),
      );
    });
    const r = await poll('203.0.113.30/32 at the OLD ExaBGP', () => announced(OLD_SRC, 'ipv4 unicast', '203.0.113.30/32'));
    assert.equal(r.nextHop, OLD_SRC);
    assert.equal(r.attribute['origin'], 'igp');
    // ExaBGP merges AS_PATH and AS4_PATH (RFC 6793 §4.2.3): 4200000001 can only come from AS4_PATH, a
    // 2-octet AS_PATH cannot hold it.
    assert.deepEqual(r.attribute['as-path'], [AS4_ONLY], JSON.stringify(r.attribute));
    // On the wire: AS_PATH (well-known, type 2) = AS_SEQUENCE [AS_TRANS] in 2 octets, and AS4_PATH
    // (optional transitive, type 17) = AS_SEQUENCE [4200000001] in 4 octets; OPEN's My AS = AS_TRANS.
    await oldCapture?.stop();
    const pcap = await readFile(`${lab.workDir}/old.pcap`);
    const asPath = Buffer.from([0x40, 2, 4, 2, 1, AS_TRANS >> 8, AS_TRANS & 0xff]);
    const as4Path = Buffer.concat([Buffer.from([0xc0, 17, 6, 2, 1]), Buffer.from(new Uint32Array([AS4_ONLY]).buffer).reverse()]);
    assert.ok(pcap.includes(asPath), `2-octet AS_PATH [AS_TRANS] (${asPath.toString('hex')}) in the capture`);
    assert.ok(pcap.includes(as4Path), `AS4_PATH [4200000001] (${as4Path.toString('hex')}) in the capture`);
    const openMyAs = Buffer.from([1, 4, AS_TRANS >> 8, AS_TRANS & 0xff]); // type OPEN, version 4, My AS
    assert.ok(pcap.includes(openMyAs), 'berth OPEN with My AS = AS_TRANS');
  });

  it('malformed COMMUNITIES from the peer: treat-as-withdraw (RFC 7606 §7.8), the session stays up and keeps working', async () => {
    assert.ok(speaker !== undefined);
    const s = speaker;
    const before = s.events.length;
    // Type 8 (COMMUNITIES), flags optional|transitive, 5 octets of value: not a multiple of 4.
    await exa.command(`neighbor ${node.ipv4} announce route 198.51.100.0/24 next-hop ${rt.ipv4} attribute [ 0x08 0xc0 0x0102030405 ]`);
    const seen = await poll(
      'berth logs the attribute problem',
      async () => s.stderr.find((l) => l.includes('UPDATE attribute problem') && l.includes('"peer":"x4"')),
      20_000,
      100,
    );
    assert.match(seen, /treat-as-withdraw/);
    // The marker: a new VIP announced after berth logged the problem. Once ExaBGP holds it, the x4 session
    // has carried an UPDATE after the malformed one; a reset or NOTIFICATION would have come before it.
    s.ads([
      { prefix: '203.0.113.10/32', localPref: 300, communities: [community(64512, 100), community(65535, 65282)], largeCommunities: [{ globalAdmin: NODE_ASN, localData1: 1, localData2: 2 }], peers: ['x4'] },
      { prefix: '203.0.113.11/32', peers: ['x4'] },
      { prefix: '2001:db8:f00::10/128', communities: [community(64512, 600)], peers: ['x6'] },
    ]);
    await poll('203.0.113.11/32 at ExaBGP after the malformed UPDATE', () => announced(node.ipv4, 'ipv4 unicast', '203.0.113.11/32'));
    assert.deepEqual(
      s.events.slice(before).filter((e) => e.peer === 'x4' && (e.event === 'down' || e.state !== 'Established')),
      [],
      'the x4 session never left Established',
    );
    assert.deepEqual(await notificationsTo(node.ipv4), [], 'berth sent ExaBGP no NOTIFICATION');
  });

  it('truncated MP_REACH_NLRI from the peer: session reset with NOTIFICATION UPDATE Message Error / Optional Attribute Error on the wire (RFC 7606 §7.11), then berth retries', async () => {
    assert.ok(speaker !== undefined);
    const s = speaker;
    const before = s.events.length;
    const cap = await lab.tcpdump(node, node.iface, 'reset.pcap', ['tcp', 'port', '179', 'and', 'host', RESET_SRC]);
    try {
      // Type 14 (MP_REACH_NLRI), flags optional, value AFI 1 / SAFI 1 / next hop length 4 and nothing more.
      await exa.command(`neighbor ${RESET_SRC} announce route 198.51.100.128/25 next-hop ${rt.ipv4} attribute [ 0x0e 0x80 0x00010104 ]`);
      const down = await s.waitEvent('reset session reset by berth', (e) => s.events.indexOf(e) >= before && e.peer === 'reset' && e.notification !== undefined, 20_000);
      assert.deepEqual([down.notification?.code, down.notification?.subcode], [ERR.UPDATE, UPDATE_ERR_OPTIONAL_ATTRIBUTE]);
      // Take the bad route back so that a later session is clean.
      await exa.command(`neighbor ${RESET_SRC} withdraw route 198.51.100.128/25 next-hop ${rt.ipv4}`);
      await s.waitEvent('berth retries the reset session', (e) => s.events.indexOf(e) > s.events.indexOf(down) && e.peer === 'reset' && e.state === 'OpenSent', 30_000);
    } finally {
      await cap.stop();
    }
    // On the wire: a NOTIFICATION (marker, length, type 3) with code 3 / subcode 9 left berth.
    const pcap = await readFile(`${lab.workDir}/reset.pcap`);
    const marker = Buffer.alloc(16, 0xff);
    let found = false;
    for (let at = pcap.indexOf(marker); at >= 0 && !found; at = pcap.indexOf(marker, at + 1)) {
      found = pcap[at + 18] === NOTIFICATION_TYPE && pcap[at + 19] === ERR.UPDATE && pcap[at + 20] === UPDATE_ERR_OPTIONAL_ATTRIBUTE;
    }
    assert.ok(found, 'NOTIFICATION 3/9 in the capture of the reset session');
    // The other sessions did not notice.
    assert.ok(!s.events.slice(before).some((e) => (e.peer === 'x4' || e.peer === 'x6') && e.event === 'down'));
  });

  it('garbage instead of a BGP header: NOTIFICATION Message Header Error / Connection Not Synchronized (RFC 4271 §6.1), then reconnects', async () => {
    assert.ok(speaker !== undefined);
    const s = speaker;
    const closed = await poll('first garbage connection closed', async () => garbageEvents.find((e) => e.event === 'closed' && e.conn === 1), 60_000, 100);
    assert.ok(garbageEvents.some((e) => e.event === 'garbage-sent' && e.conn === 1), 'the garbage was sent on the first connection');
    const bytes = Buffer.from(closed.received ?? '', 'hex');
    // Walk berth's messages on that connection (OPEN, KEEPALIVE, then the NOTIFICATION).
    const msgs: Buffer[] = [];
    for (let at = 0; at + 19 <= bytes.length; ) {
      const len = bytes.readUInt16BE(at + 16);
      assert.ok(bytes.subarray(at, at + 16).equals(Buffer.alloc(16, 0xff)), `marker of berth's message at ${at}`);
      msgs.push(bytes.subarray(at, at + len));
      at += len;
    }
    const notif = msgs.find((m) => m[18] === NOTIFICATION_TYPE);
    assert.ok(notif !== undefined, `a NOTIFICATION among berth's messages: ${closed.received ?? ''}`);
    assert.equal(notif[19], ERR.HEADER, 'Message Header Error');
    assert.equal(notif[20], HEADER_ERR_NOT_SYNCHRONIZED, 'Connection Not Synchronized');
    await poll('berth reconnected to the (now well-behaved) peer', async () => (garbageEvents.some((e) => e.event === 'accepted' && (e.conn ?? 0) >= 2) ? true : undefined), 60_000, 200);
    await s.waitEvent('junk Established on the second connection', (e) => e.peer === 'junk' && e.event === 'established', 60_000);
  });

  it('withdraw reaches ExaBGP (IPv4 withdrawn routes, IPv6 MP_UNREACH_NLRI)', async () => {
    assert.ok(speaker !== undefined);
    speaker.ads([{ prefix: '203.0.113.11/32', peers: ['x4'] }]);
    await poll('203.0.113.10/32 withdrawn', async () => ((await announced(node.ipv4, 'ipv4 unicast', '203.0.113.10/32')) === undefined ? true : undefined));
    await poll('2001:db8:f00::10/128 withdrawn', async () => ((await announced(node.ipv6, 'ipv6 unicast', '2001:db8:f00::10/128')) === undefined ? true : undefined));
    assert.ok((await announced(node.ipv4, 'ipv4 unicast', '203.0.113.11/32')) !== undefined);
  });
});
