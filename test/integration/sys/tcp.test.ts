// TCP options through the real kernel: a listener on node2 and connections from node1 (agent.ts in
// each namespace). MD5 (RFC 2385): matching keys connect, a wrong or missing key is dropped by the
// kernel so the connection never completes. TTL / GTSM (RFC 5082) are set, read back and enforced.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab } from '../../../frr-lab/lab.ts';
import { startAgent, type Agent, AgentCallError } from './agent-client.ts';

const PREFIX = 'bsyst';
const NODE1 = { v4: '192.0.2.11', v6: '2001:db8:1::11' };
const NODE2 = { v4: '192.0.2.12', v6: '2001:db8:1::12' };
const FAIL_MS = 1500;

interface Connected {
  readonly hello: string;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly ttl: { ttl: number; minTtl: number };
}

async function withPair(fn: (client: Agent, server: Agent) => Promise<void>): Promise<void> {
  await withLab({ prefix: PREFIX, nodes: 2 }, async (lab) => {
    const [client, server] = await Promise.all([startAgent(lab, 'node1'), startAgent(lab, 'node2')]);
    await fn(client, server);
  });
}

async function refused(p: Promise<unknown>): Promise<AgentCallError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AgentCallError) return err;
    throw err;
  }
  assert.fail('connection succeeded but should not have');
}

test('MD5: matching keys connect (IPv4 and IPv6, dual-stack listener), data flows both ways', async () => {
  await withPair(async (client, server) => {
    await server.call('listen', {
      opts: { host: '::', port: 1790, md5Keys: [{ address: NODE1.v4, key: 'berth-secret' }, { address: NODE1.v6, key: 'berth-secret6' }] },
    });
    const c4 = await client.call<Connected>('connect', { opts: { host: NODE2.v4, port: 1790, md5Key: 'berth-secret', timeoutMs: FAIL_MS } });
    assert.equal(c4.hello, 'hello from server');
    assert.equal(c4.localAddress, NODE1.v4);
    assert.equal(await client.call('echo'), 'echo ping');
    const c6 = await client.call<Connected>('connect', { opts: { host: NODE2.v6, port: 1790, md5Key: 'berth-secret6', timeoutMs: FAIL_MS } });
    assert.equal(c6.hello, 'hello from server');
    assert.equal(c6.remoteAddress, NODE2.v6);
  });
});

test('MD5: a wrong key, a missing key, or a key the listener does not expect never connects', async () => {
  await withPair(async (client, server) => {
    await server.call('listen', { opts: { host: '0.0.0.0', port: 1790, md5Keys: [{ address: NODE1.v4, key: 'right' }] } });
    const wrong = await refused(client.call('connect', { opts: { host: NODE2.v4, port: 1790, md5Key: 'wrong', timeoutMs: FAIL_MS } }));
    assert.equal(wrong.detail.kind, 'timeout');
    const none = await refused(client.call('connect', { opts: { host: NODE2.v4, port: 1790, timeoutMs: FAIL_MS } }));
    assert.equal(none.detail.kind, 'timeout');
    // The control: the right key works on the same listener.
    const ok = await client.call<Connected>('connect', { opts: { host: NODE2.v4, port: 1790, md5Key: 'right', timeoutMs: FAIL_MS } });
    assert.equal(ok.hello, 'hello from server');
  });
});

test('MD5: keys added and removed on a listening socket take effect for new connections', async () => {
  await withPair(async (client, server) => {
    await server.call('listen', { opts: { host: '0.0.0.0', port: 1790 } });
    const opts = { host: NODE2.v4, port: 1790, md5Key: 'later', timeoutMs: FAIL_MS };
    // Signed SYN, no key on the listener: RFC 2385 §3 -> dropped.
    assert.equal((await refused(client.call('connect', { opts }))).detail.kind, 'timeout');
    await server.call('setKey', { address: NODE1.v4, key: 'later' });
    assert.equal((await client.call<Connected>('connect', { opts })).hello, 'hello from server');
    await server.call('delKey', { address: NODE1.v4 });
    assert.equal((await refused(client.call('connect', { opts }))).detail.kind, 'timeout');
    // Deleting a key that is not there is fine (desired state).
    await server.call('delKey', { address: NODE1.v4 });
  });
});

test('TTL and GTSM minimum TTL are set, read back, inherited by accepted sockets, and enforced', async () => {
  await withPair(async (client, server) => {
    const l = await server.call<{ port: number; options: { ttl: number; minTtl: number } }>('listen', {
      opts: { host: '0.0.0.0', port: 1790, ttl: 255, minTtl: 254 },
    });
    assert.deepEqual(l.options, { ttl: 255, minTtl: 254 });
    const c = await client.call<Connected>('connect', { opts: { host: NODE2.v4, port: 1790, ttl: 255, minTtl: 254, timeoutMs: FAIL_MS } });
    assert.deepEqual(c.ttl, { ttl: 255, minTtl: 254 });
    const accepted = await server.waitEvent((e) => e.ev === 'accepted');
    assert.deepEqual(accepted['ttl'], { ttl: 255, minTtl: 254 });
    // On a connected socket.
    assert.deepEqual(await client.call('setTtl', { opts: { ttl: 9 } }), { ttl: 9, minTtl: 254 });
    // GTSM enforced: the listener wants TTL >= 254, a client sending TTL 64 is dropped.
    assert.equal((await refused(client.call('connect', { opts: { host: NODE2.v4, port: 1790, ttl: 64, timeoutMs: FAIL_MS } }))).detail.kind, 'timeout');
  });
});

test('GTSM on the connecting side: a server answering with TTL 64 is dropped when minTtl is 255', async () => {
  await withPair(async (client, server) => {
    await server.call('listen', { opts: { host: '::', port: 1790 } });
    const v6 = await refused(client.call('connect', { opts: { host: NODE2.v6, port: 1790, minTtl: 255, timeoutMs: FAIL_MS } }));
    assert.equal(v6.detail.kind, 'timeout');
    const ok = await client.call<Connected>('connect', { opts: { host: NODE2.v6, port: 1790, minTtl: 64, timeoutMs: FAIL_MS } });
    assert.equal(ok.ttl.minTtl, 64);
  });
});

test('source address/port and SO_BINDTODEVICE', async () => {
  await withPair(async (client, server) => {
    await server.call('listen', { opts: { host: '0.0.0.0', port: 1790 } });
    await client.call('connect', { opts: { host: NODE2.v4, port: 1790, localAddress: NODE1.v4, localPort: 41790, device: 'eth1' } });
    const accepted = await server.waitEvent((e) => e.ev === 'accepted');
    assert.equal(accepted['remotePort'], 41790);
    assert.equal(accepted['remoteAddress'], NODE1.v4);
    // Bound to lo, the LAN is unreachable.
    const lo = await refused(client.call('connect', { opts: { host: NODE2.v4, port: 1790, device: 'lo', timeoutMs: FAIL_MS } }));
    assert.ok(lo.detail.kind === 'syscall' || lo.detail.kind === 'timeout', JSON.stringify(lo.detail));
    // Nothing listens on 1791: refused, with the errno name.
    const rst = await refused(client.call('connect', { opts: { host: NODE2.v4, port: 1791, timeoutMs: FAIL_MS } }));
    assert.equal(rst.detail.code, 'ECONNREFUSED');
  });
});
