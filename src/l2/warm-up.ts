// Runs the responders' per-frame paths on synthetic frames, once per process, so V8 has optimised
// them before the first real request arrives. Without it the first thousand or so requests after a
// start run in the interpreter / baseline code and compile on the way: bench/l2 showed their p99 at
// 2-3 ms against about 0.1 ms for the requests after them (docs/layer2.md). Pure CPU, no I/O, a few
// milliseconds.
import { EtherType, IpProtocol, NDP_HOP_LIMIT, ArpOperation } from './constants.ts';
import { BROADCAST_MAC, ZERO_MAC, ipv6MulticastMac, solicitedNodeMulticast } from './addresses.ts';
import { encodeEthernet } from './ethernet.ts';
import { encodeArp } from './arp.ts';
import { encodeIpv6 } from './ipv6.ts';
import { encodeNdp } from './icmpv6.ts';
import { respondArp } from './arp-responder.ts';
import { respondNdp } from './ndp-responder.ts';
import { createReplyScratch } from './frame-bytes.ts';

const OUR_MAC = '02:00:5e:00:53:01'; // RFC 7042 §2.1.2 documentation MAC range
const PEER_MAC = '02:00:5e:00:53:02';
const WARM_ITERATIONS = 3000;
let warmed = false;

function arpRequest(target: string): Buffer {
  return encodeEthernet({
    destination: BROADCAST_MAC,
    source: PEER_MAC,
    etherType: EtherType.arp,
    payload: encodeArp({ operation: ArpOperation.request, senderHardware: PEER_MAC, senderProtocol: '192.0.2.2', targetHardware: ZERO_MAC, targetProtocol: target }),
  });
}

function solicitation(target: string): Buffer {
  const group = solicitedNodeMulticast(target);
  const pseudo = { source: '2001:db8::2', destination: group };
  return encodeEthernet({
    destination: ipv6MulticastMac(group),
    source: PEER_MAC,
    etherType: EtherType.ipv6,
    payload: encodeIpv6({
      header: { trafficClass: 0, flowLabel: 0, nextHeader: IpProtocol.icmpv6, hopLimit: NDP_HOP_LIMIT, ...pseudo },
      payload: encodeNdp({ kind: 'neighborSolicitation', target, options: [{ kind: 'sourceLinkLayerAddress', address: PEER_MAC }] }, pseudo),
    }),
  });
}

/** Idempotent: the first call runs the responders WARM_ITERATIONS times each (answered and dropped). */
export function warmUpResponders(): void {
  if (warmed) return;
  warmed = true;
  const ours = new Set(['192.0.2.1', '2001:db8::1']);
  const ctx = { mac: OUR_MAC, owns: (ip: string) => ours.has(ip) };
  const scratch = createReplyScratch();
  const arp = { owned: arpRequest('192.0.2.1'), other: arpRequest('192.0.2.3') };
  const ndp = { owned: solicitation('2001:db8::1'), other: solicitation('2001:db8::3') };
  let replies = 0;
  for (let i = 0; i < WARM_ITERATIONS; i++) {
    const owned = i % 2 === 0;
    if (respondArp(owned ? arp.owned : arp.other, ctx, scratch).kind === 'reply') replies++;
    if (respondNdp(owned ? ndp.owned : ndp.other, ctx, scratch).kind === 'reply') replies++;
  }
  // Every other frame is owned: anything else means the responders changed and this needs a look.
  if (replies !== WARM_ITERATIONS) throw new Error(`l2 warm-up: ${replies} replies, expected ${WARM_ITERATIONS}`);
}
