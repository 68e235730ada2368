// Run inside a namespace of its own by udp-device.test.ts: two UDP sockets on the same port, one bound to
// DEVICE (SO_BINDTODEVICE) and one not, both with SO_REUSEADDR (as BFD's per-VRF listeners,
// src/bgp/bfd/transport.ts); sends one datagram to ADDRESS (which the kernel delivers over DEVICE) and
// prints which socket got it. Also tries the same pair without SO_REUSEADDR and prints the error code.
// Usage: udp-device-probe.ts ADDRESS DEVICE
import { openUdp, type UdpSocket } from '../../../src/sys/index.ts';

const [address = '', device = ''] = process.argv.slice(2);
const PORT = 3784;
const got: string[] = [];
let withoutReuse = 'opened';
const sockets: UdpSocket[] = [];
sockets.push(openUdp({ family: 4, port: PORT, reuseAddress: true, device, onDatagram: (d) => got.push(`bound:${d.payload.toString()}`) }));
sockets.push(openUdp({ family: 4, port: PORT, reuseAddress: true, onDatagram: (d) => got.push(`unbound:${d.payload.toString()}`) }));
try {
  sockets.push(openUdp({ family: 4, port: PORT + 1, device, onDatagram: () => undefined }));
  sockets.push(openUdp({ family: 4, port: PORT + 1, onDatagram: () => undefined }));
} catch (err) {
  withoutReuse = String((err as { code?: unknown }).code ?? err);
}
const sender = openUdp({ family: 4, port: 0 });
sender.send(Buffer.from('hello'), address, PORT);
const timer = setTimeout(finish, 3000);
const poll = setInterval(() => {
  if (got.length > 0) setTimeout(finish, 300);
}, 50);

function finish(): void {
  clearTimeout(timer);
  clearInterval(poll);
  process.stdout.write(`${JSON.stringify({ got, withoutReuse })}\n`);
  for (const s of [...sockets, sender]) s.close();
  process.exit(0);
}
