// RFC 4724 §3: Graceful Restart capability (code 64).
//   Restart Flags (4 bits: R, N (RFC 8538 §2), 2 reserved) | Restart Time in seconds (12 bits)
//   then per family: AFI (2) | SAFI (1) | Flags for Address Family (1: F bit = 0x80)

import { CAPABILITY, GRACEFUL_RESTART_AF_FLAG, GRACEFUL_RESTART_FLAG } from '../constants.ts';
import type { GracefulRestartCapability } from '../messages/types.ts';
import { CapabilityError, type CapabilityDescriptor } from './descriptor.ts';

const RESTART_TIME_MASK = 0x0fff;
const FAMILY_OCTETS = 4;

export const gracefulRestart: CapabilityDescriptor<GracefulRestartCapability> = {
  code: CAPABILITY.GRACEFUL_RESTART,
  kind: 'GRACEFUL_RESTART',
  decode(r) {
    const word = r.u16();
    const flags = word >> 12;
    if (r.remaining % FAMILY_OCTETS !== 0) {
      throw new CapabilityError(`graceful restart capability: ${r.remaining} octets is not a list of families`);
    }
    const families: GracefulRestartCapability['families'][number][] = [];
    while (!r.atEnd) {
      const afi = r.u16();
      const safi = r.u8();
      const f = r.u8();
      families.push({ afi, safi, forwarding: (f & GRACEFUL_RESTART_AF_FLAG.FORWARDING_STATE) !== 0 });
    }
    return {
      kind: 'GRACEFUL_RESTART',
      restarting: (flags & GRACEFUL_RESTART_FLAG.RESTART_STATE) !== 0,
      notification: (flags & GRACEFUL_RESTART_FLAG.NOTIFICATION) !== 0,
      restartTime: word & RESTART_TIME_MASK,
      families,
    };
  },
  encode(w, c) {
    if (c.restartTime < 0 || c.restartTime > RESTART_TIME_MASK) {
      throw new RangeError(`graceful restart time ${c.restartTime} does not fit 12 bits`);
    }
    const flags =
      (c.restarting ? GRACEFUL_RESTART_FLAG.RESTART_STATE : 0) | (c.notification ? GRACEFUL_RESTART_FLAG.NOTIFICATION : 0);
    w.u16((flags << 12) | c.restartTime);
    for (const f of c.families) {
      w.u16(f.afi).u8(f.safi).u8(f.forwarding ? GRACEFUL_RESTART_AF_FLAG.FORWARDING_STATE : 0);
    }
  },
};
