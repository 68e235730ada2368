// Constants match the kernel's, errors from the addon become typed SysErrors, and TCP arguments are
// refused before any socket exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EtherType, PacketType, SysError, SysErrorKind, connectTcp, listenTcp } from '../../../src/sys/index.ts';
import { toSysError } from '../../../src/sys/errors.ts';

test('PacketType values are linux/if_packet.h sll_pkttype, EtherTypes are IANA', () => {
  assert.deepEqual(PacketType, { host: 0, broadcast: 1, multicast: 2, otherHost: 3, outgoing: 4 });
  assert.deepEqual(EtherType, { IPv4: 0x0800, ARP: 0x0806, IPv6: 0x86dd });
});

test('toSysError: errno-shaped errors keep code and syscall; others become invalid; SysErrors pass through', () => {
  const sys = Object.assign(new Error('bind: Address already in use'), { code: 'EADDRINUSE', syscall: 'bind' });
  const e = toSysError(sys, 'listen on [::]:179');
  assert.equal(e.kind, SysErrorKind.syscall);
  assert.equal(e.code, 'EADDRINUSE');
  assert.equal(e.syscall, 'bind');
  assert.equal(e.message, 'listen on [::]:179: bind: Address already in use');
  assert.equal(e.cause, sys);
  const t = toSysError(new TypeError('fd must be a number'), 'x');
  assert.equal(t.kind, SysErrorKind.invalid);
  assert.equal(t.code, 'INVALID');
  const same = new SysError(SysErrorKind.timeout, 'slow');
  assert.equal(toSysError(same, 'y'), same);
  assert.equal(toSysError('odd', 'z').kind, SysErrorKind.invalid);
});

const invalid = (e: unknown): boolean => e instanceof SysError && e.kind === SysErrorKind.invalid;

test('connectTcp refuses bad arguments with SysError invalid (no socket is made)', async () => {
  const cases: Parameters<typeof connectTcp>[0][] = [
    { host: 'peer.example', port: 179 },
    { host: '192.0.2.1', port: 70000 },
    { host: '192.0.2.1', port: 179, ttl: 256 },
    { host: '192.0.2.1', port: 179, minTtl: -1 },
    { host: '192.0.2.1', port: 179, md5Key: '' },
    { host: '192.0.2.1', port: 179, md5Key: 'k'.repeat(81) },
    { host: '192.0.2.1', port: 179, localAddress: '2001:db8::1' },
    { host: '2001:db8::1', port: 179, localPort: -5 },
  ];
  for (const c of cases) await assert.rejects(connectTcp(c), invalid, JSON.stringify(c));
});

test('listenTcp refuses bad arguments, including an IPv6 MD5 peer on an IPv4 listener', async () => {
  await assert.rejects(listenTcp({ host: 'any', port: 179 }), invalid);
  await assert.rejects(listenTcp({ host: '0.0.0.0', port: 179, md5Keys: [{ address: '2001:db8::1', key: 'k' }] }), invalid);
  await assert.rejects(listenTcp({ host: '0.0.0.0', port: 179, md5Keys: [{ address: '192.0.2.1', key: Buffer.alloc(81) }] }), invalid);
  await assert.rejects(listenTcp({ host: '::', port: 179, ttl: 300 }), invalid);
});
