// The trials. One trial: wait until the system under test is converged and the client sees a steady
// VIP, inject the failure, wait until the client sees a steady VIP again (answered by another node,
// or for a graceful restart by the same node once more), take the window's figures, then undo the
// failure and wait for the original state. A trial that does not settle within its limit is reported
// as such with the figures up to the limit (a lower bound), never as a number it did not measure.
import type { Lab, LabHost } from '../../frr-lab/lab.ts';
import { fibNextHops, linkDown, linkUp } from './lab-setup.ts';
import { longestGap, TCP_TIMEOUT_MS, windowFigures, type Prober, type WindowFigures } from './probes.ts';
import type { Subject } from './subject.ts';

export const L2Case = { kill: 'kill', link: 'link', stop: 'stop', restart: 'restart' } as const;
export type L2Case = (typeof L2Case)[keyof typeof L2Case];
export const BgpCase = { link: 'link', kill: 'kill', restart: 'restart' } as const;
export type BgpCase = (typeof BgpCase)[keyof typeof BgpCase];

export const L2_CASE_TITLES: Record<L2Case, string> = {
  kill: 'L2: owner speaker SIGKILL',
  link: "L2: owner node's link down",
  stop: 'L2: owner hung (SIGSTOP)',
  restart: 'L2: graceful restart (SIGTERM + start)',
};
export const BGP_CASE_TITLES: Record<BgpCase, string> = {
  link: "BGP: node's link cut",
  kill: 'BGP: speaker SIGKILL',
  restart: 'BGP: graceful restart (SIGTERM + start)',
};

export interface Trial extends WindowFigures {
  /** The node the failure hit. */
  readonly node: string;
  /** Did the client see a steady VIP again within the limit? */
  readonly settled: boolean;
  /** BGP: when the router's FIB lost the node's next hop (ms after the failure), if it did. */
  readonly routeGoneMs?: number;
  /** The longest ARP gap in the settled second before the failure: the client's own jitter on this machine. */
  readonly baselineArpGapMs?: number;
  readonly note?: string;
}

const SETTLE_MS = 1000;
const POLL_MS = 50;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.timeOrigin + performance.now();
const log = (s: string): void => void process.stderr.write(`bfo ${new Date().toISOString()} ${s}\n`);

async function until(what: string, timeoutMs: number, fn: () => Promise<boolean> | boolean): Promise<boolean> {
  const deadline = now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (now() > deadline) {
      log(`not within ${timeoutMs} ms: ${what}`);
      return false;
    }
    await sleep(POLL_MS);
  }
}

/** Steady VIP answered by `mac` only (ARP), every TCP probe connected. */
async function steadyOn(prober: Prober, mac: string | undefined, timeoutMs: number): Promise<boolean> {
  return until(`a steady VIP ${prober.vip}${mac === undefined ? '' : ` answered by ${mac} only`}`, timeoutMs, () => {
    const t = now();
    if (!prober.settled(t, SETTLE_MS, mac)) return false;
    return mac === undefined || prober.macsSince(t - SETTLE_MS).every((m) => m === mac);
  });
}

function ownerOf(lab: Lab, prober: Prober): LabHost {
  const mac = prober.arp.at(-1)?.mac;
  const n = lab.nodes.find((x) => x.mac.toLowerCase() === mac);
  if (n === undefined) throw new Error(`no node answers for ${prober.vip} (last MAC ${String(mac)})`);
  return n;
}

export interface TrialLimits {
  /** How long the client may take to see a steady VIP after the failure. */
  readonly settleWithinMs: number;
  /** BGP: what else must hold before a trial (the BFD variant: every BFD session Up at the router). */
  readonly ready?: { readonly what: string; readonly check: () => Promise<boolean> };
}

