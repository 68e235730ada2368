// The agent with fake engines: desired state handed over whole, interfaces resolved on the node,
// the previous plan kept when a snapshot is unusable, graceful close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { createAgent, type BgpDriver, type L2Driver } from '../../../src/speaker/agent.ts';
import type { NodePlan } from '../../../src/speaker/plan.ts';
import type { InterfaceFacts } from '../../../src/l2/interfaces.ts';
import type { OwnedVip } from '../../../src/l2/engine.ts';
import type { Advertisement, PeerSpec } from '../../../src/bgp/speaker.ts';

interface Calls {
  owned: (readonly OwnedVip[])[];
  peers: (readonly PeerSpec[])[];
  ads: (readonly Advertisement[])[];
  order: string[];
}

function fakes(): { l2: L2Driver; bgp: BgpDriver; calls: Calls } {
  const calls: Calls = { owned: [], peers: [], ads: [], order: [] };
  return {
    calls,
    l2: {
      setOwned: (all) => {
        calls.owned.push(all);
        return [];
      },
      close: () => {
        calls.order.push('l2.close');
      },
    },
    bgp: {
      setPeers: (p) => {
        calls.peers.push(p);
      },
      setAdvertisements: (a) => {
        calls.ads.push(a);
      },
      stop: (communication) => {
        calls.order.push(`bgp.stop:${communication ?? ''}`);
        return Promise.resolve();
      },
    },
  };
}

function memoryLogger(): { logger: pino.Logger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      out.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines: () => out.flatMap((s) => s.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)) };
}

const iface = (name: string, ip: string, extra: Partial<InterfaceFacts> = {}): InterfaceFacts => ({
  name,
  index: 2,
  mac: '02:00:00:00:00:01',
  up: true,
  loopback: false,
  noarp: false,
  addresses: [{ ip, prefixLength: 24 }],
  ...extra,
});
const FACTS: readonly InterfaceFacts[] = [
  { name: 'lo', index: 1, up: true, loopback: true, noarp: true, addresses: [{ ip: '127.0.0.1', prefixLength: 8 }] },
  iface('eth1', '192.0.2.11'),
  iface('eth2', '10.1.0.11'),
  iface('veth0', '10.9.0.1'),
];

function plan(over: Partial<NodePlan> = {}): NodePlan {
  return {
    node: 'node1',
    nodeKnown: true,
    addressing: { internalIPs: ['192.0.2.11'] },
    l2: [],
    peers: [],
    advertisements: [],
    services: [],
    peerNotes: [],
    ...over,
  };
}

test('apply: L2 requests resolve to usable interfaces (all = every usable one; veth and lo never), BGP gets the whole state', async () => {
  const f = fakes();
  const agent = createAgent({ ...f, logger: pino({ level: 'silent' }), interfaces: () => Promise.resolve(FACTS) });
  const peer: PeerSpec = { name: 'r', myAsn: 64513, peerAsn: 64512, peerAddress: '192.0.2.1', routerId: '192.0.2.11' };
  const res = await agent.apply(
    plan({
      l2: [
        { vip: '203.0.113.5', services: ['default/a'], interfaces: [{ kind: 'all' }] },
        { vip: '203.0.113.6', services: ['default/b'], interfaces: [{ kind: 'names', names: ['eth2', 'eth9'] }] },
        { vip: '203.0.113.7', services: ['default/c'], interfaces: [{ kind: 'nodeDefault' }] },
        { vip: '203.0.113.8', services: ['default/d'], interfaces: [{ kind: 'names', names: ['eth9'] }] },
      ],
      peers: [{ spec: peer, source: 'BGPPeer metallb-system/r' }],
      advertisements: [{ prefix: '198.51.100.10/32' }],
    }),
  );
  assert.deepEqual(f.calls.owned, [
    [
      { vip: '203.0.113.5', interfaces: ['eth1', 'eth2'] },
      { vip: '203.0.113.6', interfaces: ['eth2'] },
      { vip: '203.0.113.7', interfaces: ['eth1'] },
    ],
  ]);
  assert.deepEqual(res.unresolved.map((u) => u.vip), ['203.0.113.8']);
  assert.deepEqual(f.calls.peers, [[peer]]);
  assert.deepEqual(f.calls.ads, [[{ prefix: '198.51.100.10/32' }]]);
});

