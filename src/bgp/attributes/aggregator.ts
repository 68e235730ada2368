// RFC 4271 §5.1.7 / §4.3 (g) AGGREGATOR: AS (2 octets, or 4 between 4-octet speakers, RFC 6793 §3)
// then the aggregating speaker's IPv4 address. RFC 6793 §3 AS4_AGGREGATOR: always a 4-octet AS.

import { ATTR_FLAG, ATTR_TYPE, UPDATE_ERROR } from '../constants.ts';
import { formatIpv4, ipv4ToBytes } from '../wire/ip.ts';
import { expectLength, type AttributeDescriptor } from './descriptor.ts';

export const aggregator: AttributeDescriptor<'AGGREGATOR'> = {
  kind: 'AGGREGATOR',
  typeCode: ATTR_TYPE.AGGREGATOR,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'attribute-discard', // RFC 7606 §7.7
  errorSubcode: UPDATE_ERROR.ATTRIBUTE_LENGTH_ERROR,
  decode(r, ctx) {
    expectLength(r, [ctx.fourOctetAs ? 8 : 6], 'AGGREGATOR');
    const asn = ctx.fourOctetAs ? r.u32() : r.u16();
    return { kind: 'AGGREGATOR', asn, address: formatIpv4(r.bytes(4)) };
  },
  encode(w, a, ctx) {
    if (ctx.fourOctetAs) w.u32(a.asn);
    else w.u16(a.asn);
    w.bytes(ipv4ToBytes(a.address));
  },
};

export const as4Aggregator: AttributeDescriptor<'AS4_AGGREGATOR'> = {
  kind: 'AS4_AGGREGATOR',
  typeCode: ATTR_TYPE.AS4_AGGREGATOR,
  flags: ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE,
  onError: 'attribute-discard', // RFC 6793 §6, RFC 7606 §7.7
  errorSubcode: UPDATE_ERROR.OPTIONAL_ATTRIBUTE_ERROR,
  decode(r) {
    expectLength(r, [8], 'AS4_AGGREGATOR');
    return { kind: 'AS4_AGGREGATOR', asn: r.u32(), address: formatIpv4(r.bytes(4)) };
  },
  encode(w, a) {
    w.u32(a.asn).bytes(ipv4ToBytes(a.address));
  },
};
