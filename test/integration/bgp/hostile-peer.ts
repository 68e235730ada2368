// A hostile BGP peer for hostile-peer.test.ts, run inside a lab namespace. It listens on argv[2]:179 as
// AS argv[3] and plays one scenario per connection berth opens, in the order given by argv[4]
// (comma-separated names, below); connections after the last scenario behave (KEEPALIVE every second).
// Every connection starts with a normal OPEN exchange (hold time 3 s, 4-octet AS + IPv4 unicast
// capabilities, no extended message: the 4096-octet limit applies, RFC 8654 §4).
//
// Events, one JSON line each on stdout:
//   {"event":"listening"}
//   {"event":"established","conn":n,"scenario":s}        berth's KEEPALIVE after OPEN arrived (or OPEN sent, for garbage-after-open)
//   {"event":"sent","conn":n,"scenario":s,...figures}      the scenario's bytes are all written
//   {"event":"keepalives-after","conn":n,"scenario":s}     2 KEEPALIVEs from berth arrived after "sent", no NOTIFICATION
//   {"event":"notification","conn":n,"scenario":s,"code":c,"subcode":x,"data":hex,"afterMs":t}
//   {"event":"closed","conn":n,"scenario":s,"by":"berth"|"us","receivedBytes":b}
// Stay-up scenarios end with our own NOTIFICATION Cease/Administrative Reset (RFC 4486) once
// "keepalives-after" was seen, so berth reconnects for the next one.
//
// Bytes are built by hand here, never with berth's codec.
import net from 'node:net';

const [address = '0.0.0.0', asText = '64999', list = ''] = process.argv.slice(2);
const asn = Number(asText);
const scenarios = list.split(',').filter((s) => s !== '');
const out = (o: object): void => {
  process.stdout.write(`${JSON.stringify(o)}\n`);
};

// RFC 4271 §4.1 header: 16-octet marker of ones, 2-octet length, 1-octet type.
const MARKER = Buffer.alloc(16, 0xff);
const TYPE = { OPEN: 1, UPDATE: 2, NOTIFICATION: 3, KEEPALIVE: 4 } as const;
function message(type: number, body: Buffer, length = 19 + body.length): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(length);
  return Buffer.concat([MARKER, len, Buffer.from([type]), body]);
}
function open(): Buffer {
  const caps = Buffer.from([
    2, 6, 1, 4, 0, 1, 0, 1, // Capabilities: Multiprotocol (1), len 4, AFI 1 IPv4, reserved, SAFI 1
    2, 6, 65, 4, 0, 0, 0, 0, // Capabilities: 4-octet AS (65), len 4, the AS (filled below)
  ]);
  caps.writeUInt32BE(asn, 12);
  const head = Buffer.alloc(10);
  head[0] = 4; // version
  head.writeUInt16BE(asn > 0xffff ? 23456 : asn, 1);
  head.writeUInt16BE(3, 3); // hold time 3 s
  Buffer.from(address.split('.').map(Number)).copy(head, 5); // BGP identifier
  head[9] = caps.length;
  return message(TYPE.OPEN, Buffer.concat([head, caps]));
}
const KEEPALIVE = message(TYPE.KEEPALIVE, Buffer.alloc(0));
const CEASE_ADMIN_RESET = message(TYPE.NOTIFICATION, Buffer.from([6, 4])); // RFC 4486 §4

