// Capabilities with an empty value: their presence is the whole message.
// RFC 2918 §2 (route refresh, 2), the pre-standard route refresh (128), RFC 7313 §3 (enhanced route
// refresh, 70), RFC 8654 §3 (extended message, 6).

import { CAPABILITY } from '../constants.ts';
import type { Capability } from '../messages/types.ts';
import { expectEnd, type CapabilityDescriptor } from './descriptor.ts';

type EmptyKind = 'ROUTE_REFRESH' | 'ROUTE_REFRESH_OLD' | 'ENHANCED_ROUTE_REFRESH' | 'EXTENDED_MESSAGE';

function empty<K extends EmptyKind>(code: number, kind: K): CapabilityDescriptor<Extract<Capability, { kind: K }>> {
  const d: CapabilityDescriptor<{ readonly kind: EmptyKind }> = {
    code,
    kind,
    decode(r) {
      expectEnd(r, `${kind} capability`); // each of these RFCs: "Capability Length ... is set to 0"
      return { kind };
    },
    encode() {},
  };
  return d as unknown as CapabilityDescriptor<Extract<Capability, { kind: K }>>;
}

export const routeRefresh = empty(CAPABILITY.ROUTE_REFRESH, 'ROUTE_REFRESH');
export const routeRefreshOld = empty(CAPABILITY.ROUTE_REFRESH_OLD, 'ROUTE_REFRESH_OLD');
export const enhancedRouteRefresh = empty(CAPABILITY.ENHANCED_ROUTE_REFRESH, 'ENHANCED_ROUTE_REFRESH');
export const extendedMessage = empty(CAPABILITY.EXTENDED_MESSAGE, 'EXTENDED_MESSAGE');
