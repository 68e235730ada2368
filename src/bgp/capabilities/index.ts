// Capability descriptor table (RFC 5492) and the codec of one capability TLV:
//   Capability Code (1) | Capability Length (1) | Capability Value
// Codes without a descriptor are kept raw (`UNKNOWN`) and re-encoded byte for byte (RFC 5492 §3:
// an unknown capability is ignored, not an error).

import type { Capability } from '../messages/types.ts';
import type { Reader } from '../wire/reader.ts';
import type { Writer } from '../wire/writer.ts';
import type { CapabilityDescriptor } from './descriptor.ts';
import { fourOctetAs } from './four-octet-as.ts';
import { extendedNextHop } from './extended-next-hop.ts';
import { fqdn } from './fqdn.ts';
import { gracefulRestart } from './graceful-restart.ts';
import { multiprotocol } from './multiprotocol.ts';
import { enhancedRouteRefresh, extendedMessage, routeRefresh, routeRefreshOld } from './simple.ts';

export { CapabilityError } from './descriptor.ts';

const DESCRIPTORS: readonly CapabilityDescriptor<never>[] = [
  multiprotocol,
  routeRefresh,
  extendedMessage,
  extendedNextHop,
  gracefulRestart,
  fourOctetAs,
  enhancedRouteRefresh,
  fqdn,
  routeRefreshOld,
] as unknown as readonly CapabilityDescriptor<never>[];

const BY_CODE = new Map<number, CapabilityDescriptor>(
  (DESCRIPTORS as unknown as CapabilityDescriptor[]).map((d) => [d.code, d]),
);
const BY_KIND = new Map<string, CapabilityDescriptor>(
  (DESCRIPTORS as unknown as CapabilityDescriptor[]).map((d) => [d.kind, d]),
);

/** The capability code of a capability value. */
export function capabilityCode(c: Capability): number {
  if (c.kind === 'UNKNOWN') return c.code;
  const d = BY_KIND.get(c.kind);
  if (d === undefined) throw new Error(`no descriptor for capability ${c.kind}`);
  return d.code;
}

/** Read capability TLVs until the reader's window ends. */
export function readCapabilities(r: Reader): Capability[] {
  const out: Capability[] = [];
  while (!r.atEnd) {
    const code = r.u8('capability code');
    const len = r.u8('capability length');
    const value = r.sub(len, 'capability value');
    const d = BY_CODE.get(code);
    out.push(d === undefined ? { kind: 'UNKNOWN', code, data: Buffer.from(value.rest()) } : d.decode(value));
  }
  return out;
}

export function writeCapability(w: Writer, c: Capability): void {
  w.u8(capabilityCode(c)).fork(1);
  if (c.kind === 'UNKNOWN') w.bytes(c.data);
  else (BY_KIND.get(c.kind) as CapabilityDescriptor).encode(w, c);
  w.join();
}
