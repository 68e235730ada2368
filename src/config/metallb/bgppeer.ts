// MetalLB BGPPeer (v1beta2, and v1beta1 converted up) -> BgpPeerConfig. MetalLB api/v1beta2/bgppeer_types.go, the BGPPeer webhook in internal/k8s/webhooks, api/v1beta1/bgppeer_conversion.go.
// Rules: myASN non-zero; exactly one of peerASN / dynamicASN; exactly one of peerAddress / interface;
// addresses parse; routerID is IPv4 (RFC 4271 §4.2: 4-octet BGP Identifier); peerPort 1..16384;
// timers (timers.ts); connectTime 1..65535 s whole seconds; password XOR passwordSecret, the Secret of
// type kubernetes.io/basic-auth with key `password`; bfdProfile names a valid BFDProfile;
// enableGracefulRestart immutable; ebgpMultiHop rejected for iBGP.

import type { V1Secret } from '@kubernetes/client-node';
import { parseIP } from '../../pool/types.ts';
import type { BGPPeer } from '../crds/metallb.ts';
import { METALLB_V1BETA1 } from '../crds/metallb.ts';
import { parseDuration, roundToSeconds } from '../duration.ts';
import type { BfdProfileConfig, BgpPeerConfig, PeerASN, PeerPassword } from '../model.ts';
import { problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readBool, readInt, readRecord, readString, type Report } from '../read.ts';
import { readSelectorList } from '../selectors.ts';
import type { Attempt } from '../settle.ts';
import { resolveTimers } from '../timers.ts';

export const BGP_PORT = 179;
const U32_MAX = 0xffff_ffff;
const MAX_PEER_PORT = 16384;
export const BASIC_AUTH_SECRET_TYPE = 'kubernetes.io/basic-auth';

/** Fields that exist only in v1beta2: set on a v1beta1 object they are an error, not silently dropped. */
const V1BETA2_ONLY = ['dynamicASN', 'localASN', 'interface', 'connectTime', 'passwordSecret', 'enableGracefulRestart', 'vrf', 'disableMP', 'dualStackAddressFamily'] as const;

export function bgpPeerRef(p: BGPPeer): ObjectRef {
  return { kind: 'BGPPeer', namespace: p.metadata?.namespace ?? 'default', name: p.metadata?.name ?? '' };
}

export interface PeerContext {
  readonly bfdProfiles: readonly BfdProfileConfig[];
  readonly secrets: readonly V1Secret[];
}

/** Reads an optional IP field; returns the trimmed text when valid. */
export function readIPField(v: unknown, field: string, report: Report, opts: { readonly ipv4Only?: boolean } = {}): string | undefined {
  const s = readString(v, field, report);
  if (s === undefined || s === '') return undefined;
  const ip = parseIP(s);
  if (!ip.ok) {
    report(field, `${ip.error.message}: write an IPv4 or IPv6 address`);
    return undefined;
  }
  if (opts.ipv4Only === true && ip.value.family !== 'ipv4') {
    report(field, `"${s}" is IPv6, but a BGP Identifier is 4 octets (RFC 4271 §4.2): write an IPv4 address`);
    return undefined;
  }
  return s.trim();
}

/** Reads a metav1.Duration field, rounded to whole seconds. */
export function readSeconds(v: unknown, field: string, report: Report): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') {
    report(field, 'must be a duration string such as "90s"');
    return undefined;
  }
  const d = parseDuration(v);
  if (!d.ok) {
    report(field, d.message);
    return undefined;
  }
  return roundToSeconds(d.ms);
}

