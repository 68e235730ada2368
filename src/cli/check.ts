// `berth check --manifests PATH [--output table|json] [--lb-class NAME]`: compile the manifests, allocate
// an IP for every LoadBalancer Service, show each Service's IPs, pool and announce modes (or why it has
// none), then every problem. Exit 0 when every object is valid, 1 when any is invalid, 2 for bad usage.

import { checkSnapshot, type CheckReport } from '../config/check.ts';
import { describePeers, type AnnouncementLine, type PeerLine } from '../config/describe.ts';
import { loadManifests, type ManifestResult } from '../config/manifests.ts';
import { isError, objectKey, type Problem } from '../config/problems.ts';
import { flagTokens } from './args.ts';

export const CHECK_USAGE = `usage: berth check --manifests PATH [--output table|json] [--lb-class NAME] [--namespace NAME]
                   [--openelb on|off]

  --manifests PATH   a YAML/JSON file, or a folder read recursively (*.yaml, *.yml, *.json)
  --output FORMAT    table (default) or json
  --lb-class NAME    berth's loadBalancerClass (default: Services without a class)
  --namespace NAME   read metallb.io objects from this namespace only (default: any); the same as
                     the controller's and speaker's --metallb-namespace
  --openelb on|off   off: read no OpenELB object or annotation, as the controller and speaker do with
                     --openelb off (default: on)

exit status: 0 every object is valid (warnings allowed), 1 some object is invalid, 2 bad usage
`;

interface CheckArgs {
  readonly manifests: string;
  readonly output: 'table' | 'json';
  readonly lbClass: string | undefined;
  readonly namespace: string | undefined;
  readonly openelb: boolean;
}

function parseArgs(argv: readonly string[]): CheckArgs | string {
  let manifests: string | undefined;
  let output: string = 'table';
  let lbClass: string | undefined;
  let namespace: string | undefined;
  let openelb = true;
  for (const { arg, flag, value } of flagTokens(argv)) {
    switch (flag) {
      case '--manifests':
      case '-m':
        manifests = value();
        if (manifests === undefined || manifests === '') return '--manifests needs a path';
        break;
      case '--output':
      case '-o':
        output = value() ?? '';
        if (output !== 'table' && output !== 'json') return `--output must be table or json, got "${output}"`;
        break;
      case '--lb-class':
        lbClass = value();
        if (lbClass === undefined || lbClass === '') return '--lb-class needs a class name';
        break;
      case '--namespace':
      case '-n':
        namespace = value();
        if (namespace === undefined || namespace === '') return '--namespace needs a name';
        break;
      case '--openelb': {
        const v = value() ?? '';
        if (v !== 'on' && v !== 'off') return `--openelb must be on or off, got "${v}"`;
        openelb = v === 'on';
        break;
      }
      default:
        return `unknown argument "${arg}"`;
    }
  }
  if (manifests === undefined) return '--manifests PATH is required';
  return { manifests, output: output as 'table' | 'json', lbClass, namespace, openelb };
}

