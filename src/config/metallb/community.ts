// MetalLB Community objects: named aliases for community values (MetalLB api/v1beta1/community_types.go). Rules:
// every value parses (AA:NN or large:G:L1:L2); an alias name is unique across all Community objects.

import { parseCommunity } from '../community.ts';
import type { Community } from '../crds/metallb.ts';
import type { BgpCommunity } from '../model.ts';
import { describeRef, problemSink, type ObjectRef } from '../problems.ts';
import { isRecord, readList, readString } from '../read.ts';
import type { Attempt } from '../settle.ts';

export interface CommunityAlias {
  readonly name: string;
  readonly value: BgpCommunity;
}

/** One accepted Community object and its aliases. */
export interface CommunitySet {
  readonly source: ObjectRef;
  readonly aliases: readonly CommunityAlias[];
}

export function communityRef(c: Community): ObjectRef {
  return { kind: 'Community', namespace: c.metadata?.namespace ?? 'default', name: c.metadata?.name ?? '' };
}

export function attemptCommunity(c: Community, _prev: Community | undefined, accepted: readonly CommunitySet[]): Attempt<CommunitySet> {
  const sink = problemSink(communityRef(c));
  const report = sink.report;
  const spec = isRecord(c.spec) ? c.spec : {};
  const aliases: CommunityAlias[] = [];
  readList(spec['communities'], 'spec.communities', report).forEach((raw, i) => {
    const f = `spec.communities[${i}]`;
    if (!isRecord(raw)) {
      report(f, 'must be a mapping with name and value');
      return;
    }
    const name = readString(raw['name'], `${f}.name`, report);
    const value = readString(raw['value'], `${f}.value`, report);
    if (name === undefined || name === '') {
      report(`${f}.name`, 'an alias needs a name');
      return;
    }
    if (value === undefined) {
      report(`${f}.value`, `alias "${name}" needs a value: AA:NN or large:G:L1:L2`);
      return;
    }
    const parsed = parseCommunity(value);
    if (!parsed.ok) {
      report(`${f}.value`, parsed.message);
      return;
    }
    if (aliases.some((a) => a.name === name)) {
      report(`${f}.name`, `duplicate alias "${name}" in this object: remove one`);
      return;
    }
    for (const other of accepted) {
      if (other.aliases.some((a) => a.name === name)) {
        report(`${f}.name`, `alias "${name}" is already defined by ${describeRef(other.source)}: alias names must be unique across Community objects`);
        return;
      }
    }
    aliases.push({ name, value: parsed.value });
  });
  if (sink.problems.length > 0) return { value: undefined, problems: sink.problems };
  return { value: { source: sink.ref, aliases }, problems: [] };
}

/** The message for a community string that is no literal, no well-known name and no known alias. */
export function unknownCommunityMessage(text: string): string {
  return `"${text}" is neither AA:NN, large:G:L1:L2, a well-known community name, nor an alias defined by a Community object: define the alias or fix the value`;
}
