import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEthernet, encodeEthernet, type EthernetFrame } from '../../../src/l2/ethernet.ts';
import { L2CodecError, L2ErrorCode } from '../../../src/l2/errors.ts';
import { hex, KERNEL_ARP_REPLY } from './vectors.ts';

const CASES: readonly { name: string; value: EthernetFrame; bytes: Buffer }[] = [
  {
    name: 'untagged ARP, padded to 60 octets',
    value: { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:00:00:00:0a', etherType: 0x0806, payload: hex('0001') },
    bytes: hex(
      'ffffffffffff', // destination
      '02000000000a', // source
      '0806', // EtherType
      '0001', // payload
      '00'.repeat(44), // pad to 60
    ),
  },
  {
    name: '802.1Q tagged IPv6, PCP 5, DEI, VID 100',
    value: {
      destination: '33:33:00:00:00:01',
      source: '02:00:00:00:00:0b',
      vlan: { priority: 5, dropEligible: true, id: 100 },
      etherType: 0x86dd,
      payload: hex('aa'.repeat(50)),
    },
    bytes: hex(
      '333300000001',
      '02000000000b',
      '8100', // TPID
      'b064', // TCI: PCP 101, DEI 1, VID 0x064
      '86dd', // inner EtherType
      'aa'.repeat(50),
    ),
  },
];

test('Ethernet vectors both ways', () => {
  for (const c of CASES) {
    assert.deepEqual(encodeEthernet(c.value), c.bytes, c.name);
    const d = decodeEthernet(c.bytes);
    assert.equal(d.destination, c.value.destination);
    assert.equal(d.source, c.value.source);
    assert.deepEqual(d.vlan, c.value.vlan);
    assert.equal(d.etherType, c.value.etherType);
    // The decoder cannot tell padding from payload; the payload starts with the original bytes.
    assert.deepEqual(d.payload.subarray(0, c.value.payload.length), c.value.payload);
  }
});

test('a captured 42-octet frame decodes without padding', () => {
  const d = decodeEthernet(KERNEL_ARP_REPLY);
  assert.equal(d.etherType, 0x0806);
  assert.equal(d.payload.length, 28);
  assert.equal(d.vlan, undefined);
});

test('Ethernet errors are typed', () => {
  assert.throws(() => decodeEthernet(hex('ffffffffffff02000000000a08')), (e: unknown) => e instanceof L2CodecError && e.code === L2ErrorCode.truncated);
  assert.throws(() => decodeEthernet(hex('ffffffffffff02000000000a8100b0')), (e: unknown) => e instanceof L2CodecError && e.code === L2ErrorCode.truncated);
  assert.throws(
    () => encodeEthernet({ destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:00:00:00:0a', etherType: 0x05dc, payload: Buffer.alloc(0) }),
    (e: unknown) => e instanceof L2CodecError && e.code === L2ErrorCode.invalidValue,
  );
  assert.throws(
    () =>
      encodeEthernet({
        destination: 'ff:ff:ff:ff:ff:ff',
        source: '02:00:00:00:00:0a',
        vlan: { priority: 8, dropEligible: false, id: 1 },
        etherType: 0x0806,
        payload: Buffer.alloc(0),
      }),
    L2CodecError,
  );
});
