// Differential property test (issue 14 §5): for random clusters, `berth check`'s view
// (src/config/check.ts checkSnapshot) and the manifest-mode speaker's plan on every node
// (src/speaker/snapshot-plan.ts planSnapshot, the path `berth speaker --manifests` takes) agree on each
// Service's IPs, pool and modes, and the nodes that announce it are the ones check's rules allow:
//   L2   at most one node announces a Service; every other node names it as the winner; it is
//        selected by one of check's L2 rules, eligible, and (ETP Local) hosts a serving endpoint;
//   BGP  the announcing nodes are exactly the nodes selected by one of check's BGP rules that are
//        eligible, can serve the Service (ETP Local: an endpoint on the node; Cluster: one anywhere)
//        and have a session that carries the prefix; each announces the prefixes check lists.
// Seeded generator (fast-check's): a failure prints the case's seed; DIFF_SEED=<seed> repeats it first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { checkSnapshot, type ServiceReport } from '../../../src/config/check.ts';
import { compile } from '../../../src/config/compile.ts';
import { dispatch } from '../../../src/config/dispatch.ts';
import { parseManifests } from '../../../src/config/manifests.ts';
import { translateService } from '../../../src/config/services.ts';
import { matchesAny } from '../../../src/labels/selector.ts';
import { aggregate } from '../../../src/speaker/plan.ts';
import { planSnapshot } from '../../../src/speaker/snapshot-plan.ts';
import type { NodePlan, ServicePlan } from '../../../src/speaker/plan.ts';
import { bgpAdv, bgpPeer, l2Adv, node, service, slice } from './fixtures.ts';

const CASES = 300;

/** A seeded stream of numbers in [0, 1) (fast-check's generator: the same seed, the same cluster). */
function uniform(seed: number): () => number {
  const [stream] = fc.sample(fc.infiniteStream(fc.noBias(fc.integer({ min: 0, max: 0xffff_ffff }))), { seed, numRuns: 1 });
  if (stream === undefined) throw new Error('fast-check gave no stream');
  return () => (stream.next().value as number) / 2 ** 32;
}

interface Rand {
  int(n: number): number;
  chance(p: number): boolean;
  pick<T>(xs: readonly T[]): T;
  subset<T>(xs: readonly T[]): T[];
}

function rand(seed: number): Rand {
  const next = uniform(seed);
  const r: Rand = {
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (xs) => {
      const x = xs[r.int(xs.length)];
      if (x === undefined) throw new Error('pick from nothing');
      return x;
    },
    subset: (xs) => xs.filter(() => r.chance(0.5)),
  };
  return r;
}

const ZONES = ['a', 'b'] as const;
const TIERS = ['web', 'db'] as const;
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';

function pool(name: string, range: string, extra: Record<string, unknown> = {}): string {
  return ['apiVersion: metallb.io/v1beta1', 'kind: IPAddressPool', 'metadata:', `  name: ${name}`, '  namespace: metallb-system', `spec: ${JSON.stringify({ addresses: [range], ...extra })}`].join('\n');
}

