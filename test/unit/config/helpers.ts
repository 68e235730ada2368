// Test helpers: YAML text -> Snapshot, compile, and problem matchers.
import assert from 'node:assert/strict';
import { compile, type CompileResult } from '../../../src/config/compile.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import type { LastGoodStore } from '../../../src/config/settle.ts';
import type { Snapshot } from '../../../src/config/snapshot.ts';
import type { Problem } from '../../../src/config/problems.ts';

export function snap(yaml: string): Snapshot {
  const res = parseManifests([{ path: 'test.yaml', text: yaml }]);
  assert.deepEqual(res.problems, [], 'test manifests must load cleanly');
  return res.snapshot;
}

export function compileYaml(yaml: string, previous?: LastGoodStore): CompileResult {
  return compile(snap(yaml), previous);
}

export interface ExpectedProblem {
  readonly kind: string;
  readonly name: string;
  readonly field?: string;
  /** Substring of the message. */
  readonly includes: string;
}

export function assertProblems(actual: readonly Problem[], expected: readonly ExpectedProblem[]): void {
  const describe = (): string => JSON.stringify(actual, null, 2);
  for (const e of expected) {
    const hit = actual.find((p) => p.kind === e.kind && p.name === e.name && (e.field === undefined || p.field === e.field) && p.message.includes(e.includes));
    assert.ok(hit !== undefined, `expected a problem ${JSON.stringify(e)} in ${describe()}`);
  }
  assert.equal(actual.length, expected.length, `expected exactly ${expected.length} problems, got ${describe()}`);
}

export const POOL = (name: string, addresses: string, extra = ''): string => `
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: ${name}, namespace: metallb-system}
spec:
  addresses: [${addresses}]
${extra}
---`;

export const PEER = (name: string, spec: string): string => `
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: ${name}, namespace: metallb-system}
spec:
${spec}
---`;
