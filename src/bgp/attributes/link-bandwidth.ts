// The Link Bandwidth Extended Community (RFC 10005, formerly draft-ietf-idr-link-bandwidth): a
// Two-Octet AS Specific extended community (RFC 4360 §3.1), sub-type 0x04, whose Global Administrator
// is the originating AS and whose Local Administrator is the bandwidth in bytes per second as an IEEE
// 754 single-precision float. A router doing weighted ECMP (FRR: UCMP from link bandwidth) splits a
// prefix's traffic over its paths in proportion to these values.
//
// berth sends the transitive form (type 0x00): FRR uses it for weighted ECMP (verified against FRR 8.4
// in test/integration/speaker/weighted-ecmp.test.ts), where the non-transitive form (0x40) was not
// used for it until FRRouting/frr#20607 (2026).

import { AS_TRANS } from '../constants.ts';

const TYPE_TWO_OCTET_AS_TRANSITIVE = 0x00n;
const TYPE_TWO_OCTET_AS_NON_TRANSITIVE = 0x40n;
const SUBTYPE_LINK_BANDWIDTH = 0x04n;
const MAX_TWO_OCTET_AS = 0xffff;

/** The community for `bytesPerSecond` originated by `asn` (AS_TRANS when it needs four octets, RFC 6793 §4.2.1 rule for 2-octet fields). */
export function linkBandwidthCommunity(asn: number, bytesPerSecond: number): bigint {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, bytesPerSecond);
  const global = BigInt(asn > MAX_TWO_OCTET_AS ? AS_TRANS : asn);
  return (TYPE_TWO_OCTET_AS_TRANSITIVE << 56n) | (SUBTYPE_LINK_BANDWIDTH << 48n) | (global << 32n) | BigInt(f.getUint32(0));
}

/** The bandwidth (bytes/s) and AS of a link bandwidth community, either form; undefined for any other community. */
export function parseLinkBandwidth(c: bigint): { readonly asn: number; readonly bytesPerSecond: number } | undefined {
  const type = (c >> 56n) & 0xffn;
  if ((type !== TYPE_TWO_OCTET_AS_TRANSITIVE && type !== TYPE_TWO_OCTET_AS_NON_TRANSITIVE) || ((c >> 48n) & 0xffn) !== SUBTYPE_LINK_BANDWIDTH) return undefined;
  const f = new DataView(new ArrayBuffer(4));
  f.setUint32(0, Number(c & 0xffffffffn));
  return { asn: Number((c >> 32n) & 0xffffn), bytesPerSecond: f.getFloat32(0) };
}
