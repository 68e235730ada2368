// src/sys openUdp with `device` (SO_BINDTODEVICE) and `reuseAddress` (SO_REUSEADDR): what BFD in a VRF
// relies on (src/bgp/bfd/transport.ts). In a namespace of its own (bvr-udpdev), loopback only: a socket
// bound to `lo` and an unbound one share port 3784; a datagram to 127.0.0.1 (delivered over lo) reaches
// the bound one only; without SO_REUSEADDR the second bind fails with EADDRINUSE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PROBE = fileURLToPath(new URL('./udp-device-probe.ts', import.meta.url));
const NS = 'bvr-udpdev';

test('openUdp device + reuseAddress: the device-bound socket gets the datagrams that arrive over its device', { timeout: 60_000 }, async () => {
  await run('ip', ['netns', 'add', NS]);
  try {
    await run('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    const { stdout } = await run('ip', ['netns', 'exec', NS, process.execPath, '--import', 'tsx', PROBE, '127.0.0.1', 'lo'], { timeout: 30_000 });
    const r = JSON.parse(stdout) as { got: string[]; withoutReuse: string };
    assert.deepEqual(r.got, ['bound:hello'], 'only the socket bound to lo received it');
    assert.equal(r.withoutReuse, 'EADDRINUSE', 'without SO_REUSEADDR the two cannot share the port');
  } finally {
    await run('ip', ['netns', 'del', NS]).catch(() => undefined);
  }
});
