// IPAddressPool -> PoolConfig (MetalLB api/v1beta1/ipaddresspool_types.go: addresses, autoAssign, avoidBuggyIPs, serviceAllocation). Rules:
//   spec.addresses non-empty; each entry a CIDR or `start-end` (MetalLB rejects a bare IP: /32 or a-a);
//   no address in two pools (checked in settle via pools.ts); serviceAllocation lists without duplicates.

import { parsePoolAddress, type AddressRange, type PoolSpec } from '../../pool/types.ts';
import type { IPAddressPool } from '../crds/metallb.ts';
import type { PoolConfig } from '../model.ts';
import { crossPoolProblems, selfOverlaps } from '../pools.ts';
import { problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readBool, readInt, readRecord, readStringList, readStringMap } from '../read.ts';
import { readSelectorList } from '../selectors.ts';
import type { Attempt } from '../settle.ts';

export function poolRef(p: IPAddressPool): ObjectRef {
  return { kind: 'IPAddressPool', namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '' };
}

const addressField = (i: number): string => `spec.addresses[${i}]`;

/** Validates one IPAddressPool on its own. */
export function checkIPAddressPool(p: IPAddressPool): Attempt<PoolConfig> {
  const sink = problemSink(poolRef(p));
  const report = sink.report;
  const spec = isRecord(p.spec) ? p.spec : undefined;
  if (spec === undefined) {
    report('spec', 'the pool has no spec: add spec.addresses');
    return { value: undefined, problems: sink.problems };
  }
  const addresses = readStringList(spec['addresses'], 'spec.addresses', report);
  if (addresses.length === 0 && (spec['addresses'] === undefined || Array.isArray(spec['addresses']))) {
    report('spec.addresses', 'the pool has no addresses: add at least one CIDR (198.51.100.0/24) or range (198.51.100.10-198.51.100.20)');
  }
  const ranges: AddressRange[] = [];
  addresses.forEach((a, i) => {
    // MetalLB parses a CIDR entry with net.ParseCIDR, which refuses surrounding spaces.
    if (a !== a.trim()) {
      report(addressField(i), `"${a}" has spaces around it: write "${a.trim()}"`);
      return;
    }
    const parsed = parsePoolAddress(a);
    if (!parsed.ok) {
      report(addressField(i), `${parsed.error.message}: write a CIDR (198.51.100.0/24) or a range (198.51.100.10-198.51.100.20)`);
      return;
    }
    if (parsed.value.form === 'single') {
      const bits = parsed.value.range.family === 'ipv4' ? 32 : 128;
      report(addressField(i), `"${a}" is a single address: write "${a.trim()}/${bits}" or "${a.trim()}-${a.trim()}"`);
      return;
    }
    ranges.push(parsed.value.range);
  });
  for (const pr of selfOverlaps(sink.ref, ranges, addressField)) report(pr.field ?? 'spec.addresses', pr.message);
  const autoAssign = readBool(spec['autoAssign'], 'spec.autoAssign', report) ?? true;
  const avoidBuggyIPs = readBool(spec['avoidBuggyIPs'], 'spec.avoidBuggyIPs', report) ?? false;

  const alloc = readRecord(spec['serviceAllocation'], 'spec.serviceAllocation', report);
  const f = 'spec.serviceAllocation';
  const priority = alloc === undefined ? undefined : readInt(alloc['priority'], `${f}.priority`, report, { min: 0, max: 2 ** 31 - 1 });
  const namespaces = alloc === undefined ? [] : readStringList(alloc['namespaces'], `${f}.namespaces`, report, { unique: true });
  const namespaceSelectors = alloc === undefined ? [] : readSelectorList(alloc['namespaceSelectors'], `${f}.namespaceSelectors`, report);
  const serviceSelectors = alloc === undefined ? [] : readSelectorList(alloc['serviceSelectors'], `${f}.serviceSelectors`, report);
  const labels = readStringMap(p.metadata?.labels, 'metadata.labels', report) ?? {};
  if (sink.problems.length > 0) return { value: undefined, problems: sink.problems };

  const poolSpec: PoolSpec = {
    name: sink.ref.name,
    dialect: 'metallb',
    ranges,
    autoAssign,
    avoidBuggyIPs,
    // MetalLB: priority 0 means unset (api/v1beta1/ipaddresspool_types.go ServiceAllocation.Priority).
    priority: priority === undefined || priority === 0 ? undefined : priority,
    hasServiceAllocation: alloc !== undefined,
    namespaces,
    namespaceSelectors,
    serviceSelectors,
    protocol: undefined,
    disabled: false,
    isDefault: false,
    interface: undefined,
  };
  return { value: { source: sink.ref, spec: poolSpec, labels, protocol: undefined, eipInterface: undefined }, problems: [] };
}

/** Settle step: the pool on its own, then against accepted pools. */
export function attemptIPAddressPool(p: IPAddressPool, _prev: IPAddressPool | undefined, accepted: readonly PoolConfig[]): Attempt<PoolConfig> {
  const own = checkIPAddressPool(p);
  if (own.value === undefined) return own;
  const cross = crossPoolProblems(own.value, accepted, addressField);
  return cross.length > 0 ? { value: undefined, problems: cross } : own;
}
