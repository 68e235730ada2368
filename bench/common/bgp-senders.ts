// What the benchmarks that drive a BGP router in the netns lab share: the lab's router and node AS
// numbers, a poll-until helper, one long-lived vtysh for cheap back-to-back `show ... json` polls, RSS
// from /proc, and the table senders other than the product itself: berth's speaker library fed a table
// (bench/bgp/berth-node.ts), GoBGP, BIRD 2 and FRR's bgpd, each loaded with its whole table before
// open() starts its session to the router. Used by bench/bgp (table push) and bench/scale (anchors).
import { writeFile, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import type { BenchFamily } from '../bgp/table.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The lab router (frr-lab plan: 192.0.2.1 / 2001:db8:1::1) and the AS numbers of both sides. */
export const ROUTER = { ipv4: '192.0.2.1', ipv6: '2001:db8:1::1', asn: 64512 } as const;
export const NODE_ASN = 64513;
const FEEDER_PORT = 1790; // gobgpd's loopback listener for its table feeder

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface PeerSummary {
  readonly state?: string;
  readonly pfxRcd?: number;
  readonly peerUptimeMsec?: number;
}
export interface AfSummary {
  readonly peers?: Readonly<Record<string, PeerSummary>>;
  readonly ribCount?: number;
}
export interface Summary {
  readonly ipv4Unicast?: AfSummary;
  readonly ipv6Unicast?: AfSummary;
}
export const afOf = (s: Summary, f: BenchFamily): AfSummary | undefined => (f === 'ipv4' ? s.ipv4Unicast : s.ipv6Unicast);

/** A sender with its table loaded: open() starts its session to the receiver, stop() removes it. */
export interface Sender {
  open(): Promise<void>;
  /** After the measurement (given the wall-clock time the receiver first showed Established): collect
   * the sender's own timings, if it has any. */
  settle?(routerEstablishedWallMs: number): Promise<void>;
  /** PID of the process that holds the table (for RSS). */
  pid(): number | undefined;
  stop(): Promise<void>;
}

export interface Scenario {
  readonly family: BenchFamily;
  readonly count: number;
  readonly table: readonly string[];
  readonly routerAddress: string;
  readonly nodeAddress: string;
}

export async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(everyMs);
  }
}

/** How berth's table holder (bench/bgp/berth-node.ts) starts. */
export interface BerthNodeOptions {
  /** node's arguments before the JSON argument: the compiled dist/bench/bgp/berth-node.js, or
   * ['--import', 'tsx', 'bench/bgp/berth-node.ts']. */
  readonly entry: readonly string[];
  /** Write V8 CPU profiles there (--cpu-prof and the setPeers -> table sent window). */
  readonly cpuProfDir?: string;
}

export interface NodeEvent {
  readonly event: string;
  readonly t: number;
  readonly peer?: string;
  readonly state?: string;
  readonly buildMs?: number;
}

