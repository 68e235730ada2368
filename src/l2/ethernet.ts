// Ethernet II frame (RFC 894 framing; IEEE 802.1Q tag read and written). The FCS is not part of what
// AF_PACKET hands us or takes from us, so it is absent here. Short frames are padded to the 60-octet
// minimum on encode; a decoder above us uses its own length field and ignores the padding.
import { EtherType, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { macFromBytes, macToBytes, parseMac, type MacAddress } from './addresses.ts';

/** IEEE 802.1Q Tag Control Information. */
export interface VlanTag {
  readonly priority: number; // PCP, 3 bits
  readonly dropEligible: boolean; // DEI, 1 bit
  readonly id: number; // VID, 12 bits
}

export interface EthernetFrame {
  readonly destination: MacAddress;
  readonly source: MacAddress;
  /** Present when the frame carried one 802.1Q tag. */
  readonly vlan?: VlanTag;
  /** The (inner) EtherType. */
  readonly etherType: number;
  readonly payload: Buffer;
}

const OBJ = 'ethernet';

/** Validating constructor. */
export function ethernetFrame(f: EthernetFrame): EthernetFrame {
  if (!Number.isInteger(f.etherType) || f.etherType < 0x0600 || f.etherType > 0xffff) {
    // IEEE 802.3: values below 0x0600 are lengths (802.3 framing), not Ethernet II types.
    throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `EtherType ${f.etherType} is not an Ethernet II type`);
  }
  if (f.vlan !== undefined) {
    const { priority, id } = f.vlan;
    if (!Number.isInteger(priority) || priority < 0 || priority > 7 || !Number.isInteger(id) || id < 0 || id > 0xfff) {
      throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `bad 802.1Q tag ${JSON.stringify(f.vlan)}`);
    }
  }
  const base = { destination: parseMac(f.destination), source: parseMac(f.source), etherType: f.etherType, payload: f.payload };
  return f.vlan === undefined ? base : { ...base, vlan: f.vlan };
}

export function decodeEthernet(buf: Buffer): EthernetFrame {
  needBytes(OBJ, buf, Size.ethernetHeader);
  const destination = macFromBytes(buf.subarray(0, 6));
  const source = macFromBytes(buf.subarray(6, 12));
  const type = buf.readUInt16BE(12);
  if (type !== EtherType.vlan) {
    return { destination, source, etherType: type, payload: buf.subarray(Size.ethernetHeader) };
  }
  needBytes(OBJ, buf, Size.ethernetHeader + Size.vlanTag);
  const tci = buf.readUInt16BE(14);
  return {
    destination,
    source,
    vlan: { priority: tci >> 13, dropEligible: (tci & 0x1000) !== 0, id: tci & 0x0fff },
    etherType: buf.readUInt16BE(16),
    payload: buf.subarray(Size.ethernetHeader + Size.vlanTag),
  };
}

export function encodeEthernet(frame: EthernetFrame): Buffer {
  const f = ethernetFrame(frame);
  const header = Size.ethernetHeader + (f.vlan === undefined ? 0 : Size.vlanTag);
  const out = Buffer.alloc(Math.max(Size.ethernetMinFrame, header + f.payload.length));
  macToBytes(f.destination).copy(out, 0);
  macToBytes(f.source).copy(out, 6);
  if (f.vlan === undefined) {
    out.writeUInt16BE(f.etherType, 12);
  } else {
    out.writeUInt16BE(EtherType.vlan, 12);
    out.writeUInt16BE((f.vlan.priority << 13) | (f.vlan.dropEligible ? 0x1000 : 0) | f.vlan.id, 14);
    out.writeUInt16BE(f.etherType, 16);
  }
  f.payload.copy(out, header);
  return out;
}