// Path attributes (RFC 4271 §4.3): flags, type code, length, value.
const attr = (flags: number, code: number, value: number[]): Buffer => Buffer.from([flags, code, value.length, ...value]);
const ORIGIN_IGP = attr(0x40, 1, [0]);
const asPath = (): Buffer => attr(0x40, 2, [2, 1, (asn >>> 24) & 0xff, (asn >>> 16) & 0xff, (asn >>> 8) & 0xff, asn & 0xff]); // AS_SEQUENCE [asn]
const NEXT_HOP = (): Buffer => attr(0x40, 3, address.split('.').map(Number));
/** UPDATE body: withdrawn routes, path attributes, NLRI (RFC 4271 §4.3). */
function update(attrs: Buffer[], nlri: Buffer, withdrawn = Buffer.alloc(0)): Buffer {
  const a = Buffer.concat(attrs);
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE(withdrawn.length);
  const al = Buffer.alloc(2);
  al.writeUInt16BE(a.length);
  return message(TYPE.UPDATE, Buffer.concat([wl, withdrawn, al, a, nlri]));
}
const prefix32 = (i: number): Buffer => Buffer.from([32, 203, 0, 113, i & 0xff]);
const good = (i: number, extra: Buffer[] = []): Buffer => update([ORIGIN_IGP, asPath(), NEXT_HOP(), ...extra], prefix32(i));
// COMMUNITIES (RFC 1997) of 5 octets: not a multiple of 4, RFC 7606 §7.8 treat-as-withdraw. Used as
// the marker berth logs ("UPDATE attribute problem") to prove it read an UPDATE whole.
const BAD_COMMUNITIES = attr(0xc0, 8, [0, 0, 0, 1, 2]);

/** What a scenario sends once the session is up, and whether berth should keep the session. */
interface Scenario {
  /** true: RFC 7606 treat-as-withdraw / attribute-discard, the session stays; false: berth resets it. */
  readonly staysUp: boolean;
  /** Sent right after our OPEN instead of after berth's KEEPALIVE. */
  readonly afterOpen?: boolean;
  run(sock: net.Socket, done: (figures?: object) => void): void;
}
const once = (bytes: () => Buffer, staysUp: boolean): Scenario => ({
  staysUp,
  run: (sock, done) => {
    sock.write(bytes(), () => done());
  },
});

