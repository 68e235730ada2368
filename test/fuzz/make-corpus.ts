// Writes each fuzz target's seeds (test/fuzz/targets.ts: captured BGP messages, layer 2 vectors,
// examples and upstream manifests) to test/fuzz/corpus/<target>/<sha1>, next to what earlier fuzz
// runs saved there (bench/fuzz --save). Run: node --import tsx test/fuzz/make-corpus.ts
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CORPUS_DIR, TARGETS } from './targets.ts';

export function saveToCorpus(target: string, inputs: readonly Buffer[]): number {
  const dir = join(CORPUS_DIR, target);
  mkdirSync(dir, { recursive: true });
  for (const b of inputs) writeFileSync(join(dir, createHash('sha1').update(b).digest('hex').slice(0, 16)), b);
  return inputs.length;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const t of TARGETS) process.stdout.write(`${t.name}: ${saveToCorpus(t.name, t.seeds())} seeds\n`);
}
