// src/sys per-CPU pieces against the kernel, without traffic (the steering itself is exercised end to
// end in test/integration/l2/per-cpu.test.ts): fanout groups, thread affinity, their errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpus } from 'node:os';
import { closeFd, currentCpu, openFanoutSockets, openPacketSocket, pinCurrentThread, SysError, threadAffinity } from '../../../src/sys/index.ts';

test('openFanoutSockets returns one fd per member; a missing interface is a typed ENODEV error', () => {
  const fds = openFanoutSockets({ ifname: 'lo', etherType: 0x0806, filter: 'arpRequest', members: 3 });
  assert.equal(fds.length, 3);
  assert.equal(new Set(fds).size, 3);
  for (const fd of fds) assert.ok(Number.isInteger(fd) && fd > 2, `fd ${fd}`);
  // An fd can be adopted by a packet socket, which closes it with itself.
  const first = fds.shift();
  assert.ok(first !== undefined);
  const s = openPacketSocket({ ifname: 'lo', etherType: 0x0806, fd: first, keepAlive: false, onFrame: () => undefined });
  s.close();
  for (const fd of fds) closeFd(fd);
  assert.throws(
    () => openFanoutSockets({ ifname: 'nosuch0', etherType: 0x0806, members: 2 }),
    (e: unknown) => e instanceof SysError && e.code === 'ENODEV' && e.message.includes('nosuch0'),
  );
  assert.throws(() => openFanoutSockets({ ifname: 'lo', etherType: 0x0806, members: 0 }), /count must be 1\.\.1024/);
});

test('threadAffinity lists the CPUs this thread may use, the current one among them; a bad CPU is refused', () => {
  const allowed = threadAffinity();
  assert.ok(allowed.length >= 1 && allowed.length <= cpus().length, JSON.stringify(allowed));
  assert.ok(allowed.includes(currentCpu()));
  assert.throws(() => pinCurrentThread(-1), /cpu out of range/);
});
