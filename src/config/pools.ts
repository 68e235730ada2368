// Rules shared by both dialects' pools: pool names form one namespace (an Eip is a pool), and no
// address may belong to two pools (MetalLB `poolsFor`, OpenELB Eip webhook).

import { formatRange } from '../pool/types.ts';
import type { AddressRange } from '../pool/types.ts';
import type { PoolConfig } from './model.ts';
import { describeRef, makeProblem, type ObjectRef, type Problem } from './problems.ts';

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** Overlaps inside one pool's own list. `field(i)` names the i-th entry. */
export function selfOverlaps(ref: ObjectRef, ranges: readonly AddressRange[], field: (i: number) => string): Problem[] {
  const out: Problem[] = [];
  ranges.forEach((r, i) => {
    for (let j = 0; j < i; j++) {
      const other = ranges[j];
      if (other !== undefined && rangesOverlap(r, other)) {
        out.push(makeProblem(ref, field(i), `"${formatRange(r)}" overlaps "${formatRange(other)}" of the same pool: remove one`));
      }
    }
  });
  return out;
}

/** Name clashes and overlaps of a candidate pool against the pools already accepted. */
export function crossPoolProblems(candidate: PoolConfig, accepted: readonly PoolConfig[], field: (i: number) => string): Problem[] {
  const out: Problem[] = [];
  for (const other of accepted) {
    if (other.spec.name === candidate.spec.name) {
      out.push(
        makeProblem(candidate.source, 'metadata.name', `pool name "${candidate.spec.name}" is already used by ${describeRef(other.source)}: pool names (IPAddressPool and Eip) must be unique; rename one`),
      );
    }
  }
  candidate.spec.ranges.forEach((r, i) => {
    for (const other of accepted) {
      for (const o of other.spec.ranges) {
        if (rangesOverlap(r, o)) {
          out.push(
            makeProblem(candidate.source, field(i), `"${formatRange(r)}" overlaps "${formatRange(o)}" of ${describeRef(other.source)}: an address may belong to one pool only; remove or shrink one`),
          );
        }
      }
    }
  });
  return out;
}
