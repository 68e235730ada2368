// bench/chaos: chaos under load (issue 14 §3); what it does is in chaos.ts. Prints the seed (pass it back
// with --seed to replay the same fault moments and churn), the faults injected by kind, the Services,
// and the losses, which must all be 0: IP changes seen by an independent watch, duplicate IPs, pool
// counter mismatches, announcement mismatches (FRR and ARP), leaks; then RSS start/end and the duration,
// with the load average (the machine is shared). See docs/chaos.md.
//
// Run (root): npm run bench:chaos -- [--services 1000] [--seed N] [--churn-s 300] [--api-kills 10] [--controller-kills 10] [--churn-workers 4]
import { randomInt } from 'node:crypto';
import { parseArgs } from 'node:util';
import { formatResult, runChaos } from './chaos.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '1000' },
    seed: { type: 'string' },
    'churn-s': { type: 'string', default: '300' },
    'api-kills': { type: 'string', default: '10' },
    'controller-kills': { type: 'string', default: '10' },
    'settle-s': { type: 'string', default: '300' },
    'churn-workers': { type: 'string', default: '4' },
  },
});
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name}: want a whole number, got ${JSON.stringify(v)}`);
  return n;
};
const seed = values.seed === undefined ? randomInt(2 ** 31) : num('seed', values.seed);
console.log(`bench/chaos: seed ${String(seed)} (replay: npm run bench:chaos -- --seed ${String(seed)} ...)`);
const r = await runChaos({
  services: num('services', values.services),
  seed,
  churnMs: num('churn-s', values['churn-s']) * 1000,
  apiKills: num('api-kills', values['api-kills']),
  controllerKills: num('controller-kills', values['controller-kills']),
  settleMs: num('settle-s', values['settle-s']) * 1000,
  churnWorkers: num('churn-workers', values['churn-workers']),
  log: (l) => console.log(`  ${l}`),
});
console.log(formatResult(r));
const losses = r.changes.length + r.duplicates.length + r.counterMismatches.length + r.announcementMismatches.length + r.leaks.length;
process.exitCode = losses === 0 ? 0 : 1;