/** One random cluster as manifests. */
function cluster(seed: number): string[] {
  const r = rand(seed);
  const docs: string[] = [];
  const nodeNames = Array.from({ length: 1 + r.int(4) }, (_, i) => `node${i + 1}`);
  for (const [i, n] of nodeNames.entries()) {
    docs.push(
      node(n, `192.0.2.${11 + i}`, {
        labels: { zone: r.pick(ZONES), ...(r.chance(0.1) ? { [EXCLUDE]: '' } : {}) },
        ...(r.chance(0.15) ? { ready: false } : r.chance(0.5) ? { ready: true } : {}),
        ...(r.chance(0.1) ? { unschedulable: true } : {}),
      }),
    );
  }
  const pools = Array.from({ length: 1 + r.int(3) }, (_, i) => ({ name: `pool${i}`, base: 16 * i }));
  for (const p of pools) docs.push(pool(p.name, `203.0.113.${p.base}/28`, r.chance(0.2) ? { autoAssign: false } : {}));
  const poolSel = (): Record<string, unknown> => (r.chance(0.3) ? {} : { ipAddressPools: r.subset(pools.map((p) => p.name)) });
  const nodeSel = (): Record<string, unknown> => (r.chance(0.6) ? {} : { nodeSelectors: [{ matchLabels: { zone: r.pick(ZONES) } }] });
  const svcSel = (): Record<string, unknown> => (r.chance(0.7) ? {} : { serviceSelectors: [{ matchLabels: { tier: r.pick(TIERS) } }] });
  for (let i = r.int(3); i > 0; i--) docs.push(l2Adv(`l2-${i}`, { ...poolSel(), ...nodeSel(), ...svcSel() }));
  for (let i = r.int(3); i > 0; i--) {
    docs.push(
      bgpAdv(`bgp-${i}`, {
        ...poolSel(),
        ...nodeSel(),
        ...svcSel(),
        ...(r.chance(0.3) ? { aggregationLength: r.pick([30, 32]) } : {}),
        ...(r.chance(0.3) ? { communities: [r.pick(['64512:1', '64512:2', 'no-export'])] } : {}),
      }),
    );
  }
  if (r.chance(0.8)) docs.push(bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1', ...(r.chance(0.3) ? { nodeSelectors: [{ matchLabels: { zone: r.pick(ZONES) } }] } : {}) }));
  const services = Array.from({ length: 1 + r.int(6) }, (_, i) => `svc${i}`);
  for (const s of services) {
    const p = r.pick(pools);
    const annotations: Record<string, string> = {
      ...(r.chance(0.5) ? { 'metallb.io/allow-shared-ip': r.pick(['k1', 'k1', 'k2']) } : {}),
      ...(r.chance(0.2) ? { 'metallb.io/address-pool': r.pick(pools).name } : {}),
    };
    docs.push(
      service(s, {
        labels: { tier: r.pick(TIERS) },
        ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
        ...(r.chance(0.4) ? { ip: `203.0.113.${p.base + 1 + r.int(2)}` } : {}),
        ...(r.chance(0.15) ? { statusIP: `203.0.113.${p.base + 1 + r.int(3)}` } : {}),
        ...(r.chance(0.5) ? { etp: 'Local' as const } : {}),
        port: r.pick([80, 443, 8080]),
      }),
    );
    if (r.chance(0.7)) docs.push(slice(s, r.subset(nodeNames).map((n) => ({ node: n, ...(r.chance(0.2) ? { ready: false } : {}) }))));
  }
  return docs;
}

function key(s: ServiceReport): string {
  return `${s.namespace}/${s.name}`;
}

function svcOf(plan: NodePlan, svc: string): ServicePlan | undefined {
  return plan.services.find((s) => s.service === svc);
}

/** What the generated cases exercised: each kind must occur, or the generator has drifted. */
interface Seen {
  l2Owner: number;
  bgpAnnounced: number;
  bothModes: number;
  sharedIP: number;
  sharedRefused: number;
  noIP: number;
}

/** Runs one case; returns a description of the first disagreement, or undefined. */
function disagreement(seed: number, seen?: Seen): string | undefined {
  const docs = cluster(seed);
  const loaded = parseManifests([{ path: 'cluster.yaml', text: docs.join('\n---\n') }]);
  const snapshot = loaded.snapshot;
  const check = checkSnapshot(snapshot);
  const nodeNames = snapshot.nodes.map((n) => n.metadata?.name ?? '');
  const plans = new Map(nodeNames.map((n) => [n, planSnapshot({ snapshot, nodeName: n }).plan]));
  const { config } = compile(snapshot);
  const nodes = new Map(snapshot.nodes.map((n) => [n.metadata?.name ?? '', n]));
  const eligible = (n: string): boolean => {
    const o = nodes.get(n);
    const ready = (o?.status?.conditions ?? []).find((c) => c.type === 'Ready');
    return o !== undefined && (ready === undefined || ready.status === 'True') && o.spec?.unschedulable !== true && !(EXCLUDE in (o.metadata?.labels ?? {}));
  };
  const labelsOf = (n: string): Record<string, string> => nodes.get(n)?.metadata?.labels ?? {};
  const slices = snapshot.endpointSlices;

  const byIP = new Map<string, number>();
  for (const report of check.report.services) for (const ip of report.ips) byIP.set(ip, (byIP.get(ip) ?? 0) + 1);
  if (seen !== undefined && [...byIP.values()].some((c) => c > 1)) seen.sharedIP++;
  for (const report of check.report.services) {
    const svc = key(report);
    const t = snapshot.services.find((s) => `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}` === svc);
    const tr = t === undefined ? undefined : translateService(t, snapshot.namespaces);
    if (tr?.kind !== 'ours') continue;
    for (const [n, plan] of plans) {
      const p = svcOf(plan, svc);
      if (p === undefined) return `${svc}: in berth check, not in ${n}'s plan`;
      if (JSON.stringify(p.ips) !== JSON.stringify(report.ips)) return `${svc}: IPs check ${JSON.stringify(report.ips)}, ${n}'s plan ${JSON.stringify(p.ips)}`;
      if (report.ips.length === 0) continue;
      if (p.pool !== report.pool) return `${svc}: pool check ${report.pool}, ${n}'s plan ${p.pool}`;
      if (JSON.stringify(p.modes) !== JSON.stringify(report.modes)) return `${svc}: modes check ${JSON.stringify(report.modes)}, ${n}'s plan ${JSON.stringify(p.modes)} (${JSON.stringify(p.reason ?? p.l2 ?? null)})`;
    }
    if (report.ips.length === 0 || report.pool === null) {
      if (seen !== undefined) seen.noIP++;
      continue;
    }
    const d = dispatch(config, { pool: report.pool, serviceProtocol: tr.intent.protocol, serviceLabels: tr.intent.labels, sharingKey: tr.intent.request.sharingKey });
    const name = report.name;
    const own = slices.filter((s) => s.metadata?.labels?.['kubernetes.io/service-name'] === name);
    const servingOn = new Set(own.flatMap((s) => s.endpoints.filter((e) => e.conditions?.serving ?? e.conditions?.ready ?? true).map((e) => e.nodeName ?? '')));
    const canServe = (n: string): boolean =>
      own.length === 0 ? true : tr.intent.externalTrafficPolicy === 'Local' ? servingOn.has(n) : servingOn.size > 0;

    if (seen !== undefined && report.modes.length === 2) seen.bothModes++;
    if (seen !== undefined && d.sharedIPWithServiceSelector === true) seen.sharedRefused++;
    if (report.modes.includes('l2')) {
      const owners = [...plans].filter(([, plan]) => svcOf(plan, svc)?.l2?.announced === true).map(([n]) => n);
      if (owners.length > 1) return `${svc}: L2 announced by ${owners.join(', ')}`;
      const candidates = nodeNames.filter((n) => eligible(n) && canServe(n) && d.l2Rules.some((r) => matchesAny(r.nodeSelectors, labelsOf(n))));
      if (candidates.length > 0 && owners.length === 0) return `${svc}: L2 candidates ${candidates.join(', ')} and nobody announces`;
      const owner = owners[0];
      if (owner !== undefined && seen !== undefined) seen.l2Owner++;
      if (owner !== undefined) {
        if (!candidates.includes(owner)) return `${svc}: L2 owner ${owner} is not among check's candidates ${candidates.join(', ')}`;
        for (const [n, plan] of plans) {
          const o = svcOf(plan, svc)?.l2;
          if (n !== owner && o !== undefined && !o.announced && o.winner !== undefined && o.winner !== owner) return `${svc}: ${n} names ${o.winner} as L2 winner, ${owner} announces`;
        }
      }
    }
    if (report.modes.includes('bgp')) {
      const lines = (check.announcements.get(svc) ?? []).filter((a) => a.mode === 'bgp').map((a) => a.what);
      const prefixes = [...new Set(lines)].sort();
      const hasPeer = (n: string): boolean => config.bgpPeers.some((p) => matchesAny(p.nodeSelectors, labelsOf(n)));
      const expected = nodeNames.filter((n) => eligible(n) && canServe(n) && hasPeer(n) && d.bgpRules.some((r) => matchesAny(r.nodeSelectors, labelsOf(n)))).sort();
      const announcing = [...plans].filter(([, plan]) => svcOf(plan, svc)?.bgp?.announced === true).map(([n]) => n).sort();
      if (seen !== undefined && announcing.length > 0) seen.bgpAnnounced++;
      if (JSON.stringify(announcing) !== JSON.stringify(expected)) return `${svc}: BGP announced by [${announcing.join(', ')}], check's rules allow [${expected.join(', ')}]`;
      // Each node announces the prefixes of check's rules that select it; together, the ones check lists.
      const prefixesFor = (rules: typeof d.bgpRules): string[] => [...new Set(report.ips.flatMap((ip) => rules.flatMap((r) => aggregate(ip, r) ?? [])))].sort();
      if (JSON.stringify(prefixesFor(d.bgpRules)) !== JSON.stringify(prefixes)) return `${svc}: check lists ${prefixes.join(', ')}, its rules give ${prefixesFor(d.bgpRules).join(', ')}`;
      for (const n of announcing) {
        const b = svcOf(plans.get(n) as NodePlan, svc)?.bgp;
        const mine = prefixesFor(d.bgpRules.filter((r) => matchesAny(r.nodeSelectors, labelsOf(n))));
        if (b?.announced === true && JSON.stringify(b.prefixes) !== JSON.stringify(mine)) return `${svc}: ${n} announces ${b.prefixes.join(', ')}, check's rules for it give ${mine.join(', ')}`;
      }
    }
  }
  return undefined;
}

test(`berth check and the speaker plan agree on IPs, modes and announcing nodes (${CASES} random clusters)`, (t) => {
  const fixed = process.env['DIFF_SEED'];
  const base = Math.floor(Math.random() * 2 ** 31);
  const seeds = [...(fixed === undefined ? [] : [Number(fixed)]), ...Array.from({ length: CASES }, (_, i) => (base + i) >>> 0)];
  const seen: Seen = { l2Owner: 0, bgpAnnounced: 0, bothModes: 0, sharedIP: 0, sharedRefused: 0, noIP: 0 };
  for (const seed of seeds) {
    let found: string | undefined;
    try {
      found = disagreement(seed, seen);
    } catch (e) {
      found = `threw ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
    }
    if (found !== undefined) assert.fail(`seed ${seed}: ${found}\n(repeat with DIFF_SEED=${seed}) the cluster:\n${cluster(seed).join('\n---\n')}`);
  }
  t.diagnostic(`seeds ${base}..${base + CASES - 1}: ${JSON.stringify(seen)}`);
  for (const [what, count] of Object.entries(seen)) assert.ok(count > 0, `no case exercised ${what} (seeds ${base}..${base + CASES - 1}): ${JSON.stringify(seen)}`);
});

// Regression (found by the test above before the shared-IP rule had one home): a shared IP that an
// L2Advertisement with serviceSelectors selects, in a pool a BGPAdvertisement also announces. berth check
// said modes [bgp]; the speaker plan, which applied its own copy of the rule after dispatch, said [bgp, l2].
test('regression: a shared IP with an L2 serviceSelector and a BGP advertisement: modes [bgp] in check and plan', () => {
  const docs = [
    node('node1', '192.0.2.11'),
    node('node2', '192.0.2.12'),
    pool('pool0', '203.0.113.0/28'),
    l2Adv('sel', { serviceSelectors: [{ matchLabels: { tier: 'web' } }] }),
    bgpAdv('all'),
    bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1' }),
    service('a', { ip: '203.0.113.1', labels: { tier: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' } }),
    service('b', { ip: '203.0.113.1', labels: { tier: 'web' }, annotations: { 'metallb.io/allow-shared-ip': 'k' }, port: 443 }),
  ];
  const { snapshot } = parseManifests([{ path: 'cluster.yaml', text: docs.join('\n---\n') }]);
  const check = checkSnapshot(snapshot);
  for (const s of check.report.services) {
    assert.deepEqual(s.ips, ['203.0.113.1']);
    assert.deepEqual(s.modes, ['bgp']);
  }
  for (const n of ['node1', 'node2']) {
    const plan = planSnapshot({ snapshot, nodeName: n }).plan;
    for (const svc of ['default/a', 'default/b']) {
      const p = svcOf(plan, svc);
      assert.deepEqual(p?.modes, ['bgp'], `${n} ${svc}`);
      assert.equal(p?.bgp?.announced, true, `${n} ${svc}`);
      assert.ok(p?.l2 !== undefined && !p.l2.announced && p.l2.reason.code === 'sharedIPWithServiceSelector', `${n} ${svc}: ${JSON.stringify(p?.l2)}`);
    }
    assert.deepEqual(plan.l2, [], n);
  }
  assert.equal(disagreement(0), undefined);
});
