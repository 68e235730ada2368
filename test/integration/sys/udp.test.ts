// src/sys openUdp (BFD's UDP, RFC 5881 §5): the TTL / hop limit each datagram arrived with is reported,
// for IPv4 and IPv6, and the sending TTL is the one asked for. Inside a lab namespace (prefix bsysu).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { withLab } from '../../../frr-lab/lab.ts';

const PROBE = fileURLToPath(new URL('./udp-probe.ts', import.meta.url));

interface ProbeResult {
  readonly receiverPort: number;
  readonly senderPorts: readonly number[];
  readonly got: readonly { readonly payload: string; readonly address: string; readonly port: number; readonly ttl: number }[];
}

test('openUdp reports the received TTL / hop limit (IP_RECVTTL / IPV6_RECVHOPLIMIT)', { timeout: 120_000 }, async () => {
  await withLab({ prefix: 'bsysu', nodes: 1, router: false }, async (lab) => {
    const node = lab.nodes[0];
    assert.ok(node !== undefined);
    for (const address of [node.ipv4, node.ipv6]) {
      const out = await lab.exec(node, [process.execPath, '--import', 'tsx', PROBE, address, '255', '7', '64'], { timeoutMs: 30_000 });
      const r = JSON.parse(out.stdout) as ProbeResult;
      assert.deepEqual(
        [...r.got].map((d) => [d.payload, d.ttl]).sort(),
        [['ttl 255', 255], ['ttl 64', 64], ['ttl 7', 7]].sort(),
        `${address}: ${out.stdout}`,
      );
      for (const d of r.got) {
        assert.equal(d.address, address);
        assert.ok(r.senderPorts.includes(d.port), 'the source port is the sender socket\'s bound port');
      }
    }
  });
});
