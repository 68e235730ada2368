// The driver's UDP through src/sys openUdp (which reads the received TTL, RFC 5881 §5). Injected as a
// function so this file makes no syscall itself and unit tests never load the addon.
import type { UdpOpenOptions, UdpSocket } from '../../sys/udp.ts';
import type { BfdTransport } from './driver.ts';

export function sysBfdTransport(openUdp: (opts: UdpOpenOptions) => UdpSocket): BfdTransport {
  return {
    listen: ({ family, port, onDatagram }) => openUdp({ family, port, onDatagram }),
    sender: ({ family, localAddress, port, ttl }) => openUdp({ family, port, ttl, ...(localAddress !== undefined ? { address: localAddress } : {}) }),
  };
}
