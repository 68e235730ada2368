// The classic BPF socket filters, run here by a small interpreter of the four opcodes they use (with
// the kernel's rule that a load past the end of the frame ends the program with 0, i.e. drop). The
// real kernel runs them in test/integration/sys/filter.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { PacketFilter, encodeProgram, filterProgram, type BpfInstruction } from '../../../src/sys/index.ts';
import { KERNEL_ARP_REPLY, KERNEL_ARP_REQUEST, KERNEL_NA, KERNEL_NS } from '../l2/vectors.ts';

function run(program: readonly BpfInstruction[], frame: Buffer): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const ins = program[pc];
    assert.ok(ins !== undefined, `pc ${pc} out of the program`);
    switch (ins.code) {
      case 0x28:
        if (ins.k + 2 > frame.length) return 0;
        a = frame.readUInt16BE(ins.k);
        break;
      case 0x30:
        if (ins.k + 1 > frame.length) return 0;
        a = frame.readUInt8(ins.k);
        break;
      case 0x15:
        pc += a === ins.k ? ins.jt : ins.jf;
        break;
      case 0x06:
        return ins.k;
      default:
        assert.fail(`unexpected opcode 0x${ins.code.toString(16)}`);
    }
  }
  assert.fail('program ran off its end');
}

/** The same frame with an 802.1Q tag (VLAN 7) inserted after the MAC addresses. */
const tagged = (f: Buffer): Buffer => Buffer.concat([f.subarray(0, 12), Buffer.from('81000007', 'hex'), f.subarray(12)]);
const withByte = (f: Buffer, offset: number, value: number): Buffer => {
  const c = Buffer.from(f);
  c[offset] = value;
  return c;
};

const arp = filterProgram(PacketFilter.arpRequest);
const ns = filterProgram(PacketFilter.neighborSolicitation);
const na = filterProgram(PacketFilter.neighborAdvertisement);
const rs = filterProgram(PacketFilter.routerSolicitation);
const ra = filterProgram(PacketFilter.routerAdvertisement);
const passes = (p: readonly BpfInstruction[], f: Buffer): boolean => run(p, f) > 0;

test('the kernel loader would take every program: jumps stay forward and inside, the last instruction returns', () => {
  for (const p of [arp, ns, na]) {
    assert.ok(p.length <= 4096);
    p.forEach((ins, i) => {
      if (ins.code === 0x15) {
        assert.ok(i + 1 + ins.jt < p.length && i + 1 + ins.jf < p.length, `jump at ${i} leaves the program`);
      }
    });
    assert.equal(p.at(-1)?.code, 0x06);
    assert.equal(p.at(-1)?.k, 0, 'the last instruction drops');
    assert.ok(run(p, Buffer.alloc(0)) === 0);
  }
});

test('arpRequest: passes ARP requests (untagged and 802.1Q-tagged), drops replies and other frames', () => {
  assert.ok(passes(arp, KERNEL_ARP_REQUEST));
  assert.ok(passes(arp, tagged(KERNEL_ARP_REQUEST)));
  assert.ok(!passes(arp, KERNEL_ARP_REPLY));
  assert.ok(!passes(arp, tagged(KERNEL_ARP_REPLY)));
  assert.ok(!passes(arp, KERNEL_NS));
  assert.ok(!passes(arp, KERNEL_ARP_REQUEST.subarray(0, 20)), 'truncated before the operation');
  // Operation 0x0101 is not a request: both octets are compared.
  assert.ok(!passes(arp, withByte(KERNEL_ARP_REQUEST, 20, 1)));
});

test('neighborSolicitation: passes NS only; NA, other ICMPv6, other next headers, extension headers are dropped', () => {
  assert.ok(passes(ns, KERNEL_NS));
  assert.ok(passes(ns, tagged(KERNEL_NS)));
  assert.ok(!passes(ns, KERNEL_NA));
  assert.ok(!passes(ns, tagged(KERNEL_NA)));
  assert.ok(!passes(ns, withByte(KERNEL_NS, 54, 128)), 'echo request');
  assert.ok(!passes(ns, withByte(KERNEL_NS, 54, 133)), 'router solicitation');
  assert.ok(!passes(ns, withByte(KERNEL_NS, 20, 17)), 'UDP');
  assert.ok(!passes(ns, withByte(KERNEL_NS, 20, 0)), 'hop-by-hop header first');
  assert.ok(!passes(ns, KERNEL_ARP_REQUEST));
  assert.ok(!passes(ns, KERNEL_NS.subarray(0, 54)), 'truncated before the ICMPv6 type');
});

