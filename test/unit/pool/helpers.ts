// Builders and a scenario runner for allocator tests. A scenario is a table of steps run against one
// allocator, so state carries from row to row (MetalLB's allocator tests are written this way).
import assert from 'node:assert/strict';
import { Allocator } from '../../../src/pool/allocator.ts';
import { formatIP, parseIP, parsePoolAddress } from '../../../src/pool/address.ts';
import type {
  AddressRange,
  AllocationRequest,
  AllocationResult,
  FailureReason,
  IPAddress,
  LabelSelector,
  PoolSpec,
} from '../../../src/pool/types.ts';

export function range(s: string): AddressRange {
  const p = parsePoolAddress(s);
  if (!p.ok) throw new Error(p.error.message);
  return p.value.range;
}

export function ip(s: string): IPAddress {
  const p = parseIP(s);
  if (!p.ok) throw new Error(p.error.message);
  return p.value;
}

export function sel(matchLabels: Record<string, string>): LabelSelector {
  return { matchLabels, matchExpressions: [] };
}

export type PoolOpts = Partial<Omit<PoolSpec, 'ranges' | 'name'>>;

/** A MetalLB pool with defaults (autoAssign true, no serviceAllocation). */
export function pool(name: string, addresses: readonly string[], opts: PoolOpts = {}): PoolSpec {
  return {
    name,
    dialect: 'metallb',
    ranges: addresses.map(range),
    autoAssign: true,
    avoidBuggyIPs: false,
    priority: undefined,
    hasServiceAllocation: false,
    namespaces: [],
    namespaceSelectors: [],
    serviceSelectors: [],
    protocol: undefined,
    disabled: false,
    isDefault: false,
    interface: undefined,
    ...opts,
  };
}

/** An OpenELB Eip as config maps it (autoAssign false, priority 0, protocol bgp). */
export function eip(name: string, address: string, opts: PoolOpts = {}): PoolSpec {
  return pool(name, [address], { dialect: 'openelb', autoAssign: false, priority: 0, protocol: 'bgp', ...opts });
}

export type ReqOpts = Partial<Omit<AllocationRequest, 'service' | 'requestedIPs'>> & { readonly ips?: readonly string[] };

/** A MetalLB-dialect IPv4 SingleStack request for `ns/name` exposing TCP/80. */
export function req(service: string, opts: ReqOpts = {}): AllocationRequest {
  const [ns = 'default'] = service.split('/');
  const { ips, ...rest } = opts;
  return {
    service,
    namespace: ns,
    namespaceLabels: {},
    serviceLabels: {},
    ipFamilies: ['ipv4'],
    ipFamilyPolicy: 'SingleStack',
    requestedIPs: (ips ?? []).map(ip),
    requestedPool: undefined,
    protocol: undefined,
    sharingKey: undefined,
    backendKey: '',
    ports: [{ protocol: 'TCP', port: 80 }],
    dialect: 'metallb',
    ...rest,
  };
}

/** Expected outcome: the IPs (text, in order) and optionally the pool, or a failure reason. */
export type Want = { readonly ips: readonly string[]; readonly pool?: string } | { readonly fail: FailureReason };

export type Step =
  | { readonly desc: string; readonly allocate: AllocationRequest; readonly want: Want }
  | { readonly desc: string; readonly restore: AllocationRequest; readonly ips: readonly string[]; readonly want: Want }
  | { readonly desc: string; readonly release: string }
  | { readonly desc: string; readonly setPools: readonly PoolSpec[]; readonly evicted?: readonly string[] }
  | { readonly desc: string; readonly check: (a: Allocator) => void };

export function ipsOf(res: AllocationResult): string[] | undefined {
  return res.ok ? res.assignment.ips.map(formatIP) : undefined;
}

function assertWant(desc: string, res: AllocationResult, want: Want): void {
  if ('fail' in want) {
    assert.equal(res.ok, false, `${desc}: expected failure ${want.fail}, got ${JSON.stringify(ipsOf(res))}`);
    if (!res.ok) {
      assert.equal(res.failure.reason, want.fail, `${desc}: ${res.failure.message}`);
      assert.ok(res.failure.message.length > 0, `${desc}: failure without a message`);
    }
    return;
  }
  assert.ok(res.ok, `${desc}: expected ${want.ips.join(',')}, got ${res.ok ? '' : `${res.failure.reason}: ${res.failure.message}`}`);
  if (!res.ok) return;
  assert.deepEqual(res.assignment.ips.map(formatIP), want.ips, desc);
  if (want.pool !== undefined) assert.equal(res.assignment.pool, want.pool, `${desc}: pool`);
}

/** Run a scenario table against one allocator; returns it for extra checks. */
export function runScenario(pools: readonly PoolSpec[], steps: readonly Step[]): Allocator {
  const a = new Allocator(pools);
  for (const step of steps) {
    if ('allocate' in step) assertWant(step.desc, a.allocate(step.allocate), step.want);
    else if ('restore' in step) assertWant(step.desc, a.restore(step.restore, step.ips.map(ip)), step.want);
    else if ('release' in step) assert.equal(a.release(step.release), true, `${step.desc}: release of a Service that held nothing`);
    else if ('setPools' in step) {
      const change = a.setPools(step.setPools);
      assert.deepEqual(change.evicted.map((e) => e.service), step.evicted ?? [], `${step.desc}: evicted`);
    } else step.check(a);
  }
  return a;
}
