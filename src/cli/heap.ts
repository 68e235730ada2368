// How the long-running processes (speaker, controller) size their JavaScript heaps.
//
// V8 lets the old generation grow to a multiple of the live set before it collects again; the multiple
// depends on how fast the collector ran and is up to 4x (V8 src/heap/heap-controller.cc). For a speaker
// holding 100,000 Services (a live set of ~0.4 GB on the planner thread) that re-plans on every change,
// that default lets RSS swing between 0.8 and 2.3 GB (docs/scale.md). A fixed growing factor of 1.1
// and V8's size-over-speed mode keep the same process under 0.75 GB with no CPU difference measurable
// on this shared machine (docs/scale.md "Heap sizing"). The flags are process-wide, so they must be set before
// the planner and answer threads start (each thread's heap reads them when it is created).
//
// BERTH_V8_HEAP=default leaves V8's own sizing alone (for comparison runs).
import { setFlagsFromString } from 'node:v8';

export const HEAP_FLAGS = ['--heap-growing-percent=10', '--optimize-for-size'] as const;

export function tuneHeap(env: NodeJS.ProcessEnv = process.env): void {
  if (env['BERTH_V8_HEAP'] === 'default') return;
  for (const f of HEAP_FLAGS) setFlagsFromString(f);
}
