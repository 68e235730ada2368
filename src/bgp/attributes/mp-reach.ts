// RFC 4760 §3: MP_REACH_NLRI, optional non-transitive.
//   AFI (2) | SAFI (1) | Length of Next Hop (1) | Next Hop | Reserved (1) | NLRI
// Next hop: IPv4 unicast 4 octets; IPv6 16 (global) or 32 (global then link-local, RFC 2545 §3);
// IPv4 NLRI with an IPv6 next hop (RFC 8950 §3) is 16 or 32 as well.
// Only IPv4/IPv6 unicast are decoded; other families stay raw (index.ts: `keepsRaw`).
// RFC 7606 §7.11: a malformed MP_REACH_NLRI resets the session (we do not do AFI/SAFI disable).

import { AFI, ATTR_FLAG, ATTR_TYPE, SAFI, UPDATE_ERROR } from '../constants.ts';
import { familyOfAfi, PrefixError, readPrefixes, writePrefixes } from '../nlri.ts';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from '../wire/ip.ts';
import type { Writer } from '../wire/writer.ts';
import { AttributeError, type AttributeDescriptor } from './descriptor.ts';

const IPV4_OCTETS = 4;
const IPV6_OCTETS = 16;

/** True when the AFI/SAFI at the start of an MP attribute value is one the codec decodes. */
export function isDecodedFamily(value: Buffer): boolean {
  if (value.length < 3) return false; // too short: let the decoder report it as malformed
  const afi = value.readUInt16BE(0);
  const safi = value[2];
  return (afi === AFI.IPV4 || afi === AFI.IPV6) && safi === SAFI.UNICAST;
}

export const mpReach: AttributeDescriptor<'MP_REACH_NLRI'> = {
  kind: 'MP_REACH_NLRI',
  typeCode: ATTR_TYPE.MP_REACH_NLRI,
  flags: ATTR_FLAG.OPTIONAL,
  onError: 'session-reset', // RFC 7606 §7.11
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  keepsRaw: (value) => value.length >= 3 && !isDecodedFamily(value),
  decode(r) {
    const afi = r.u16();
    const safi = r.u8();
    const family = familyOfAfi(afi);
    if (family === undefined || safi !== SAFI.UNICAST) throw new AttributeError(`MP_REACH_NLRI: AFI/SAFI ${afi}/${safi}`);
    const nhLen = r.u8();
    const nh = r.bytes(nhLen, 'MP_REACH_NLRI next hop');
    const nextHops: string[] = [];
    if (family === 'ipv4' && nhLen === IPV4_OCTETS) nextHops.push(formatIpv4(nh));
    else if (nhLen === IPV6_OCTETS || nhLen === 2 * IPV6_OCTETS) {
      for (let at = 0; at < nhLen; at += IPV6_OCTETS) nextHops.push(formatIpv6(nh, at));
    } else throw new AttributeError(`MP_REACH_NLRI: next hop length ${nhLen} for ${family}`);
    r.u8(); // Reserved: "MUST be set to 0, and SHOULD be ignored upon receipt" (RFC 4760 §3)
    try {
      return { kind: 'MP_REACH_NLRI', afi, safi, nextHops, prefixes: readPrefixes(r, family) };
    } catch (e) {
      if (e instanceof PrefixError) throw new AttributeError(`MP_REACH_NLRI: ${e.message}`);
      throw e;
    }
  },
  encode(w, a) {
    writeMpReachHead(w, a.afi, a.safi, a.nextHops);
    writePrefixes(w, a.prefixes);
  },
};

/**
 * The value of an MP_REACH_NLRI up to its NLRI: AFI, SAFI, Length of Next Hop, Next Hop, Reserved
 * (RFC 4760 §3). The descriptor's encoder and the UPDATE packer (pack.ts) both write it here; the
 * NLRI follows. Next hops: one IPv4 address, or one or two IPv6 ones (global then link-local, RFC 2545
 * §3), for IPv6 NLRI and for IPv4 NLRI under RFC 8950 §3 alike.
 */
export function writeMpReachHead(w: Writer, afi: number, safi: number, nextHops: readonly string[]): void {
  if (familyOfAfi(afi) === undefined) throw new RangeError(`MP_REACH_NLRI: AFI ${afi} not supported`);
  w.u16(afi).u8(safi).fork(1);
  const scratch = new Uint8Array(IPV6_OCTETS);
  for (const nh of nextHops) {
    if (nh.includes(':')) {
      if (!parseIpv6Into(nh, scratch, 0)) throw new RangeError(`bad IPv6 next hop ${nh}`);
      w.bytes(scratch);
    } else {
      if (!parseIpv4Into(nh, scratch, 0)) throw new RangeError(`bad IPv4 next hop ${nh}`);
      w.bytes(scratch.subarray(0, IPV4_OCTETS));
    }
  }
  w.join().u8(0); // Reserved (RFC 4760 §3)
}
