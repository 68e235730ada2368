// MetalLB's own speaker under test (placeholder until the build works here).
import type { Lab } from '../../frr-lab/lab.ts';
import type { BgpVariant, RunOptions } from './runner.ts';
import type { Results } from './table.ts';

export async function metallbPhases(_lab: Lab, results: Results, o: RunOptions, _variants: readonly BgpVariant[]): Promise<string[]> {
  void o;
  results.notApplicable('x', 'MetalLB', 'todo');
  return Promise.resolve([]);
}
