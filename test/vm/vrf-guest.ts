// Runs INSIDE the KVM/TCG guest that test/vm/vrf.test.ts boots (test/vm/guest.ts): the guest's kernel
// has VRF (the host's may not). Builds, in namespaces of the guest:
//
//   bvr-rt  (FRR -N bvrrt, AS 64512)                bvr-node (berth speaker --manifests, AS 64513)
//     bvr-r-red 192.0.2.1/24 ---------------------- bvr-n-red 192.0.2.2/24   enslaved to VRF "red" (table 10)
//     bvr-r-def 198.51.100.1/24 ------------------- bvr-n-def 198.51.100.2/24 default VRF
//
// The node's main table has no route to 192.0.2.0/24 (the connected route of an interface in a VRF goes
// to the VRF's table), so the session to 192.0.2.1 comes up only when berth binds its socket to "red".
// BGPPeers: `red-router` (peerAddress 192.0.2.1, vrf: red, BFDProfile slow) and `plain-router`
// (198.51.100.1, no vrf). FRR runs bgpd and bfdd.
// Each check prints one line `BERTH-VM-CHECK {"name", "ok", "detail"}` for the host test to assert;
// the exit status is 0 only when every check passed.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFrr, type FrrInstance } from '../../frr-lab/frr.ts';
import { run } from '../../frr-lab/run.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
const BERTH = join(ROOT, 'bin/berth.mjs');
const RT = 'bvr-rt';
const NODE = 'bvr-node';
const VIP = '203.0.113.10';
/** One deadline for every wait together, so that a broken run still ends well inside the host's timeout. */
const DEADLINE = Date.now() + 150_000;

interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}
const checks: Check[] = [];

function report(name: string, ok: boolean, detail: string): void {
  checks.push({ name, ok, detail });
  process.stdout.write(`BERTH-VM-CHECK ${JSON.stringify({ name, ok, detail })}\n`);
}

async function sh(...argv: string[]): Promise<string> {
  return (await run(argv)).stdout;
}

async function topology(): Promise<void> {
  await sh('ip', 'netns', 'add', RT);
  await sh('ip', 'netns', 'add', NODE);
  for (const ns of [RT, NODE]) await sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
  for (const [r, n] of [
    ['bvr-r-red', 'bvr-n-red'],
    ['bvr-r-def', 'bvr-n-def'],
  ] as const) {
    await sh('ip', 'link', 'add', r, 'netns', RT, 'type', 'veth', 'peer', 'name', n, 'netns', NODE);
  }
  await sh('ip', '-n', NODE, 'link', 'add', 'red', 'type', 'vrf', 'table', '10');
  await sh('ip', '-n', NODE, 'link', 'set', 'red', 'up');
  await sh('ip', '-n', NODE, 'link', 'set', 'bvr-n-red', 'master', 'red');
  await sh('ip', '-n', RT, 'addr', 'add', '192.0.2.1/24', 'dev', 'bvr-r-red');
  await sh('ip', '-n', RT, 'addr', 'add', '198.51.100.1/24', 'dev', 'bvr-r-def');
  await sh('ip', '-n', NODE, 'addr', 'add', '192.0.2.2/24', 'dev', 'bvr-n-red');
  await sh('ip', '-n', NODE, 'addr', 'add', '198.51.100.2/24', 'dev', 'bvr-n-def');
  for (const [ns, dev] of [
    [RT, 'bvr-r-red'],
    [RT, 'bvr-r-def'],
    [NODE, 'bvr-n-red'],
    [NODE, 'bvr-n-def'],
  ] as const) {
    await sh('ip', '-n', ns, 'link', 'set', dev, 'up');
  }
}

// BFD at 1 s x 5: the guest is emulated on a loaded machine; faster timers would flap for that alone.
const FRR_CONFIG = `frr defaults traditional
hostname bvr-rt
bfd
 profile slow
  receive-interval 1000
  transmit-interval 1000
  detect-multiplier 5
 !
!
router bgp 64512
 bgp router-id 192.0.2.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 192.0.2.2 remote-as 64513
 neighbor 192.0.2.2 timers connect 1
 neighbor 192.0.2.2 bfd profile slow
 neighbor 198.51.100.2 remote-as 64513
 neighbor 198.51.100.2 timers connect 1
!
`;

function manifests(): string {
  return [
    'apiVersion: v1\nkind: Node\nmetadata: {name: bvr-node, labels: {kubernetes.io/hostname: bvr-node}}\nstatus:\n  addresses: [{type: InternalIP, address: "198.51.100.2"}]\n  conditions: [{type: Ready, status: "True"}]',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: vips, namespace: metallb-system}\nspec: {addresses: ["203.0.113.0/28"]}',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: all, namespace: metallb-system}\nspec: {ipAddressPools: [vips]}',
    'apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: slow, namespace: metallb-system}\nspec: {receiveInterval: 1000, transmitInterval: 1000, detectMultiplier: 5}',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: red-router, namespace: metallb-system}\nspec: {myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.1, vrf: red, holdTime: 9s, connectTime: 1s, bfdProfile: slow}',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: plain-router, namespace: metallb-system}\nspec: {myASN: 64513, peerASN: 64512, peerAddress: 198.51.100.1, holdTime: 9s, connectTime: 1s}',
    `apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: default}\nspec:\n  type: LoadBalancer\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080, protocol: TCP}]\nstatus:\n  loadBalancer: {ingress: [{ip: "${VIP}"}]}`,
  ].join('\n---\n');
}

