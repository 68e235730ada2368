// Porter / OpenELB <= 0.5 pool fallback (OpenELB docs and pkg/controllers/lb (Service annotations) "Automatic selection"; seeds
// "Use Porter in Layer 2 Mode"): a Service that names no Eip, when no namespace-bound Eip and no default
// Eip applies, takes "the first available Eip object that matches the protocol" (the Service's protocol
// annotation, bgp when absent). OpenELB 0.6 fails instead; berth keeps the older, documented behaviour so
// the Porter manifests users were given keep working. The allocator implements 0.6; this wraps it.

import type { Allocator } from '../pool/allocator.ts';
import { formatIP } from '../pool/address.ts';
import { FailureReason, type AllocationRequest, type AllocationResult } from '../pool/types.ts';
import type { Config } from './model.ts';

/** Eips a fallback may use, in Porter's list order (by name): matching protocol, not disabled. */
export function porterFallbackPools(config: Config, request: AllocationRequest): string[] {
  const wanted = request.protocol ?? 'bgp';
  return config.pools
    .filter((p) => p.spec.dialect === 'openelb' && !p.spec.disabled && (p.spec.protocol ?? 'bgp') === wanted)
    .map((p) => p.spec.name)
    .sort();
}

/** allocator.allocate(), then the Porter fallback when an OpenELB Service found no namespace-bound or default Eip. */
export function allocateWithPorterFallback(allocator: Allocator, config: Config, request: AllocationRequest): AllocationResult {
  const first = allocator.allocate(request);
  if (request.dialect !== 'openelb') return first;
  if (first.ok || first.failure.reason !== FailureReason.NoDefaultPool) return openelbWording(first, request);
  if (request.requestedPool !== undefined || request.requestedIPs.length > 0) return openelbWording(first, request);
  for (const pool of porterFallbackPools(config, request)) {
    const res = allocator.allocate({ ...request, requestedPool: pool });
    if (res.ok) return res;
  }
  return first;
}

/**
 * An OpenELB Service's failure in OpenELB's terms (its pools are Eips): the allocator's messages follow
 * MetalLB's ("is not allowed in config", "pool X does not exist").
 */
function openelbWording(res: AllocationResult, request: AllocationRequest): AllocationResult {
  if (res.ok) return res;
  const ips = request.requestedIPs.map(formatIP).join(', ');
  switch (res.failure.reason) {
    case FailureReason.IPNotInPool:
      return { ...res, failure: { ...res.failure, message: request.requestedPool === undefined ? `no Eip contains ${ips}` : `Eip ${request.requestedPool} does not contain ${ips}` } };
    case FailureReason.NoPools:
      return { ...res, failure: { ...res.failure, message: 'no Eip exists: create one (spec.address)' } };
    case FailureReason.PoolNotFound:
      return { ...res, failure: { ...res.failure, message: `no Eip named ${request.requestedPool ?? ''}` } };
    case FailureReason.NoAvailableIPs:
      return { ...res, failure: { ...res.failure, message: res.failure.message.replace(/in pool (\S+)$/, 'in Eip $1') } };
    default:
      return res;
  }
}
