// OpenELB BgpConf -> BgpSpeakerConfig (OpenELB api/v1alpha2/bgpconf_types.go). Rules: only the object
// named `default` is used; `as` non-zero; routerId IPv4; listenPort -1 (no listener) or 1..65535;
// asPerRack values are ASNs. v1alpha1 spellings routerID/port are accepted.

import type { BgpConf } from '../crds/openelb.ts';
import type { BgpSpeakerConfig } from '../model.ts';
import { problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readBool, readInt, readRecord, readString, readStringList } from '../read.ts';
import type { Attempt } from '../settle.ts';
import { readIPField } from '../metallb/bgppeer.ts';

export const BGPCONF_NAME = 'default';
const U32_MAX = 0xffff_ffff;

export function bgpConfRef(c: BgpConf): ObjectRef {
  return { kind: 'BgpConf', name: c.metadata?.name ?? '' };
}

export function attemptBgpConf(c: BgpConf): Attempt<BgpSpeakerConfig> {
  const sink = problemSink(bgpConfRef(c));
  const report = sink.report;
  if (sink.ref.name !== BGPCONF_NAME) {
    report('metadata.name', `only the BgpConf named "${BGPCONF_NAME}" is used: rename it to "${BGPCONF_NAME}"`);
  }
  const s: Readonly<Record<string, unknown>> = isRecord(c.spec) ? c.spec : {};
  const asn = readInt(s['as'], 'spec.as', report, { min: 1, max: U32_MAX });
  if (s['as'] === undefined) report('spec.as', 'spec.as (the local ASN) is required');
  const asPerRack: Record<string, number> = {};
  const racks = readRecord(s['asPerRack'], 'spec.asPerRack', report) ?? {};
  for (const [rack, v] of Object.entries(racks)) {
    const n = readInt(v, `spec.asPerRack.${rack}`, report, { min: 1, max: U32_MAX });
    if (n !== undefined) asPerRack[rack] = n;
  }
  const routerField = s['routerId'] !== undefined ? 'routerId' : 'routerID';
  const routerID = readIPField(s[routerField], `spec.${routerField}`, report, { ipv4Only: true });
  const portField = s['listenPort'] !== undefined ? 'listenPort' : 'port';
  const listenPort = readInt(s[portField], `spec.${portField}`, report, { min: -1, max: 65535 });
  if (listenPort === 0) report(`spec.${portField}`, 'listenPort 0 is invalid: use 1..65535, or -1 to not listen');
  const listenAddresses = readStringList(s['listenAddresses'], 'spec.listenAddresses', report, { unique: true });
  listenAddresses.forEach((a, i) => readIPField(a, `spec.listenAddresses[${i}]`, report));
  const gr = readRecord(s['gracefulRestart'], 'spec.gracefulRestart', report);
  const grEnabled = gr === undefined ? false : (readBool(gr['enabled'], 'spec.gracefulRestart.enabled', report) ?? false);
  const policy = readString(s['policy'], 'spec.policy', report);
  if (policy !== undefined && policy !== '') {
    report('spec.policy', 'GoBGP policy ConfigMaps are not supported by berth: express communities and local preference with a BGPAdvertisement that names the Eip, and remove spec.policy');
  }
  if (sink.problems.length > 0 || asn === undefined) return { value: undefined, problems: sink.problems };
  return {
    value: {
      source: sink.ref,
      asn,
      asPerRack,
      routerID,
      listenPort: listenPort === undefined || listenPort === 0 ? undefined : listenPort,
      listenAddresses,
      gracefulRestart: grEnabled,
    },
    problems: [],
  };
}
