// The driver's UDP through src/sys openUdp (which reads the received TTL, RFC 5881 §5). Injected as a
// function so this file makes no syscall itself and unit tests never load the addon.
import type { UdpOpenOptions, UdpSocket } from '../../sys/udp.ts';
import type { BfdTransport } from './driver.ts';

export function sysBfdTransport(openUdp: (opts: UdpOpenOptions) => UdpSocket): BfdTransport {
  return {
    // SO_REUSEADDR on listeners: a VRF's listener (bound to its device) shares the port with the default
    // VRF's; the kernel delivers each packet to the socket of the VRF it arrived in.
    listen: ({ family, port, device, onDatagram }) => openUdp({ family, port, onDatagram, reuseAddress: true, ...(device !== undefined ? { device } : {}) }),
    sender: ({ family, localAddress, port, ttl, device }) =>
      openUdp({ family, port, ttl, ...(localAddress !== undefined ? { address: localAddress } : {}), ...(device !== undefined ? { device } : {}) }),
  };
}
