// IP address text <-> octets for the codec (NLRI, next hops, router ids). The parser and the RFC 5952
// formatter are src/net/ip.ts, shared with pool and l2: allocation-free, one pass, into the caller's
// buffer at an offset (the packer calls them once per prefix). Output text is canonical: dotted quad for
// IPv4, RFC 5952 §4 for IPv6. This file adds the codec's throwing constructors.
import { IPV4_BYTES, IPV6_BYTES, parseIpv4Into, parseIpv6Into } from '../../net/ip.ts';

export { formatIpv4, formatIpv6, isIpv6LinkLocal, parseIpv4Into, parseIpv6Into } from '../../net/ip.ts';

export function ipv4ToBytes(text: string): Buffer {
  const b = Buffer.alloc(IPV4_BYTES);
  if (!parseIpv4Into(text, b, 0)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(text)}`);
  return b;
}

export function ipv6ToBytes(text: string): Buffer {
  const b = Buffer.alloc(IPV6_BYTES);
  if (!parseIpv6Into(text, b, 0)) throw new RangeError(`not an IPv6 address: ${JSON.stringify(text)}`);
  return b;
}
