// Second-opinion BGP peers for the interop tests: BIRD 2, GoBGP and ExaBGP, each started inside a lab
// namespace with its own config, control socket and PID file under the lab's workDir (killed by PID on
// lab.destroy()). What each peer received is read back through its own CLI / API:
//   BIRD    `birdc show route all`          -> parseBirdRoutes()
//   GoBGP   `gobgp [-a ipv6] global rib -j` -> GobgpPath
//   ExaBGP  a process API that writes every received JSON message to a file -> exabgpMessages()
import { writeFile, readFile, chmod } from 'node:fs/promises';
import type { Lab, LabTarget, SpawnedProcess } from '../../../frr-lab/lab.ts';
import { poll } from '../bgp/harness.ts';

/** Fails with the Debian package to install when a peer's program is missing (scripts/deps.sh). */
async function requireProgram(lab: Lab, target: LabTarget, program: string, debianPackage: string): Promise<void> {
  const r = await lab.exec(target, ['sh', '-c', `command -v ${program}`], { check: false });
  if (r.code !== 0) throw new Error(`${program} not found: install the Debian package ${debianPackage} (scripts/install-deps.sh)`);
}

// ---------------------------------------------------------------------------------------------- BIRD

/** One route of `birdc show route all`: the header line's fields and every `Key: value` line. */
export interface BirdRoute {
  readonly prefix: string;
  readonly protocol: string;
  /** The first `via` gateway, if any. */
  readonly via: string | undefined;
  /** `BGP.origin`, `BGP.as_path`, `BGP.next_hop`, `BGP.community`, ... as printed. */
  readonly attrs: Readonly<Record<string, string>>;
}

/** Parses BIRD 2's `show route all` text (one header line per route, attributes indented below it). */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const out: { prefix: string; protocol: string; via: string | undefined; attrs: Record<string, string> }[] = [];
  let prefix = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('Table ') || line.startsWith('BIRD ')) continue;
    const head = /^(\S+)?\s+\S+\s+\[(\S+?)[\s\]]/.exec(line);
    if (head !== null && !/^\s+(via|Type|BGP\.)/.test(line) && (head[1] !== undefined || /^\s+unicast\b/.test(line))) {
      if (head[1] !== undefined) prefix = head[1];
      out.push({ prefix, protocol: head[2] ?? '', via: undefined, attrs: {} });
      continue;
    }
    const cur = out.at(-1);
    if (cur === undefined) continue;
    const via = /^\s+via (\S+)/.exec(line);
    if (via !== null) {
      cur.via ??= via[1];
      continue;
    }
    const kv = /^\s+([A-Za-z0-9_.]+): (.*)$/.exec(line);
    if (kv !== null && kv[1] !== undefined) cur.attrs[kv[1]] = (kv[2] ?? '').trim();
  }
  return out;
}

export interface Bird {
  readonly proc: SpawnedProcess;
  readonly socket: string;
  readonly logFile: string;
  birdc(args: readonly string[]): Promise<string>;
  /** `show route all [for P | protocol X]` parsed; `table` selects master4 / master6. */
  routes(opts?: { readonly protocol?: string; readonly table?: string }): Promise<BirdRoute[]>;
  /** The BGP state column of `show protocols` ('Established', 'Active', ...) for one protocol. */
  state(protocol: string): Promise<string>;
}

