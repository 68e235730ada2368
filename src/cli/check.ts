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
  process.stdout.write(args.output === 'json' ? `${JSON.stringify(withOrigins, null, 2)}\n` : renderTable(withOrigins, loaded, announcements, describePeers(compiled.config)));
  return withOrigins.problems.some(isError) ? 1 : 0;
}

/** Appends the manifest file and line of the object a problem is about. */
function locate(p: Problem, loaded: ManifestResult): Problem {
  const origin = loaded.origins.get(objectKey(p));
  return origin === undefined ? p : { ...p, message: `${p.message} [${origin.file}:${origin.line}]` };
}

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function renderTable(report: CheckReport, loaded: ManifestResult, announcements: ReadonlyMap<string, readonly AnnouncementLine[]>, peers: readonly PeerLine[]): string {
  let out = '';
  if (report.services.length === 0) out += 'No LoadBalancer Services.\n';
  else {
    out += table(
      ['SERVICE', 'IPS', 'POOL', 'MODES', 'NOTE'],
      report.services.map((s) => [`${s.namespace}/${s.name}`, s.ips.length > 0 ? s.ips.join(',') : '-', s.pool ?? '-', s.modes.length > 0 ? s.modes.join('+') : '-', s.reason ?? '']),
    );
  }
  const lines = [...announcements.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([svc, list]) => list.map((a) => [svc, a.mode, a.what, a.how]));
  if (lines.length > 0) {
    out += '\nAnnouncements:\n';
    out += table(['SERVICE', 'MODE', 'PREFIX/ADDRESS', 'TO/FROM'], lines);
  }
  if (peers.length > 0) {
    out += '\nBGP peers:\n';
    out += table(['PEER', 'AS', 'FAMILIES', 'SESSION', 'NEXT HOPS'], peers.map((p) => [p.peer, p.asn, p.families, p.session, p.nextHops]));
  }
  if (loaded.ignored.length > 0) {
    out += `\nIgnored (berth does not read these kinds): ${loaded.ignored.map((o) => `${o.kind} ${o.namespace === undefined ? '' : `${o.namespace}/`}${o.name}`).join(', ')}\n`;
  }
  const errors = report.problems.filter(isError);
  const warnings = report.problems.filter((p) => !isError(p));
  if (report.problems.length === 0) out += '\nNo problems.\n';
  if (errors.length > 0) out += problemTable(`${errors.length} problem${errors.length === 1 ? '' : 's'}`, errors);
  if (warnings.length > 0) out += problemTable(`${warnings.length} warning${warnings.length === 1 ? '' : 's'} (the objects are in force)`, warnings);
  return out;
}

function problemTable(title: string, problems: readonly Problem[]): string {
  return `\n${title}:\n${table(
    ['KIND', 'OBJECT', 'FIELD', 'PROBLEM'],
    problems.map((p) => [p.kind, p.namespace === undefined ? p.name : `${p.namespace}/${p.name}`, p.field ?? '-', p.message]),
  )}`;
}
