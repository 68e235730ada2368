// berth inside the lab, whichever runner built it: the manifests of frr-lab/manifests/ (the seed documents'
// Porter layer2 Eip + Service, MetalLB L2 pool + L2Advertisement, MetalLB BGP pool + BGPPeer +
// BGPAdvertisement) copied into each node, `berth speaker --manifests` on node1..node3, and on each node
// what stands in for a pod and kube-proxy: a small HTTP backend on :8080 that answers with the node's name,
// and an nftables rule per Service (VIP:port -> :8080). Then what a person wants to see: report().
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkSnapshot, type ServiceReport } from '../src/config/check.ts';
import { loadManifests } from '../src/config/manifests.ts';
import { LabError, sleep } from './run.ts';
import type { LabHandle } from './topology.ts';

export const MANIFESTS_DIR = fileURLToPath(new URL('manifests/', import.meta.url));
export const BACKEND_PORT = 8080;
export const LAB_NODES = ['node1', 'node2', 'node3'] as const;
const BACKEND = "const n=process.argv[1];require('http').createServer((q,s)=>s.end('hello from '+n+'\\n')).listen(8080,'::')";

export interface LabService {
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool: string | null;
  readonly modes: readonly string[];
  readonly ports: readonly number[];
}

export interface BerthLab {
  readonly lab: LabHandle;
  readonly services: readonly LabService[];
  /** Where the speakers read their manifests, in each node's view. */
  manifestsDir(node: string): string;
  /** Writes one manifest file on every node (the speakers pick it up). */
  writeManifest(file: string, text: string): Promise<void>;
  /** The nodes' MACs on the LAN (eth1), for telling who answered ARP. */
  readonly macs: ReadonlyMap<string, string>;
  speakerLogs(): Promise<string>;
}

/** Services with their IPs, pool and modes as `berth check` compiles frr-lab/manifests (the speakers do the same). */
export function plannedServices(dir: string = MANIFESTS_DIR): LabService[] {
  const loaded = loadManifests(dir);
  const report = checkSnapshot(loaded.snapshot).report;
  if (report.problems.length > 0) throw new LabError(`${dir}: berth check found problems: ${JSON.stringify(report.problems)}`);
  return report.services.map((s: ServiceReport) => {
    const svc = loaded.snapshot.services.find((x) => x.metadata?.name === s.name && (x.metadata.namespace ?? 'default') === s.namespace);
    return { name: s.name, ips: s.ips, pool: s.pool, modes: s.modes, ports: (svc?.spec?.ports ?? []).map((p) => p.port) };
  });
}

/** Polls fn every 250 ms until it returns a value; LabError naming `what`, fn's last error and describe()'s text on timeout. */
export async function waitUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, describe?: () => Promise<string>): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const v = await fn().catch((e: unknown) => {
      last = e instanceof Error ? e.message : String(e);
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > until) {
      const more = describe === undefined ? '' : `\n${await describe().catch(() => '')}`;
      throw new LabError(`timed out after ${String(timeoutMs)} ms waiting for ${what}${last === '' ? '' : ` (last error: ${last})`}${more}`);
    }
    await sleep(250);
  }
}

