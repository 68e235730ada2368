// The in-kernel socket filters (SO_ATTACH_FILTER, src/sys/bpf.ts) through the real kernel: node1
// sends a mix of frames; on node2 one agent's socket carries the filter and a second agent's socket
// on the same interface and EtherType does not, so every frame is shown to have arrived and only the
// filter kept it from JavaScript.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab } from '../../../frr-lab/lab.ts';
import { startAgent } from './agent-client.ts';
import { KERNEL_ARP_REPLY, KERNEL_ARP_REQUEST, KERNEL_NA, KERNEL_NS } from '../../unit/l2/vectors.ts';

const PREFIX = 'bsysf';

const withByte = (f: Buffer, offset: number, value: number): Buffer => {
  const c = Buffer.from(f);
  c[offset] = value;
  return c;
};
const broadcast = (f: Buffer): Buffer => Buffer.concat([Buffer.from('ffffffffffff', 'hex'), f.subarray(6)]);

async function sendAndCollect(etherType: number, filter: string, frames: readonly Buffer[], lastExpected: Buffer): Promise<{ filtered: string[]; unfiltered: string[] }> {
  let result: { filtered: string[]; unfiltered: string[] } | undefined;
  await withLab({ prefix: PREFIX, nodes: 2 }, async (lab) => {
    const a = await startAgent(lab, 'node1');
    const filtered = await startAgent(lab, 'node2');
    const unfiltered = await startAgent(lab, 'node2');
    await a.call('open', { ifname: 'eth1', etherType });
    await filtered.call('open', { ifname: 'eth1', etherType, filter });
    await unfiltered.call('open', { ifname: 'eth1', etherType });
    for (const f of frames) await a.call('send', { hex: f.toString('hex') });
    // The frame the filter passes goes last: once it is in, everything before it was decided.
    const last = lastExpected.toString('hex');
    await filtered.waitEvent((e) => e.ev === 'frame' && e['hex'] === last);
    // Frames reach one socket in the order they were sent: the filtered socket has seen the last one, so
    // any earlier frame its filter let through is already in its events. The unfiltered socket must
    // see every frame; each one is waited for (a missing one names itself).
    for (const h of frames.map((f) => f.toString('hex'))) {
      await unfiltered.waitEvent((e) => e.ev === 'frame' && e['hex'] === h).catch(() => assert.fail(`without the filter ${h.slice(0, 40)}... never arrived`));
    }
    const hexes = (events: readonly { ev: string; [k: string]: unknown }[]): string[] => events.filter((e) => e.ev === 'frame').map((e) => String(e['hex']));
    result = { filtered: hexes(filtered.events), unfiltered: hexes(unfiltered.events) };
  });
  assert.ok(result !== undefined);
  return result;
}

test('neighborSolicitation filter: only the Neighbor Solicitation reaches JavaScript', async () => {
  const others = [
    KERNEL_NA, // ICMPv6 type 136
    withByte(KERNEL_NS, 54, 128), // ICMPv6 echo request
    withByte(KERNEL_NS, 20, 17), // UDP
  ];
  // (A next header 0 frame is not sent: the bridge's MLD snooping drops this malformed hop-by-hop
  // header before it reaches node2; the unit test covers that case.)
  const frames = [...others, KERNEL_NS];
  const r = await sendAndCollect(0x86dd, 'neighborSolicitation', frames, KERNEL_NS);
  // The unfiltered socket may also see the kernels' own IPv6 traffic (router solicitations, MLD).
  for (const f of frames) assert.ok(r.unfiltered.includes(f.toString('hex')), `without the filter ${f.toString('hex').slice(0, 40)}... arrives`);
  assert.deepEqual(r.filtered, [KERNEL_NS.toString('hex')]);
});

test('arpRequest filter: ARP replies stay in the kernel, requests arrive', async () => {
  const reply = broadcast(KERNEL_ARP_REPLY);
  const frames = [reply, withByte(reply, 21, 3) /* RARP-style op 3 */, KERNEL_ARP_REQUEST];
  const r = await sendAndCollect(0x0806, 'arpRequest', frames, KERNEL_ARP_REQUEST);
  for (const f of frames) assert.ok(r.unfiltered.includes(f.toString('hex')), `without the filter ${f.toString('hex').slice(0, 40)}... arrives`);
  assert.deepEqual(r.filtered, [KERNEL_ARP_REQUEST.toString('hex')]);
});
