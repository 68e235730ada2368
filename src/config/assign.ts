// "Restore status IPs, then allocate": the one home of the rule that gives every Service its IPs, for
// its three users. Pure (the allocator is the caller's).
//   controller (src/k8s/controller.ts)   restoreStatusIPs when leadership starts, assignService per key
//   berth check (src/config/check.ts)    assignAll over the snapshot
//   manifest-mode speaker (src/speaker/services.ts)  assignAll over the manifests
// Restart safety (DESIGN.md; MetalLB controller/service.go convergeBalancer, which restores IPs from
// Service status): every IP already in status.loadBalancer.ingress is replayed before anything new is
// allocated, so no new allocation can take an IP that is in use. Then each Service converges: its status
// IPs again when the allocator does not know it yet (the replay refused them, or they were written while
// nobody replayed), then allocate (which keeps what it holds) with Porter's Eip fallback (porter.ts).

import { Allocator } from '../pool/allocator.ts';
import type { AllocationResult, ExistingAssignment, ServiceKey } from '../pool/types.ts';
import type { Config } from './model.ts';
import { allocateWithPorterFallback } from './porter.ts';
import type { ServiceIntent } from './services.ts';

/** Step 1: every Service's status IPs into the allocator (Allocator.restoreAll), by Service key. */
export function restoreStatusIPs(allocator: Allocator, intents: Iterable<ServiceIntent>): ReadonlyMap<ServiceKey, AllocationResult> {
  const existing: ExistingAssignment[] = [];
  for (const i of intents) if (i.currentIPs.length > 0) existing.push({ request: i.request, ips: i.currentIPs });
  return allocator.restoreAll(existing);
}

export interface ServiceAssignment {
  /** The last attempt to keep the status IPs (step 1, or step 2 when it tried again); undefined: none in status. */
  readonly restore: AllocationResult | undefined;
  readonly result: AllocationResult;
}

/** Step 2 for one Service: its status IPs when the allocator does not hold it yet, then allocate. */
export function assignService(allocator: Allocator, config: Config, intent: ServiceIntent): { readonly restore?: AllocationResult; readonly result: AllocationResult } {
  const restore = allocator.assignmentOf(intent.request.service) === undefined && intent.currentIPs.length > 0 ? allocator.restore(intent.request, intent.currentIPs) : undefined;
  const result = allocateWithPorterFallback(allocator, config, intent.request);
  return restore === undefined ? { result } : { restore, result };
}

/** Both steps over a whole snapshot with a fresh allocator: new IPs in `namespace/name` order. */
export function assignAll(config: Config, intents: readonly ServiceIntent[]): ReadonlyMap<ServiceKey, ServiceAssignment> {
  const allocator = new Allocator(config.pools.map((p) => p.spec));
  const restored = restoreStatusIPs(allocator, intents);
  const out = new Map<ServiceKey, ServiceAssignment>();
  for (const intent of [...intents].sort((a, b) => (a.request.service < b.request.service ? -1 : 1))) {
    const key = intent.request.service;
    const r = assignService(allocator, config, intent);
    out.set(key, { restore: r.restore ?? restored.get(key), result: r.result });
  }
  return out;
}