/** Copies the manifests into each node, programs the Service rules, starts backends and speakers. */
export async function startBerth(lab: LabHandle, log: (l: string) => void = () => undefined): Promise<BerthLab> {
  const services = plannedServices();
  const files = readdirSync(MANIFESTS_DIR).filter((f) => f.endsWith('.yaml')).sort();
  const dirOf = (node: string): string => join(lab.dataDir(node), 'manifests');
  const macs = new Map<string, string>();
  for (const node of LAB_NODES) {
    for (const f of files) await lab.writeFile(node, join(dirOf(node), f), readFileSync(join(MANIFESTS_DIR, f), 'utf8'));
    const link = JSON.parse((await lab.exec(node, ['ip', '-j', 'link', 'show', 'eth1'])).stdout) as { address?: string }[];
    macs.set(node, link[0]?.address ?? '?');
    // kube-proxy's part: each Service's VIP and port to the node's backend (one nft transaction).
    const rules = services.flatMap((s) =>
      s.ips.flatMap((ip) => s.ports.map((port) => `add rule ${ip.includes(':') ? 'ip6' : 'ip'} berthlab pre ${ip.includes(':') ? 'ip6' : 'ip'} daddr ${ip} tcp dport ${String(port)} redirect to :${String(BACKEND_PORT)}`)),
    );
    const script = [
      ...['ip', 'ip6'].flatMap((fam) => [`add table ${fam} berthlab`, `add chain ${fam} berthlab pre { type nat hook prerouting priority dstnat; }`]),
      ...rules,
      '',
    ].join('\n');
    await lab.exec(node, ['nft', '-f', '-'], { input: script });
    await lab.start(node, 'backend', [...lab.node(node), '-e', BACKEND, node]);
    log(`${node}: berth speaker --node ${node} --manifests ${dirOf(node)}`);
    await lab.start(node, 'speaker', [
      ...lab.berth(node),
      'speaker',
      '--node',
      node,
      '--manifests',
      dirOf(node),
      '--graceful-restart-state',
      join(lab.dataDir(node), 'restart.json'),
    ]);
  }
  for (const node of LAB_NODES) {
    await waitUntil(`${node}'s backend on :${String(BACKEND_PORT)}`, 30_000, async () => {
      const r = await lab.exec(node, ['curl', '-s', '-m', '2', `http://127.0.0.1:${String(BACKEND_PORT)}/`], { check: false });
      return r.stdout.includes(node) ? true : undefined;
    });
  }
  return {
    lab,
    services,
    macs,
    manifestsDir: dirOf,
    async writeManifest(file, text) {
      for (const node of LAB_NODES) await lab.writeFile(node, join(dirOf(node), file), text);
    },
    async speakerLogs() {
      const out: string[] = [];
      for (const node of LAB_NODES) out.push(`--- ${node}\n${(await lab.log(node, 'speaker')).split('\n').slice(-15).join('\n')}`);
      return out.join('\n');
    },
  };
}

// ------------------------------------------------------------------------------------------------- views

export interface BgpPath {
  readonly nexthops?: readonly { readonly ip?: string }[];
  readonly community?: { readonly string?: string };
}

/** The router's BGP paths for a prefix. */
export async function bgpPaths(lab: LabHandle, prefix: string): Promise<readonly BgpPath[]> {
  const fam = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const r = JSON.parse(await lab.vtysh(`show bgp ${fam} unicast ${prefix} json`)) as { paths?: BgpPath[] };
  return r.paths ?? [];
}

/** Next hops of the router's FIB (zebra) route for a prefix, sorted. */
export async function routerNextHops(lab: LabHandle, prefix: string): Promise<string[]> {
  const fam = prefix.includes(':') ? 'ipv6' : 'ip';
  const r = JSON.parse(await lab.vtysh(`show ${fam} route ${prefix} json`)) as Record<string, readonly { selected?: boolean; nexthops?: readonly { ip?: string; active?: boolean }[] }[]>;
  const routes = r[prefix] ?? [];
  return routes
    .filter((x) => x.selected === true)
    .flatMap((x) => x.nexthops ?? [])
    .filter((n) => n.active === true)
    .map((n) => n.ip ?? '?')
    .sort();
}

/** `curl` from a host; the body, or '' when nothing answered. */
export async function curl(lab: LabHandle, host: string, ip: string, port: number, extra: readonly string[] = []): Promise<string> {
  const url = ip.includes(':') ? `http://[${ip}]:${String(port)}/` : `http://${ip}:${String(port)}/`;
  const r = await lab.exec(host, ['curl', '-s', '-m', '3', ...extra, url], { check: false, timeoutMs: 10_000 });
  return r.code === 0 ? r.stdout.trim() : '';
}

/** The LAN client's neighbour entry for an IP after an ARP exchange (arping), or undefined. */
export async function clientNeighbour(lab: LabHandle, ip: string): Promise<{ mac: string; state: string } | undefined> {
  await lab.exec('client', ['arping', '-c', '1', '-w', '2', '-i', 'eth1', ip], { check: false, timeoutMs: 10_000 });
  // arping does not write the kernel's table; a packet from the kernel does (curl's SYN, or ping).
  await lab.exec('client', ['ping', '-c', '1', '-W', '1', ip], { check: false, timeoutMs: 10_000 });
  const n = JSON.parse((await lab.exec('client', ['ip', '-j', '-4', 'neigh', 'show', ip, 'dev', 'eth1'])).stdout || '[]') as { lladdr?: string; state?: string[] }[];
  const e = n[0];
  if (e?.lladdr === undefined) return undefined;
  return { mac: e.lladdr.toLowerCase(), state: (e.state ?? []).join(',') };
}

