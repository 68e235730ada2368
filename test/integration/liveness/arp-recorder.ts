// The LAN client's recorder for the liveness tests (run inside the client namespace): asks for the VIP
// with an ARP request every --every ms, from the client's own MAC and IP, and prints one JSON line per
// ARP frame whose sender IP is the VIP, for the whole run: {"t": ms, "op": "reply"|"request", "mac": ..,
// "seq": requests sent so far, "g": true for a gratuitous ARP (target IP = VIP: an announcement, not
// an answer)}. A line "garp MAC" on stdin sends a crafted gratuitous ARP for the VIP
// from MAC (a rogue duplicate owner); "una MAC" an unsolicited Neighbor Advertisement for VIP6 from MAC.
// Uses berth's own codecs and src/sys AF_PACKET sockets.
//   node --import tsx arp-recorder.ts IFACE CLIENT_MAC CLIENT_IP VIP EVERY_MS [VIP6]
import { createInterface } from 'node:readline';
import { openPacketSocket, openSendSocket, EtherType } from '../../../src/sys/packet.ts';
import { decodeEthernet, encodeEthernet } from '../../../src/l2/ethernet.ts';
import { decodeArp, encodeArp } from '../../../src/l2/arp.ts';
import { gratuitousArp, unsolicitedAdvertisement } from '../../../src/l2/announcements.ts';
import { ArpOperation } from '../../../src/l2/constants.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../../src/l2/addresses.ts';

const [iface = '', mac = '', ip = '', vip = '', everyText = '50', vip6 = ''] = process.argv.slice(2);
const start = performance.now();
let seq = 0;
const out = (o: Record<string, unknown>): void => void process.stdout.write(`${JSON.stringify({ t: Math.round((performance.now() - start) * 10) / 10, ...o })}\n`);

const socket = openPacketSocket({
  ifname: iface,
  etherType: EtherType.ARP,
  onFrame: (f) => {
    try {
      const arp = decodeArp(decodeEthernet(f.frame).payload);
      if (arp.senderProtocol !== vip) return;
      out({ op: arp.operation === ArpOperation.reply ? 'reply' : 'request', mac: arp.senderHardware, seq, ...(arp.targetProtocol === vip ? { g: true } : {}) });
    } catch {
      // not ARP for Ethernet/IPv4: not ours to record
    }
  },
});
const request = encodeEthernet({
  destination: BROADCAST_MAC,
  source: mac,
  etherType: EtherType.ARP,
  payload: encodeArp({ operation: ArpOperation.request, senderHardware: mac, senderProtocol: ip, targetHardware: ZERO_MAC, targetProtocol: vip }),
});
setInterval(() => {
  seq++;
  socket.send(request);
}, Number(everyText));
const sender6 = vip6 === '' ? undefined : openSendSocket(iface);
createInterface({ input: process.stdin }).on('line', (l) => {
  const m = /^(garp|una) ([0-9a-f:]{17})$/.exec(l.trim());
  if (m === null) return;
  const rogue = m[2] ?? '';
  if (m[1] === 'garp') for (const frame of gratuitousArp({ mac: rogue }, vip)) socket.send(frame);
  else sender6?.send(unsolicitedAdvertisement({ mac: rogue }, vip6));
  out({ op: 'injected', mac: rogue, seq });
});
out({ op: 'ready', mac, seq });
