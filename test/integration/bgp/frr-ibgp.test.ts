// berth's speaker against FRR over iBGP (everyone in AS 64512), with TCP MD5 (RFC 2385) on the IPv4
// peer group, graceful restart (RFC 4724) and a passive session that FRR dials. Namespaces bsesb-*.
import { after, afterEach, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, routerConfig, type Lab } from '../../../frr-lab/lab.ts';
import type { PeerSpec } from '../../../src/bgp/speaker.ts';
import { SpeakerProc, poll } from './harness.ts';
import { procNetCounter } from '../common.ts';

const ASN = 64512;
const ROUTER_V4 = '192.0.2.1';
const PASSWORD = 'berth-md5';
const VIP = '203.0.113.20';
const VIP_LP = '203.0.113.21';
const GR_VIP = '203.0.113.30';

interface FrrPath {
  readonly locPrf?: number;
  readonly path?: string;
  readonly stale?: boolean;
  readonly peerId?: string;
  readonly nexthops?: readonly { readonly ip: string }[];
}
interface FrrTable {
  readonly routes?: Record<string, readonly FrrPath[]>;
}

let lab: Lab;
const running: SpeakerProc[] = [];

async function start(i: number, speaker: Parameters<typeof SpeakerProc.start>[2] = {}): Promise<SpeakerProc> {
  const node = lab.nodes[i];
  assert.ok(node !== undefined);
  const s = await SpeakerProc.start(lab, node, speaker);
  running.push(s);
  return s;
}

/** A TcpExt counter of the router's network namespace (/proc/net/netstat is per namespace). */
async function tcpExt(name: string): Promise<number> {
  return procNetCounter((await lab.exec('router', ['cat', '/proc/net/netstat'])).stdout, 'TcpExt', name);
}

function peer(extra: Partial<PeerSpec> = {}): PeerSpec {
  return { name: 'rt', myAsn: ASN, peerAsn: ASN, peerAddress: ROUTER_V4, password: PASSWORD, ...extra };
}

async function paths(prefix: string): Promise<readonly FrrPath[]> {
  const t = await lab.vtyshJson<FrrTable>('show bgp ipv4 unicast json');
  return t.routes?.[prefix] ?? [];
}

