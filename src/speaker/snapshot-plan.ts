// One snapshot -> this node's plan, for the standalone speaker (manifests): compile with the last-good
// store (invalid objects keep their last valid version, src/config/settle.ts), allocate as `berth check`
// does (services.ts), plan (plan.ts). Pure.
import { isDeepStrictEqual } from 'node:util';
import type { V1Node } from '@kubernetes/client-node';
import { compile, emptyStore, type CompileOptions, type LastGoodStore } from '../config/compile.ts';
import type { Config } from '../config/model.ts';
import type { Problem } from '../config/problems.ts';
import type { ServiceOptions } from '../config/services.ts';
import type { Snapshot } from '../config/snapshot.ts';
import { createPlanMemo, planNode, type NodePlan, type PlanMemo, type PlanOptions } from './plan.ts';
import { allocateServices, createTranslationMemo, type TranslationMemo } from './services.ts';
import { endpointsByService, type ServiceEndpoints } from './endpoints.ts';
import { nodeFactsOf, type NodeFacts } from './nodes.ts';

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

export function planSnapshot(input: SnapshotPlanInput, memo?: SnapshotPlanMemo): SnapshotPlan {
  const options = input.serviceOptions ?? {};
  const compiled = memo?.compile(input.snapshot, input.store ?? emptyStore, options) ?? compile(input.snapshot, input.store ?? emptyStore, options);
  const svcs = allocateServices(compiled.config, input.snapshot.services, input.snapshot.namespaces, input.serviceOptions ?? {}, memo?.translations);
  const plan = planNode({
    ...(memo === undefined ? {} : { memo: memo.plans }),
    config: compiled.config,
    services: svcs.services,
    ...planData(input.snapshot, memo),
    nodeName: input.nodeName,
    ...(input.aliveNodes === undefined ? {} : { aliveNodes: input.aliveNodes }),
    options: { withoutEndpointSlices: 'servedEverywhere', ...input.planOptions },
  });
  return { plan, store: compiled.store, config: compiled.config, problems: [...compiled.problems, ...svcs.problems] };
}

/** The planner's plain inputs from a snapshot's Kubernetes objects (Nodes, EndpointSlices): the boundary adapters. */
export function planData(snapshot: Pick<Snapshot, 'nodes' | 'endpointSlices'>, memo?: Pick<SnapshotPlanMemo, 'nodeFacts'>): { nodes: NodeFacts[]; endpoints: ReadonlyMap<string, ServiceEndpoints> } {
  return { nodes: nodeFactsOf(snapshot.nodes, memo?.nodeFacts), endpoints: endpointsByService(snapshot.endpointSlices) };
}

/**
 * What one planSnapshot keeps for the next, so that a change costs in proportion to it: the compiled
 * config object while its content stays the same (compile itself is cheap: it reads no Service), the
 * Services' translations, the per-Service plans (plan.ts createPlanMemo). The allocation itself is
 * redone on every snapshot (manifest mode: a function of the whole snapshot, so that every node and
 * `berth check` agree; about 0.5 s at 100,000 Services).
 */
export interface SnapshotPlanMemo {
  compile(snapshot: Snapshot, store: LastGoodStore, options?: CompileOptions): ReturnType<typeof compile>;
  readonly translations: TranslationMemo;
  readonly plans: PlanMemo;
  /** Each Node object's facts (nodes.ts nodeFactsOf). */
  readonly nodeFacts: WeakMap<V1Node, NodeFacts>;
}

export function createSnapshotPlanMemo(): SnapshotPlanMemo {
  let last: Config | undefined;
  return {
    compile(snapshot, store, options) {
      const result = compile(snapshot, store, options);
      if (last !== undefined && isDeepStrictEqual(result.config, last)) return { ...result, config: last };
      last = result.config;
      return result;
    },
    translations: createTranslationMemo(),
    plans: createPlanMemo(),
    nodeFacts: new WeakMap(),
  };
}