interface Neighbor {
  readonly bgpState?: string;
  readonly hostLocal?: string;
}
interface FrrPath {
  readonly peer?: { readonly peerId?: string };
  readonly nexthops?: readonly { readonly ip?: string }[];
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > DEADLINE) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function main(): Promise<number> {
  const work = await mkdtemp(join(tmpdir(), 'bvr-vrf-'));
  let frr: FrrInstance | undefined;
  let speaker: ChildProcess | undefined;
  const log: string[] = [];
  try {
    await topology();
    const mainRoute = await sh('ip', '-n', NODE, 'route', 'get', '192.0.2.1').catch((e: unknown) => `unreachable: ${String(e).split('\n')[0] ?? ''}`);
    report('the main table of the node has no route to the VRF peer', mainRoute.startsWith('unreachable'), mainRoute.trim());
    const vrfRoute = await sh('ip', '-n', NODE, 'route', 'get', '192.0.2.1', 'vrf', 'red');
    report('VRF red routes to the VRF peer over its enslaved uplink', vrfRoute.includes('dev bvr-n-red'), vrfRoute.trim());

    frr = await startFrr({ name: 'bvrrt', ns: RT, config: FRR_CONFIG, logDir: work, daemons: ['bgpd', 'bfdd'] });
    const file = join(work, 'manifests.yaml');
    await writeFile(file, manifests());
    speaker = spawn('ip', ['netns', 'exec', NODE, process.execPath, BERTH, 'speaker', '--node', NODE, '--manifests', file, '--log-level', 'debug', '--graceful-restart-state', join(work, 'restart.json')], {
      cwd: ROOT,
      // Tests run the sources (scripts/run-tests.mjs sets the same), never a dist/ that may be stale.
      env: { ...process.env, BERTH_FROM_SOURCE: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const take = (b: Buffer): void => {
      for (const l of b.toString().split('\n')) if (l !== '') log.push(l);
    };
    speaker.stdout?.on('data', take);
    speaker.stderr?.on('data', take);

    const fr = frr;
    const neighbors = async (): Promise<Record<string, Neighbor>> => fr.vtyshJson<Record<string, Neighbor>>('show bgp neighbors json');
    // Each peer on its own (the default-VRF one first), so that a broken VRF path fails only its own checks.
    const established = async (name: string, address: string): Promise<void> => {
      const n = await waitFor(`${address} Established at FRR`, async () => {
        const all = await neighbors();
        return all[address]?.bgpState === 'Established' ? all[address] : undefined;
      }).catch(() => undefined);
      report(name, n !== undefined, n === undefined ? `not Established: ${JSON.stringify((await neighbors().catch((): Record<string, Neighbor> => ({})))[address] ?? {}).slice(0, 300)}` : `hostLocal ${n.hostLocal ?? '?'}`);
    };
    await established('FRR: the session in the default VRF (198.51.100.2) is Established', '198.51.100.2');
    await established('FRR: the session over the VRF uplink (192.0.2.2) is Established', '192.0.2.2');

    const nextHop = async (name: string, peer: string): Promise<void> => {
      const hop = await waitFor(`${VIP}/32 from ${peer}`, async () => {
        const r = await fr.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ipv4 unicast ${VIP}/32 json`);
        return (r.paths ?? []).find((p) => p.peer?.peerId === peer)?.nexthops?.[0]?.ip;
      }).catch(() => '(no path from this peer)');
      report(name, hop === peer, `next hop ${hop}`);
    };
    await nextHop(`${VIP}/32 from the default-VRF peer has 198.51.100.2 as next hop`, '198.51.100.2');
    await nextHop(`${VIP}/32 from the VRF peer has the VRF interface's address 192.0.2.2 as next hop`, '192.0.2.2');
    // BFD with the VRF peer: FRR's bfdd reaches Up only when berth's packets arrive and FRR's reach berth
    // (a listener and a sender bound to red; a socket of the default VRF would never see them).
    const bfd = await waitFor('FRR BFD peer 192.0.2.2 up', async () => {
      const peers = await fr.vtyshJson<readonly { peer?: string; status?: string }[]>('show bfd peers json');
      const p = peers.find((x) => x.peer === '192.0.2.2');
      return p?.status === 'up' ? p : undefined;
    }).catch(async (e: unknown) => {
      report('FRR: BFD with the VRF peer (192.0.2.2) is up', false, `${String(e)}: ${await fr.vtysh('show bfd peers').catch(() => '')}`);
      return undefined;
    });
    if (bfd !== undefined) report('FRR: BFD with the VRF peer (192.0.2.2) is up', true, JSON.stringify(bfd));
    // For the log only: the session's socket as ss sees it.
    const ss = await sh('ip', 'netns', 'exec', NODE, 'ss', '-tnH', 'state', 'established', 'dport', '=', ':179');
    process.stdout.write(`node sockets to port 179:\n${ss}`);
  } catch (err) {
    report('guest scenario ran to the end', false, err instanceof Error ? err.message : String(err));
  } finally {
    if (checks.some((c) => !c.ok)) process.stdout.write(`--- speaker log (last 40 lines)\n${log.slice(-40).join('\n')}\n`);
    if (speaker?.pid !== undefined) speaker.kill('SIGTERM');
    await frr?.stop().catch(() => undefined);
    for (const ns of [NODE, RT]) await run(['ip', 'netns', 'del', ns], { check: false });
    await rm(work, { recursive: true, force: true });
  }
  return checks.length > 0 && checks.every((c) => c.ok) ? 0 : 1;
}

process.exitCode = await main();
