// draft-walton-bgp-hostname-capability §3: FQDN capability (code 73).
//   Hostname Length (1) | Hostname | Domain Name Length (1) | Domain Name   (UTF-8, FRR sends ASCII)

import { CAPABILITY } from '../constants.ts';
import type { Capability } from '../messages/types.ts';
import { expectEnd, type CapabilityDescriptor } from './descriptor.ts';

export const fqdn: CapabilityDescriptor<Extract<Capability, { kind: 'FQDN' }>> = {
  code: CAPABILITY.FQDN,
  kind: 'FQDN',
  decode(r) {
    const hostname = r.bytes(r.u8()).toString('utf8');
    // The draft allows the domain part to be absent entirely; treat that like an empty domain.
    const domainName = r.atEnd ? '' : r.bytes(r.u8()).toString('utf8');
    expectEnd(r, 'FQDN capability');
    return { kind: 'FQDN', hostname, domainName };
  },
  encode(w, c) {
    w.fork(1).bytes(Buffer.from(c.hostname, 'utf8')).join();
    w.fork(1).bytes(Buffer.from(c.domainName, 'utf8')).join();
  },
};