export async function runCheck(argv: readonly string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(CHECK_USAGE);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    process.stderr.write(`berth check: ${args}\n\n${CHECK_USAGE}`);
    return 2;
  }
  let loaded: ManifestResult;
  try {
    loaded = loadManifests(args.manifests);
  } catch (err: unknown) {
    process.stderr.write(`berth check: cannot read ${args.manifests}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  const opts = {
    ...(args.lbClass === undefined ? {} : { loadBalancerClass: args.lbClass }),
    ...(args.namespace === undefined ? {} : { metallbNamespace: args.namespace }),
    ...(args.openelb ? {} : { openelb: false }),
  };
  const { report, announcements, compiled } = checkSnapshot(loaded.snapshot, opts, loaded.problems);
  const withOrigins: CheckReport = { services: report.services, problems: report.problems.map((p) => locate(p, loaded)) };
  const out = new Out();
  if (args.output === 'json') writeJson(out, withOrigins);
  else renderTable(out, withOrigins, loaded, announcements, describePeers(compiled.config));
  out.flush();
  return withOrigins.problems.some(isError) ? 1 : 0;
}

/** Appends the manifest file and line of the object a problem is about. */
function locate(p: Problem, loaded: ManifestResult): Problem {
  const origin = loaded.origins.get(objectKey(p));
  return origin === undefined ? p : { ...p, message: `${p.message} [${origin.file}:${origin.line}]` };
}

/** Writes text to stdout in pieces of about 1 MB: the 100,000-Service table is never one string. */
class Out {
  #buf = '';
  write(s: string): void {
    this.#buf += s;
    if (this.#buf.length >= 1 << 20) this.flush();
  }
  flush(): void {
    if (this.#buf !== '') process.stdout.write(this.#buf);
    this.#buf = '';
  }
}

/**
 * `JSON.stringify(report, null, 2)` and a newline, byte for byte, written one Service or problem at a
 * time (JSON escapes every newline inside a string, so indenting an item's lines is exact).
 */
function writeJson(out: Out, report: CheckReport): void {
  const lists: readonly (readonly [string, readonly object[]])[] = [
    ['services', report.services],
    ['problems', report.problems],
  ];
  out.write('{\n');
  lists.forEach(([key, list], k) => {
    out.write(`  ${JSON.stringify(key)}: `);
    if (list.length === 0) out.write('[]');
    else {
      out.write('[\n');
      list.forEach((item, i) => out.write(`    ${JSON.stringify(item, null, 2).replaceAll('\n', '\n    ')}${i < list.length - 1 ? ',' : ''}\n`));
      out.write('  ]');
    }
    out.write(k < lists.length - 1 ? ',\n' : '\n');
  });
  out.write('}\n');
}

/**
 * Columns padded to the widest cell, the last one unpadded, lines right-trimmed. `row(i)` is called
 * twice per row (widths, then text), so no row is kept: at 100,000 Services keeping every row and line
 * at once was the largest part of check's peak memory.
 */
function table(out: Out, header: readonly string[], count: number, row: (i: number) => readonly string[]): void {
  const widths = header.map((h) => h.length);
  for (let i = 0; i < count; i++) {
    const r = row(i);
    for (let c = 0; c < widths.length; c++) widths[c] = Math.max(widths[c] ?? 0, (r[c] ?? '').length);
  }
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  out.write(`${line(header)}\n`);
  for (let i = 0; i < count; i++) out.write(`${line(row(i))}\n`);
}

function renderTable(out: Out, report: CheckReport, loaded: ManifestResult, announcements: ReadonlyMap<string, readonly AnnouncementLine[]>, peers: readonly PeerLine[]): void {
  const services = report.services;
  if (services.length === 0) out.write('No LoadBalancer Services.\n');
  else {
    table(out, ['SERVICE', 'IPS', 'POOL', 'MODES', 'NOTE'], services.length, (i) => {
      const s = services[i];
      return s === undefined ? [] : [`${s.namespace}/${s.name}`, s.ips.length > 0 ? s.ips.join(',') : '-', s.pool ?? '-', s.modes.length > 0 ? s.modes.join('+') : '-', s.reason ?? ''];
    });
  }
  // One row per announcement line, in Service order: rows[k] = [Service index, line index].
  const keys = [...announcements.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const rowService: number[] = [];
  const rowLine: number[] = [];
  keys.forEach((svc, k) => {
    const n = announcements.get(svc)?.length ?? 0;
    for (let j = 0; j < n; j++) {
      rowService.push(k);
      rowLine.push(j);
    }
  });
  if (rowService.length > 0) {
    out.write('\nAnnouncements:\n');
    table(out, ['SERVICE', 'MODE', 'PREFIX/ADDRESS', 'TO/FROM'], rowService.length, (i) => {
      const svc = keys[rowService[i] ?? 0] ?? '';
      const a = announcements.get(svc)?.[rowLine[i] ?? 0];
      return a === undefined ? [] : [svc, a.mode, a.what, a.how];
    });
  }
  if (peers.length > 0) {
    out.write('\nBGP peers:\n');
    table(out, ['PEER', 'AS', 'FAMILIES', 'SESSION', 'NEXT HOPS'], peers.length, (i) => {
      const p = peers[i];
      return p === undefined ? [] : [p.peer, p.asn, p.families, p.session, p.nextHops];
    });
  }
  if (loaded.ignored.length > 0) {
    out.write(`\nIgnored (berth does not read these kinds): ${loaded.ignored.map((o) => `${o.kind} ${o.namespace === undefined ? '' : `${o.namespace}/`}${o.name}`).join(', ')}\n`);
  }
  const errors = report.problems.filter(isError);
  const warnings = report.problems.filter((p) => !isError(p));
  if (report.problems.length === 0) out.write('\nNo problems.\n');
  if (errors.length > 0) problemTable(out, `${errors.length} problem${errors.length === 1 ? '' : 's'}`, errors);
  if (warnings.length > 0) problemTable(out, `${warnings.length} warning${warnings.length === 1 ? '' : 's'} (the objects are in force)`, warnings);
}

function problemTable(out: Out, title: string, problems: readonly Problem[]): void {
  out.write(`\n${title}:\n`);
  table(out, ['KIND', 'OBJECT', 'FIELD', 'PROBLEM'], problems.length, (i) => {
    const p = problems[i];
    return p === undefined ? [] : [p.kind, p.namespace === undefined ? p.name : `${p.namespace}/${p.name}`, p.field ?? '-', p.message];
  });
}
