// What the liveness and hand-off tests read from the lab: a speaker's /metrics, FRR's view of a VIP and
// of a node's session, and the old owner's log line at the end of a hand-off (docs/handoff.md).
import type { Lab, LabHost } from '../../../frr-lab/lab.ts';

/** The sum of a metric family's samples on the speaker's health port in `node`. */
export async function speakerMetric(lab: Lab, node: LabHost, port: number, name: string): Promise<number> {
  const r = await lab.exec(node, ['curl', '-s', '-m', '2', `http://127.0.0.1:${port}/metrics`], { check: false });
  let sum = 0;
  for (const line of r.stdout.split('\n')) if (line.startsWith(name) && (line[name.length] === ' ' || line[name.length] === '{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

/** The next hops FRR has for an IPv4 prefix (one per node announcing it: ECMP), sorted. */
export async function frrNextHops(lab: Lab, prefix: string): Promise<string[]> {
  const r = await lab.vtyshJson<{ paths?: readonly { nexthops?: readonly { ip?: string }[] }[] }>(`show bgp ipv4 unicast ${prefix} json`);
  return (r.paths ?? []).map((p) => p.nexthops?.[0]?.ip ?? '?').sort();
}

/** FRR's BGP state of a node's session ('absent' once the dynamic neighbour is gone). */
export async function frrSessionState(lab: Lab, address: string): Promise<string> {
  const r = await lab.vtyshJson<Record<string, { bgpState?: string }>>(`show bgp neighbors ${address} json`);
  return r[address]?.bgpState ?? 'absent';
}

/** src/liveness/runtime.ts: a hand-off that ended because the next owner announced the VIP. */
export const HANDED_OFF = 'hand-off: the next owner announced the VIP: we stop answering for it';

/**
 * The old owner's log line saying it stopped answering at `mac`'s announcement: the hand-off, or, when
 * the other node's plan changed first and its announcement came while this node still owned the VIP by
 * its own plan, a conflict it yielded (docs/handoff.md).
 */
export function stoppedAt(l: Record<string, unknown>, mac: string): boolean {
  if (l['otherMac'] !== mac) return false;
  return l['msg'] === HANDED_OFF || (String(l['msg']).startsWith('L2: another MAC answers') && l['resolution'] === 'yield' && l['kind'] === 'announcement');
}
