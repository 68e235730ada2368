import { loadManifests } from './dist/src/config/manifests.js';
import { checkSnapshot } from './dist/src/config/check.js';
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let c = cpu(); let t = performance.now();
const loaded = loadManifests('/tmp/bmem/m100k');
const c1 = cpu(); const t1 = performance.now();
const r = checkSnapshot(loaded.snapshot, {}, loaded.problems);
console.log(`load cpu ${(c1 - c).toFixed(0)} ms wall ${(t1 - t).toFixed(0)}; check cpu ${(cpu() - c1).toFixed(0)} ms wall ${(performance.now() - t1).toFixed(0)}`);
