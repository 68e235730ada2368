// The responders' byte-level paths (respondArp / respondNdp) against the codec-based references
// (respondArpDecoded / respondNdpDecoded): the same verdict, reply bytes and drop detail included, on
// generated frames that reach every rule (tags, DAD, options, checksums, truncation, mutation), and
// with a reused reply buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { respondArp, respondArpDecoded } from '../../../src/l2/arp-responder.ts';
import { respondNdp, respondNdpDecoded } from '../../../src/l2/ndp-responder.ts';
import { createReplyScratch, icmpv6ChecksumAt } from '../../../src/l2/frame-bytes.ts';
import { ipv6ToBytes, macToBytes, solicitedNodeMulticast, ipv6MulticastMac } from '../../../src/l2/addresses.ts';
import { KERNEL_ARP_REQUEST, KERNEL_NA, KERNEL_NS, MAC_A, MAC_B } from './vectors.ts';

const OWNED = new Set(['192.0.2.11', '2001:db8::b', '2001:db8::1:b']);
const ctx = { mac: MAC_B, owns: (ip: string) => OWNED.has(ip) };
const hex = (s: string): Buffer => Buffer.from(s.replaceAll(' ', ''), 'hex');
const mac = (m: string): Buffer => macToBytes(m);
const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number));

/** Mostly the first value (the one that lets a frame go further), sometimes one of the others. */
function mostly<T>(good: T, ...others: T[]): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: fc.constant(good), weight: 3 * Math.max(1, others.length) }, ...others.map((o) => ({ arbitrary: fc.constant(o), weight: 1 })));
}
const rarely = <T,>(a: fc.Arbitrary<T>): fc.Arbitrary<T | null> => fc.oneof({ arbitrary: fc.constant(null), weight: 8 }, { arbitrary: a, weight: 1 });

const ethernet = (dst: Buffer, src: Buffer, tag: boolean, type: number): Buffer =>
  Buffer.concat([dst, src, tag ? hex('8100 a007') : Buffer.alloc(0), Buffer.from([type >> 8, type & 0xff])]);

const arpFrame = fc
  .record({
    tag: fc.boolean(),
    dst: mostly('ff:ff:ff:ff:ff:ff', MAC_B, '02:00:00:00:00:0c'),
    src: mostly(MAC_A, MAC_B),
    type: mostly(0x0806, 0x0800),
    hrd: mostly(1, 6, 0x101),
    pro: mostly(0x0800, 0x86dd),
    hln: mostly(6, 5),
    pln: mostly(4, 16),
    op: mostly(1, 2, 3, 0x101),
    spa: mostly('192.0.2.10', '0.0.0.0', '192.0.2.11'),
    tpa: mostly('192.0.2.11', '192.0.2.12'),
    pad: fc.nat(20),
    cut: rarely(fc.nat(70)),
  })
  .map((r) => {
    const arp = Buffer.concat([
      Buffer.from([r.hrd >> 8, r.hrd & 0xff, r.pro >> 8, r.pro & 0xff, r.hln, r.pln, r.op >> 8, r.op & 0xff]),
      mac(MAC_A),
      ip4(r.spa),
      Buffer.alloc(6),
      ip4(r.tpa),
      Buffer.alloc(r.pad),
    ]);
    const f = Buffer.concat([ethernet(mac(r.dst), mac(r.src), r.tag, r.type), arp]);
    return r.cut === null ? f : f.subarray(0, r.cut);
  });

