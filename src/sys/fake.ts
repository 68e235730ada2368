// Fakes of the src/sys transports for unit tests of responders and sessions: no sockets, no root.
// A FakeLan connects fake packet transports like a hub: a frame sent by one is delivered to every
// other open transport on the LAN with the same EtherType whose MAC filter accepts it.
import type { PacketSocketOptions, PacketTransport, PacketType, ReceivedFrame } from './packet.ts';
import { SysError, SysErrorKind } from './errors.ts';

export interface FakePacketTransport extends PacketTransport {
  /** Every frame this transport sent, oldest first. */
  readonly sent: readonly Buffer[];
  /** Multicast groups joined, as 'aa:bb:cc:dd:ee:ff'. */
  readonly memberships: ReadonlySet<string>;
  /** Delivers a frame to the handler as if the kernel had received it. */
  inject(frame: Buffer, packetType?: PacketType): void;
}

export interface FakeLan {
  /** An OpenPacketTransport for one host on this LAN; `mac` is the host's interface MAC. */
  open(opts: PacketSocketOptions & { readonly mac?: string }): FakePacketTransport;
}

const macText = (b: Buffer): string => [...b.subarray(0, 6)].map((x) => x.toString(16).padStart(2, '0')).join(':');

/** A fake transport on its own (not on a LAN). */
export function createFakePacketTransport(opts: PacketSocketOptions, ifindex = 1): FakePacketTransport {
  return makeFake(opts, ifindex, () => undefined);
}

export function createFakeLan(): FakeLan {
  const members: { t: FakePacketTransport; mac: string }[] = [];
  let next = 1;
  return {
    open(opts) {
      const mac = opts.mac ?? `02:00:00:00:00:${(next % 256).toString(16).padStart(2, '0')}`;
      const t = makeFake(opts, next++, (frame, from) => {
        const dst = macText(frame);
        for (const m of members) {
          if (m.t === from || m.t.closed || m.t.etherType !== from.etherType) continue;
          // Ethernet delivery (IEEE 802.3): broadcast, our MAC, or a group we joined.
          if (dst === 'ff:ff:ff:ff:ff:ff') m.t.inject(Buffer.from(frame), 'broadcast');
          else if (dst === m.mac) m.t.inject(Buffer.from(frame), 'host');
          else if (m.t.memberships.has(dst)) m.t.inject(Buffer.from(frame), 'multicast');
        }
      });
      members.push({ t, mac: mac.toLowerCase() });
      return t;
    },
  };
}

function makeFake(
  opts: PacketSocketOptions,
  ifindex: number,
  onSend: (frame: Buffer, from: FakePacketTransport) => void,
): FakePacketTransport {
  const sent: Buffer[] = [];
  const memberships = new Set<string>();
  let closed = false;
  const guard = (): void => {
    if (closed) throw new SysError(SysErrorKind.closed, `fake packet transport on ${opts.ifname} is closed`);
  };
  const self: FakePacketTransport = {
    ifname: opts.ifname,
    ifindex,
    etherType: opts.etherType,
    sent,
    memberships,
    get closed() {
      return closed;
    },
    send(frame) {
      guard();
      sent.push(Buffer.from(frame));
      onSend(frame, self);
    },
    addMembership(mac) {
      guard();
      memberships.add(macText(mac));
    },
    dropMembership(mac) {
      guard();
      memberships.delete(macText(mac));
    },
    close() {
      closed = true;
    },
    inject(frame, packetType = 'host') {
      if (closed) return;
      const rf: ReceivedFrame = { frame, ifindex, packetType };
      opts.onFrame(rf);
    },
  };
  return self;
}
