// One snapshot -> this node's plan, for the standalone speaker (manifests): compile with the last-good
// store (invalid objects keep their last valid version, src/config/settle.ts), allocate as `berth check`
// does (services.ts), plan (plan.ts). Pure.
import { compile, emptyStore, type LastGoodStore } from '../config/compile.ts';
import type { Config } from '../config/model.ts';
import type { Problem } from '../config/problems.ts';
import type { ServiceOptions } from '../config/services.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { planNode, type NodePlan, type PlanOptions } from './plan.ts';
import { allocateServices } from './services.ts';

export interface SnapshotPlanInput {
  readonly snapshot: Snapshot;
  readonly nodeName: string;
  /** The store of the previous compile; empty on the first one. */
  readonly store?: LastGoodStore;
  /** Without Kubernetes every Node in the snapshot is alive (the default). */
  readonly aliveNodes?: ReadonlySet<string>;
  readonly serviceOptions?: ServiceOptions;
  readonly planOptions?: PlanOptions;
}

export interface SnapshotPlan {
  readonly plan: NodePlan;
  /** Pass to the next planSnapshot. */
  readonly store: LastGoodStore;
  /** The compiled configuration the plan was made from. */
  readonly config: Config;
  /** Config and Service problems (the objects concerned keep their last valid version or are skipped). */
  readonly problems: readonly Problem[];
}

export function planSnapshot(input: SnapshotPlanInput): SnapshotPlan {
  const compiled = compile(input.snapshot, input.store ?? emptyStore);
  const svcs = allocateServices(compiled.config, input.snapshot.services, input.snapshot.namespaces, input.serviceOptions ?? {});
  const plan = planNode({
    config: compiled.config,
    services: svcs.services,
    nodes: input.snapshot.nodes,
    endpointSlices: input.snapshot.endpointSlices,
    nodeName: input.nodeName,
    ...(input.aliveNodes === undefined ? {} : { aliveNodes: input.aliveNodes }),
    options: { withoutEndpointSlices: 'servedEverywhere', ...input.planOptions },
  });
  return { plan, store: compiled.store, config: compiled.config, problems: [...compiled.problems, ...svcs.problems] };
}
