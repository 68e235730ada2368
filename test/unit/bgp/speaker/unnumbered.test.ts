// src/bgp/unnumbered.ts and the RS/RA codec (RFC 4861 §4.1, §4.2): our Router Advertisement byte for
// byte, a peer learned from its RA, RS answered, invalid RAs ignored, specs resolved. Fake ports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRouterDiscovery, encodeRouterDiscovery } from '../../../../src/l2/router-advertisement.ts';
import { routerAdvertisementFrame, routerDiscoveryOf, UnnumberedPeers, type RaPort } from '../../../../src/bgp/unnumbered.ts';
import { localCapabilities, peerFamilies, type PeerSpec } from '../../../../src/bgp/peer.ts';
import { silentLogger } from '../../../../src/log.ts';

const OUR_MAC = '02:00:00:00:00:01';
const OUR_LL = 'fe80::1';
const PEER_MAC = '02:00:00:00:00:02';
const PEER_LL = 'fe80::2';

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

test('our Router Advertisement, byte for byte: to all-nodes, hop limit 255, Router Lifetime 0, our MAC', () => {
  assert.deepEqual(
    routerAdvertisementFrame(OUR_MAC, OUR_LL),
    hex(
      '333300000001 020000000001 86dd' + // Ethernet: all-nodes multicast MAC, ours, IPv6
        '60000000 0018 3a ff' + // IPv6: payload 24, ICMPv6, hop limit 255 (RFC 4861 §6.1.2)
        'fe800000000000000000000000000001 ff020000000000000000000000000001' +
        '86 00 7925' + // ICMPv6 type 134 (RA), code 0, checksum (RFC 4443 §2.3)
        '00 00 0000' + // Cur Hop Limit unspecified, no M/O, Router Lifetime 0: not a default router
        '00000000 00000000' + // Reachable Time, Retrans Timer unspecified
        '01 01 020000000001', // Source Link-Layer Address option
    ),
  );
});

test('RA and RS decode back; a bad checksum is an error', () => {
  const pseudo = { source: PEER_LL, destination: 'ff02::1' };
  const ra = { kind: 'routerAdvertisement', curHopLimit: 64, managed: true, other: false, routerLifetime: 1800, reachableTimeMs: 0, retransTimerMs: 0, options: [] } as const;
  assert.deepEqual(decodeRouterDiscovery(encodeRouterDiscovery(ra, pseudo), pseudo), ra);
  const rs = { kind: 'routerSolicitation', options: [{ kind: 'sourceLinkLayerAddress', address: PEER_MAC }] } as const;
  assert.deepEqual(decodeRouterDiscovery(encodeRouterDiscovery(rs, pseudo), pseudo), rs);
  const bad = encodeRouterDiscovery(ra, pseudo);
  bad[7] = 0xff;
  assert.throws(() => decodeRouterDiscovery(bad, pseudo), /checksum/);
});

test('routerDiscoveryOf: only a valid RA from a link-local source with hop limit 255 counts', () => {
  const frame = routerAdvertisementFrame(PEER_MAC, PEER_LL);
  assert.deepEqual(routerDiscoveryOf(frame), { kind: 'routerAdvertisement', source: PEER_LL });
  const lowHop = Buffer.from(frame);
  lowHop[14 + 7] = 64; // RFC 4861 §6.1.2: forwarded, not from the link
  assert.equal(routerDiscoveryOf(lowHop), undefined);
  assert.equal(routerDiscoveryOf(routerAdvertisementFrame(PEER_MAC, '2001:db8::2')), undefined, 'global source');
  assert.equal(routerDiscoveryOf(Buffer.alloc(20)), undefined, 'garbage');
});

interface FakePort extends RaPort {
  readonly sent: Buffer[];
  closed: boolean;
}

function harness() {
  const ports = new Map<string, { port: FakePort; deliver: (f: Buffer) => void }>();
  let changes = 0;
  const peers = new UnnumberedPeers({
    logger: silentLogger(),
    onChange: () => {
      changes++;
    },
    open: (ifname, onFrame) => {
      const port: FakePort = { mac: OUR_MAC, linkLocal: OUR_LL, sent: [], closed: false, send: (f) => port.sent.push(f), close: () => (port.closed = true) };
      ports.set(ifname, { port, deliver: onFrame });
      return Promise.resolve(port);
    },
    intervalMs: 3_600_000,
  });
  return { peers, ports, changes: () => changes };
}

