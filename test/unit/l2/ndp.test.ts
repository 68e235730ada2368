import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEthernet } from '../../../src/l2/ethernet.ts';
import { decodeIpv6, encodeIpv6, type Ipv6Packet } from '../../../src/l2/ipv6.ts';
import { decodeNdp, encodeNdp, icmpv6Checksum, type NdpMessage } from '../../../src/l2/icmpv6.ts';
import { decodeNdpOptions, encodeNdpOptions, type NdpOption } from '../../../src/l2/ndp-options.ts';
import { L2CodecError, L2ErrorCode } from '../../../src/l2/errors.ts';
import { hex, KERNEL_NA, KERNEL_NS } from './vectors.ts';

const isCode = (code: string) => (e: unknown) => e instanceof L2CodecError && e.code === code;

test('IPv6 header vector both ways (captured NS)', () => {
  const ip = decodeIpv6(decodeEthernet(KERNEL_NS).payload);
  assert.deepEqual(ip.header, {
    trafficClass: 0,
    flowLabel: 0x80a25,
    nextHeader: 58,
    hopLimit: 255,
    source: 'fe80::ff:fe00:a',
    destination: 'ff02::1:ff00:b',
  });
  assert.equal(ip.payload.length, 32);
  assert.deepEqual(encodeIpv6(ip), KERNEL_NS.subarray(14));
});

test('IPv6 header: traffic class and flow label bits, padding cut, errors', () => {
  const p: Ipv6Packet = {
    header: { trafficClass: 0xb8, flowLabel: 0xfffff, nextHeader: 59, hopLimit: 1, source: '2001:db8::1', destination: '2001:db8::2' },
    payload: hex('beef'),
  };
  const bytes = hex(
    '6b8fffff', // version 6, TC 0xb8, flow label 0xfffff
    '0002 3b 01', // payload length 2, next header 59 (no next header), hop limit 1
    '20010db8000000000000000000000001',
    '20010db8000000000000000000000002',
    'beef',
  );
  assert.deepEqual(encodeIpv6(p), bytes);
  assert.deepEqual(decodeIpv6(Buffer.concat([bytes, hex('0000')])), p); // trailing padding ignored
  assert.throws(() => decodeIpv6(bytes.subarray(0, 39)), isCode(L2ErrorCode.truncated));
  assert.throws(() => decodeIpv6(bytes.subarray(0, 41)), isCode(L2ErrorCode.truncated)); // payload length 2
  const v4 = Buffer.from(bytes);
  v4[0] = 0x4b;
  assert.throws(() => decodeIpv6(v4), isCode(L2ErrorCode.badVersion));
  assert.throws(() => encodeIpv6({ ...p, header: { ...p.header, source: '192.0.2.1' } }), isCode(L2ErrorCode.invalidValue));
});

const NS_VALUE: NdpMessage = {
  kind: 'neighborSolicitation',
  target: '2001:db8::b',
  options: [{ kind: 'sourceLinkLayerAddress', address: '02:00:00:00:00:0a' }],
};
const NA_VALUE: NdpMessage = {
  kind: 'neighborAdvertisement',
  router: false,
  solicited: true,
  override: true,
  target: '2001:db8::b',
  options: [{ kind: 'targetLinkLayerAddress', address: '02:00:00:00:00:0b' }],
};

test('NS and NA vectors both ways against captured kernel bytes (checksum included)', () => {
  for (const [frame, value] of [
    [KERNEL_NS, NS_VALUE],
    [KERNEL_NA, NA_VALUE],
  ] as const) {
    const ip = decodeIpv6(decodeEthernet(frame).payload);
    assert.deepEqual(decodeNdp(ip.payload, ip.header), { code: 0, message: value });
    assert.deepEqual(encodeNdp(value, ip.header), ip.payload);
  }
});

