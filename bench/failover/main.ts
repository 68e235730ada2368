// bench/failover: failover times, side by side in one run (issue 10 §5). In the frr-lab namespace lab
// (prefix bfo: FRR router, three nodes, a LAN client, an outside client behind the router; an HTTP
// backend in every node namespace behind every VIP), a client probes every 10 ms: an ARP request for
// the VIP (Layer 2 cases, from the LAN client) and a TCP connect to the backend behind the VIP (both
// modes; BGP from the outside client, across the router's ECMP routes). Per case and system: the
// longest gap of each trial, median and max of --trials. Systems: berth, keepalived VRRP (Layer 2
// anchor) and MetalLB's own speaker (both modes, as far as it can be built and run here). Then the
// liveness simulation at 100 members (bench/liveness/sim.ts). See docs/failover-benchmark.md.
//
// Run (root): npm run bench:failover -- [--trials 5] [--only berth-l2,keepalived,berth-bgp,metallb]
//             [--cases kill,link,stop,restart] [--variants hold3,bfd,default]
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BerthSubject, berthManifests } from './berth.ts';
import { BGP_CASE_TITLES } from './cases.ts';
import { KEEPALIVED_ADVERT_S, KeepalivedSubject } from './keepalived.ts';
import { buildLab, routerConfig, VIPS } from './lab-setup.ts';
import { metallbPhases } from './metallb.ts';
import { BGP_VARIANTS, bfdUp, runBgp, runL2, type BgpVariant } from './runner.ts';
import { printTables, Results } from './table.ts';

const { values } = parseArgs({
  options: {
    trials: { type: 'string', default: '5' },
    only: { type: 'string', default: 'berth-l2,keepalived,berth-bgp,metallb' },
    cases: { type: 'string', default: 'kill,link,stop,restart' },
    variants: { type: 'string', default: 'hold3,bfd,default' },
  },
});
const only = new Set(values.only.split(','));
const cases = new Set(values.cases.split(','));
const variants = BGP_VARIANTS.filter((v) => values.variants.split(',').includes(v.key));
const run = {
  trials: Number(values.trials),
  l2Cases: (['kill', 'link', 'stop', 'restart'] as const).filter((c) => cases.has(c)),
  bgpCases: (['link', 'kill', 'restart'] as const).filter((c) => cases.has(c)),
};
const log = (s: string): void => void process.stderr.write(`bfo ${new Date().toISOString()} ${s}\n`);

function livenessSim(): string {
  const sim = fileURLToPath(new URL('../liveness/sim.ts', import.meta.url));
  const r = spawnSync(process.execPath, ['--import', 'tsx', sim, '--members', '100'], { encoding: 'utf8', cwd: fileURLToPath(new URL('../../', import.meta.url)) });
  if (r.status !== 0) throw new Error(`bench/liveness/sim.ts failed: ${r.stderr}`);
  return r.stdout;
}

const results = new Results();
const notes: string[] = [];
const started = Date.now();
log('building the lab (prefix bfo)');
const lab = await buildLab();
/** A phase that fails is reported (with the figures it got so far); the others still run. */
async function phase(name: string, fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (e) {
    log(`phase ${name} failed: ${String(e)}`);
    notes.push(`phase ${name} stopped early: ${String(e).split('\n')[0]}`);
  }
}
/** The table so far, on stderr: a run cut short still leaves its figures. */
function progress(): void {
  log(`results so far:\n${printTables(results, { trials: run.trials, notes, seconds: Math.round((Date.now() - started) / 1000) })}`);
}
try {
  if (only.has('berth-l2')) await phase('berth-l2', () => runL2(lab, new BerthSubject(lab, berthManifests(lab, { l2: true })), VIPS.berthL2, results, 20_000, run));
  progress();
  if (only.has('keepalived')) {
    await phase('keepalived', async () => {
      const k = new KeepalivedSubject(lab);
      notes.push(`${k.version}: VRRP v2, advert_int ${KEEPALIVED_ADVERT_S} s (its default), priorities 150/100/50, preemption on. A killed or stopped keepalived leaves the VIP on its interface: that node's kernel keeps answering (the cell says how many trials ended with two MACs).`);
      await runL2(lab, k, VIPS.keepalived, results, 20_000, run);
    });
    progress();
  }
  // The long variant (hold 90 s) last, for berth and MetalLB, so that a run cut short has the rest.
  const quick = variants.filter((v) => v.key !== 'default');
  const slow = variants.filter((v) => v.key === 'default');
  const berthBgp = async (vs: readonly BgpVariant[]): Promise<void> => {
    for (const v of vs) {
      await phase(`berth-bgp-${v.key}`, async () => {
        await lab.router?.reload(routerConfig(lab.nodes, v.router));
        await runBgp(lab, new BerthSubject(lab, berthManifests(lab, { bgp: v.berth })), VIPS.berthBgp, (c) => `${BGP_CASE_TITLES[c]}, ${v.title}`, results, { settleWithinMs: v.settleWithinMs, ...(v.router.bfd === undefined ? {} : { ready: { what: 'BFD Up at the router with every node', check: () => bfdUp(lab) } }) }, run);
      });
      progress();
    }
  };
  if (only.has('berth-bgp')) await berthBgp(quick);
  if (only.has('metallb')) await phase('metallb', async () => void notes.push(...(await metallbPhases(lab, results, run, quick, true))));
  progress();
  if (only.has('berth-bgp')) await berthBgp(slow);
  if (only.has('metallb') && slow.length > 0) await phase('metallb-default', async () => void notes.push(...(await metallbPhases(lab, results, run, slow, false))));
} finally {
  await lab.destroy();
}
process.stdout.write(`${printTables(results, { trials: run.trials, notes, seconds: Math.round((Date.now() - started) / 1000) })}\n`);
process.stdout.write(`\nliveness traffic and CPU at 100 simulated members (bench/liveness/sim.ts):\n${livenessSim()}`);
