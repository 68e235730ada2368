// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, top N.
//   node --import tsx bench/bgp/profile-summary.ts FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

const [file, nText] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [N]');
  process.exit(2);
}
const n = Number(nText ?? 25);
const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
// Frames of this clone's files print relative to its root (the profiled berth ran from the same clone).
const repoRoot = new URL('../../', import.meta.url).href;
function shortUrl(url: string): string {
  return url.startsWith(repoRoot) ? url.slice(repoRoot.length) : url.replace(/^file:\/\//, '');
}
const byId = new Map(p.nodes.map((x) => [x.id, x]));
const selfUs = new Map<string, number>();
const fileUs = new Map<string, number>();
let total = 0;
p.samples.forEach((id, i) => {
  const dt = p.timeDeltas[i] ?? 0;
  const node = byId.get(id);
  if (node === undefined) return;
  const f = node.callFrame;
  const short = shortUrl(f.url);
  const key = `${f.functionName || '(anonymous)'}  ${short}:${f.lineNumber + 1}`;
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  fileUs.set(short || f.functionName, (fileUs.get(short || f.functionName) ?? 0) + dt);
  total += dt;
});
const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]).slice(0, n);
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log('\nself time by function');
for (const [k, us] of top(selfUs)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
console.log('\nself time by file');
for (const [k, us] of top(fileUs)) console.log(`${(us / 1000).toFixed(1).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${k}`);
