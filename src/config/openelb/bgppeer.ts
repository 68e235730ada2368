// OpenELB BgpPeer -> BgpPeerConfig (OpenELB api/v1alpha2/bgppeer_types.go), mapped where the GoBGP fields
// mean the same as MetalLB's: conf.neighborAddress -> peerAddress, conf.peerAs -> peerASN, conf.localAs
// -> localASN, conf.authPassword -> inline password, conf.neighborInterface -> interface (unnumbered),
// ebgpMultihop, timers.config (uint strings, seconds), transport.remotePort/passiveMode,
// gracefulRestart.enabled, nodeSelector. myASN comes from BgpConf `default` (its asPerRack too).
// conf.vrf is a GoBGP VRF (not a Linux VRF) and policy-shaped fields have no berth meaning: rejected.

import type { OpenELBBgpPeer } from '../crds/openelb.ts';
import { OPENELB_V1ALPHA1 } from '../crds/openelb.ts';
import type { BgpPeerConfig, BgpSpeakerConfig } from '../model.ts';
import { problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readBool, readInt, readRecord, readString, type Report } from '../read.ts';
import { readSelector } from '../selectors.ts';
import type { Attempt } from '../settle.ts';
import { resolveTimers } from '../timers.ts';
import { BGP_PORT, checkPasswordText, readIPField } from '../metallb/bgppeer.ts';

const U32_MAX = 0xffff_ffff;

export function openelbPeerRef(p: OpenELBBgpPeer): ObjectRef {
  return { kind: 'BgpPeer', name: p.metadata?.name ?? '' };
}

/** GoBGP jsonpb uint64: a decimal string or a number. */
function readUintText(v: unknown, field: string, report: Report): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^[0-9]+$/.test(v.trim())) return Number(v.trim());
  report(field, `must be a whole number of seconds (e.g. "90"), got ${JSON.stringify(v)}`);
  return undefined;
}

export function attemptOpenELBBgpPeer(p: OpenELBBgpPeer, speaker: BgpSpeakerConfig | undefined): Attempt<BgpPeerConfig> {
  const sink = problemSink(openelbPeerRef(p));
  const report = sink.report;
  const s: Readonly<Record<string, unknown>> = isRecord(p.spec) ? p.spec : {};
  const confField = p.apiVersion === OPENELB_V1ALPHA1 && s['conf'] === undefined ? 'config' : 'conf';
  const conf = readRecord(s[confField], `spec.${confField}`, report) ?? {};
  const cf = `spec.${confField}`;
  const peerAs = readInt(conf['peerAs'], `${cf}.peerAs`, report, { min: 1, max: U32_MAX });
  if (conf['peerAs'] === undefined) report(`${cf}.peerAs`, 'the peer ASN is required');
  const localAs = readInt(conf['localAs'], `${cf}.localAs`, report, { min: 0, max: U32_MAX });
  const peerAddress = readIPField(conf['neighborAddress'], `${cf}.neighborAddress`, report);
  const nif = readString(conf['neighborInterface'], `${cf}.neighborInterface`, report);
  const iface = nif === undefined || nif === '' ? undefined : nif;
  if (conf['neighborAddress'] === undefined && iface === undefined) report(`${cf}.neighborAddress`, 'the neighbor address is required');
  if (conf['neighborAddress'] !== undefined && iface !== undefined) report(`${cf}.neighborInterface`, 'set either neighborAddress or neighborInterface, not both');
  const pwText = readString(conf['authPassword'], `${cf}.authPassword`, report);
  const pw = pwText === undefined ? undefined : checkPasswordText(pwText, `${cf}.authPassword`, report);
  const vrf = readString(conf['vrf'], `${cf}.vrf`, report);
  if (vrf !== undefined && vrf !== '') report(`${cf}.vrf`, 'GoBGP VRFs are not supported by berth: remove conf.vrf');
  const adminDown = readBool(conf['adminDown'], `${cf}.adminDown`, report) ?? false;

  const mh = readRecord(s['ebgpMultihop'], 'spec.ebgpMultihop', report);
  const ebgpMultiHop = mh === undefined ? false : (readBool(mh['enabled'], 'spec.ebgpMultihop.enabled', report) ?? false);
  const ttl = mh === undefined ? undefined : readInt(mh['multihopTtl'], 'spec.ebgpMultihop.multihopTtl', report, { min: 1, max: 255 });

  const timersRec = readRecord(readRecord(s['timers'], 'spec.timers', report)?.['config'], 'spec.timers.config', report) ?? {};
  const hold = readUintText(timersRec['holdTime'], 'spec.timers.config.holdTime', report);
  const keepalive = readUintText(timersRec['keepaliveInterval'], 'spec.timers.config.keepaliveInterval', report);
  const connect = readUintText(timersRec['connectRetry'], 'spec.timers.config.connectRetry', report);
  if (connect !== undefined && (connect < 1 || connect > 65535)) report('spec.timers.config.connectRetry', 'must be 1..65535 seconds');
  const timers = resolveTimers(hold, keepalive, { hold: 'spec.timers.config.holdTime', keepalive: 'spec.timers.config.keepaliveInterval' }, report);

  const transport = readRecord(s['transport'], 'spec.transport', report) ?? {};
  const remotePort = readInt(transport['remotePort'], 'spec.transport.remotePort', report, { min: 1, max: 65535 });
  const passive = readBool(transport['passiveMode'], 'spec.transport.passiveMode', report) ?? false;
  const gr = readRecord(s['gracefulRestart'], 'spec.gracefulRestart', report);
  const grEnabled = gr === undefined ? false : (readBool(gr['enabled'], 'spec.gracefulRestart.enabled', report) ?? false);
  const nodeSelector = s['nodeSelector'] === undefined ? undefined : readSelector(s['nodeSelector'], 'spec.nodeSelector', report);

  if (speaker === undefined) {
    sink.report(undefined, 'no valid BgpConf named "default": create it (spec.as is the local ASN) or fix its problems');
  }
  if (sink.problems.length > 0 || peerAs === undefined || timers === undefined || speaker === undefined) {
    return { value: undefined, problems: sink.problems };
  }
  const myASN = speaker.asn;
  if (ebgpMultiHop && peerAs === (localAs !== undefined && localAs !== 0 ? localAs : myASN)) {
    return { value: undefined, problems: [{ ...sink.ref, field: 'spec.ebgpMultihop.enabled', message: 'invalid ebgp-multihop parameter set for an ibgp peer: disable ebgpMultihop' }] };
  }
  return {
    value: {
      source: sink.ref,
      name: sink.ref.name,
      dialect: 'openelb',
      myASN,
      myASNPerRack: speaker.asPerRack,
      peerASN: { kind: 'asn', asn: peerAs },
      localASN: localAs === undefined || localAs === 0 ? undefined : localAs,
      peerAddress,
      interface: iface,
      sourceAddress: undefined,
      peerPort: remotePort ?? BGP_PORT,
      holdTime: timers.holdTime,
      keepaliveTime: timers.keepaliveTime,
      connectTime: connect,
      routerID: speaker.routerID,
      nodeSelectors: nodeSelector === undefined ? [] : [nodeSelector],
      password: pw === undefined || pw === '' ? { kind: 'none' } : { kind: 'inline', password: pw },
      bfdProfile: undefined,
      enableGracefulRestart: grEnabled || speaker.gracefulRestart,
      ebgpMultiHop,
      ebgpMultiHopTTL: ttl,
      vrf: undefined,
      dualStackAddressFamily: false,
      passive,
      adminDown,
    },
    problems: [],
  };
}