test('neighborAdvertisement: passes NA only (untagged and tagged); NS and everything else are dropped', () => {
  assert.ok(passes(na, KERNEL_NA));
  assert.ok(passes(na, tagged(KERNEL_NA)));
  assert.ok(!passes(na, KERNEL_NS));
  assert.ok(!passes(na, tagged(KERNEL_NS)));
  assert.ok(!passes(na, withByte(KERNEL_NA, 20, 17)), 'UDP');
  assert.ok(!passes(na, KERNEL_ARP_REPLY));
  assert.ok(!passes(na, KERNEL_NA.subarray(0, 54)), 'truncated before the ICMPv6 type');
});

test('routerAdvertisement / routerSolicitation: pass only their ICMPv6 type (unnumbered BGP)', () => {
  const asType = (f: Buffer, type: number): Buffer => withByte(f, 54, type);
  assert.ok(passes(ra, asType(KERNEL_NA, 134)));
  assert.ok(passes(ra, tagged(asType(KERNEL_NA, 134))));
  assert.ok(!passes(ra, asType(KERNEL_NA, 133)));
  assert.ok(!passes(ra, KERNEL_NA) && !passes(ra, KERNEL_NS));
  assert.ok(passes(rs, asType(KERNEL_NS, 133)));
  assert.ok(!passes(rs, asType(KERNEL_NS, 134)));
  assert.ok(!passes(rs, withByte(asType(KERNEL_NS, 133), 20, 17)), 'UDP');
});

test('on any frame each filter agrees with the plain predicate', () => {
  const u16 = (f: Buffer, o: number): number | undefined => (o + 2 <= f.length ? f.readUInt16BE(o) : undefined);
  const arpWanted = (f: Buffer, t: number): boolean => u16(f, 12 + t) === 0x0806 && u16(f, 20 + t) === 1;
  const nsWanted = (f: Buffer, t: number): boolean => u16(f, 12 + t) === 0x86dd && f[20 + t] === 58 && f[54 + t] === 135;
  const naWanted = (f: Buffer, t: number): boolean => u16(f, 12 + t) === 0x86dd && f[20 + t] === 58 && f[54 + t] === 136;
  const rsWanted = (f: Buffer, t: number): boolean => u16(f, 12 + t) === 0x86dd && f[20 + t] === 58 && f[54 + t] === 133;
  const raWanted = (f: Buffer, t: number): boolean => u16(f, 12 + t) === 0x86dd && f[20 + t] === 58 && f[54 + t] === 134;
  const either = (w: (f: Buffer, t: number) => boolean) => (f: Buffer) => w(f, 0) || (u16(f, 12) === 0x8100 && w(f, 4));
  const base = fc.constantFrom(KERNEL_ARP_REQUEST, KERNEL_ARP_REPLY, KERNEL_NS, KERNEL_NA, tagged(KERNEL_NS), tagged(KERNEL_NA), tagged(KERNEL_ARP_REQUEST));
  const frame = fc.oneof(
    fc.uint8Array({ maxLength: 100 }).map((a) => Buffer.from(a)),
    fc.tuple(base, fc.nat(99), fc.integer({ min: 0, max: 255 }), fc.nat(100)).map(([b, o, v, cut]) => withByte(b, o % b.length, v).subarray(0, cut)),
  );
  fc.assert(
    fc.property(frame, (f) => {
      assert.equal(passes(arp, f), either(arpWanted)(f));
      assert.equal(passes(ns, f), either(nsWanted)(f));
      assert.equal(passes(na, f), either(naWanted)(f));
      assert.equal(passes(rs, f), either(rsWanted)(f));
      assert.equal(passes(ra, f), either(raWanted)(f));
    }),
    { numRuns: 2000 },
  );
});

test('encodeProgram: struct sock_filter, 8 bytes each, host (little-endian) order', () => {
  assert.equal(encodeProgram([{ code: 0x28, jt: 0, jf: 0, k: 12 }, { code: 0x15, jt: 1, jf: 2, k: 0x86dd }, { code: 0x06, jt: 0, jf: 0, k: 0x40000 }]).toString('hex'), ['280000000c000000', '15000102dd860000', '0600000000000400'].join(''));
});