const SCENARIOS: Readonly<Record<string, Scenario>> = {
  // RFC 4271 §6.1: a marker that is not all ones -> Message Header Error / Connection Not Synchronized.
  'garbage-after-open': { staysUp: false, afterOpen: true, run: (sock, done) => sock.write(Buffer.concat([Buffer.alloc(16, 0x5a), Buffer.from([0, 19, 4]), Buffer.from('not bgp at all')]), () => done()) },
  'wrong-marker': once(() => Buffer.concat([Buffer.alloc(15, 0xff), Buffer.from([0xfe, 0, 19, 4])]), false),
  // RFC 4271 §6.1: Length < 19 -> Bad Message Length, data = the length field.
  'truncated-header-length': once(() => message(TYPE.KEEPALIVE, Buffer.alloc(0), 18), false),
  // RFC 4271 §6.1: a KEEPALIVE whose length is not 19 -> Bad Message Length.
  'keepalive-too-long': once(() => message(TYPE.KEEPALIVE, Buffer.alloc(1)), false),
  // RFC 4271 §6.1: an UPDATE shorter than 23 octets -> Bad Message Length.
  'update-too-short': once(() => message(TYPE.UPDATE, Buffer.from([0, 0])), false),
  // RFC 4271 §6.1 + RFC 8654 §4: 4097 octets without the Extended Message capability -> Bad Message Length.
  oversized: once(() => message(TYPE.UPDATE, Buffer.concat([Buffer.from([0, 0, 0, 0]), Buffer.alloc(4097 - 23)])), false),
  // RFC 4271 §6.1: type 9 -> Bad Message Type, data = the type octet.
  'unknown-type': once(() => message(9, Buffer.alloc(4)), false),
  // RFC 7606 §3(c): attribute flags error (ORIGIN marked optional) -> treat-as-withdraw.
  'attr-flags': once(() => update([attr(0xc0, 1, [0]), asPath(), NEXT_HOP()], prefix32(1)), true),
  // RFC 7606 §7.1: ORIGIN value undefined -> treat-as-withdraw.
  'origin-value': once(() => update([attr(0x40, 1, [7]), asPath(), NEXT_HOP()], prefix32(2)), true),
  // RFC 7606 §3(d): NLRI without the well-known mandatory NEXT_HOP -> treat-as-withdraw.
  'missing-next-hop': once(() => update([ORIGIN_IGP, asPath()], prefix32(3)), true),
  // RFC 7606 §7.8: COMMUNITIES length not a multiple of 4 -> treat-as-withdraw.
  'communities-length': once(() => good(4, [BAD_COMMUNITIES]), true),
  // RFC 7606 §7.6: ATOMIC_AGGREGATE of length 1 -> attribute-discard.
  'atomic-aggregate-length': once(() => good(5, [attr(0x40, 6, [1])]), true),
  // RFC 7606 §3(g): a repeated attribute (not MP_*) -> the later ones are discarded, the UPDATE is used.
  'duplicate-origin': once(() => update([ORIGIN_IGP, ORIGIN_IGP, asPath(), NEXT_HOP()], prefix32(6)), true),
  // RFC 7606 §4: an attribute's length overruns the attribute list -> treat-as-withdraw (the Total Path
  // Attribute Length still locates the NLRI).
  'attr-length-overrun': once(() => update([ORIGIN_IGP, asPath(), NEXT_HOP(), Buffer.from([0xc0, 8, 40, 0, 0])], prefix32(7)), true),
  // RFC 7606 §3(g): MP_REACH_NLRI twice -> session reset, Malformed Attribute List (3/1).
  'duplicate-mp-reach': once(() => {
    const mp = attr(0x80, 14, [0, 1, 1, 4, ...address.split('.').map(Number), 0, 32, 203, 0, 113, 8]);
    return update([ORIGIN_IGP, asPath(), mp, mp], Buffer.alloc(0));
  }, false),
  // RFC 7606 §7.11: MP_REACH_NLRI whose next hop length does not fit the family -> session reset;
  // RFC 4760 §7 names Optional Attribute Error (3/9).
  'mp-reach-next-hop-length': once(() => update([ORIGIN_IGP, asPath(), attr(0x80, 14, [0, 1, 1, 3, 192, 0, 2, 0, 32, 203, 0, 113, 9])], Buffer.alloc(0)), false),
  // RFC 7606 §4 / RFC 4271 §6.3: Withdrawn Routes Length overruns the message -> Malformed Attribute List (3/1).
  'withdrawn-overrun': once(() => message(TYPE.UPDATE, Buffer.from([0, 200, 0, 0])), false),
  // RFC 7606 §5.3 / RFC 4271 §6.3: an NLRI prefix length of 33 -> session reset, Invalid Network Field (3/10).
  'nlri-length-33': once(() => update([ORIGIN_IGP, asPath(), NEXT_HOP()], Buffer.from([33, 203, 0, 113, 10, 0])), false),
  // Two UPDATEs and a KEEPALIVE, one octet per write (TCP_NODELAY, 1 ms apart): every boundary.
  'split-every-byte': {
    staysUp: true,
    run: (sock, done) => {
      const bytes = Buffer.concat([good(11), KEEPALIVE, good(12, [BAD_COMMUNITIES])]);
      let i = 0;
      const step = (): void => {
        if (i >= bytes.length) return done({ octets: bytes.length, writes: bytes.length });
        sock.write(bytes.subarray(i, i + 1));
        i += 1;
        setTimeout(step, 1);
      };
      step();
    },
  },
  // 10,000 UPDATEs per second for 3 s, the last with the marker problem. Paced by the clock: each tick
  // writes what the rate owes since the start, so a slow timer does not lower the rate.
  flood: {
    staysUp: true,
    run: (sock, done) => {
      const total = 30_000;
      const rate = 10_000;
      const pool = Array.from({ length: 256 }, (_, i) => good(i));
      const started = process.hrtime.bigint();
      let sent = 0;
      const tick = (): void => {
        const owed = Math.min(total, Math.floor((Number(process.hrtime.bigint() - started) / 1e9) * rate) + 100);
        if (sent >= total) {
          sock.write(good(255, [BAD_COMMUNITIES]), () => {
            const seconds = Number(process.hrtime.bigint() - started) / 1e9;
            done({ updates: sent + 1, seconds: Number(seconds.toFixed(2)), perSecond: Math.round((sent + 1) / seconds) });
          });
          return;
        }
        const n = Math.max(0, owed - sent);
        if (n > 0) sock.write(Buffer.concat(Array.from({ length: n }, (_, i) => pool[(sent + i) % pool.length] as Buffer)));
        sent += n;
        setTimeout(tick, 5);
      };
      tick();
    },
  },
  // RFC 4271 §6.5: one octet per second and nothing whole: berth's hold timer (3 s) expires -> 4/0.
  slowloris: {
    staysUp: false,
    run: (sock, done) => {
      let i = 0;
      const t = setInterval(() => {
        if (sock.destroyed || i >= KEEPALIVE.length) {
          clearInterval(t);
          return;
        }
        sock.write(KEEPALIVE.subarray(i, i + 1));
        i += 1;
      }, 1000);
      sock.once('close', () => clearInterval(t));
      done({ octetsPerSecond: 1 });
    },
  },
  // Reads nothing more (berth's send buffer fills) while sending KEEPALIVEs, so only berth's bound on
  // what it holds for this peer can end the session.
  'never-read': {
    staysUp: false,
    run: (sock, done) => {
      sock.pause();
      const t = setInterval(() => {
        if (!sock.destroyed) sock.write(KEEPALIVE);
      }, 1000);
      sock.once('close', () => clearInterval(t));
      done();
    },
  },
};
for (const s of scenarios) if (SCENARIOS[s] === undefined) throw new Error(`unknown scenario ${s}`);

