// A helper process for the src/sys integration tests: runs inside a lab namespace
// (`ip netns exec <ns> node --import tsx agent.ts`), takes JSON commands on stdin, one per line,
// answers {id, ok, result | error} and reports events ({ev: ...}) on stdout. It drives the real
// src/sys API, so the test process (in the root namespace) can use sockets in other namespaces.
import { createInterface } from 'node:readline';
import type net from 'node:net';
import {
  openPacketSocket,
  connectTcp,
  listenTcp,
  getSocketTtl,
  setSocketTtl,
  SysError,
  listInterfaces,
  interfaceHolding,
  routeTo,
  type PacketSocket,
  type TcpListener,
  type TcpConnectOptions,
  type TcpListenOptions,
} from '../../../src/sys/index.ts';

type Msg = { readonly id: number; readonly op: string } & Record<string, unknown>;

const out = (o: unknown): void => {
  process.stdout.write(JSON.stringify(o) + '\n');
};

let packet: PacketSocket | undefined;
let received = 0;
let quiet = false;
let listener: TcpListener | undefined;
let conn: net.Socket | undefined;

const errorOf = (err: unknown): { message: string; kind?: string; code?: string } =>
  err instanceof SysError ? { message: err.message, kind: err.kind, code: err.code } : { message: String(err) };

/** Reads a socket line by line; nextLine() takes the oldest unread line or waits for one. */
function lineReader(socket: net.Socket): (timeoutMs: number) => Promise<string> {
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = '';
  socket.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const w = waiters.shift();
      if (w === undefined) lines.push(line);
      else w(line);
    }
  });
  return (timeoutMs) =>
    new Promise((resolve, reject) => {
      const l = lines.shift();
      if (l !== undefined) {
        resolve(l);
        return;
      }
      const timer = setTimeout(() => reject(new Error('no line from peer')), timeoutMs);
      waiters.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
}

let nextLine: ((timeoutMs: number) => Promise<string>) | undefined;

async function handle(m: Msg): Promise<unknown> {
  switch (m.op) {
    case 'open': {
      quiet = m['quiet'] === true;
      packet = openPacketSocket({
        ifname: String(m['ifname']),
        etherType: Number(m['etherType']),
        ...(m['filter'] === 'arpRequest' || m['filter'] === 'neighborSolicitation' ? { filter: m['filter'] } : {}),
        onFrame: (f) => {
          received++;
          if (!quiet) out({ ev: 'frame', hex: f.frame.toString('hex'), packetType: f.packetType, ifindex: f.ifindex });
        },
      });
      return { ifindex: packet.ifindex };
    }
    case 'join':
      packet?.addMembership(Buffer.from(String(m['mac']).replaceAll(':', ''), 'hex'));
      return null;
    case 'leave':
      packet?.dropMembership(Buffer.from(String(m['mac']).replaceAll(':', ''), 'hex'));
      return null;
    case 'send': {
      const frame = Buffer.from(String(m['hex']), 'hex');
      const count = Number(m['count'] ?? 1);
      let sent = 0;
      let failed = 0;
      // Bursts of 64 with a turn of the event loop between them, like a responder under load.
      while (sent + failed < count) {
        for (let i = 0; i < 64 && sent + failed < count; i++) {
          try {
            packet?.send(frame);
            sent++;
          } catch {
            failed++;
          }
        }
        await new Promise((r) => setImmediate(r));
      }
      return { sent, failed };
    }
    case 'received':
      return { received, stats: packet?.stats() };
    case 'closePacket':
      packet?.close();
      return null;
    case 'listen': {
      listener = await listenTcp(m['opts'] as TcpListenOptions);
      listener.server.on('connection', (s: net.Socket) => {
        const ttl = getSocketTtl(s);
        out({ ev: 'accepted', remoteAddress: s.remoteAddress, remotePort: s.remotePort, ttl });
        s.on('error', () => undefined);
        s.on('data', (d: Buffer) => s.write(`echo ${d.toString()}`));
        s.write('hello from server\n');
      });
      return { port: listener.port, options: listener.options() };
    }
    case 'setKey':
      listener?.setMd5Key(String(m['address']), String(m['key']));
      return null;
    case 'delKey':
      listener?.deleteMd5Key(String(m['address']));
      return null;
    case 'connect': {
      conn?.destroy();
      const s = await connectTcp(m['opts'] as TcpConnectOptions);
      conn = s;
      s.on('error', () => undefined);
      nextLine = lineReader(s);
      const hello = await nextLine(3000);
      s.write('ping\n');
      return {
        hello,
        localAddress: s.localAddress,
        localPort: s.localPort,
        remoteAddress: s.remoteAddress,
        ttl: getSocketTtl(s),
      };
    }
    case 'echo': {
      if (nextLine === undefined) throw new Error('not connected');
      return await nextLine(3000);
    }
    case 'setTtl': {
      if (conn === undefined) throw new Error('not connected');
      setSocketTtl(conn, m['opts'] as { ttl?: number; minTtl?: number });
      return getSocketTtl(conn);
    }
    case 'interfaces':
      return await listInterfaces();
    case 'holding':
      return (await interfaceHolding(String(m['ip'])))?.name ?? null;
    case 'route':
      return (await routeTo(String(m['ip']))) ?? null;
    case 'exit':
      setImmediate(() => process.exit(0));
      return null;
    default:
      throw new Error(`unknown op ${m.op}`);
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const m = JSON.parse(line) as Msg;
  handle(m).then(
    (result) => out({ id: m.id, ok: true, result }),
    (err: unknown) => out({ id: m.id, ok: false, error: errorOf(err) }),
  );
});
rl.on('close', () => process.exit(0));
out({ ev: 'ready' });
