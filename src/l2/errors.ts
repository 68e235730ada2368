// One catalog of the errors the layer 2 codecs and constructors raise. A decoder either returns a value
// or throws an L2CodecError carrying one of these codes; nothing else escapes it.

export const L2ErrorCode = {
  /** Fewer bytes than the header or the declared length needs. */
  truncated: 'truncated',
  /** A value given to a constructor is not a valid MAC / IPv4 / IPv6 address or is out of range. */
  invalidValue: 'invalidValue',
  /** ARP hardware type is not Ethernet (RFC 826 ar$hrd). */
  unsupportedHardware: 'unsupportedHardware',
  /** ARP protocol type is not IPv4 (RFC 826 ar$pro). */
  unsupportedProtocol: 'unsupportedProtocol',
  /** ARP hardware/protocol address lengths other than 6 and 4. */
  badAddressLength: 'badAddressLength',
  /** ARP operation outside {request, reply}. */
  unsupportedOperation: 'unsupportedOperation',
  /** IP version field is not 6. */
  badVersion: 'badVersion',
  /** ICMPv6 checksum mismatch (RFC 4443 §2.3). */
  badChecksum: 'badChecksum',
  /** ICMPv6 type that is not a Neighbor Solicitation or Advertisement. */
  unsupportedIcmpType: 'unsupportedIcmpType',
  /** NDP option with length 0 (RFC 4861 §4.6) or a length its type does not allow. */
  badOptionLength: 'badOptionLength',
} as const;
export type L2ErrorCode = (typeof L2ErrorCode)[keyof typeof L2ErrorCode];

export class L2CodecError extends Error {
  readonly code: L2ErrorCode;
  /** The wire object being decoded or built: 'ethernet', 'arp', 'ipv6', 'icmpv6', 'ndp-option', 'address'. */
  readonly object: string;

  constructor(object: string, code: L2ErrorCode, message: string) {
    super(`${object}: ${message}`);
    this.name = 'L2CodecError';
    this.code = code;
    this.object = object;
  }
}

/** Throws `truncated` unless `buf` holds at least `need` bytes. */
export function needBytes(object: string, buf: Buffer, need: number): void {
  if (buf.length < need) {
    throw new L2CodecError(object, L2ErrorCode.truncated, `need ${need} bytes, have ${buf.length}`);
  }
}