const SPEC: PeerSpec = { name: 'uplink', myAsn: 64513, peerAsn: 64512, peerAddress: '', interface: 'eth1' };
const NUMBERED: PeerSpec = { name: 'rt4', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1' };

test('an interface peer waits for the RA of its neighbour, then runs to fe80::2%eth1; an RS is answered', async () => {
  const h = harness();
  assert.deepEqual(h.peers.resolve([SPEC, NUMBERED]), [NUMBERED], 'no neighbour yet: left out');
  await Promise.resolve();
  const eth1 = h.ports.get('eth1');
  assert.ok(eth1 !== undefined, 'eth1 opened');
  assert.equal(eth1.port.sent.length, 1, 'advertised at once');
  const rs = hex('333300000002 020000000002 86dd 60000000 0008 3a ff fe800000000000000000000000000002 ff020000000000000000000000000002 85 00 0000 00000000');
  const sum = require16(rs);
  rs.writeUInt16BE(sum, 14 + 40 + 2);
  eth1.deliver(rs);
  assert.equal(eth1.port.sent.length, 2, 'RS answered with an RA');
  assert.equal(h.changes(), 0, 'an RS does not make a neighbour');
  eth1.deliver(routerAdvertisementFrame(PEER_MAC, PEER_LL));
  assert.equal(h.changes(), 1);
  eth1.deliver(routerAdvertisementFrame(PEER_MAC, PEER_LL));
  assert.equal(h.changes(), 1, 'the same neighbour again is no change');
  assert.deepEqual(h.peers.resolve([SPEC, NUMBERED]), [{ ...SPEC, peerAddress: 'fe80::2%eth1' }, NUMBERED]);
  assert.deepEqual(h.peers.resolve([NUMBERED]), [NUMBERED]);
  assert.equal(eth1.port.closed, true, 'an interface no longer used stops advertising');
  h.peers.close();
});

test('an interface peer carries both families and offers RFC 8950 <1, 1, 2>', () => {
  assert.deepEqual(peerFamilies(SPEC), ['ipv4', 'ipv6']);
  const caps = localCapabilities(SPEC, { restarting: false });
  assert.deepEqual(
    caps.find((c) => c.kind === 'EXTENDED_NEXT_HOP'),
    { kind: 'EXTENDED_NEXT_HOP', entries: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
  );
  assert.equal(localCapabilities(NUMBERED, { restarting: false }).find((c) => c.kind === 'EXTENDED_NEXT_HOP'), undefined);
});

/** ICMPv6 checksum of the RS in `frame` (pseudo-header from its IPv6 header). */
function require16(frame: Buffer): number {
  const ip = frame.subarray(14);
  const icmp = ip.subarray(40);
  const ph = Buffer.alloc(40);
  ip.copy(ph, 0, 8, 40);
  ph.writeUInt32BE(icmp.length, 32);
  ph[39] = 58;
  let sum = 0;
  for (const b of [ph, icmp]) for (let i = 0; i < b.length; i += 2) sum += b.readUInt16BE(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

test('an interface that cannot be opened (not there yet) is tried again: onChange asks for another resolve', async () => {
  let attempts = 0;
  let changed: () => void = () => undefined;
  const retried = new Promise<void>((resolve) => {
    changed = resolve;
  });
  const peers = new UnnumberedPeers({
    logger: silentLogger(),
    onChange: () => changed(),
    open: () => {
      attempts++;
      return attempts === 1
        ? Promise.reject(new Error('interface eth1 does not exist'))
        : Promise.resolve({ mac: OUR_MAC, linkLocal: OUR_LL, send: () => undefined, close: () => undefined });
    },
    intervalMs: 3_600_000,
    retryMs: 1,
  });
  assert.deepEqual(peers.resolve([SPEC]), []);
  await retried;
  assert.equal(attempts, 1);
  peers.resolve([SPEC]);
  assert.equal(attempts, 2, 'opened again on the next resolve');
  peers.close();
});
