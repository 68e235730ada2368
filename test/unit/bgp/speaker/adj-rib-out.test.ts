// Adj-RIB-Out: desired table per peer (filter, dedup, merge) and the diff against what was sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileAdvertisements,
  describeTable,
  desiredRoutes as desiredTable,
  diffRoutes,
  groupRoutes,
  type Advertisement,
  type RouteTable,
} from '../../../../src/bgp/adj-rib-out.ts';
import { communityValue } from '../../../../src/config/community.ts';
import { keyText, parsePrefixKey, prefixOfKey } from '../../../../src/bgp/nlri.ts';
import { pathAttributes } from '../../../../src/bgp/speaker.ts';

const NO_ADVERTISE = communityValue('65535:65282');
/** The table as CIDR text -> attributes. */
const desiredRoutes = (peer: string, ads: readonly Advertisement[]) => describeTable(desiredTable(peer, ads));

describe('desiredRoutes', () => {
  it('keeps the advertisements whose peer filter selects the peer', () => {
    const ads: Advertisement[] = [
      { prefix: '198.51.100.1/32' },
      { prefix: '198.51.100.2/32', peers: ['r1'] },
      { prefix: '198.51.100.3/32', peers: ['r2'] },
    ];
    assert.deepEqual([...desiredRoutes('r1', ads).keys()], ['198.51.100.1/32', '198.51.100.2/32']);
    assert.deepEqual([...desiredRoutes('r2', ads).keys()], ['198.51.100.1/32', '198.51.100.3/32']);
  });

  it('deduplicates an aggregate: communities unioned and sorted, the largest LOCAL_PREF wins whatever the order (MetalLB BGPAdvertisement aggregationLength)', () => {
    const ads: Advertisement[] = [
      { prefix: '198.51.100.10/24', localPref: 50, communities: [communityValue('64512:2')] },
      { prefix: '198.51.100.77/24', localPref: 200, communities: [communityValue('64512:1'), communityValue('64512:2')] },
      { prefix: '198.51.100.0/24', largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 1 }] },
    ];
    const t = desiredRoutes('r', ads);
    assert.equal(t.size, 1);
    const r = t.get('198.51.100.0/24');
    assert.ok(r !== undefined);
    assert.deepEqual(r, {
      localPref: 200,
      communities: [communityValue('64512:1'), communityValue('64512:2')],
      largeCommunities: [{ globalAdmin: 64512, localData1: 1, localData2: 1 }],
    });
  });

  it('canonicalises IPv6 prefixes', () => {
    const t = desiredRoutes('r', [{ prefix: '2001:DB8:0:0::10/128' }, { prefix: '2001:db8::10/128' }]);
    assert.deepEqual([...t.keys()], ['2001:db8::10/128']);
  });
});

describe('compileAdvertisements', () => {
  it('parses once, reports bad prefixes, splits by family and shares identical attribute sets', () => {
    const c = compileAdvertisements([
      { prefix: '198.51.100.1/32', communities: [1] },
      { prefix: '198.51.100.2/32', communities: [1] },
      { prefix: 'nonsense' },
      { prefix: '2001:db8::1/128' },
    ]);
    assert.deepEqual(c.rejected.map((r) => r.prefix), ['nonsense']);
    const t = c.forPeer('any');
    assert.deepEqual([...t.ipv4.keys()].map((k) => keyText('ipv4', k)), ['198.51.100.1/32', '198.51.100.2/32']);
    assert.deepEqual([...t.ipv6.keys()].map((k) => keyText('ipv6', k)), ['2001:db8::1/128']);
    const k1 = parsePrefixKey('198.51.100.1/32').key;
    assert.equal(k1, '\x20\xc6\x33\x64\x01', 'the key is the NLRI encoding: length octet then the address octets');
    assert.equal(t.ipv4.get(k1), t.ipv4.get(parsePrefixKey('198.51.100.2/32').key), 'equal attribute sets are one object');
    assert.equal(c.forPeer('other'), t, 'without peer filters every peer shares one table');
  });
});

describe('diffRoutes', () => {
  const before: RouteTable = desiredTable('r', [
    { prefix: '198.51.100.1/32' },
    { prefix: '198.51.100.2/32' },
    { prefix: '198.51.100.3/32', communities: [1] },
    { prefix: '2001:db8::1/128' },
  ]);
  const after: RouteTable = desiredTable('r', [
    { prefix: '198.51.100.1/32' }, // unchanged
    { prefix: '198.51.100.3/32', communities: [2] }, // changed attributes
    { prefix: '198.51.100.4/32' }, // new
    { prefix: '198.51.100.5/32' }, // new
  ]);

  it('announces only new and changed routes, grouped by attributes', () => {
    const d = diffRoutes(before, after);
    assert.deepEqual(
      d.announce.map((g) => ({ fam: g.family, c: g.attributes.communities, p: g.keys.map((k) => prefixOfKey(g.family, k).address) })),
      [
        { fam: 'ipv4', c: [2], p: ['198.51.100.3'] },
        { fam: 'ipv4', c: [], p: ['198.51.100.4', '198.51.100.5'] },
      ],
    );
  });

  it('withdraws vanished prefixes in one batch per family', () => {
    const d = diffRoutes(before, after);
    assert.deepEqual(
      d.withdraw.map((w) => ({ fam: w.family, p: w.keys.map((k) => keyText(w.family, k)) })),
      [
        { fam: 'ipv4', p: ['198.51.100.2/32'] },
        { fam: 'ipv6', p: ['2001:db8::1/128'] },
      ],
    );
  });

  it('is empty between equal tables', () => {
    assert.deepEqual(diffRoutes(after, { ipv4: new Map(after.ipv4), ipv6: new Map(after.ipv6) }), { announce: [], withdraw: [] });
    // Built apart (no shared objects), equal attributes still compare equal.
    assert.deepEqual(diffRoutes(after, desiredTable('r', [
      { prefix: '198.51.100.1/32' },
      { prefix: '198.51.100.3/32', communities: [2] },
      { prefix: '198.51.100.4/32' },
      { prefix: '198.51.100.5/32' },
    ])), { announce: [], withdraw: [] });
  });

  it('groups a full table by family and attributes', () => {
    assert.equal(groupRoutes(before).length, 3);
  });
});

describe('pathAttributes (RFC 4271 §5.1)', () => {
  const attrs = { communities: [NO_ADVERTISE], largeCommunities: [] };
  it('internal: empty AS_PATH, LOCAL_PREF 100 by default', () => {
    assert.deepEqual(pathAttributes(64512, true, attrs), [
      { kind: 'ORIGIN', origin: 0 },
      { kind: 'AS_PATH', segments: [] },
      { kind: 'LOCAL_PREF', localPref: 100 },
      { kind: 'COMMUNITIES', communities: [0xffffff02] },
    ]);
  });
  it('external: AS_PATH [myASN], never LOCAL_PREF', () => {
    const a = pathAttributes(64512, false, { ...attrs, localPref: 300 });
    assert.deepEqual(a.slice(0, 2), [
      { kind: 'ORIGIN', origin: 0 },
      { kind: 'AS_PATH', segments: [{ type: 2, asns: [64512] }] },
    ]);
    assert.ok(!a.some((x) => x.kind === 'LOCAL_PREF'));
  });
});
