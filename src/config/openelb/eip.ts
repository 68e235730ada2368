// OpenELB Eip -> PoolConfig (OpenELB api/v1alpha2/eip_types.go; OpenELB docs and pkg/controllers/lb (Service annotations)). Rules (webhook + CRD):
//   spec.address required: one IP, a CIDR or `first-last`; no overlap with any other pool;
//   spec.address immutable; protocol bgp|layer2 (vip, keepalived mode, is not supported by berth);
//   interface a NIC name or `can_reach:<IP>` (any other `x:y` is rejected), or absent (found per node);
//   usingKnownIPs false (v1alpha1: also absent) skips .0 and .255 addresses (Porter 0.3);
//   at most one Eip annotated eip.openelb.kubesphere.io/is-default-eip: "true".

import { parseIP, parsePoolAddress, type PoolProtocol, type PoolSpec } from '../../pool/types.ts';
import { OPENELB_V1ALPHA1, type Eip } from '../crds/openelb.ts';
import type { L2Interface, PoolConfig } from '../model.ts';
import { crossPoolProblems } from '../pools.ts';
import { describeRef, makeProblem, problemSink, type ObjectRef, type Problem } from '../problems.ts';
import { isRecord, readBool, readInt, readString, readStringList, readStringMap, type Report } from '../read.ts';
import { selectorFromLabels } from '../selectors.ts';
import type { Attempt } from '../settle.ts';

export const DEFAULT_EIP_ANNOTATION = 'eip.openelb.kubesphere.io/is-default-eip';
const CAN_REACH = 'can_reach:';

export function eipRef(e: Eip): ObjectRef {
  return { kind: 'Eip', name: e.metadata?.name ?? '' };
}

/** Parses an Eip `interface`: a NIC name or `can_reach:<IP>` (OpenELB ParseInterface). */
export function parseEipInterface(text: string, field: string, report: Report): L2Interface | undefined {
  const s = text.trim();
  if (s === '') {
    report(field, 'empty interface: name a NIC (eth0) or write can_reach:<IP>');
    return undefined;
  }
  if (s.startsWith(CAN_REACH)) {
    const ip = parseIP(s.slice(CAN_REACH.length));
    if (!ip.ok) {
      report(field, `"${s}": ${ip.error.message}; write can_reach:<IP of a router or host the NIC reaches>`);
      return undefined;
    }
    return { kind: 'can-reach', ip: s.slice(CAN_REACH.length).trim() };
  }
  if (s.includes(':')) {
    report(field, `"${s}": only the can_reach:<IP> form is supported besides a plain NIC name`);
    return undefined;
  }
  return { kind: 'name', name: s };
}

const PROTOCOLS: readonly string[] = ['bgp', 'layer2', 'vip'];

export function checkEip(e: Eip, previous: Eip | undefined): Attempt<PoolConfig> {
  const sink = problemSink(eipRef(e));
  const report = sink.report;
  const spec = isRecord(e.spec) ? e.spec : undefined;
  if (spec === undefined) {
    report('spec', 'the Eip has no spec: add spec.address');
    return { value: undefined, problems: sink.problems };
  }
  const address = readString(spec['address'], 'spec.address', report);
  let range;
  if (address === undefined) {
    if (spec['address'] === undefined) report('spec.address', 'spec.address is required: one IP, a CIDR or first-last');
  } else {
    const parsed = parsePoolAddress(address);
    if (parsed.ok) range = parsed.value.range;
    else report('spec.address', `${parsed.error.message}: write one IP, a CIDR (192.0.2.0/24) or a range (192.0.2.10-192.0.2.20)`);
  }
  const prevAddress = isRecord(previous?.spec) ? previous.spec['address'] : undefined;
  if (previous !== undefined && typeof prevAddress === 'string' && address !== undefined && prevAddress.trim() !== address.trim()) {
    report('spec.address', `spec.address may not change (was "${prevAddress}"): create a new Eip instead`);
  }
  const protocolText = readString(spec['protocol'], 'spec.protocol', report);
  let protocol: PoolProtocol | undefined;
  if (protocolText !== undefined) {
    if (!PROTOCOLS.includes(protocolText)) report('spec.protocol', `must be bgp or layer2, got "${protocolText}"`);
    else if (protocolText === 'vip') report('spec.protocol', 'vip (keepalived) mode is not supported by berth: use layer2');
    else protocol = protocolText as PoolProtocol;
  }
  const ifaceText = readString(spec['interface'], 'spec.interface', report);
  const eipInterface = ifaceText === undefined ? undefined : parseEipInterface(ifaceText, 'spec.interface', report);
  // No interface (every v1alpha1 Eip: that version has no such field): like Porter 0.3, each node uses
  // the NIC holding an address in the Eip's subnet, else the NIC of its InternalIP (src/l2/interfaces.ts).
  const disabled = readBool(spec['disable'], 'spec.disable', report) ?? false;
  // Porter 0.3 (v0.3.1 pkg/ipam/datastore.go): usingKnownIPs false, its default, skips addresses ending
  // in .0 and .255. Dead since v0.4, but a v1alpha1 Eip is a Porter 0.3 object, and deploy/crds defaults
  // it to false for v1alpha1 so objects created through v1alpha1 carry it after conversion.
  const knownIPs = readBool(spec['usingKnownIPs'], 'spec.usingKnownIPs', report);
  const avoidBuggyIPs = knownIPs === false || (knownIPs === undefined && e.apiVersion === OPENELB_V1ALPHA1);
  const priority = readInt(spec['priority'], 'spec.priority', report, { min: -(2 ** 31), max: 2 ** 31 - 1 }) ?? 0;
  const namespaces = readStringList(spec['namespaces'], 'spec.namespaces', report, { unique: true });
  const nsSelector = readStringMap(spec['namespaceSelector'], 'spec.namespaceSelector', report);
  const labels = readStringMap(e.metadata?.labels, 'metadata.labels', report) ?? {};
  const isDefault = e.metadata?.annotations?.[DEFAULT_EIP_ANNOTATION] === 'true';
  if (sink.problems.length > 0 || range === undefined) return { value: undefined, problems: sink.problems };

  const poolSpec: PoolSpec = {
    name: sink.ref.name,
    dialect: 'openelb',
    ranges: [range],
    autoAssign: false,
    avoidBuggyIPs,
    priority,
    hasServiceAllocation: false,
    namespaces,
    namespaceSelectors: nsSelector === undefined ? [] : [selectorFromLabels(nsSelector)],
    serviceSelectors: [],
    protocol: protocol ?? 'bgp',
    disabled,
    isDefault,
    interface: ifaceText,
  };
  return { value: { source: sink.ref, spec: poolSpec, labels, protocol, eipInterface }, problems: [] };
}

export function attemptEip(e: Eip, previous: Eip | undefined, accepted: readonly PoolConfig[]): Attempt<PoolConfig> {
  const own = checkEip(e, previous);
  if (own.value === undefined) return own;
  const problems: Problem[] = crossPoolProblems(own.value, accepted, () => 'spec.address');
  if (own.value.spec.isDefault) {
    const other = accepted.find((p) => p.spec.dialect === 'openelb' && p.spec.isDefault);
    if (other !== undefined) {
      problems.push(
        makeProblem(own.value.source, `metadata.annotations["${DEFAULT_EIP_ANNOTATION}"]`, `${describeRef(other.source)} is already the default Eip: only one may carry ${DEFAULT_EIP_ANNOTATION}: "true"`),
      );
    }
  }
  return problems.length > 0 ? { value: undefined, problems } : own;
}
