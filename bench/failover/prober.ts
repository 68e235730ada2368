// The failover benchmark's client (run inside a lab namespace by probes.ts): every --every ms it sends
// an ARP request for the VIP (with --arp) and opens a TCP connection to VIP:PORT (with --tcp), and
// prints one line per outcome, timestamps in wall-clock ms (performance.timeOrigin + now(), the same
// clock the benchmark's main process reads):
//   a <t> <mac>             an ARP frame whose sender IP is the VIP (a reply or an announcement)
//   t <seq> <sent> <ok> <ms>  TCP probe seq sent at <sent>: connected (1) or failed/timed out (0) after <ms>
// A TCP probe that is not connected within --timeout ms counts as lost (the connection is reset either
// way: RST, so no TIME_WAIT piles up at 100 connections a second).
//   node --import tsx prober.ts --every 10 [--arp IFACE,CLIENT_MAC,CLIENT_IP] [--tcp PORT] [--timeout 1000] VIP
import { connect } from 'node:net';
import { parseArgs } from 'node:util';
import { openPacketSocket, EtherType } from '../../src/sys/packet.ts';
import { decodeEthernet, encodeEthernet } from '../../src/l2/ethernet.ts';
import { decodeArp, encodeArp } from '../../src/l2/arp.ts';
import { ArpOperation } from '../../src/l2/constants.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../src/l2/addresses.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { every: { type: 'string', default: '10' }, arp: { type: 'string' }, tcp: { type: 'string' }, timeout: { type: 'string', default: '1000' } },
});
const vip = positionals[0] ?? '';
const every = Number(values.every);
const timeoutMs = Number(values.timeout);
const now = (): number => performance.timeOrigin + performance.now();
const lines: string[] = [];
const emit = (l: string): void => void lines.push(l);
// One write per tick, not per event: the client must stay cheap next to what it measures.
setInterval(() => {
  if (lines.length > 0) process.stdout.write(`${lines.splice(0).join('\n')}\n`);
}, 50);

let sendArp = (): void => undefined;
if (values.arp !== undefined) {
  const [iface = '', mac = '', ip = ''] = values.arp.split(',');
  const socket = openPacketSocket({
    ifname: iface,
    etherType: EtherType.ARP,
    onFrame: (f) => {
      try {
        const arp = decodeArp(decodeEthernet(f.frame).payload);
        if (arp.senderProtocol === vip) emit(`a ${now().toFixed(1)} ${arp.senderHardware}`);
      } catch {
        // not ARP for Ethernet/IPv4: not a probe's answer
      }
    },
  });
  const request = encodeEthernet({
    destination: BROADCAST_MAC,
    source: mac,
    etherType: EtherType.ARP,
    payload: encodeArp({ operation: ArpOperation.request, senderHardware: mac, senderProtocol: ip, targetHardware: ZERO_MAC, targetProtocol: vip }),
  });
  sendArp = () => socket.send(request);
}

let seq = 0;
const port = values.tcp === undefined ? 0 : Number(values.tcp);
function sendTcp(): void {
  const n = ++seq;
  const sent = now();
  let done = false;
  const s = connect({ host: vip, port });
  const finish = (ok: boolean): void => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    emit(`t ${n} ${sent.toFixed(1)} ${ok ? 1 : 0} ${(now() - sent).toFixed(1)}`);
    s.resetAndDestroy();
  };
  const timer = setTimeout(() => finish(false), timeoutMs);
  s.once('connect', () => finish(true));
  s.once('error', () => finish(false));
}

setInterval(() => {
  sendArp();
  if (port > 0) sendTcp();
}, every);
process.stdout.write(`ready ${now().toFixed(1)}\n`);
