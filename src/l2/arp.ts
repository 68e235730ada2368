// ARP for Ethernet and IPv4 (RFC 826). The only hardware/protocol pair we speak, so anything else is a
// typed decode error rather than a generic packet.
import { ArpHardwareType, ArpOperation, EtherType, Size } from './constants.ts';
import { L2CodecError, L2ErrorCode, needBytes } from './errors.ts';
import { ipv4FromBytes, ipv4ToBytes, macFromBytes, macToBytes, parseMac, canonicalIp, ipFamily, type MacAddress } from './addresses.ts';

export interface ArpPacket {
  readonly operation: ArpOperation;
  readonly senderHardware: MacAddress;
  readonly senderProtocol: string;
  readonly targetHardware: MacAddress;
  readonly targetProtocol: string;
}

const OBJ = 'arp';

/** Validating constructor: canonical MACs and IPv4 addresses, operation in the closed set. */
export function arpPacket(p: ArpPacket): ArpPacket {
  if (p.operation !== ArpOperation.request && p.operation !== ArpOperation.reply) {
    throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `operation ${String(p.operation)}`);
  }
  for (const ip of [p.senderProtocol, p.targetProtocol]) {
    if (ipFamily(ip) !== 4) throw new L2CodecError(OBJ, L2ErrorCode.invalidValue, `not IPv4: ${ip}`);
  }
  return {
    operation: p.operation,
    senderHardware: parseMac(p.senderHardware),
    senderProtocol: canonicalIp(p.senderProtocol),
    targetHardware: parseMac(p.targetHardware),
    targetProtocol: canonicalIp(p.targetProtocol),
  };
}

export function decodeArp(buf: Buffer): ArpPacket {
  needBytes(OBJ, buf, 8);
  // RFC 826 "Packet format": ar$hrd, ar$pro, ar$hln, ar$pln, ar$op, then the four addresses.
  const hrd = buf.readUInt16BE(0);
  const pro = buf.readUInt16BE(2);
  const hln = buf.readUInt8(4);
  const pln = buf.readUInt8(5);
  const op = buf.readUInt16BE(6);
  if (hrd !== ArpHardwareType.ethernet) {
    throw new L2CodecError(OBJ, L2ErrorCode.unsupportedHardware, `hardware type ${hrd}`);
  }
  if (pro !== EtherType.ipv4) {
    throw new L2CodecError(OBJ, L2ErrorCode.unsupportedProtocol, `protocol type 0x${pro.toString(16)}`);
  }
  if (hln !== Size.mac || pln !== Size.ipv4) {
    throw new L2CodecError(OBJ, L2ErrorCode.badAddressLength, `hln ${hln} pln ${pln}`);
  }
  if (op !== ArpOperation.request && op !== ArpOperation.reply) {
    throw new L2CodecError(OBJ, L2ErrorCode.unsupportedOperation, `operation ${op}`);
  }
  needBytes(OBJ, buf, Size.arpEthernetIpv4); // trailing Ethernet padding is ignored
  return {
    operation: op,
    senderHardware: macFromBytes(buf.subarray(8, 14)),
    senderProtocol: ipv4FromBytes(buf.subarray(14, 18)),
    targetHardware: macFromBytes(buf.subarray(18, 24)),
    targetProtocol: ipv4FromBytes(buf.subarray(24, 28)),
  };
}

export function encodeArp(packet: ArpPacket): Buffer {
  const p = arpPacket(packet);
  const out = Buffer.alloc(Size.arpEthernetIpv4);
  out.writeUInt16BE(ArpHardwareType.ethernet, 0);
  out.writeUInt16BE(EtherType.ipv4, 2);
  out.writeUInt8(Size.mac, 4);
  out.writeUInt8(Size.ipv4, 5);
  out.writeUInt16BE(p.operation, 6);
  macToBytes(p.senderHardware).copy(out, 8);
  ipv4ToBytes(p.senderProtocol).copy(out, 14);
  macToBytes(p.targetHardware).copy(out, 18);
  ipv4ToBytes(p.targetProtocol).copy(out, 24);
  return out;
}
