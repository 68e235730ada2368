// Neighbor Discovery options (RFC 4861 §4.6): type, length in units of 8 octets, value. The link-layer
// address options for Ethernet (RFC 4861 §4.6.1, RFC 2464 §8) and the Nonce option (RFC 3971 §5.3.2)
// are decoded; every other option is kept raw so a re-encode gives back the same bytes.
import { NdpOptionType, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { macFromBytes, macToBytes, parseMac, type MacAddress } from './addresses.ts';

export interface SourceLinkLayerAddress {
  readonly kind: 'sourceLinkLayerAddress';
  readonly address: MacAddress;
}
export interface TargetLinkLayerAddress {
  readonly kind: 'targetLinkLayerAddress';
  readonly address: MacAddress;
}
export interface NonceOption {
  readonly kind: 'nonce';
  /** At least 6 octets; the option length rounds 2 + nonce up to a multiple of 8 (RFC 3971 §5.3.2). */
  readonly nonce: Buffer;
}
export interface UnknownOption {
  readonly kind: 'unknown';
  readonly type: number;
  /** The octets after type and length, exactly as received. */
  readonly data: Buffer;
}
export type NdpOption = SourceLinkLayerAddress | TargetLinkLayerAddress | NonceOption | UnknownOption;

const OBJ = 'ndp-option';
const NONCE_MIN = 6;
const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(NdpOptionType));

export function ndpOption(o: NdpOption): NdpOption {
  switch (o.kind) {
    case 'sourceLinkLayerAddress':
    case 'targetLinkLayerAddress':
      return { kind: o.kind, address: parseMac(o.address) };
    case 'nonce':
      if (o.nonce.length < NONCE_MIN || (o.nonce.length + 2) % Size.ndpOptionUnit !== 0) {
        throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `nonce of ${o.nonce.length} octets: need 6 + 8n`);
      }
      return o;
    case 'unknown':
      if (!Number.isInteger(o.type) || o.type < 0 || o.type > 0xff || KNOWN_TYPES.has(o.type)) {
        throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `unknown option with type ${o.type}`);
      }
      if ((o.data.length + 2) % Size.ndpOptionUnit !== 0 || o.data.length + 2 > 0xff * Size.ndpOptionUnit) {
        throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `option data of ${o.data.length} octets: need 6 + 8n`);
      }
      return o;
    default: {
      const never: never = o;
      return never;
    }
  }
}

/** Decodes all options in `buf` (the rest of an NDP message). */
export function decodeNdpOptions(buf: Buffer): NdpOption[] {
  const out: NdpOption[] = [];
  let off = 0;
  while (off < buf.length) {
    const rest = buf.subarray(off);
    needBytes(OBJ, rest, 2);
    const type = rest.readUInt8(0);
    const units = rest.readUInt8(1);
    // RFC 4861 §4.6 / §7.1.1: "All included options have a length that is greater than zero."
    if (units === 0) throw new L2CodecError(OBJ, L2ErrorCode.badOptionLength, `option type ${type} with length 0`);
    const len = units * Size.ndpOptionUnit;
    needBytes(OBJ, rest, len);
    const value = rest.subarray(2, len);
    switch (type) {
      case NdpOptionType.sourceLinkLayerAddress:
      case NdpOptionType.targetLinkLayerAddress: {
        // RFC 2464 §8: on Ethernet the option is exactly one unit holding a 6-octet address.
        if (units !== 1) throw new L2CodecError(OBJ, L2ErrorCode.badOptionLength, `link-layer option length ${units}`);
        const address = macFromBytes(value.subarray(0, Size.mac));
        out.push(
          type === NdpOptionType.sourceLinkLayerAddress
            ? { kind: 'sourceLinkLayerAddress', address }
            : { kind: 'targetLinkLayerAddress', address },
        );
        break;
      }
      case NdpOptionType.nonce:
        out.push({ kind: 'nonce', nonce: Buffer.from(value) });
        break;
      default:
        out.push({ kind: 'unknown', type, data: Buffer.from(value) });
    }
    off += len;
  }
  return out;
}

export function encodeNdpOptions(options: readonly NdpOption[]): Buffer {
  const parts = options.map((opt) => {
    const o = ndpOption(opt);
    let type: number;
    let value: Buffer;
    switch (o.kind) {
      case 'sourceLinkLayerAddress':
        type = NdpOptionType.sourceLinkLayerAddress;
        value = macToBytes(o.address);
        break;
      case 'targetLinkLayerAddress':
        type = NdpOptionType.targetLinkLayerAddress;
        value = macToBytes(o.address);
        break;
      case 'nonce':
        type = NdpOptionType.nonce;
        value = o.nonce;
        break;
      case 'unknown':
        type = o.type;
        value = o.data;
        break;
      default: {
        const never: never = o;
        return never;
      }
    }
    const len = value.length + 2;
    const out = Buffer.alloc(len);
    out.writeUInt8(type, 0);
    out.writeUInt8(len / Size.ndpOptionUnit, 1);
    value.copy(out, 2);
    return out;
  });
  return Buffer.concat(parts);
}