export async function startBird(lab: Lab, target: LabTarget, name: string, config: string): Promise<Bird> {
  const dir = lab.workDir;
  const conf = `${dir}/${name}.conf`;
  const socket = `${dir}/${name}.ctl`;
  const pidFile = `${dir}/${name}.pid`;
  const logFile = `${dir}/${name}.log`;
  await requireProgram(lab, target, 'bird', 'bird2');
  await requireProgram(lab, target, 'birdc', 'bird2');
  await writeFile(conf, `log "${logFile}" all;\n${config}`);
  await lab.exec(target, ['bird', '-p', '-c', conf]).catch((e: unknown) => {
    throw new Error(`bird config ${conf} rejected: ${String(e)}`);
  });
  const proc = lab.spawn(target, ['bird', '-f', '-c', conf, '-s', socket, '-P', pidFile]);
  const birdc = async (args: readonly string[]): Promise<string> => (await lab.exec(target, ['birdc', '-s', socket, ...args])).stdout;
  await poll('bird control socket', async () => ((await birdc(['show', 'status'])).includes('Daemon is up') ? true : undefined), 15_000, 100).catch((e: unknown) => {
    throw new Error(`${String(e)}\nbird output: ${JSON.stringify(proc.output())}`);
  });
  return {
    proc,
    socket,
    logFile,
    birdc,
    async routes(opts = {}) {
      const args = ['show', 'route', 'all'];
      if (opts.table !== undefined) args.push('table', opts.table);
      if (opts.protocol !== undefined) args.push('protocol', opts.protocol);
      return parseBirdRoutes(await birdc(args));
    },
    async state(protocol) {
      const out = await birdc(['show', 'protocols', protocol]);
      const line = out.split('\n').find((l) => l.startsWith(`${protocol} `));
      return line?.trim().split(/\s+/).at(-1) ?? '';
    },
  };
}

// --------------------------------------------------------------------------------------------- GoBGP

/** One path of `gobgp global rib -j` (GoBGP 3.x JSON; only the fields the tests read). */
export interface GobgpPath {
  readonly nlri: { readonly prefix: string };
  readonly age?: number;
  readonly best?: boolean;
  readonly attrs: readonly GobgpAttr[];
  readonly 'source-id'?: string;
  readonly 'neighbor-ip'?: string;
}
export type GobgpAttr = { readonly type: number } & Readonly<Record<string, unknown>>;

export interface Gobgp {
  readonly proc: SpawnedProcess;
  gobgp(args: readonly string[]): Promise<string>;
  /** Every path of the global RIB of a family, keyed by prefix. */
  rib(family: 'ipv4' | 'ipv6'): Promise<Record<string, readonly GobgpPath[]>>;
  /** The neighbor's session state as GoBGP names it ('established', 'active', ...). */
  state(neighbor: string): Promise<string>;
}

export async function startGobgp(lab: Lab, target: LabTarget, name: string, toml: string, apiPort = 50051): Promise<Gobgp> {
  const conf = `${lab.workDir}/${name}.toml`;
  await requireProgram(lab, target, 'gobgpd', 'gobgpd');
  await requireProgram(lab, target, 'gobgp', 'gobgpd');
  await writeFile(conf, toml);
  const api = `127.0.0.1:${apiPort}`;
  const proc = lab.spawn(target, ['gobgpd', '-f', conf, '-t', 'toml', '--api-hosts', api, '--pprof-disable', '-l', 'info', '--log-plain']);
  const gobgp = async (args: readonly string[]): Promise<string> =>
    (await lab.exec(target, ['gobgp', '-u', '127.0.0.1', '-p', String(apiPort), ...args])).stdout;
  await poll('gobgpd API', async () => ((await gobgp(['global'])).includes('AS') ? true : undefined), 15_000, 100).catch((e: unknown) => {
    throw new Error(`${String(e)}\ngobgpd output: ${JSON.stringify(proc.output())}`);
  });
  return {
    proc,
    gobgp,
    async rib(family) {
      const out = await gobgp(['-a', family, 'global', 'rib', '-j']);
      return JSON.parse(out.trim() === '' ? '{}' : out) as Record<string, readonly GobgpPath[]>;
    },
    async state(neighbor) {
      const out = JSON.parse(await gobgp(['neighbor', neighbor, '-j'])) as { state?: { session_state?: number | string } };
      const s = out.state?.session_state;
      // GoBGP's protobuf enum: 1 idle, 2 connect, 3 active, 4 opensent, 5 openconfirm, 6 established.
      const names = ['unknown', 'idle', 'connect', 'active', 'opensent', 'openconfirm', 'established'];
      return typeof s === 'number' ? (names[s] ?? String(s)) : String(s ?? '').toLowerCase();
    },
  };
}