/** v1beta1 -> v1beta2 legacy selector: operators were free strings; map them case-insensitively. */
function upgradeLegacySelectors(v: unknown): unknown {
  if (!Array.isArray(v)) return v;
  const ops: Readonly<Record<string, string>> = { in: 'In', notin: 'NotIn', exists: 'Exists', doesnotexist: 'DoesNotExist' };
  return v.map((sel: unknown) => {
    if (!isRecord(sel) || !Array.isArray(sel['matchExpressions'])) return sel;
    const exprs = (sel['matchExpressions'] as unknown[]).map((e) => {
      if (!isRecord(e) || typeof e['operator'] !== 'string') return e;
      return { ...e, operator: ops[e['operator'].toLowerCase()] ?? e['operator'] };
    });
    return { ...sel, matchExpressions: exprs };
  });
}

/**
 * MetalLB refuses a password holding a line break (config_test.go "invalid password with newline"); the
 * usual cause is a Secret made with `echo pw | base64`, whose value ends in "\n".
 */
export function checkPasswordText(pw: string, field: string, report: Report): string | undefined {
  if (!/[\r\n]/.test(pw)) return pw;
  report(field, 'the password holds a line break (a Secret made with `echo pw | base64` ends in "\\n"): remove it (echo -n)');
  return undefined;
}

export function resolveSecretPassword(secret: V1Secret | undefined, where: { namespace: string; name: string }, field: string, report: Report): string | undefined {
  if (secret === undefined) {
    report(field, `Secret ${where.namespace}/${where.name} not found: create it (type ${BASIC_AUTH_SECRET_TYPE}, key "password")`);
    return undefined;
  }
  if (secret.type !== BASIC_AUTH_SECRET_TYPE) {
    report(field, `Secret ${where.namespace}/${where.name} has type "${secret.type ?? 'Opaque'}": it must be ${BASIC_AUTH_SECRET_TYPE}`);
    return undefined;
  }
  const fromString = secret.stringData?.['password'];
  if (fromString !== undefined) return checkPasswordText(fromString, field, report);
  const encoded = secret.data?.['password'];
  if (encoded === undefined) {
    report(field, `Secret ${where.namespace}/${where.name} has no "password" key: add it`);
    return undefined;
  }
  return checkPasswordText(Buffer.from(encoded, 'base64').toString('utf8'), field, report);
}

