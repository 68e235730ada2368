// BGP sender benchmark: the same table (default 100,000 IPv4 /32 + 20,000 IPv6 /128) sent to one FRR
// receiver by berth, GoBGP (gobgpd), BIRD 2 and FRR bgpd in turn, each from the same node namespace
// (frr-lab, prefix bsesc). Every sender has its table loaded before its sessions open; the figure is
// the time from the first session reaching Established (as the receiver sees it) until the receiver
// counts every prefix on both sessions (IPv4 over an IPv4 session, IPv6 over an IPv6 session).
//
//   npx tsx bench/bgp/bench.ts [--v4 N] [--v6 N] [--senders berth,gobgp,bird,frr] [--runs N]
//
// Needs root, iproute2, FRR, gobgpd/gobgp and bird (scripts/deps.sh).
import { writeFile, readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { createLab, type Lab, type LabHost, type SpawnedProcess } from '../../frr-lab/lab.ts';
import { startFrr } from '../../frr-lab/frr.ts';
import { benchPrefixes } from './prefixes.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ROUTER_V4 = '192.0.2.1';
const ROUTER_V6 = '2001:db8:1::1';
const ROUTER_ASN = 64512;
const NODE_ASN = 64513;
const SENDERS = ['berth', 'gobgp', 'bird', 'frr'] as const;
type SenderName = (typeof SENDERS)[number];

interface Args {
  readonly v4: number;
  readonly v6: number;
  readonly senders: readonly SenderName[];
  readonly runs: number;
}

function parseArgs(argv: readonly string[]): Args {
  const get = (k: string): string | undefined => {
    const i = argv.indexOf(`--${k}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const senders = (get('senders') ?? SENDERS.join(',')).split(',').filter((s): s is SenderName => (SENDERS as readonly string[]).includes(s));
  return { v4: Number(get('v4') ?? 100_000), v6: Number(get('v6') ?? 20_000), senders, runs: Number(get('runs') ?? 1) };
}

interface PeerSummary {
  readonly state?: string;
  readonly pfxRcd?: number;
}
interface Summary {
  readonly ipv4Unicast?: { readonly peers?: Record<string, PeerSummary>; readonly ribCount?: number };
  readonly ipv6Unicast?: { readonly peers?: Record<string, PeerSummary>; readonly ribCount?: number };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running sender: `open()` starts its sessions (table already loaded), `stop()` removes it. */
interface Sender {
  open(): Promise<void>;
  pid(): number | undefined;
  stop(): Promise<void>;
}

async function waitLine(p: SpawnedProcess, pred: (l: string) => boolean, timeoutMs: number, what: string): Promise<void> {
  const out = p.child.stdout;
  if (out === null) throw new Error(`${what}: no stdout`);
  await new Promise<void>((resolveLine, reject) => {
    const t = setTimeout(() => reject(new Error(`${what}: timed out`)), timeoutMs);
    createInterface({ input: out }).on('line', (l) => {
      if (pred(l)) {
        clearTimeout(t);
        resolveLine();
      }
    });
    p.child.once('exit', (code) => reject(new Error(`${what}: exited with ${String(code)}`)));
  });
}

async function berthSender(lab: Lab, node: LabHost, a: Args): Promise<Sender> {
  let proc: SpawnedProcess | undefined;
  return {
    async open() {
      const cfg = {
        v4: a.v4,
        v6: a.v6,
        peers: [
          { name: 'rt4', myAsn: NODE_ASN, peerAsn: ROUTER_ASN, peerAddress: ROUTER_V4 },
          { name: 'rt6', myAsn: NODE_ASN, peerAsn: ROUTER_ASN, peerAddress: ROUTER_V6 },
        ],
      };
      // The sender builds its table and opens the sessions at once (desired state is set first).
      proc = lab.spawn(node, [process.execPath, '--import', 'tsx', 'bench/bgp/berth-sender.ts', JSON.stringify(cfg)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
      await waitLine(proc, (l) => l.includes('"ready"'), 60_000, 'berth sender');
    },
    pid: () => proc?.pid,
    async stop() {
      await proc?.kill(3000);
    },
  };
}

/** GoBGP's table is fed over a BGP session from a local berth feeder (127.0.0.1:1790, AS 64600), so
 * that gobgpd holds every prefix before its sessions to the receiver open. (`gobgp mrt inject` lost
 * entries here, and 120,000 `gobgp global rib add` calls take far too long.) */
async function gobgpSender(lab: Lab, node: LabHost, a: Args): Promise<Sender> {
  const conf = `${lab.workDir}/gobgpd.toml`;
  const feederAsn = 64600;
  await writeFile(
    conf,
    [
      '[global.config]',
      `  as = ${NODE_ASN}`,
      `  router-id = "${node.ipv4}"`,
      '  port = 1790',
      '  local-address-list = ["127.0.0.1"]',
      '[[neighbors]]',
      '  [neighbors.config]',
      '    neighbor-address = "127.0.0.1"',
      `    peer-as = ${feederAsn}`,
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv4-unicast"',
      '  [[neighbors.afi-safis]]',
      '    [neighbors.afi-safis.config]',
      '      afi-safi-name = "ipv6-unicast"',
      '',
    ].join('\n'),
  );
  const proc = lab.spawn(node, ['gobgpd', '-f', conf, '--api-hosts', '127.0.0.1:50051', '-l', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const gobgp = (args: readonly string[]) => lab.exec(node, ['gobgp', ...args], { check: true });
  for (let i = 0; ; i++) {
    const r = await lab.exec(node, ['gobgp', 'global'], { check: false });
    if (r.code === 0) break;
    if (i > 100) throw new Error('gobgpd did not start');
    await sleep(100);
  }
  const feederCfg = {
    v4: a.v4,
    v6: a.v6,
    peers: [{ name: 'gobgp', myAsn: feederAsn, peerAsn: NODE_ASN, peerAddress: '127.0.0.1', peerPort: 1790, dualStackAddressFamily: true, nextHops: { ipv4: node.ipv4, ipv6: node.ipv6 } }],
  };
  const feeder = lab.spawn(node, [process.execPath, '--import', 'tsx', 'bench/bgp/berth-sender.ts', JSON.stringify(feederCfg)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  const count = async (fam: string): Promise<number> => {
    const out = (await gobgp(['global', 'rib', 'summary', '-a', fam])).stdout;
    return Number(/Destination:\s*(\d+)/.exec(out)?.[1] ?? 0);
  };
  for (let i = 0; ; i++) {
    if ((await count('ipv4')) >= a.v4 && (await count('ipv6')) >= a.v6) break;
    if (i > 1200) throw new Error(`gobgp: table not loaded (${await count('ipv4')}/${a.v4}, ${await count('ipv6')}/${a.v6})`);
    await sleep(250);
  }
  return {
    async open() {
      await gobgp(['neighbor', 'add', ROUTER_V4, 'as', String(ROUTER_ASN)]);
      await gobgp(['neighbor', 'add', ROUTER_V6, 'as', String(ROUTER_ASN)]);
    },
    pid: () => proc.pid,
    async stop() {
      await proc.kill(3000);
      await feeder.kill(3000);
    },
  };
}

async function birdSender(lab: Lab, node: LabHost, v4: readonly string[], v6: readonly string[]): Promise<Sender> {
  const conf = `${lab.workDir}/bird.conf`;
  await writeFile(
    conf,
    [
      `router id ${node.ipv4};`,
      'protocol device {}',
      'protocol static s4 { ipv4;',
      ...v4.map((p) => ` route ${p} blackhole;`),
      '}',
      'protocol static s6 { ipv6;',
      ...v6.map((p) => ` route ${p} blackhole;`),
      '}',
      // Sessions start disabled; `birdc enable` opens them once the statics are loaded.
      `protocol bgp r4 { disabled; local ${node.ipv4} as ${NODE_ASN}; neighbor ${ROUTER_V4} as ${ROUTER_ASN}; ipv4 { import none; export all; }; }`,
      `protocol bgp r6 { disabled; local ${node.ipv6} as ${NODE_ASN}; neighbor ${ROUTER_V6} as ${ROUTER_ASN}; ipv6 { import none; export all; }; }`,
      '',
    ].join('\n'),
  );
  const sock = `${lab.workDir}/bird.ctl`;
  const proc = lab.spawn(node, ['bird', '-f', '-c', conf, '-s', sock], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; ; i++) {
    const r = await lab.exec(node, ['birdc', '-s', sock, 'show', 'route', 'count'], { check: false });
    const m = /Total: (\d+) of (\d+) routes/.exec(r.stdout);
    if (r.code === 0 && Number(m?.[1] ?? 0) >= v4.length + v6.length) break;
    if (i > 600) throw new Error(`bird: statics not loaded: ${r.stdout}`);
    await sleep(100);
  }
  return {
    async open() {
      await lab.exec(node, ['birdc', '-s', sock, 'enable', 'r4']);
      await lab.exec(node, ['birdc', '-s', sock, 'enable', 'r6']);
    },
    pid: () => proc.pid,
    stop: () => proc.kill(3000),
  };
}

async function frrSender(lab: Lab, node: LabHost, v4: readonly string[], v6: readonly string[]): Promise<Sender> {
  const config = (shut: boolean): string =>
    [
      'frr defaults datacenter',
      'hostname bench-sender',
      `router bgp ${NODE_ASN}`,
      ` bgp router-id ${node.ipv4}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp network import-check',
      ' no bgp default ipv4-unicast',
      ` neighbor ${ROUTER_V4} remote-as ${ROUTER_ASN}`,
      ` neighbor ${ROUTER_V6} remote-as ${ROUTER_ASN}`,
      ...(shut ? [` neighbor ${ROUTER_V4} shutdown`, ` neighbor ${ROUTER_V6} shutdown`] : []),
      ' address-family ipv4 unicast',
      ...v4.map((p) => `  network ${p}`),
      `  neighbor ${ROUTER_V4} activate`,
      ' exit-address-family',
      ' address-family ipv6 unicast',
      ...v6.map((p) => `  network ${p}`),
      `  neighbor ${ROUTER_V6} activate`,
      ' exit-address-family',
      'exit',
      '',
    ].join('\n');
  const frr = await startFrr({ name: `${lab.prefix}-snd`, ns: node.ns, config: config(true), logDir: lab.workDir });
  for (let i = 0; ; i++) {
    const s = await frr.vtyshJson<Summary>('show bgp summary json').catch(() => ({}) as Summary);
    if ((s.ipv4Unicast?.ribCount ?? 0) >= v4.length && (s.ipv6Unicast?.ribCount ?? 0) >= v6.length) break;
    if (i > 3000) throw new Error('frr sender: networks not loaded');
    await sleep(100);
  }
  let bgpdPid: number | undefined;
  return {
    async open() {
      bgpdPid = (await frr.pids()).get('bgpd');
      await frr.vtysh(['configure terminal', `router bgp ${NODE_ASN}`, `no neighbor ${ROUTER_V4} shutdown`, `no neighbor ${ROUTER_V6} shutdown`]);
    },
    pid: () => bgpdPid,
    stop: () => frr.stop(),
  };
}

async function rssKiB(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s*(\d+) kB/.exec(status);
  return m === null ? undefined : Number(m[1]);
}

/** Seconds from the first Established session to every prefix counted on both sessions. */
async function measure(lab: Lab, node: LabHost, a: Args, timeoutMs: number): Promise<number> {
  let t0: number | undefined;
  const start = performance.now();
  for (;;) {
    const s = await lab.vtyshJson<Summary>('show bgp summary json');
    const now = performance.now();
    const p4 = s.ipv4Unicast?.peers?.[node.ipv4];
    const p6 = s.ipv6Unicast?.peers?.[node.ipv6];
    if (t0 === undefined && (p4?.state === 'Established' || p6?.state === 'Established')) t0 = now;
    if (t0 !== undefined && (p4?.pfxRcd ?? 0) >= a.v4 && (p6?.pfxRcd ?? 0) >= a.v6) return (now - t0) / 1000;
    if (now - start > timeoutMs) throw new Error(`timed out: v4 ${p4?.pfxRcd ?? 0}/${a.v4} (${p4?.state ?? '-'}), v6 ${p6?.pfxRcd ?? 0}/${a.v6} (${p6?.state ?? '-'})`);
    await sleep(20);
  }
}

/** Waits until the receiver has forgotten the previous sender (sessions gone, RIB empty). */
async function receiverEmpty(lab: Lab): Promise<void> {
  for (let i = 0; ; i++) {
    const s = await lab.vtyshJson<Summary>('show bgp summary json');
    const peers = Object.keys(s.ipv4Unicast?.peers ?? {}).length + Object.keys(s.ipv6Unicast?.peers ?? {}).length;
    if (peers === 0 && (s.ipv4Unicast?.ribCount ?? 0) === 0 && (s.ipv6Unicast?.ribCount ?? 0) === 0) return;
    if (i > 1200) throw new Error('receiver did not drop the previous sender');
    await sleep(100);
  }
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  const { v4, v6 } = benchPrefixes(a.v4, a.v6);
  console.log(`BGP sender benchmark: ${a.v4} IPv4 /32 + ${a.v6} IPv6 /128 -> FRR receiver; senders ${a.senders.join(', ')}; ${a.runs} run(s)`);
  const lab = await createLab({ prefix: 'bsesc', nodes: 1, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN } });
  const results = new Map<SenderName, number[]>();
  let berthRss: number | undefined;
  try {
    const node = lab.nodes[0];
    if (node === undefined) throw new Error('lab without a node');
    await lab.exec(node, ['ip', 'link', 'set', 'lo', 'up']);
    for (let run = 0; run < a.runs; run++) {
      for (const name of a.senders) {
        await receiverEmpty(lab);
        const sender =
          name === 'berth'
            ? await berthSender(lab, node, a)
            : name === 'gobgp'
              ? await gobgpSender(lab, node, a)
              : name === 'bird'
                ? await birdSender(lab, node, v4, v6)
                : await frrSender(lab, node, v4, v6);
        try {
          await sender.open();
          const sec = await measure(lab, node, a, 600_000);
          if (name === 'berth') berthRss = Math.max(berthRss ?? 0, (await rssKiB(sender.pid())) ?? 0);
          results.set(name, [...(results.get(name) ?? []), sec]);
          console.log(`  run ${run + 1} ${name.padEnd(6)} ${sec.toFixed(2)} s`);
        } finally {
          await sender.stop();
        }
      }
    }
  } finally {
    await lab.destroy();
  }
  const best = new Map([...results].map(([k, v]) => [k, Math.min(...v)]));
  const fastest = Math.min(...best.values());
  console.log('\nsender   best (s)   prefixes/s   vs fastest');
  for (const [name, sec] of best) {
    console.log(`${name.padEnd(8)} ${sec.toFixed(2).padStart(8)}   ${Math.round((a.v4 + a.v6) / sec).toString().padStart(10)}   ${(sec / fastest).toFixed(2)}x`);
  }
  const berth = best.get('berth');
  if (berth !== undefined) {
    console.log(`\nberth: ${(berth / fastest).toFixed(2)}x the fastest sender's time; RSS ${berthRss === undefined ? '?' : `${(berthRss / 1024).toFixed(1)} MiB`} after sending`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
  process.exit(1);
});