test('ICMPv6 checksum: kernel values reproduced, and any flipped bit is detected', () => {
  const ip = decodeIpv6(decodeEthernet(KERNEL_NS).payload);
  const zeroed = Buffer.from(ip.payload);
  zeroed.writeUInt16BE(0, 2);
  assert.equal(icmpv6Checksum(ip.header, zeroed), 0x4c3b); // value in the captured packet
  assert.equal(icmpv6Checksum(ip.header, ip.payload), 0); // a packet with its checksum verifies to 0
  for (let bit = 0; bit < ip.payload.length * 8; bit += 7) {
    const bad = Buffer.from(ip.payload);
    bad[bit >> 3] = (bad[bit >> 3] ?? 0) ^ (1 << (bit & 7));
    assert.throws(() => decodeNdp(bad, ip.header), isCode(L2ErrorCode.badChecksum), `bit ${bit}`);
  }
  // The pseudo-header is covered too (RFC 4443 §2.3): another source fails.
  assert.throws(() => decodeNdp(ip.payload, { ...ip.header, source: 'fe80::ff:fe00:c' }), isCode(L2ErrorCode.badChecksum));
});

test('NA flags R, S, O each map to their bit (RFC 4861 §4.4)', () => {
  const pseudo = { source: 'fe80::1', destination: 'ff02::1' };
  for (const [router, solicited, override, octet] of [
    [true, false, false, 0x80],
    [false, true, false, 0x40],
    [false, false, true, 0x20],
    [true, true, true, 0xe0],
  ] as const) {
    const m: NdpMessage = { kind: 'neighborAdvertisement', router, solicited, override, target: '2001:db8::1', options: [] };
    const bytes = encodeNdp(m, pseudo);
    assert.equal(bytes.length, 24);
    assert.equal(bytes[4], octet);
    assert.deepEqual(decodeNdp(bytes, pseudo).message, m);
  }
});

test('NDP options both ways: LLA, nonce, unknown kept raw', () => {
  const options: readonly NdpOption[] = [
    { kind: 'sourceLinkLayerAddress', address: '02:00:00:00:00:0a' },
    { kind: 'nonce', nonce: hex('010203040506') },
    { kind: 'unknown', type: 5, data: hex('0000 000005dc') }, // MTU option (RFC 4861 §4.6.4), not decoded by us
    { kind: 'nonce', nonce: hex('0102030405060708091011121300') },
  ];
  const bytes = hex(
    '01 01 02000000000a', // SLLA
    '0e 01 010203040506', // nonce, 1 unit
    '05 01 0000000005dc', // MTU 1500, kept raw
    '0e 02 0102030405060708091011121300', // nonce, 2 units (14 octets)
  );
  assert.deepEqual(encodeNdpOptions(options), bytes);
  assert.deepEqual(decodeNdpOptions(bytes), options);
});

test('NDP option errors', () => {
  assert.throws(() => decodeNdpOptions(hex('01 00 020000000000')), isCode(L2ErrorCode.badOptionLength)); // length 0
  assert.throws(() => decodeNdpOptions(hex('01 02 02000000000a 0000000000000000')), isCode(L2ErrorCode.badOptionLength));
  assert.throws(() => decodeNdpOptions(hex('05 02 0000000005dc')), isCode(L2ErrorCode.truncated)); // claims 16 octets
  assert.throws(() => decodeNdpOptions(hex('05')), isCode(L2ErrorCode.truncated));
  assert.throws(() => encodeNdpOptions([{ kind: 'nonce', nonce: hex('0102') }]), isCode(L2ErrorCode.invalidValue));
  assert.throws(() => encodeNdpOptions([{ kind: 'unknown', type: 1, data: hex('000000000000') }]), isCode(L2ErrorCode.invalidValue));
  assert.throws(() => encodeNdpOptions([{ kind: 'unknown', type: 5, data: hex('00') }]), isCode(L2ErrorCode.invalidValue));
});

test('ICMPv6 errors: other types, short messages', () => {
  const pseudo = { source: 'fe80::1', destination: 'ff02::2' };
  const rs = hex('85 00 0000 00000000'); // Router Solicitation
  rs.writeUInt16BE(icmpv6Checksum(pseudo, rs), 2);
  assert.throws(() => decodeNdp(rs, pseudo), isCode(L2ErrorCode.unsupportedIcmpType));
  const shortNs = hex('87 00 0000 00000000 20010db8');
  shortNs.writeUInt16BE(icmpv6Checksum(pseudo, shortNs), 2);
  assert.throws(() => decodeNdp(shortNs, pseudo), isCode(L2ErrorCode.truncated));
  assert.throws(() => decodeNdp(hex('87'), pseudo), isCode(L2ErrorCode.truncated));
});