let conns = 0;
const server = net.createServer((sock) => {
  const conn = ++conns;
  const name = scenarios[conn - 1] ?? 'behave';
  const scenario = SCENARIOS[name];
  sock.setNoDelay(true);
  let buf = Buffer.alloc(0);
  let receivedBytes = 0;
  let sentOpen = false;
  let up = false;
  let sentAt: bigint | undefined;
  let keepalivesAfter = 0;
  let closedByUs = false;
  let ka: NodeJS.Timeout | undefined;
  const startKeepalives = (): void => {
    ka ??= setInterval(() => {
      if (!sock.destroyed) sock.write(KEEPALIVE);
    }, 1000);
  };
  const stopKeepalives = (): void => {
    if (ka !== undefined) clearInterval(ka);
    ka = undefined;
  };
  const begin = (): void => {
    out({ event: 'established', conn, scenario: name });
    if (scenario === undefined) return startKeepalives();
    // Stay-up scenarios keep our side alive; the others stop our KEEPALIVEs (slowloris must starve
    // berth's hold timer; a header error must be the only thing berth reacts to).
    if (scenario.staysUp) startKeepalives();
    scenario.run(sock, (figures) => {
      sentAt = process.hrtime.bigint();
      out({ event: 'sent', conn, scenario: name, ...(figures ?? {}) });
    });
  };
  sock.on('data', (d: Buffer) => {
    receivedBytes += d.length;
    buf = Buffer.concat([buf, d]);
    while (buf.length >= 19) {
      const len = buf.readUInt16BE(16);
      if (len < 19 || buf.length < len) break;
      const type = buf[18];
      const body = buf.subarray(19, len);
      buf = buf.subarray(len);
      if (type === TYPE.OPEN && !sentOpen) {
        sentOpen = true;
        if (scenario?.afterOpen === true) {
          sock.write(open());
          begin();
        } else sock.write(Buffer.concat([open(), KEEPALIVE]));
      } else if (type === TYPE.KEEPALIVE && sentOpen && !up && scenario?.afterOpen !== true) {
        up = true;
        begin();
      } else if (type === TYPE.KEEPALIVE && sentAt !== undefined) {
        keepalivesAfter += 1;
        if (keepalivesAfter === 2 && scenario?.staysUp === true) {
          out({ event: 'keepalives-after', conn, scenario: name });
          closedByUs = true;
          stopKeepalives();
          sock.end(CEASE_ADMIN_RESET);
        }
      } else if (type === TYPE.NOTIFICATION) {
        const afterMs = sentAt === undefined ? undefined : Number((process.hrtime.bigint() - sentAt) / 1_000_000n);
        out({ event: 'notification', conn, scenario: name, code: body[0], subcode: body[1], data: body.subarray(2).toString('hex'), afterMs });
      }
    }
  });
  sock.on('error', () => undefined);
  sock.on('close', () => {
    stopKeepalives();
    out({ event: 'closed', conn, scenario: name, by: closedByUs ? 'us' : 'berth', receivedBytes });
  });
});
server.listen({ host: address, port: 179 }, () => out({ event: 'listening' }));
process.on('SIGTERM', () => process.exit(0));
