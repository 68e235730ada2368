// Property tests: every decoder returns a value or throws an L2CodecError, never anything else; and
// values built by the constructors survive encode -> decode unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { L2CodecError } from '../../../src/l2/errors.ts';
import { decodeEthernet, encodeEthernet } from '../../../src/l2/ethernet.ts';
import { decodeArp, encodeArp } from '../../../src/l2/arp.ts';
import { decodeIpv6 } from '../../../src/l2/ipv6.ts';
import { decodeNdp, encodeNdp, type NdpMessage } from '../../../src/l2/icmpv6.ts';
import { decodeNdpOptions } from '../../../src/l2/ndp-options.ts';
import { respondArp } from '../../../src/l2/arp-responder.ts';
import { respondNdp } from '../../../src/l2/ndp-responder.ts';
import { macFromBytes, ipv4FromBytes, ipv6FromBytes } from '../../../src/l2/addresses.ts';
import { ArpOperation } from '../../../src/l2/constants.ts';
import { KERNEL_NS } from './vectors.ts';

function valueOrTyped(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (e) {
    if (e instanceof L2CodecError) return true;
    throw e;
  }
}

const bytes = (max: number) => fc.uint8Array({ maxLength: max }).map((a) => Buffer.from(a));
const PSEUDO = { source: 'fe80::ff:fe00:a', destination: 'ff02::1:ff00:b' };

test('decoders return a value or an L2CodecError on arbitrary bytes', () => {
  fc.assert(
    fc.property(bytes(120), (b) => {
      assert.ok(valueOrTyped(() => decodeEthernet(b)));
      assert.ok(valueOrTyped(() => decodeArp(b)));
      assert.ok(valueOrTyped(() => decodeIpv6(b)));
      assert.ok(valueOrTyped(() => decodeNdpOptions(b)));
      assert.ok(valueOrTyped(() => decodeNdp(b, PSEUDO)));
    }),
    { numRuns: 3000 },
  );
});

test('decodeNdp on mutated valid messages: value or typed error', () => {
  const valid = KERNEL_NS.subarray(54);
  fc.assert(
    fc.property(fc.nat(valid.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(valid.length), (i, v, cut) => {
      const m = Buffer.from(valid);
      m[i] = v;
      assert.ok(valueOrTyped(() => decodeNdp(m.subarray(0, cut), PSEUDO)));
    }),
    { numRuns: 2000 },
  );
});

test('responders never throw: any frame gives a reply or a drop reason', () => {
  const ctx = { mac: '02:00:00:00:00:0b', owns: () => true };
  fc.assert(
    fc.property(bytes(120), (b) => {
      assert.ok(['reply', 'drop'].includes(respondArp(b, ctx).kind));
      assert.ok(['reply', 'drop'].includes(respondNdp(b, ctx).kind));
    }),
    { numRuns: 3000 },
  );
});

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((a) => macFromBytes(Buffer.from(a)));
const v4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((a) => ipv4FromBytes(Buffer.from(a)));
const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((a) => ipv6FromBytes(Buffer.from(a)));

test('ARP and Ethernet round-trip for any valid value', () => {
  fc.assert(
    fc.property(fc.constantFrom(ArpOperation.request, ArpOperation.reply), mac, v4, mac, v4, (operation, sha, spa, tha, tpa) => {
      const p = { operation, senderHardware: sha, senderProtocol: spa, targetHardware: tha, targetProtocol: tpa };
      const frame = encodeEthernet({ destination: tha, source: sha, etherType: 0x0806, payload: encodeArp(p) });
      assert.deepEqual(decodeArp(decodeEthernet(frame).payload), p);
    }),
  );
});

test('NS / NA round-trip for any valid value (options included)', () => {
  const option = fc.oneof(
    mac.map((address) => ({ kind: 'sourceLinkLayerAddress' as const, address })),
    mac.map((address) => ({ kind: 'targetLinkLayerAddress' as const, address })),
    fc.integer({ min: 0, max: 3 }).chain((n) =>
      fc.uint8Array({ minLength: 6 + 8 * n, maxLength: 6 + 8 * n }).map((a) => ({ kind: 'nonce' as const, nonce: Buffer.from(a) })),
    ),
    fc
      .tuple(fc.integer({ min: 3, max: 255 }).filter((t) => t !== 14), fc.integer({ min: 0, max: 3 }))
      .chain(([type, n]) =>
        fc.uint8Array({ minLength: 6 + 8 * n, maxLength: 6 + 8 * n }).map((a) => ({ kind: 'unknown' as const, type, data: Buffer.from(a) })),
      ),
  );
  const message: fc.Arbitrary<NdpMessage> = fc.oneof(
    fc.record({ kind: fc.constant('neighborSolicitation' as const), target: v6, options: fc.array(option, { maxLength: 4 }) }),
    fc.record({
      kind: fc.constant('neighborAdvertisement' as const),
      router: fc.boolean(),
      solicited: fc.boolean(),
      override: fc.boolean(),
      target: v6,
      options: fc.array(option, { maxLength: 4 }),
    }),
  );
  fc.assert(
    fc.property(message, v6, v6, (m, source, destination) => {
      const pseudo = { source, destination };
      // fc.record builds null-prototype objects; compare against a plain copy.
      assert.deepEqual(decodeNdp(encodeNdp(m, pseudo), pseudo), { code: 0, message: { ...m } });
    }),
  );
});
