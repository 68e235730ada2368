// MetalLB BFDProfile -> BfdProfileConfig with FRR's defaults filled in (MetalLB api/v1beta1/bfdprofile_types.go).
// Ranges: intervals 10..60000 ms, detectMultiplier 2..255, minimumTtl 1..254.
// echoMode: true is a problem on spec.echoMode: berth's BFD (src/bgp/bfd) has no Echo function
// (RFC 5880 §6.4); echoInterval is read (ranges checked) and has no effect without echo mode.

import type { BFDProfile } from '../crds/metallb.ts';
import type { BfdProfileConfig } from '../model.ts';
import { problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readBool, readInt } from '../read.ts';
import type { Attempt } from '../settle.ts';

export const BfdDefaults = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  minimumTtl: 254,
} as const;

const INTERVAL = { min: 10, max: 60_000 } as const;

export function bfdRef(b: BFDProfile): ObjectRef {
  return { kind: 'BFDProfile', namespace: b.metadata?.namespace ?? 'default', name: b.metadata?.name ?? '' };
}

export function attemptBfdProfile(b: BFDProfile): Attempt<BfdProfileConfig> {
  const sink = problemSink(bfdRef(b));
  const r = sink.report;
  const s = isRecord(b.spec) ? b.spec : {};
  const value: BfdProfileConfig = {
    source: sink.ref,
    name: sink.ref.name,
    receiveInterval: readInt(s['receiveInterval'], 'spec.receiveInterval', r, INTERVAL) ?? BfdDefaults.receiveInterval,
    transmitInterval: readInt(s['transmitInterval'], 'spec.transmitInterval', r, INTERVAL) ?? BfdDefaults.transmitInterval,
    detectMultiplier: readInt(s['detectMultiplier'], 'spec.detectMultiplier', r, { min: 2, max: 255 }) ?? BfdDefaults.detectMultiplier,
    echoInterval: readInt(s['echoInterval'], 'spec.echoInterval', r, INTERVAL) ?? BfdDefaults.echoInterval,
    echoMode: readBool(s['echoMode'], 'spec.echoMode', r) ?? false,
    passiveMode: readBool(s['passiveMode'], 'spec.passiveMode', r) ?? false,
    minimumTtl: readInt(s['minimumTtl'], 'spec.minimumTtl', r, { min: 1, max: 254 }) ?? BfdDefaults.minimumTtl,
  };
  if (value.echoMode) {
    r('spec.echoMode', 'echo mode is not implemented by berth\'s BFD (RFC 5880 §6.4 Echo function): set echoMode to false; the control-packet intervals give the detection time');
  }
  return sink.problems.length > 0 ? { value: undefined, problems: sink.problems } : { value, problems: [] };
}