export class BerthNode {
  readonly events: NodeEvent[] = [];
  readonly proc: SpawnedProcess;
  constructor(lab: Lab, node: LabHost, family: BenchFamily, count: number, o: BerthNodeOptions) {
    // --cpu-prof: the whole process (startup, table build, session); profile: the window from setPeers
    // to the table handed to TCP only.
    const dir = o.cpuProfDir;
    const prof = dir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`];
    const window = dir === undefined ? {} : { profile: `${dir}/established-${family}-${count}.cpuprofile` };
    this.proc = lab.spawn(node, [process.execPath, ...prof, ...o.entry, JSON.stringify({ family, count, ...window })], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out = this.proc.child.stdout;
    if (out === null) throw new Error('berth-node: no stdout');
    createInterface({ input: out }).on('line', (l) => {
      if (l.startsWith('{')) this.events.push(JSON.parse(l) as NodeEvent);
    });
  }
  send(o: object): void {
    this.proc.child.stdin?.write(`${JSON.stringify(o)}\n`);
  }
  async wait(what: string, pred: (e: NodeEvent) => boolean, timeoutMs: number): Promise<NodeEvent> {
    let hit: NodeEvent | undefined;
    await until(`berth ${what}`, async () => (hit = this.events.find(pred)) !== undefined, timeoutMs, 10);
    if (hit === undefined) throw new Error(`berth ${what}`);
    return hit;
  }
}

/** berth, fed its table by the parent; `peers` says where its sessions go. */
export async function berthTableHolder(lab: Lab, node: LabHost, family: BenchFamily, count: number, o: BerthNodeOptions): Promise<BerthNode> {
  const b = new BerthNode(lab, node, family, count, o);
  await b.wait('ready', (e) => e.event === 'ready', 120_000);
  return b;
}

// --------------------------------------------------------------------------------------------- GoBGP

/**
 * gobgpd gets its table over an iBGP session from a local berth feeder on the loopback (the fastest
 * bulk load it offers without a gRPC client: one `gobgp global rib add` per prefix takes minutes), so
 * its RIB holds every route before `gobgp neighbor add` opens the session to the receiver; it then sends
 * from its RIB, next hop self (eBGP), AS_PATH = its AS, like every other sender here.
 */
export async function gobgpSender(lab: Lab, node: LabHost, sc: Scenario, tag: string, feeder: BerthNodeOptions): Promise<Sender> {
  const conf = `${lab.workDir}/gobgpd-${tag}.toml`;
  await writeFile(
    conf,
    [
      '[global.config]',
      `  as = ${NODE_ASN}`,
      `  router-id = "${node.ipv4}"`,
      `  port = ${FEEDER_PORT}`,
      '  local-address-list = ["127.0.0.1"]',
      '[[neighbors]]',
      '  [neighbors.config]',
      '    neighbor-address = "127.0.0.1"',
      `    peer-as = ${NODE_ASN}`,
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      `      afi-safi-name = "${sc.family}-unicast"`,
      '',
    ].join('\n'),
  );
  const proc = lab.spawn(node, ['gobgpd', '-f', conf, '-t', 'toml', '--api-hosts', '127.0.0.1:50051', '--pprof-disable', '-l', 'warn']);
  const gobgp = async (args: readonly string[]): Promise<string> => (await lab.exec(node, ['gobgp', '-u', '127.0.0.1', '-p', '50051', ...args])).stdout;
  await until('gobgpd API', async () => (await gobgp(['global']).catch(() => '')).includes('AS'), 20_000);
  const feed = await berthTableHolder(lab, node, sc.family, sc.count, { entry: feeder.entry });
  feed.send({
    op: 'peers',
    peers: [
      {
        name: 'gobgp',
        myAsn: NODE_ASN,
        peerAsn: NODE_ASN,
        peerAddress: '127.0.0.1',
        peerPort: FEEDER_PORT,
        ...(sc.family === 'ipv6' ? { dualStackAddressFamily: true, nextHops: { ipv6: node.ipv6 } } : { nextHops: { ipv4: node.ipv4 } }),
      },
    ],
  });
  const count = async (): Promise<number> => Number(/Destination:\s*(\d+)/.exec(await gobgp(['global', 'rib', 'summary', '-a', sc.family]))?.[1] ?? 0);
  await until(`gobgpd RIB loaded (${sc.count} ${sc.family})`, async () => (await count()) >= sc.count, 600_000, 250);
  return {
    async open() {
      await gobgp(['neighbor', 'add', sc.routerAddress, 'as', String(ROUTER.asn)]);
    },
    pid: () => proc.pid,
    async stop() {
      await proc.kill(3000);
      feed.send({ op: 'stop' });
      await feed.proc.kill(3000);
    },
  };
}

// ---------------------------------------------------------------------------------------------- BIRD

/** BIRD 2: the table as static routes exported to a BGP protocol that starts disabled. */
export async function birdSender(lab: Lab, node: LabHost, sc: Scenario, tag: string): Promise<Sender> {
  const conf = `${lab.workDir}/bird-${tag}.conf`;
  const sock = `${lab.workDir}/bird-${tag}.ctl`;
  const v = sc.family === 'ipv4' ? 'ipv4' : 'ipv6';
  await writeFile(
    conf,
    [
      `router id ${node.ipv4};`,
      'protocol device {}',
      `protocol static st { ${v};`,
      ...sc.table.map((p) => ` route ${p} blackhole;`),
      '}',
      `protocol bgp recv { disabled; local ${sc.nodeAddress} as ${NODE_ASN}; neighbor ${sc.routerAddress} as ${ROUTER.asn}; ${v} { import none; export all; }; }`,
      '',
    ].join('\n'),
  );
  const proc = lab.spawn(node, ['bird', '-f', '-c', conf, '-s', sock, '-P', `${lab.workDir}/bird-${tag}.pid`]);
  const birdc = async (args: readonly string[]): Promise<string> => (await lab.exec(node, ['birdc', '-s', sock, ...args], { check: false })).stdout;
  await until(
    'bird statics loaded',
    async () => [...(await birdc(['show', 'route', 'count'])).matchAll(/(\d+) of \d+ routes/g)].reduce((n, m) => n + Number(m[1]), 0) >= sc.count,
    300_000,
  );
  return {
    async open() {
      await birdc(['enable', 'recv']);
    },
    pid: () => proc.pid,
    stop: () => proc.kill(3000),
  };
}

// ----------------------------------------------------------------------------------------------- FRR

/** FRR bgpd: `network` statements (no import check), neighbour shut down until open(). */
export async function frrSender(lab: Lab, node: LabHost, sc: Scenario, tag: string): Promise<Sender> {
  const af = sc.family === 'ipv4' ? 'ipv4 unicast' : 'ipv6 unicast';
  const config = [
    'frr defaults datacenter',
    'hostname bench-sender',
    `router bgp ${NODE_ASN}`,
    ` bgp router-id ${node.ipv4}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp network import-check',
    ' no bgp default ipv4-unicast',
    ` neighbor ${sc.routerAddress} remote-as ${ROUTER.asn}`,
    ` neighbor ${sc.routerAddress} shutdown`,
    ` address-family ${af}`,
    ...sc.table.map((p) => `  network ${p}`),
    `  neighbor ${sc.routerAddress} activate`,
    ' exit-address-family',
    'exit',
    '',
  ].join('\n');
  const frr = await lab.startFrr(node, { config, name: `bben-snd${tag}` });
  await until(
    'frr networks loaded',
    async () => {
      const s = await frr.vtyshJson<Summary>('show bgp summary json').catch(() => ({}) as Summary);
      return (afOf(s, sc.family)?.ribCount ?? 0) >= sc.count;
    },
    600_000,
    250,
  );
  let bgpd: number | undefined;
  return {
    async open() {
      bgpd = (await frr.pids()).get('bgpd');
      await frr.vtysh(['configure terminal', `router bgp ${NODE_ASN}`, `no neighbor ${sc.routerAddress} shutdown`]);
    },
    pid: () => bgpd,
    stop: () => frr.stop(),
  };
}


export async function rssKiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const m = /VmRSS:\s*(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''));
  return m === null ? undefined : Number(m[1]);
}