export async function l2Trial(lab: Lab, subject: Subject, prober: Prober, kase: L2Case, limits: TrialLimits): Promise<Trial> {
  await subject.converged(120_000);
  if (!(await steadyOn(prober, undefined, 60_000))) throw new Error(`${subject.name}: ${prober.vip} is not steady before the trial`);
  const owner = ownerOf(lab, prober);
  const ownerMac = owner.mac.toLowerCase();
  if (!(await steadyOn(prober, ownerMac, 30_000))) throw new Error(`${subject.name}: ${prober.vip} answered by more than one MAC before the trial`);
  prober.trim(now() - 10_000);
  const t0 = now();
  const baseline = longestGap(prober.arp.map((a) => a.t), t0 - SETTLE_MS, t0);
  let started = t0;
  switch (kase) {
    case 'kill':
      await subject.signal(owner, 'SIGKILL');
      break;
    case 'link':
      await linkDown(lab, owner);
      break;
    case 'stop':
      await subject.signal(owner, 'SIGSTOP');
      break;
    case 'restart':
      await subject.stop(owner);
      started = now();
      await subject.start(owner);
      break;
  }
  // Hard failures: settled once another node answers steadily. Restart: once the owner answers again, alone.
  const settled = await until(`${subject.name} ${kase}: a steady VIP again`, limits.settleWithinMs, () => {
    const t = now();
    if (t - t0 < SETTLE_MS || !prober.settled(t, SETTLE_MS)) return false;
    const macs = prober.macsSince(t - SETTLE_MS);
    if (kase === 'restart') return macs.length === 1 && macs[0] === ownerMac && prober.arp.some((a) => a.t >= started && a.mac === ownerMac);
    return macs.some((m) => m !== ownerMac);
  });
  await sleep(TCP_TIMEOUT_MS + 50);
  const end = now() - TCP_TIMEOUT_MS - 50;
  const figures = windowFigures(prober.arp, prober.tcp, t0, end, SETTLE_MS);
  // Undo the failure: back to the original owner.
  if (kase === 'kill') await subject.start(owner);
  else if (kase === 'link') await linkUp(lab, owner);
  else if (kase === 'stop') await subject.signal(owner, 'SIGCONT');
  await subject.converged(120_000);
  if (!(await steadyOn(prober, ownerMac, 60_000))) log(`${subject.name}: ${owner.name} did not get ${prober.vip} back after ${kase}`);
  return { ...figures, node: owner.name, settled, baselineArpGapMs: baseline, ...(settled ? {} : { note: `no steady VIP within ${limits.settleWithinMs / 1000} s` }) };
}

export async function bgpTrial(lab: Lab, subject: Subject, prober: Prober, kase: BgpCase, victim: LabHost, limits: TrialLimits): Promise<Trial> {
  const vip = prober.vip;
  const all = lab.nodes.map((n) => n.ipv4).sort().join(',');
  await subject.converged(120_000);
  const fibAll = async (): Promise<boolean> => (await fibNextHops(lab, vip)).join(',') === all;
  if (!(await until(`${vip}: every node in the router's FIB`, 120_000, fibAll))) throw new Error(`${subject.name}: ${vip} not on every node in the router's FIB before the trial: ${JSON.stringify(await fibNextHops(lab, vip))}`);
  const ready = limits.ready;
  if (ready !== undefined && !(await until(ready.what, 60_000, ready.check))) throw new Error(`${subject.name}: not ${ready.what} before the trial`);
  if (!(await steadyOn(prober, undefined, 60_000))) throw new Error(`${subject.name}: ${vip} not steady from the outside client before the trial`);
  prober.trim(now() - 10_000);
  const t0 = now();
  let routeGone: number | undefined;
  const watchFib = async (): Promise<boolean> => {
    const hops = await fibNextHops(lab, vip);
    if (routeGone === undefined && !hops.includes(victim.ipv4)) routeGone = now() - t0;
    return hops.includes(victim.ipv4);
  };
  let restarted = false;
  switch (kase) {
    case 'link':
      await linkDown(lab, victim);
      break;
    case 'kill':
      await subject.signal(victim, 'SIGKILL');
      break;
    case 'restart':
      await subject.stop(victim);
      await watchFib();
      await subject.start(victim);
      restarted = true;
      break;
  }
  const settled = await until(`${subject.name} ${kase}: the route settled`, limits.settleWithinMs, async () => {
    const present = await watchFib();
    const t = now();
    if (t - t0 < SETTLE_MS || !prober.settled(t, SETTLE_MS)) return false;
    // Restart: settled when the node is back in the FIB; hard failures: when it left it.
    return restarted ? present && (await fibAll()) : !present;
  });
  await sleep(TCP_TIMEOUT_MS + 50);
  const end = now() - TCP_TIMEOUT_MS - 50;
  const figures = windowFigures([], prober.tcp, t0, end, SETTLE_MS);
  if (kase === 'link') await linkUp(lab, victim);
  else if (kase === 'kill') await subject.start(victim);
  if (!(await until(`${vip}: ${victim.name} back in the router's FIB`, 120_000, fibAll))) log(`${subject.name}: ${victim.name} did not come back into the FIB after ${kase}`);
  await steadyOn(prober, undefined, 30_000);
  return {
    ...figures,
    node: victim.name,
    settled,
    ...(routeGone === undefined ? {} : { routeGoneMs: routeGone }),
    ...(settled ? {} : { note: kase === 'restart' ? `not back within ${limits.settleWithinMs / 1000} s` : `route kept ${limits.settleWithinMs / 1000} s` }),
  };
}