// -------------------------------------------------------------------------------------------- ExaBGP

export interface Exabgp {
  readonly proc: SpawnedProcess;
  /** Where the API process appends each JSON message ExaBGP gives it (one per line). */
  readonly messagesFile: string;
  /** Appends one API command (e.g. `neighbor X announce route ...`) to the file the API process relays to ExaBGP. */
  command(line: string): Promise<void>;
  messages(): Promise<readonly ExabgpMessage[]>;
  readonly logFile: string;
  /** The end of ExaBGP's log, for failure messages. */
  logTail(chars?: number): Promise<string>;
}

/** ExaBGP 4 JSON encoder output (only what the tests read). */
export interface ExabgpMessage {
  readonly type: string;
  readonly neighbor?: {
    readonly address?: { readonly local?: string; readonly peer?: string };
    readonly state?: string;
    readonly direction?: string;
    readonly message?: {
      readonly update?: {
        readonly attribute?: Readonly<Record<string, unknown>>;
        readonly announce?: Readonly<Record<string, Readonly<Record<string, readonly { readonly nlri: string }[]>>>>;
        readonly withdraw?: Readonly<Record<string, readonly { readonly nlri: string }[]>>;
      };
      readonly notification?: { readonly code: number; readonly subcode: number; readonly data?: string };
    };
  };
}

/**
 * Starts ExaBGP with `config` (neighbor blocks; a `process api` block is added: every neighbor must say
 * `api { processes [ api ]; receive { parsed; update; notification; } }` or use `API_BLOCK`). The API
 * process is a shell loop: it appends ExaBGP's JSON to a file, and relays lines appended to a command
 * file to ExaBGP's stdin.
 */
export async function startExabgp(lab: Lab, target: LabTarget, name: string, neighbors: string, listen: readonly string[]): Promise<Exabgp> {
  const dir = lab.workDir;
  const conf = `${dir}/${name}.conf`;
  const messagesFile = `${dir}/${name}.messages.jsonl`;
  const commandFile = `${dir}/${name}.commands`;
  const logFile = `${dir}/${name}.log`;
  const script = `${dir}/${name}-api.sh`;
  await requireProgram(lab, target, 'exabgp', 'exabgp');
  await writeFile(messagesFile, '');
  await writeFile(commandFile, '');
  // The relay: `tail -f` the command file into ExaBGP (our stdout), copy ExaBGP's messages (our stdin)
  // to the messages file. Both children die with the process group when ExaBGP stops.
  await writeFile(script, `#!/bin/sh\ntail -n +1 -f '${commandFile}' &\nexec cat >> '${messagesFile}'\n`);
  await chmod(script, 0o755);
  await writeFile(
    conf,
    [
      `process api {`,
      `  run ${script};`,
      `  encoder json;`,
      `}`,
      neighbors,
      '',
    ].join('\n'),
  );
  const env = {
    ...process.env,
    exabgp_daemon_user: 'root',
    exabgp_daemon_drop: 'false',
    exabgp_log_destination: logFile,
    exabgp_log_level: 'INFO',
    exabgp_log_packets: 'true',
    exabgp_log_message: 'true',
    exabgp_log_network: 'true',
    exabgp_api_ack: 'false',
    // ExaBGP listens only where told (the peers are `passive`: berth dials them).
    exabgp_tcp_bind: listen.join(' '),
    exabgp_tcp_port: '179',
    exabgp_api_cli: 'false',
    exabgp_cache_attributes: 'false',
  };
  const proc = lab.spawn(target, ['exabgp', conf], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    proc,
    messagesFile,
    logFile,
    async command(line) {
      await writeFile(commandFile, `${line}\n`, { flag: 'a' });
    },
    async logTail(chars = 4000) {
      return (await readFile(logFile, 'utf8').catch(() => '')).slice(-chars);
    },
    async messages() {
      const text = await readFile(messagesFile, 'utf8');
      return text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as ExabgpMessage);
    },
  };
}

export const API_BLOCK = `api { processes [ api ]; receive { parsed; update; notification; } neighbor-changes; }`;