/**
 * One long-lived vtysh on the receiver, fed commands on stdin: a poll costs a few milliseconds instead
 * of a process start and a socket connect (tens to hundreds of ms on a busy machine), which sets the
 * resolution of both ends of the figure.
 */
/** Resolves after `ms`, or earlier when the `wake` handed to `setWake` is called (a control socket's data). */
export function dataOrTimeout(ms: number, setWake: (wake: () => void) => void): Promise<void> {
  return new Promise<void>((r) => {
    const t = setTimeout(r, ms);
    setWake(() => {
      clearTimeout(t);
      r();
    });
  });
}

export class Vtysh {
  readonly #proc: SpawnedProcess;
  #buf = '';
  #wake: (() => void) | undefined;
  constructor(lab: Lab) {
    const r = lab.router;
    if (r === undefined) throw new Error('lab without a router');
    this.#proc = lab.spawn(r, ['vtysh', '-N', r.frr.name], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.#proc.child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.#buf += d;
      this.#wake?.();
    });
  }
  /** Runs one `show ... json` command; FRR prints the object with its outer braces at column 0. */
  async json<T>(command: string, timeoutMs = 10_000): Promise<T> {
    this.#buf = '';
    this.#proc.child.stdin?.write(`${command}\n`);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      // The object is complete when a `}` at column 0 closes text that parses (the per-family objects
      // inside also close at column 0).
      // An empty object (`show bgp ipv4 unicast P json` for a prefix not in the table) is one line `{}`.
      const nl = this.#buf.indexOf('\n{');
      const open = this.#buf.startsWith('{') ? 0 : nl < 0 ? -1 : nl + 1;
      if (open >= 0 && this.#buf.startsWith('{}\n', open)) return {} as T;
      for (let close = open < 0 ? -1 : this.#buf.indexOf('\n}', open); close >= 0; close = this.#buf.indexOf('\n}', close + 2)) {
        try {
          return JSON.parse(this.#buf.slice(open, close + 2)) as T;
        } catch {
          // not the outer brace yet
        }
      }
      if (performance.now() > deadline) throw new Error(`vtysh: no answer to ${command}: ${this.#buf.slice(-300)}`);
      await dataOrTimeout(50, (wake) => (this.#wake = wake));
    }
  }
  async close(): Promise<void> {
    this.#proc.child.stdin?.end();
    await this.#proc.kill(1000);
  }
}