// ------------------------------------------------------------------------------------------------ report

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n');
}

/** Waits until every Service is announced (BGP routes with one next hop per node, L2 VIPs answered). */
export async function waitAnnounced(b: BerthLab, timeoutMs = 90_000): Promise<void> {
  const nodeIps = LAB_NODES.map((_, i) => `192.0.2.${String(11 + i)}`);
  for (const s of b.services) {
    for (const ip of s.ips) {
      if (s.modes.includes('bgp')) {
        await waitUntil(`${ip}/32 at the router with next hops ${nodeIps.join(', ')}`, timeoutMs, async () =>
          (await routerNextHops(b.lab, `${ip}/32`)).join() === nodeIps.join() ? true : undefined,
        );
      }
      if (s.modes.includes('l2') && !ip.includes(':')) {
        await waitUntil(`an ARP answer for ${ip}`, timeoutMs, async () => ((await clientNeighbour(b.lab, ip)) === undefined ? undefined : true));
      }
    }
  }
}

/** What `npm run lab` prints: Services, the router's routes, the outside client's curl, the LAN client's ARP view. */
export async function report(b: Pick<BerthLab, 'lab' | 'macs'> & { readonly services: readonly (LabService & { readonly policy?: string })[] }, source?: string): Promise<string> {
  const { lab } = b;
  const out: string[] = [];
  const nodeOfMac = (mac: string): string => [...b.macs].find(([, m]) => m === mac)?.[0] ?? 'not a node';
  const nodeOfIp = (ip: string): string => LAB_NODES.find((_, i) => ip === `192.0.2.${String(11 + i)}`) ?? ip;
  out.push(`== Services (${source ?? `berth check --manifests, as every speaker compiles them; runner: ${lab.runner}`})`);
  out.push(
    table([
      ['SERVICE', 'EXTERNAL-IP', 'PORT', 'POOL', 'MODE', ...(b.services.some((s) => s.policy !== undefined) ? ['TRAFFIC-POLICY'] : [])],
      ...b.services.map((s) => [s.name, s.ips.join(','), s.ports.join(','), s.pool ?? '-', s.modes.join('+'), ...(s.policy === undefined ? [] : [s.policy])]),
    ]),
  );
  const bgp = b.services.filter((s) => s.modes.includes('bgp'));
  out.push('', '== Router (FRR): show ip route for the BGP VIPs');
  for (const s of bgp) {
    for (const ip of s.ips) {
      const text = await lab.vtysh(`show ${ip.includes(':') ? 'ipv6' : 'ip'} route ${ip}/32`);
      out.push(text.trimEnd());
      const paths = await bgpPaths(lab, `${ip}/32`);
      const comms = [...new Set(paths.map((p) => p.community?.string ?? '-'))].join(' | ');
      out.push(`  (${String(paths.length)} BGP paths, next hops ${(await routerNextHops(lab, `${ip}/32`)).map(nodeOfIp).join(' ')}; communities ${comms})`);
    }
  }
  out.push('', '== Outside client (ext, 198.51.100.100) -> through the router: curl');
  for (const s of b.services) {
    for (const ip of s.ips) {
      const port = s.ports[0] ?? 80;
      const answers: string[] = [];
      for (let i = 0; i < 6; i++) answers.push((await curl(lab, 'ext', ip, port)) || '(no answer)');
      const counts = new Map<string, number>();
      for (const a of answers) counts.set(a, (counts.get(a) ?? 0) + 1);
      out.push(`curl http://${ip}:${String(port)}/  x6  (${s.modes.join('+')}):  ${[...counts].map(([a, n]) => `${String(n)}x "${a}"`).join(', ')}`);
    }
  }
  out.push('', '== LAN client (192.0.2.100): ip neigh for each Layer 2 VIP');
  for (const s of b.services.filter((x) => x.modes.includes('l2'))) {
    for (const ip of s.ips) {
      const n = await clientNeighbour(lab, ip);
      const port = s.ports[0] ?? 80;
      const body = await curl(lab, 'client', ip, port);
      out.push(`${ip} lladdr ${n?.mac ?? '(none)'} ${n?.state ?? ''}  -> ${n === undefined ? '-' : nodeOfMac(n.mac)}   curl :${String(port)} -> "${body || 'no answer'}"   (${s.name})`);
    }
  }
  return out.join('\n');
}
