// A hostile BGP peer for the interop tests, run inside a lab namespace: it listens on argv[2]:179 and
// answers berth's OPEN with a hand-built OPEN (AS argv[3], hold 9 s, 4-octet AS and IPv4 unicast
// capabilities) and a KEEPALIVE. On the first connection, once berth's KEEPALIVE arrives, it writes
// bytes that are not BGP (a header whose marker is not all ones, RFC 4271 §4.1) and records what berth
// sends back until berth closes. Later connections behave (KEEPALIVE every 3 s), so berth can
// reconnect and stay up. Every event is a JSON line on stdout:
//   {"event":"listening"} {"event":"accepted","conn":n} {"event":"garbage-sent","conn":n,"hex":...}
//   {"event":"closed","conn":n,"received":hex of everything berth sent on it}
// Bytes are built by hand here, never with berth's own codec.
import net from 'node:net';

const [address = '0.0.0.0', asText = '64512'] = process.argv.slice(2);
const asn = Number(asText);
const out = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

const MARKER = Buffer.alloc(16, 0xff);
function message(type: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(19 + body.length);
  return Buffer.concat([MARKER, len, Buffer.from([type]), body]);
}
function open(): Buffer {
  const caps = Buffer.from([
    2, 6, 1, 4, 0, 1, 0, 1, // Capabilities param: Multiprotocol (1), len 4, AFI 1 IPv4, reserved, SAFI 1
    2, 6, 65, 4, 0, 0, 0, 0, // Capabilities param: 4-octet AS (65), len 4, the AS (filled below)
  ]);
  caps.writeUInt32BE(asn, 12);
  const head = Buffer.alloc(10);
  head[0] = 4; // version
  head.writeUInt16BE(asn > 0xffff ? 23456 : asn, 1);
  head.writeUInt16BE(9, 3); // hold time
  Buffer.from(address.split('.').map(Number)).copy(head, 5); // BGP identifier
  head[9] = caps.length;
  return message(1, Buffer.concat([head, caps]));
}
const KEEPALIVE = message(4, Buffer.alloc(0));
// 19 octets shaped like a header, but the marker is zeros: "Connection Not Synchronized" (RFC 4271 §6.1).
const GARBAGE = Buffer.concat([Buffer.alloc(16, 0), Buffer.from([0, 19, 4])]);

let conns = 0;
const server = net.createServer((sock) => {
  const conn = ++conns;
  out({ event: 'accepted', conn, from: sock.remoteAddress });
  const received: Buffer[] = [];
  let sentOpen = false;
  let timer: NodeJS.Timeout | undefined;
  sock.on('data', (d) => {
    received.push(d);
    const all = Buffer.concat(received);
    if (!sentOpen && all.length >= 19 && all[18] === 1) {
      sentOpen = true;
      sock.write(Buffer.concat([open(), KEEPALIVE]));
      return;
    }
    // berth's KEEPALIVE after its OPEN: the session is up on berth's side.
    const openLen = all.length >= 18 ? all.readUInt16BE(16) : 0;
    if (sentOpen && timer === undefined && all.length >= openLen + 19) {
      if (conn === 1) {
        sock.write(GARBAGE);
        out({ event: 'garbage-sent', conn, hex: GARBAGE.toString('hex') });
        timer = setTimeout(() => undefined, 0);
      } else {
        timer = setInterval(() => sock.write(KEEPALIVE), 3000);
      }
    }
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    if (timer !== undefined) clearInterval(timer);
    out({ event: 'closed', conn, received: Buffer.concat(received).toString('hex') });
  });
});
server.listen({ host: address, port: 179 }, () => out({ event: 'listening' }));
process.on('SIGTERM', () => process.exit(0));