test('apply: can_reach resolves through the injected route lookup; the Porter node annotation wins for Eips', async () => {
  const f = fakes();
  const agent = createAgent({ ...f, logger: pino({ level: 'silent' }), interfaces: () => Promise.resolve(FACTS), routeTo: (ip) => Promise.resolve(ip === '172.16.0.1' ? 'eth2' : undefined) });
  await agent.apply(plan({ l2: [{ vip: '203.0.113.5', services: ['default/a'], interfaces: [{ kind: 'eip', spec: 'can_reach:172.16.0.1' }] }] }));
  await agent.apply(
    plan({
      addressing: { internalIPs: ['192.0.2.11'], annotations: { 'layer2.porter.kubesphere.io/v1alpha1': '10.1.0.11' } },
      l2: [{ vip: '203.0.113.5', services: ['default/a'], interfaces: [{ kind: 'eip', spec: 'eth1' }] }],
    }),
  );
  assert.deepEqual(f.calls.owned, [[{ vip: '203.0.113.5', interfaces: ['eth2'] }], [{ vip: '203.0.113.5', interfaces: ['eth2'] }]]);
});

test('a loser gets an empty desired set: the engine is told to stop answering on the very next apply', async () => {
  const f = fakes();
  const agent = createAgent({ ...f, logger: pino({ level: 'silent' }), interfaces: () => Promise.resolve(FACTS) });
  await agent.apply(plan({ l2: [{ vip: '203.0.113.5', services: ['default/a'], interfaces: [{ kind: 'all' }] }], advertisements: [{ prefix: '198.51.100.10/32' }] }));
  await agent.apply(plan());
  assert.deepEqual(f.calls.owned.at(-1), []);
  assert.deepEqual(f.calls.ads.at(-1), []);
});

test('keep: the engines are untouched and the reason is logged once per distinct reason', async () => {
  const f = fakes();
  const mem = memoryLogger();
  const agent = createAgent({ ...f, logger: mem.logger, interfaces: () => Promise.resolve(FACTS) });
  const p = plan({ advertisements: [{ prefix: '198.51.100.10/32' }] });
  await agent.apply(p);
  agent.keep('cannot parse m.yaml');
  agent.keep('cannot parse m.yaml');
  agent.keep('cannot read /x');
  assert.equal(f.calls.ads.length, 1);
  assert.equal(agent.current, p);
  const kept = mem.lines().filter((l) => l['msg'] === 'snapshot unusable: the previous plan stays in force');
  assert.deepEqual(kept.map((l) => l['reason']), ['cannot parse m.yaml', 'cannot read /x']);
});

test('logs: prefix and VIP changes carry the stable keys', async () => {
  const f = fakes();
  const mem = memoryLogger();
  const agent = createAgent({ ...f, logger: mem.logger, interfaces: () => Promise.resolve(FACTS) });
  await agent.apply(plan({ l2: [{ vip: '203.0.113.5', services: ['default/a'], interfaces: [{ kind: 'all' }] }], advertisements: [{ prefix: '198.51.100.10/32' }] }));
  await agent.apply(plan());
  const msgs = mem.lines().map((l) => [l['msg'], l['vip'], l['node']]);
  assert.deepEqual(
    msgs.filter(([m]) => typeof m === 'string' && /^(L2|BGP): /.test(m)),
    [
      ['L2: answering ARP/NDP for VIP', '203.0.113.5', 'node1'],
      ['BGP: advertising prefix', '198.51.100.10/32', 'node1'],
      ['L2: stopped answering for VIP', '203.0.113.5', 'node1'],
      ['BGP: withdrawing prefix', '198.51.100.10/32', 'node1'],
    ],
  );
});

test('close: BGP Cease first, then L2 stops; apply afterwards is refused', async () => {
  const f = fakes();
  const agent = createAgent({ ...f, logger: pino({ level: 'silent' }), interfaces: () => Promise.resolve(FACTS) });
  await agent.close('bye');
  await agent.close('again');
  assert.deepEqual(f.calls.order, ['bgp.stop:bye', 'l2.close']);
  await assert.rejects(agent.apply(plan()), /closed/);
});
