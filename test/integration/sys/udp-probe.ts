// Run inside a lab namespace by udp.test.ts: opens a receiving UDP socket on ADDRESS, sends one
// datagram to it per TTL given, and prints what arrived (payload, source, received TTL) as JSON.
// Usage: udp-probe.ts ADDRESS TTL...
import { openUdp, type UdpDatagram } from '../../../src/sys/index.ts';

const [address = '', ...ttls] = process.argv.slice(2);
const family = address.includes(':') ? 6 : 4;
const got: UdpDatagram[] = [];
const want = ttls.length;
const receiver = openUdp({
  family,
  address,
  port: 0,
  onDatagram: (d) => {
    got.push(d);
    if (got.length === want) finish();
  },
});
const senders = ttls.map((t) => openUdp({ family, address, port: 0, ttl: Number(t) }));
senders.forEach((s, i) => s.send(Buffer.from(`ttl ${ttls[i] ?? ''}`), address, receiver.port));
const timer = setTimeout(finish, 5000);

function finish(): void {
  clearTimeout(timer);
  process.stdout.write(`${JSON.stringify({ receiverPort: receiver.port, senderPorts: senders.map((s) => s.port), got: got.map((d) => ({ payload: d.payload.toString(), address: d.address, port: d.port, ttl: d.ttl })) })}\n`);
  receiver.close();
  for (const s of senders) s.close();
}
