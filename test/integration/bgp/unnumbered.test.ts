// Unnumbered BGP (MetalLB `BGPPeer.spec.interface`) against FRR's `neighbor IFACE interface`: two
// namespaces joined by one veth with only IPv6 link-local addresses (prefix bun-*). berth's speaker and
// FRR find each other by Router Advertisements (src/bgp/unnumbered.ts; zebra sends FRR's), the session
// runs between the link-local addresses, RFC 8950 Extended Next Hop Encoding is negotiated, and IPv4
// VIPs arrive in FRR's RIB and kernel FIB with the IPv6 link-local next hop (`via inet6 fe80::...`),
// IPv6 VIPs over the same session. First with the bare speaker (speaker-proc.ts), then as deployed:
// `berth speaker --manifests` with a MetalLB BGPPeer `interface`.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab, SpawnedProcess } from '../../../frr-lab/lab.ts';
import { startFrr, type FrrInstance } from '../../../frr-lab/frr.ts';
import { killPid, run } from '../../../frr-lab/run.ts';
import type { Advertisement, PeerSpec } from '../../../src/bgp/speaker.ts';
import { SpeakerProc, poll } from './harness.ts';
import { ManifestDir, nodeDoc, serviceDoc, sliceDoc } from '../speaker/harness.ts';

const PREFIX = `bun${process.pid % 10000}`;
const NS_RT = `${PREFIX}-rt`;
const NS_NODE = `${PREFIX}-node`;
const IF_RT = `${PREFIX}-r`;
const IF_NODE = `${PREFIX}-n`;
const NODE_ASN = 64513;
const RT_ASN = 64512;
const VIP4 = '203.0.113.40';
const VIP6 = '2001:db8:f00::40';