export function attemptBGPPeer(p: BGPPeer, previous: BGPPeer | undefined, ctx: PeerContext): Attempt<BgpPeerConfig> {
  const sink = problemSink(bgpPeerRef(p));
  const report = sink.report;
  const v1beta1 = p.apiVersion === METALLB_V1BETA1;
  const s: Readonly<Record<string, unknown>> = isRecord(p.spec) ? p.spec : {};
  if (!isRecord(p.spec)) report('spec', 'the BGPPeer has no spec: set myASN, peerASN and peerAddress');
  if (v1beta1) {
    for (const f of V1BETA2_ONLY) {
      if (s[f] !== undefined) report(`spec.${f}`, `${f} does not exist in metallb.io/v1beta1: use apiVersion metallb.io/v1beta2`);
    }
  }
  const myASN = readInt(s['myASN'], 'spec.myASN', report, { min: 0, max: U32_MAX });
  if (myASN === 0 || (myASN === undefined && s['myASN'] === undefined)) report('spec.myASN', 'missing local ASN: set myASN (1..4294967295)');
  const peerASNNum = readInt(s['peerASN'], 'spec.peerASN', report, { min: 0, max: U32_MAX });
  const dynamic = readString(s['dynamicASN'], 'spec.dynamicASN', report);
  let peerASN: PeerASN | undefined;
  if (dynamic !== undefined && dynamic !== 'internal' && dynamic !== 'external') {
    report('spec.dynamicASN', `must be internal or external, got "${dynamic}"`);
  } else if (dynamic !== undefined && peerASNNum !== undefined && peerASNNum !== 0) {
    report('spec.dynamicASN', 'set either peerASN or dynamicASN, not both');
  } else if (dynamic !== undefined) {
    peerASN = { kind: 'dynamic', type: dynamic };
  } else if (peerASNNum === undefined || peerASNNum === 0) {
    if (s['peerASN'] === undefined || peerASNNum === 0) report('spec.peerASN', 'missing peer ASN: set peerASN, or dynamicASN internal/external');
  } else {
    peerASN = { kind: 'asn', asn: peerASNNum };
  }
  const localASN = readInt(s['localASN'], 'spec.localASN', report, { min: 1, max: U32_MAX });
  const peerAddress = readIPField(s['peerAddress'], 'spec.peerAddress', report);
  const iface = readString(s['interface'], 'spec.interface', report);
  const ifaceName = iface === undefined || iface === '' ? undefined : iface;
  if (s['peerAddress'] !== undefined && ifaceName !== undefined) report('spec.interface', 'set either peerAddress or interface (unnumbered BGP), not both');
  if (s['peerAddress'] === undefined && ifaceName === undefined) report('spec.peerAddress', 'missing peer address: set peerAddress (or interface for unnumbered BGP)');
  // The session runs on that interface (its link-local address, RA sockets opened by name): a Linux interface name.
  if (ifaceName !== undefined && !validInterfaceName(ifaceName)) report('spec.interface', `${JSON.stringify(ifaceName)} is not a Linux interface name (1-15 characters, no '/', ':' or whitespace)`);
  const sourceAddress = readIPField(s['sourceAddress'], 'spec.sourceAddress', report);
  if (peerAddress !== undefined && sourceAddress !== undefined) {
    const a = parseIP(peerAddress);
    const b = parseIP(sourceAddress);
    if (a.ok && b.ok && a.value.family !== b.value.family) {
      report('spec.sourceAddress', `sourceAddress ${sourceAddress} and peerAddress ${peerAddress} are of different IP families`);
    }
  }
  const port = readInt(s['peerPort'], 'spec.peerPort', report, { min: v1beta1 ? 0 : 1, max: MAX_PEER_PORT });
  const peerPort = port === undefined || port === 0 ? BGP_PORT : port;
  const hold = readSeconds(s['holdTime'], 'spec.holdTime', report);
  const keepalive = readSeconds(s['keepaliveTime'], 'spec.keepaliveTime', report);
  const timers = resolveTimers(hold, keepalive, { hold: 'spec.holdTime', keepalive: 'spec.keepaliveTime' }, report);
  let connectTime: number | undefined;
  if (s['connectTime'] !== undefined) {
    const raw = typeof s['connectTime'] === 'string' ? parseDuration(s['connectTime']) : undefined;
    if (raw === undefined || !raw.ok) report('spec.connectTime', raw?.message ?? 'must be a duration string such as "10s"');
    else if (raw.ms % 1000 !== 0 || raw.ms < 1000 || raw.ms > 65_535_000) report('spec.connectTime', `must be whole seconds between 1s and 65535s, got "${String(s['connectTime'])}"`);
    else connectTime = raw.ms / 1000;
  }
  const routerID = readIPField(s['routerID'], 'spec.routerID', report, { ipv4Only: true });
  const nodeSelectors = readSelectorList(v1beta1 ? upgradeLegacySelectors(s['nodeSelectors']) : s['nodeSelectors'], 'spec.nodeSelectors', report);

  const inline = readString(s['password'], 'spec.password', report);
  // MetalLB reads only passwordSecret.name: an empty reference (`passwordSecret: {}`, written on every
  // peer by its ConfigMap-to-CR converter) is no reference.
  const secretRef = readRecord(s['passwordSecret'], 'spec.passwordSecret', report);
  const secretName = secretRef === undefined ? undefined : readString(secretRef['name'], 'spec.passwordSecret.name', report);
  let password: PeerPassword = { kind: 'none' };
  if (inline !== undefined && inline !== '' && secretName !== undefined && secretName !== '') {
    report('spec.passwordSecret', 'set either password or passwordSecret, not both');
  } else if (inline !== undefined && inline !== '') {
    const pw = checkPasswordText(inline, 'spec.password', report);
    if (pw !== undefined) password = { kind: 'inline', password: pw };
  } else if (secretRef !== undefined && secretName !== undefined && secretName !== '') {
    const name = secretName;
    const namespace = readString(secretRef['namespace'], 'spec.passwordSecret.namespace', report) ?? sink.ref.namespace ?? 'default';
    const secret = ctx.secrets.find((x) => x.metadata?.name === name && (x.metadata.namespace ?? 'default') === namespace);
    const pw = resolveSecretPassword(secret, { namespace, name }, 'spec.passwordSecret', report);
    if (pw !== undefined) password = { kind: 'secret', namespace, name, password: pw };
  }
  const bfd = readString(s['bfdProfile'], 'spec.bfdProfile', report);
  const bfdProfile = bfd === undefined || bfd === '' ? undefined : bfd;
  if (bfdProfile !== undefined && !ctx.bfdProfiles.some((b) => b.name === bfdProfile)) {
    report('spec.bfdProfile', `no valid BFDProfile named "${bfdProfile}": create it or fix the name`);
  }
  const gr = readBool(s['enableGracefulRestart'], 'spec.enableGracefulRestart', report) ?? false;
  const prevSpec: Readonly<Record<string, unknown>> | undefined = isRecord(previous?.spec) ? previous.spec : undefined;
  if (prevSpec !== undefined && (prevSpec['enableGracefulRestart'] === true) !== gr) {
    report('spec.enableGracefulRestart', `enableGracefulRestart is immutable (it is negotiated in the OPEN message; was ${String(prevSpec['enableGracefulRestart'] === true)}): delete and recreate the BGPPeer to change it`);
  }
  const ebgpMultiHop = readBool(s['ebgpMultiHop'], 'spec.ebgpMultiHop', report) ?? false;
  const ibgp = (peerASN?.kind === 'asn' && peerASN.asn === myASN) || (peerASN?.kind === 'dynamic' && peerASN.type === 'internal');
  if (ebgpMultiHop && ibgp) report('spec.ebgpMultiHop', 'invalid ebgp-multihop parameter set for an ibgp peer: remove ebgpMultiHop (iBGP sessions are not limited to one hop)');
  const vrf = readString(s['vrf'], 'spec.vrf', report);
  // The session socket is bound to the VRF device by name (SO_BINDTODEVICE): a Linux interface name.
  if (vrf !== undefined && vrf !== '' && !validInterfaceName(vrf)) report('spec.vrf', `"${vrf}" is not a Linux VRF device name (1-15 characters, no '/', ':' or whitespace)`);
  readBool(s['disableMP'], 'spec.disableMP', report); // deprecated, no effect
  const dualStackAddressFamily = readBool(s['dualStackAddressFamily'], 'spec.dualStackAddressFamily', report) ?? false;

  if (sink.problems.length > 0 || myASN === undefined || peerASN === undefined || timers === undefined) {
    return { value: undefined, problems: sink.problems };
  }
  return {
    value: {
      source: sink.ref,
      name: sink.ref.name,
      dialect: 'metallb',
      myASN,
      myASNPerRack: {},
      peerASN,
      localASN,
      peerAddress,
      interface: ifaceName,
      sourceAddress,
      peerPort,
      holdTime: timers.holdTime,
      keepaliveTime: timers.keepaliveTime,
      connectTime,
      routerID,
      nodeSelectors,
      password,
      bfdProfile,
      enableGracefulRestart: gr,
      ebgpMultiHop,
      ebgpMultiHopTTL: undefined,
      vrf: vrf === undefined || vrf === '' ? undefined : vrf,
      dualStackAddressFamily,
      passive: false,
      adminDown: false,
    },
    problems: [],
  };
}

/** Linux dev_valid_name (net/core/dev.c): shorter than IFNAMSIZ (16), not "." or "..", no '/', ':' or whitespace. */
function validInterfaceName(name: string): boolean {
  return name.length <= 15 && name !== '.' && name !== '..' && !/[/:\s]/.test(name);
}
