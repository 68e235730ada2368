// The benchmark's lab: the frr-lab namespaces (router, three nodes, a LAN client, an outside client
// behind the router), an HTTP backend in every node namespace behind every VIP (nft: TCP port 80 to a
// VIP is redirected to the node's own backend on 8080, as kube-proxy would forward it), and the
// router's FRR configuration per BGP variant (explicit neighbours: FRR 8.4 does not pass a peer
// group's `bfd profile` on to its members).
import { createLab, type Lab, type LabHost } from '../../frr-lab/lab.ts';
import { planLab } from '../../frr-lab/plan.ts';
import { run } from '../../frr-lab/run.ts';

export const PREFIX = 'bfo';
export const ROUTER_ASN = 64512;
export const NODE_ASN = 64513;
export const BACKEND_PORT = 8080;
export const SERVICE_PORT = 80;
/** VIPs: one per system under test, so a leftover never answers for another's VIP. */
export const VIPS = {
  berthL2: '203.0.113.130',
  metallbL2: '203.0.113.140',
  keepalived: '203.0.113.150',
  berthBgp: '203.0.113.10',
  metallbBgp: '203.0.113.20',
} as const;
export const L2_BLOCK = '203.0.113.128/26';
export const BGP_BLOCK = '203.0.113.0/26';

/** How the router runs BGP with the nodes in one variant. */
export interface RouterVariant {
  /** `neighbor X bfd profile bench` with this profile (ms), or no BFD. */
  readonly bfd?: { readonly receiveMs: number; readonly transmitMs: number; readonly multiplier: number };
  /** The router's own timers (keepalive, hold in s); the negotiated hold is the smaller of the two sides'. */
  readonly timers: readonly [number, number];
}

export function routerConfig(nodes: readonly LabHost[], v: RouterVariant): string {
  return [
    'frr defaults traditional',
    'hostname bfo-router',
    'log timestamp precision 3',
    '!',
    'ip forwarding',
    '!',
    ...(v.bfd === undefined ? [] : ['bfd', ' profile bench', `  receive-interval ${v.bfd.receiveMs}`, `  transmit-interval ${v.bfd.transmitMs}`, `  detect-multiplier ${v.bfd.multiplier}`, '!']),
    `router bgp ${ROUTER_ASN}`,
    ' bgp router-id 192.0.2.1',
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    ' neighbor NODES peer-group',
    ` neighbor NODES remote-as ${NODE_ASN}`,
    ` neighbor NODES timers ${v.timers[0]} ${v.timers[1]}`,
    ' neighbor NODES timers connect 1',
    ...nodes.flatMap((n) => [` neighbor ${n.ipv4} peer-group NODES`, ...(v.bfd === undefined ? [] : [` neighbor ${n.ipv4} bfd profile bench`])]),
    ' !',
    ' address-family ipv4 unicast',
    '  neighbor NODES activate',
    '  maximum-paths 64',
    ' exit-address-family',
    '!',
    'end',
    '',
  ].join('\n');
}

const BACKEND = `require('node:http').createServer((q, s) => s.end(process.argv[1] + '\\n')).listen(${BACKEND_PORT})`;

/** The lab; `prefix` other than PREFIX for the smoke test (test/integration/failover), so both can run at once. */
export async function buildLab(prefix: string = PREFIX): Promise<Lab> {
  const plan = planLab({ prefix, nodes: 3, router: true, client: true, externalClient: true });
  const lab = await createLab({ prefix, nodes: 3, router: { asn: ROUTER_ASN, nodeAsn: NODE_ASN, bfd: true, frrConfig: routerConfig(plan.nodes, { timers: [60, 180] }) }, client: true, externalClient: true });
  try {
    const client = lab.client;
    if (client === undefined) throw new Error('the lab has no client');
    // The LAN client reaches the Layer 2 VIPs on the LAN, not through the router.
    await lab.exec(client, ['ip', 'route', 'add', L2_BLOCK, 'dev', client.iface]);
    for (const n of lab.nodes) {
      const rules = [`table ip ${prefix} {`, '  chain pre {', '    type nat hook prerouting priority dstnat;', `    ip daddr 203.0.113.0/24 tcp dport ${SERVICE_PORT} redirect to :${BACKEND_PORT}`, '  }', '}', ''].join('\n');
      await lab.exec(n, ['nft', '-f', '-'], { input: rules });
      lab.spawn(n, [process.execPath, '-e', BACKEND, n.name]);
    }
    for (const n of lab.nodes) {
      for (let i = 0; ; i++) {
        const r = await lab.exec(n, ['curl', '-s', '-m', '1', `http://${n.ipv4}:${BACKEND_PORT}/`], { check: false });
        if (r.stdout.trim() === n.name) break;
        if (i > 100) throw new Error(`the HTTP backend on ${n.name} does not answer: ${r.stderr}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    }
  } catch (e) {
    await lab.destroy();
    throw e;
  }
  return lab;
}

/** The next hops the router's kernel FIB has for `vip` (sorted). */
export async function fibNextHops(lab: Lab, vip: string): Promise<string[]> {
  const route = (await lab.routes('router')).find((r) => r.dst === vip || r.dst === `${vip}/32`);
  if (route === undefined) return [];
  if (route.nexthops !== undefined) return route.nexthops.map((h) => h.gateway ?? '').sort();
  return route.gateway === undefined ? [] : [route.gateway];
}

export async function linkDown(lab: Lab, n: LabHost): Promise<void> {
  await lab.exec(n, ['ip', 'link', 'set', n.iface, 'down']);
}

/** Link up again, and the default route the kernel dropped with the link (the replies to the outside client take it). */
export async function linkUp(lab: Lab, n: LabHost): Promise<void> {
  await lab.exec(n, ['ip', 'link', 'set', n.iface, 'up']);
  const r = lab.router;
  if (r !== undefined) {
    await lab.exec(n, ['ip', 'route', 'replace', 'default', 'via', r.ipv4]);
    await lab.exec(n, ['ip', '-6', 'route', 'replace', 'default', 'via', r.ipv6], { check: false }); // IPv6 may still be settling: the benchmark is IPv4
  }
}

/** The processes in a process tree (by /proc), parent first. */
export async function processTree(pid: number): Promise<number[]> {
  const out = [pid];
  const kids = await run(['sh', '-c', `cat /proc/${pid}/task/*/children 2>/dev/null`], { check: false });
  for (const k of kids.stdout.split(/\s+/).map(Number).filter((x) => x > 0)) out.push(...(await processTree(k)));
  return out;
}