/** Just the lab's spawn: `ip netns exec NS argv`, killed by PID. */
const spawner: Pick<Lab, 'spawn'> = {
  spawn(target, argv, opts) {
    const child = spawn('ip', ['netns', 'exec', String(target), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    const pid = child.pid;
    if (pid === undefined) throw new Error(`spawn ${argv.join(' ')} failed`);
    const p: SpawnedProcess = {
      child,
      pid,
      output: () => ({ stdout: '', stderr: '' }),
      async kill(graceMs = 3000) {
        if (child.exitCode === null && child.signalCode === null) await killPid(pid, graceMs);
      },
    };
    return p;
  },
};

const BERTH = fileURLToPath(new URL('../../../bin/berth.mjs', import.meta.url));
let frr: FrrInstance | undefined;
let berthSpeaker: SpawnedProcess | undefined;
let manifests: ManifestDir | undefined;
let speaker: SpeakerProc | undefined;
let logDir: string | undefined;

async function cleanup(): Promise<void> {
  await speaker?.stop().catch(() => undefined);
  await berthSpeaker?.kill(3000).catch(() => undefined);
  manifests?.remove();
  await frr?.stop().catch(() => undefined);
  for (const ns of [NS_RT, NS_NODE]) await run(['ip', 'netns', 'del', ns], { check: false });
  if (logDir !== undefined) await rm(logDir, { recursive: true, force: true });
}

interface FrrPath {
  readonly valid?: boolean;
  readonly nexthops?: readonly { readonly ip: string; readonly scope?: string; readonly afi?: string }[];
}

describe('unnumbered BGP (interface peer) against FRR', () => {
  before(async () => {
    await cleanup();
    await run(['ip', 'netns', 'add', NS_RT]);
    await run(['ip', 'netns', 'add', NS_NODE]);
    await run(['ip', 'link', 'add', IF_RT, 'netns', NS_RT, 'type', 'veth', 'peer', 'name', IF_NODE, 'netns', NS_NODE]);
    for (const [ns, dev] of [[NS_RT, IF_RT], [NS_NODE, IF_NODE]] as const) {
      // No duplicate address detection: the link-local address is usable as soon as the link is up.
      await run(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.accept_dad=0`]);
      await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
      await run(['ip', '-n', ns, 'link', 'set', dev, 'up']);
    }
    logDir = await mkdtemp(join(tmpdir(), `${PREFIX}-`));
    await chmod(logDir, 0o777); // FRR's daemons (user frr) write their log here
    frr = await startFrr({
      name: NS_RT,
      ns: NS_RT,
      logDir,
      config: [
        `router bgp ${RT_ASN}`,
        ' bgp router-id 198.51.100.1',
        ' no bgp ebgp-requires-policy',
        ` neighbor ${IF_RT} interface remote-as external`,
        ' neighbor ' + IF_RT + ' timers 3 9',
        ' address-family ipv4 unicast',
        `  neighbor ${IF_RT} activate`,
        ' exit-address-family',
        ' address-family ipv6 unicast',
        `  neighbor ${IF_RT} activate`,
        ' exit-address-family',
      ].join('\n'),
    });
    speaker = await SpeakerProc.start(spawner, NS_NODE, { routerId: '198.51.100.2' });
  });
  after(cleanup);

  it('finds FRR by its Router Advertisements, reaches Established and FRR installs IPv4 VIPs via inet6 fe80::', async () => {
    const s = speaker as SpeakerProc;
    const f = frr as FrrInstance;
    const peer: PeerSpec = { name: 'uplink', myAsn: NODE_ASN, peerAsn: RT_ASN, peerAddress: '', interface: IF_NODE, holdTimeSec: 9 };
    const ads: Advertisement[] = [{ prefix: `${VIP4}/32` }, { prefix: `${VIP6}/128` }];
    s.ads(ads);
    s.peers([peer]);
    const rtLinkLocal = (await run(['ip', '-n', NS_RT, '-6', '-j', 'addr', 'show', 'dev', IF_RT, 'scope', 'link'])).stdout;
    const rtLl = (JSON.parse(rtLinkLocal) as { addr_info: { local: string }[] }[])[0]?.addr_info[0]?.local;
    assert.ok(rtLl?.startsWith('fe80:'), `router link-local address: ${rtLinkLocal}`);
    const nb = await s.waitEvent('the neighbour from RAs', (e) => e.event === 'neighbor', 60_000);
    assert.equal((nb as unknown as { address: string }).address, `${rtLl}%${IF_NODE}`);
    await s.waitEvent('Established', (e) => e.event === 'established' && e.peer === 'uplink', 90_000);

    const nodeLl = (JSON.parse((await run(['ip', '-n', NS_NODE, '-6', '-j', 'addr', 'show', 'dev', IF_NODE, 'scope', 'link'])).stdout) as { addr_info: { local: string }[] }[])[0]
      ?.addr_info[0]?.local;
    assert.ok(nodeLl?.startsWith('fe80:'));

    // FRR: the neighbour negotiated the extended next hop capability both ways (RFC 8950).
    const nbr = await f.vtyshJson<Record<string, { neighborCapabilities?: Record<string, unknown>; bgpState?: string }>>(`show bgp neighbors ${IF_RT} json`);
    const caps = JSON.stringify(nbr[IF_RT]?.neighborCapabilities ?? {});
    assert.match(caps, /"extendedNexthop":"advertisedAndReceived"/, caps);

    // RIB: the IPv4 VIP with our link-local address as next hop.
    const path4 = await poll(`FRR has ${VIP4}/32`, async () => {
      const r = await f.vtyshJson<{ routes?: Record<string, readonly FrrPath[]> }>('show bgp ipv4 unicast json');
      return r.routes?.[`${VIP4}/32`]?.[0];
    });
    const hops = JSON.stringify(path4.nexthops);
    assert.ok(path4.nexthops?.some((h) => h.ip === nodeLl || h.ip.startsWith('fe80:')), `IPv4 VIP next hops ${hops}`);
    // Kernel FIB: an IPv4 route via an IPv6 next hop (RFC 5549/8950 forwarding).
    const fib4 = await poll(`kernel route for ${VIP4} via inet6`, async () => {
      const out = (await run(['ip', '-n', NS_RT, 'route', 'show', `${VIP4}/32`])).stdout;
      return /via inet6 fe80:/.test(out) ? out : undefined;
    });
    assert.ok(fib4.includes(nodeLl as string), fib4);
    // IPv6 over the same session.
    const fib6 = await poll(`kernel route for ${VIP6}`, async () => {
      const out = (await run(['ip', '-n', NS_RT, '-6', 'route', 'show', `${VIP6}/128`])).stdout;
      return out.includes('via fe80:') ? out : undefined;
    });
    assert.ok(fib6.includes(nodeLl as string), fib6);
  });
  it('berth speaker --manifests with BGPPeer.spec.interface: the same routes through the deployed path', async () => {
    const f = frr as FrrInstance;
    await (speaker as SpeakerProc).stop(); // one speaker per interface: this one takes over
    await poll('FRR to drop the first session', async () => {
      const out = (await run(['ip', '-n', NS_RT, 'route', 'show', `${VIP4}/32`])).stdout;
      return out.trim() === '' ? true : undefined;
    }, 60_000);
    const vip4 = '203.0.113.41';
    const vip6 = '2001:db8:f00::41';
    const dir = new ManifestDir();
    manifests = dir;
    dir.write('all.yaml', [
      nodeDoc({ name: 'node1', ipv4: '198.51.100.2', ipv6: '2001:db8:1::2' } as Parameters<typeof nodeDoc>[0]),
      'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: unnumbered-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.32/27", "2001:db8:f00::/120"]}',
      'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: unnumbered, namespace: metallb-system}\nspec: {ipAddressPools: [unnumbered-pool]}',
      `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: tor, namespace: metallb-system}\nspec: {myASN: ${NODE_ASN}, dynamicASN: external, interface: ${IF_NODE}, holdTime: 9s}`,
      serviceDoc('web', { statusIPs: [vip4] }),
      serviceDoc('web6', { statusIPs: [vip6], families: ['IPv6'] }),
      sliceDoc('web', ['node1']),
      sliceDoc('web6', ['node1']),
    ]);
    const state = join(logDir as string, 'restart.json');
    berthSpeaker = spawner.spawn(NS_NODE, [process.execPath, BERTH, 'speaker', '--node', 'node1', '--manifests', dir.path, '--log-level', 'debug', '--graceful-restart-state', state]);
    const fib4 = await poll(`kernel route for ${vip4} via inet6 (berth speaker)`, async () => {
      const out = (await run(['ip', '-n', NS_RT, 'route', 'show', `${vip4}/32`])).stdout;
      return /via inet6 fe80:/.test(out) ? out : undefined;
    }, 90_000);
    assert.match(fib4, new RegExp(`dev ${IF_RT} proto bgp`));
    await poll(`kernel route for ${vip6} (berth speaker)`, async () => {
      const out = (await run(['ip', '-n', NS_RT, '-6', 'route', 'show', `${vip6}/128`])).stdout;
      return out.includes('via fe80:') ? out : undefined;
    });
    const nbr = await f.vtyshJson<Record<string, { bgpState?: string; neighborCapabilities?: Record<string, unknown> }>>(`show bgp neighbors ${IF_RT} json`);
    assert.equal(nbr[IF_RT]?.bgpState, 'Established');
    assert.match(JSON.stringify(nbr[IF_RT]?.neighborCapabilities ?? {}), /"extendedNexthop":"advertisedAndReceived"/);
  });
});
