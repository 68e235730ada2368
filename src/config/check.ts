// The pure core of `berth check`: compile a snapshot, allocate an IP for every Service (replaying the
// IPs already in status first, as the controller does after a restart), dispatch each VIP, and report.
// src/cli/check.ts only parses arguments, reads files and prints.

import { formatIP, type AllocationResult } from '../pool/types.ts';
import { assignAll } from './assign.ts';
import { compile, type CompileOptions, type CompileResult } from './compile.ts';
import { describeAnnouncements, type AnnouncementLine } from './describe.ts';
import { dispatch } from './dispatch.ts';
import type { AnnounceMode } from './model.ts';
import { sortProblems, type Problem } from './problems.ts';
import { describeServiceBgp, sharedIPAttributeConflicts, translateService, type ServiceIntent, type ServiceOptions, type ServiceTranslation } from './services.ts';
import type { Snapshot } from './snapshot.ts';

export interface ServiceReport {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  /** null when no pool was assigned. */
  readonly pool: string | null;
  readonly modes: readonly AnnounceMode[];
  /** Why the Service has no IP or no announcement; or a note beside its IPs (status IPs replaced, no second family). */
  readonly reason?: string;
}

export interface CheckReport {
  readonly services: readonly ServiceReport[];
  readonly problems: readonly Problem[];
}

export interface CheckResult {
  readonly report: CheckReport;
  readonly compiled: CompileResult;
  /** Per announced Service (`namespace/name`): what goes on the wire, for people (not in the JSON). */
  readonly announcements: ReadonlyMap<string, readonly AnnouncementLine[]>;
}

/** Runs compile + allocation + dispatch over a snapshot. `extraProblems` (e.g. manifest errors) are merged in. */
export function checkSnapshot(snapshot: Snapshot, opts: ServiceOptions & CompileOptions = {}, extraProblems: readonly Problem[] = []): CheckResult {
  const compiled = compile(snapshot, undefined, opts);
  const { config } = compiled;
  const translations: ServiceTranslation[] = snapshot.services.map((s) => translateService(s, snapshot.namespaces, opts));
  const ours: ServiceIntent[] = translations.flatMap((t) => (t.kind === 'ours' ? [t.intent] : []));
  // Restart safety: status IPs first, then every Service converges (assign.ts, as the controller and the speaker).
  const assigned = assignAll(config, ours);

  const services: ServiceReport[] = [];
  /** `namespace/name` of services[i], built once: the sort key and the announcements' key. */
  const keys: string[] = [];
  const announcements = new Map<string, readonly AnnouncementLine[]>();
  const problems: Problem[] = [...extraProblems, ...compiled.problems];
  for (const t of translations) {
    const ns = t.kind === 'ours' ? (t.intent.ref.namespace ?? 'default') : (t.ref.namespace ?? 'default');
    const name = t.kind === 'ours' ? t.intent.ref.name : t.ref.name;
    if (t.kind === 'ignored') {
      if (!t.reason.startsWith('type ')) {
        services.push({ namespace: ns, name, ips: [], pool: null, modes: [], reason: `not berth's: ${t.reason}` });
        keys.push(`${ns}/${name}`);
      }
      continue;
    }
    if (t.kind === 'invalid') {
      problems.push(...t.problems);
      services.push({ namespace: ns, name, ips: [], pool: null, modes: [], reason: 'invalid Service: see problems' });
      keys.push(`${ns}/${name}`);
      continue;
    }
    const a = assigned.get(t.intent.request.service);
    const res = a?.result;
    if (res === undefined || !res.ok) {
      const why = [res === undefined ? 'not allocated' : res.failure.message, ...(res === undefined ? [] : droppedNote(a?.restore, res))];
      services.push({ namespace: ns, name, ips: [], pool: null, modes: [], reason: why.join('; ') });
      keys.push(`${ns}/${name}`);
      continue;
    }
    const d = dispatch(config, { pool: res.assignment.pool, serviceProtocol: t.intent.protocol, serviceLabels: t.intent.labels, sharingKey: t.intent.request.sharingKey });
    // Notes beside a success: the status IPs were replaced, or a PreferDualStack second family is missing.
    const notes = [
      ...(d.reason === undefined ? [] : [d.reason]),
      ...droppedNote(a?.restore, res),
      ...(res.additionalFailed === undefined ? [] : [`no second family: ${res.additionalFailed.message}`]),
    ];
    const key = `${ns}/${name}`;
    keys.push(key);
    announcements.set(key, describeAnnouncements(config, res.assignment.ips, d, { weightedEcmp: t.intent.weightedEcmp === true, serviceBgp: describeServiceBgp(t.intent.bgp) }));
    services.push({
      namespace: ns,
      name,
      ips: res.assignment.ips.map(formatIP),
      pool: res.assignment.pool,
      modes: d.modes,
      ...(notes.length === 0 ? {} : { reason: notes.join('; ') }),
    });
  }
  // Sorted by `namespace/name`, each key built once (not twice per comparison: 100,000 Services).
  const keyed = services.map((svc, i) => ({ key: keys[i] ?? '', svc })).sort((a, b) => (a.key < b.key ? -1 : 1));
  // Services sharing an IP with different berth.io/bgp-local-pref: the speaker sends the largest and warns the same way.
  problems.push(...sharedIPAttributeConflicts(ours.flatMap((intent) => {
    const res = assigned.get(intent.request.service)?.result;
    return res?.ok === true ? [{ intent, ips: res.assignment.ips.map(formatIP) }] : [];
  })));
  return { report: { services: keyed.map((k) => k.svc), problems: sortProblems(problems) }, compiled, announcements };
}

/** Why the IPs a Service carried in status were not kept, if they were not. */
function droppedNote(restore: AllocationResult | undefined, res: AllocationResult): string[] {
  const failure = restore !== undefined && !restore.ok ? restore.failure : res.cleared;
  return failure === undefined ? [] : [`the IPs in status were dropped: ${failure.message}`];
}