const option = fc.record({ type: mostly(1, 2, 14, 99), units: mostly(1, 0, 2), fill: fc.integer({ min: 0, max: 255 }) });
const nsFrame = fc
  .record({
    tag: fc.boolean(),
    dstMac: mostly('33:33:ff:00:00:0b', MAC_B, '02:00:00:00:00:0c', '33:33:00:00:00:01'),
    srcMac: mostly(MAC_A, MAC_B),
    hop: mostly(255, 64),
    source: mostly('fe80::ff:fe00:a', '::', '2001:db8::a'),
    target: mostly('2001:db8::b', '2001:db8::1:b', '2001:db8::c', 'ff02::1'),
    dst: mostly('solicited', 'target', 'ff02::1', '2001:db8::d'),
    type: mostly(135, 136, 128),
    code: mostly(0, 1),
    nh: mostly(58, 17, 0),
    version: mostly(6, 4),
    options: fc.oneof({ arbitrary: fc.constant<{ type: number; units: number; fill: number }[]>([]), weight: 1 }, { arbitrary: fc.array(option, { maxLength: 3 }), weight: 1 }),
    checksumOk: mostly(true, false),
    extraPlen: mostly(0, 8, -4),
    pad: mostly(0, 6),
    cut: rarely(fc.nat(120)),
    mutate: rarely(fc.tuple(fc.nat(120), fc.integer({ min: 0, max: 255 }))),
  })
  .map((r) => {
    const dst = r.dst === 'solicited' ? solicitedNodeMulticast(r.target) : r.dst === 'target' ? r.target : r.dst;
    const opts = Buffer.concat(
      r.options.map((o) => {
        const b = Buffer.alloc(Math.max(2, o.units * 8), o.fill);
        b[0] = o.type;
        b[1] = o.units;
        return b;
      }),
    );
    const icmp = Buffer.concat([Buffer.from([r.type, r.code, 0, 0, 0, 0, 0, 0]), ipv6ToBytes(r.target), opts]);
    const plen = Math.max(0, icmp.length + r.extraPlen);
    const ip = Buffer.concat([
      Buffer.from([r.version << 4, 0, 0, 0, plen >> 8, plen & 0xff, r.nh, r.hop]),
      ipv6ToBytes(r.source),
      ipv6ToBytes(dst),
    ]);
    const head = ethernet(mac(r.dstMac), mac(r.srcMac), r.tag, 0x86dd);
    const f = Buffer.concat([head, ip, icmp, Buffer.alloc(r.pad)]);
    const at = head.length;
    const sum = icmpv6ChecksumAt(f, at + 8, at + 24, at + 40, Math.min(plen, icmp.length));
    f.writeUInt16BE(r.checksumOk ? sum : sum ^ 0x0101, at + 42);
    if (r.mutate !== null) f[r.mutate[0] % f.length] = r.mutate[1];
    return r.cut === null ? f : f.subarray(0, r.cut);
  });

test('ARP: the byte path and the decoding path give the same verdict on any generated frame', () => {
  const scratch = createReplyScratch();
  let replies = 0;
  fc.assert(
    fc.property(arpFrame, (f) => {
      const fast = respondArp(f, ctx, scratch);
      assert.deepEqual(fast, respondArpDecoded(f, ctx));
      assert.deepEqual(respondArp(f, ctx), fast, 'with and without a scratch buffer');
      if (fast.kind === 'reply') replies++;
    }),
    { numRuns: 5000 },
  );
  assert.ok(replies > 50, `only ${replies} replies generated`);
});

test('NDP: the byte path and the decoding path give the same verdict on any generated frame', () => {
  const scratch = createReplyScratch();
  const seen = new Set<string>();
  fc.assert(
    fc.property(nsFrame, (f) => {
      const fast = respondNdp(f, ctx, scratch);
      assert.deepEqual(fast, respondNdpDecoded(f, ctx));
      assert.deepEqual(respondNdp(f, ctx), fast, 'with and without a scratch buffer');
      seen.add(fast.kind === 'reply' ? (fast.to === 'ff02::1' ? 'reply-dad' : 'reply') : fast.reason);
    }),
    { numRuns: 8000 },
  );
  // The generator reaches every rule.
  for (const r of ['reply', 'reply-dad', 'notIpv6', 'ownFrame', 'notForUs', 'malformedIpv6', 'notIcmpv6', 'badHopLimit', 'badChecksum', 'malformedIcmpv6', 'notSolicitation', 'badCode', 'multicastTarget', 'dadNotSolicitedNode', 'dadWithSourceLinkLayer', 'wrongDestination', 'notOwned']) {
    assert.ok(seen.has(r), `no frame reached ${r}`);
  }
});

test('the kernel-captured vectors through the byte path: replies identical to the kernel, into a reused buffer', () => {
  const scratch = createReplyScratch();
  const a = respondArp(KERNEL_ARP_REQUEST, ctx, scratch);
  assert.equal(a.kind, 'reply');
  const n = respondNdp(KERNEL_NS, ctx, scratch);
  assert.equal(n.kind, 'reply');
  if (n.kind === 'reply') assert.deepEqual(n.frame, KERNEL_NA);
  // The same scratch, the same lengths: the very same Buffer objects come back (no allocation).
  const a2 = respondArp(KERNEL_ARP_REQUEST, ctx, scratch);
  const n2 = respondNdp(KERNEL_NS, ctx, scratch);
  assert.ok(a.kind === 'reply' && a2.kind === 'reply' && a.frame === a2.frame);
  assert.ok(n.kind === 'reply' && n2.kind === 'reply' && n.frame === n2.frame);
  assert.equal(ipv6MulticastMac('ff02::1'), '33:33:00:00:00:01');
});