describe('berth speaker <-> FRR, iBGP with MD5, graceful restart, passive', { timeout: 300_000 }, () => {
  before(async () => {
    lab = await createLab({
      prefix: 'bsesb',
      nodes: 3,
      router: {
        asn: ASN,
        frrConfig: routerConfig({
          asn: ASN,
          routerId: ROUTER_V4,
          nodes: [],
          nodeAsn: ASN,
          bfd: false,
          extraBgp: [
            ' bgp graceful-restart',
            ` neighbor NODES password ${PASSWORD}`,
            // node3 is a static neighbour that FRR dials: berth's side is passive.
            ' neighbor 192.0.2.13 peer-group NODES',
          ],
        }),
      },
    });
  });

  // Each test stops the speakers it started: every test passes alone and in any order.
  afterEach(async () => {
    for (let s = running.pop(); s !== undefined; s = running.pop()) await s.stop().catch(() => undefined);
  });

  after(async () => {
    for (const s of running) await s.stop().catch(() => undefined);
    await lab?.destroy();
  });

  /** node1's speaker with graceful restart, its GR_VIP in FRR and in the router's FIB. */
  async function grSpeakerUp(): Promise<SpeakerProc> {
    const s = await start(0);
    s.peers([peer({ enableGracefulRestart: true, gracefulRestartTimeSec: 60 })]);
    s.ads([{ prefix: `${GR_VIP}/32` }]);
    await s.waitEvent('Established', (e) => e.event === 'established');
    await poll('GR VIP in FRR', async () => ((await paths(`${GR_VIP}/32`)).length === 1 ? true : undefined));
    // bgpd shows the path a moment before zebra has it in the kernel: callers watch the FIB once it is there.
    await poll('GR VIP in the router FIB', async () => ((await lab.routes('router')).some((r) => r.dst === GR_VIP) ? true : undefined));
    return s;
  }

  it('MD5 match: the session comes up; iBGP routes carry LOCAL_PREF (100 by default) and an empty AS_PATH', async () => {
    const s = await start(0);
    s.peers([peer()]);
    s.ads([{ prefix: `${VIP}/32` }, { prefix: `${VIP_LP}/32`, localPref: 300 }]);
    await s.waitEvent('Established', (e) => e.event === 'established');
    const p = await poll('VIP in FRR', async () => ((await paths(`${VIP}/32`)).length === 1 ? paths(`${VIP}/32`) : undefined));
    assert.equal(p[0]?.locPrf, 100);
    assert.equal(p[0]?.path, '', 'empty AS_PATH toward an internal peer');
    assert.equal(p[0]?.nexthops?.[0]?.ip, lab.nodes[0]?.ipv4);
    const lp = await poll('VIP_LP in FRR', async () => ((await paths(`${VIP_LP}/32`)).length === 1 ? paths(`${VIP_LP}/32`) : undefined));
    assert.equal(lp[0]?.locPrf, 300);
  });

  it('MD5 mismatch (wrong key, or none): no session, no routes', async () => {
    const s = await start(1);
    // Positive signals instead of a pause: the router's kernel counts the SYNs it dropped for a wrong
    // MD5 digest (TCPMD5Failure) or a missing one (TCPMD5NotFound), RFC 2385 §2.0. Two drops each: the
    // speaker has tried (and retried), and been refused.
    const failures = await tcpExt('TCPMD5Failure');
    s.peers([peer({ password: 'not-the-key' })]);
    s.ads([{ prefix: '203.0.113.40/32' }]);
    await poll('the router dropping SYNs with a wrong MD5 digest', async () => ((await tcpExt('TCPMD5Failure')) >= failures + 2 ? true : undefined), 30_000, 200);
    assert.ok(!s.events.some((e) => e.event === 'established'), 'wrong key must not establish');
    const notFound = await tcpExt('TCPMD5NotFound');
    s.peers([peer({ name: 'rt-nokey', password: undefined as never })].map(({ password: _p, ...rest }) => rest));
    await poll('the router dropping SYNs without an MD5 digest', async () => ((await tcpExt('TCPMD5NotFound')) >= notFound + 2 ? true : undefined), 30_000, 200);
    assert.ok(!s.events.some((e) => e.event === 'established'), 'no key must not establish');
    assert.equal((await paths('203.0.113.40/32')).length, 0);
    const sum = await lab.vtyshJson<{ ipv4Unicast?: { peers?: Record<string, { state?: string }> } }>('show bgp summary json');
    assert.notEqual(sum.ipv4Unicast?.peers?.[lab.nodes[1]?.ipv4 ?? '']?.state, 'Established');
    // The right key fixes it (the same speaker, reconfigured).
    s.peers([peer()]);
    await s.waitEvent('Established with the right key', (e) => e.event === 'established');
  });

  it('passive: FRR dials the node (MD5 on the listening socket) and gets the table', async () => {
    const s = await start(2, { listen: { host: '0.0.0.0', port: 179 } });
    s.peers([peer({ passive: true })]);
    s.ads([{ prefix: '203.0.113.50/32' }]);
    await s.waitEvent('Established (FRR connected)', (e) => e.event === 'established', 60_000);
    const p = await poll('passive VIP in FRR', async () => ((await paths('203.0.113.50/32')).length === 1 ? paths('203.0.113.50/32') : undefined));
    assert.equal(p[0]?.nexthops?.[0]?.ip, lab.nodes[2]?.ipv4);
  });

  it('graceful restart: a crashed speaker\'s routes stay (stale) in FRR and the FIB; after restart End-of-RIB clears them, no flap', async () => {
    const s1 = await grSpeakerUp();
    const nb = await lab.vtyshJson<Record<string, { gracefulRestartInfo?: { remoteGrMode?: string } }>>(`show bgp neighbors ${lab.nodes[0]?.ipv4 ?? ''} json`);
    assert.equal(nb[lab.nodes[0]?.ipv4 ?? '']?.gracefulRestartInfo?.remoteGrMode, 'Restart', 'FRR saw our GR capability');

    // Watch the router's FIB all along: the route must never disappear.
    let missing = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const fib = await lab.routes('router');
        if (!fib.some((r) => r.dst === GR_VIP)) missing += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await s1.crash();
      running.splice(running.indexOf(s1), 1);
      const stale = await poll('stale path', async () => {
        const p = await paths(`${GR_VIP}/32`);
        return p.length === 1 && p[0]?.stale === true ? p : undefined;
      });
      assert.equal(stale[0]?.stale, true);
      const s2 = await start(0, { restarting: true });
      // The table first, then the peers: the two commands reach the speaker process separately, and a
      // session that came up between them would rightly send End-of-RIB with an empty table, which
      // flushes the stale route (RFC 4724 §4.2). src/speaker/agent.ts sets both in one synchronous step.
      s2.ads([{ prefix: `${GR_VIP}/32` }]);
      s2.peers([peer({ enableGracefulRestart: true, gracefulRestartTimeSec: 60 })]);
      await s2.waitEvent('Established again', (e) => e.event === 'established');
      await poll('stale flag cleared by End-of-RIB', async () => {
        const p = await paths(`${GR_VIP}/32`);
        return p.length === 1 && p[0]?.stale !== true ? true : undefined;
      });
    } finally {
      watching = false;
      await watcher;
    }
    assert.equal(missing, 0, 'the VIP never left the router FIB during the restart');
  });

  it('planned restart: stop({ preserveRoutes }) sends no NOTIFICATION, FRR keeps the routes stale, the new process clears them', async () => {
    const old = await grSpeakerUp();
    let missing = 0;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        if (!(await lab.routes('router')).some((r) => r.dst === GR_VIP)) missing += 1;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      await old.stop({ preserveRoutes: true });
      running.splice(running.indexOf(old), 1);
      await poll('stale path after a planned stop', async () => {
        const p = await paths(`${GR_VIP}/32`);
        return p.length === 1 && p[0]?.stale === true ? true : undefined;
      });
      const next = await start(0, { restarting: true });
      next.peers([peer({ enableGracefulRestart: true, gracefulRestartTimeSec: 60 })]);
      next.ads([{ prefix: `${GR_VIP}/32` }]);
      await next.waitEvent('Established', (e) => e.event === 'established');
      await poll('stale flag cleared', async () => {
        const p = await paths(`${GR_VIP}/32`);
        return p.length === 1 && p[0]?.stale !== true ? true : undefined;
      });
    } finally {
      watching = false;
      await watcher;
    }
    assert.equal(missing, 0, 'the VIP never left the router FIB');
  });
});
