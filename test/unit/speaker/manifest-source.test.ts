// The standalone loop with an injected loader (no files): last-good objects, unreadable snapshots keep
// the previous plan, reconciles do not overlap. Also `berth speaker` argument parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parseManifests, type ManifestResult } from '../../../src/config/manifests.ts';
import { createManifestSpeaker } from '../../../src/speaker/manifest-source.ts';
import type { Agent } from '../../../src/speaker/agent.ts';
import type { NodePlan } from '../../../src/speaker/plan.ts';
import { parseSpeakerArgs } from '../../../src/cli/speaker.ts';
import { bgpAdv, bgpPeer, l2Pool, service, threeNodes } from './fixtures.ts';

function recordingAgent(): { agent: Agent; applied: NodePlan[]; kept: string[] } {
  const applied: NodePlan[] = [];
  const kept: string[] = [];
  const agent: Agent = {
    apply: async (p) => {
      await new Promise((r) => setTimeout(r, 5));
      applied.push(p);
      return { owned: [], unresolved: [], l2Problems: [] };
    },
    applyDelta: () => Promise.reject(new Error('the manifest source applies whole plans')),
    keep: (r) => {
      kept.push(r);
    },
    get current() {
      return applied.at(-1);
    },
    close: () => Promise.resolve(),
  };
  return { agent, applied, kept };
}

const base = [threeNodes(), l2Pool('bgp-pool', '198.51.100.0/24'), bgpPeer('router', { myASN: 64513, peerASN: 64512, peerAddress: '192.0.2.1' })];
const parse = (docs: readonly string[]): ManifestResult => parseManifests([{ path: 'm.yaml', text: docs.join('\n---\n') }]);

function loop(results: (ManifestResult | Error)[]): { run: ReturnType<typeof createManifestSpeaker>; rec: ReturnType<typeof recordingAgent> } {
  const rec = recordingAgent();
  let i = 0;
  const run = createManifestSpeaker({
    path: '/nowhere',
    nodeName: 'node1',
    agent: rec.agent,
    logger: pino({ level: 'silent' }),
    watch: false,
    resyncMs: 0,
    load: () => {
      const r = results[Math.min(i, results.length - 1)];
      i++;
      if (r === undefined) throw new Error('no result');
      if (r instanceof Error) throw r;
      return r;
    },
  });
  return { run, rec };
}

const prefixes = (p: NodePlan | undefined): string[] => (p?.advertisements ?? []).map((a) => a.prefix);

test('an invalid change to an object keeps its last valid version (last-good through the loop)', async () => {
  const good = parse([...base, bgpAdv('adv', { communities: ['64512:1'] }), service('web', { ip: '198.51.100.10' })]);
  const bad = parse([...base, bgpAdv('adv', { communities: ['not-a-community'] }), service('web', { ip: '198.51.100.10' })]);
  const { run, rec } = loop([good, bad]);
  await run.start();
  await run.reconcile();
  assert.equal(rec.applied.length, 2);
  assert.deepEqual(rec.applied[1]?.advertisements, [{ prefix: '198.51.100.10/32', communities: [(64512 * 65536 + 1) >>> 0] }]);
});

test('a removed Service is withdrawn on the next read', async () => {
  const { run, rec } = loop([parse([...base, bgpAdv('adv'), service('web', { ip: '198.51.100.10' })]), parse([...base, bgpAdv('adv')])]);
  await run.start();
  await run.reconcile();
  assert.deepEqual(rec.applied.map(prefixes), [['198.51.100.10/32'], []]);
});

test('unreadable snapshots (path gone, YAML error) keep the previous plan and say why', async () => {
  const good = parse([...base, bgpAdv('adv'), service('web', { ip: '198.51.100.10' })]);
  const broken = parseManifests([{ path: 'm.yaml', text: 'kind: [unclosed' }]);
  const { run, rec } = loop([good, new Error('ENOENT: no such file'), broken, good]);
  await run.start();
  await run.reconcile();
  await run.reconcile();
  assert.equal(rec.applied.length, 1);
  assert.equal(rec.kept.length, 2);
  assert.match(rec.kept[0] ?? '', /cannot read \/nowhere: ENOENT/);
  assert.match(rec.kept[1] ?? '', /cannot parse m\.yaml/);
  await run.reconcile();
  assert.equal(rec.applied.length, 2);
});

test('changes during a reconcile are coalesced into one more run, never run concurrently', async () => {
  const snap = parse([...base, bgpAdv('adv'), service('web', { ip: '198.51.100.10' })]);
  const { run, rec } = loop([snap]);
  const a = run.reconcile();
  const b = run.reconcile();
  const c = run.reconcile();
  await Promise.all([a, b, c]);
  assert.equal(rec.applied.length, 2);
  run.stop();
  await run.reconcile();
  assert.equal(rec.applied.length, 2);
});

test('berth speaker arguments', () => {
  assert.deepEqual(parseSpeakerArgs(['--node', 'n1', '--manifests', '/m', '--log-level=debug', '--listen-port', '1790']), {
    node: 'n1',
    manifests: '/m',
    logLevel: 'debug',
    listenPort: 1790,
    lbClass: undefined,
    restartStatePath: undefined,
    l2Threads: 8,
    healthPort: 0,
    livenessSecretFile: undefined,
    livenessPort: 7947,
    livenessIntervalMs: 100,
  });
  const lv = parseSpeakerArgs(['--node', 'n1', '--manifests', '/m', '--liveness-secret-file', '/k', '--liveness-port=17947', '--liveness-interval-ms', '50']);
  assert.deepEqual(typeof lv === 'string' ? lv : [lv.livenessSecretFile, lv.livenessPort, lv.livenessIntervalMs], ['/k', 17947, 50]);
  const hp = parseSpeakerArgs(['--node', 'n1', '--manifests', '/m', '--health-port', '17480']);
  assert.equal(typeof hp === 'string' ? hp : hp.healthPort, 17480);
  const t0 = parseSpeakerArgs(['--node', 'n1', '--manifests', '/m', '--l2-threads', '0']);
  assert.equal(typeof t0 === 'string' ? t0 : t0.l2Threads, 0);
  const gr = parseSpeakerArgs(['--node', 'n1', '--manifests', '/m', '--graceful-restart-state', '/tmp/gr.json']);
  assert.equal(typeof gr === 'string' ? gr : gr.restartStatePath, '/tmp/gr.json');
  for (const [argv, msg] of [
    [['--node', 'n1', '--manifests', '/m', '--graceful-restart-state'], /--graceful-restart-state needs a file path/],
    [['--manifests', '/m'], /--node NAME is required/],
    [['--node', 'n1'], /--manifests PATH is required/],
    [['--node', 'n1', '--manifests', '/m', '--listen-port', '0'], /--listen-port/],
    [['--node', 'n1', '--manifests', '/m', '--log-level', 'loud'], /--log-level/],
    [['--node', 'n1', '--manifests', '/m', '--l2-threads', 'many'], /--l2-threads must be a number 0\.\.1024/],
    [['--node', 'n1', '--manifests', '/m', '--l2-threads', '2000'], /--l2-threads/],
    [['--node', 'n1', '--manifests', '/m', '--health-port', '70000'], /--health-port must be a TCP port 0\.\.65535/],
    [['--node', 'n1', '--manifests', '/m', '--liveness-secret-file'], /--liveness-secret-file needs a file path/],
    [['--node', 'n1', '--manifests', '/m', '--liveness-port', '0'], /--liveness-port must be a UDP port 1\.\.65535/],
    [['--node', 'n1', '--manifests', '/m', '--liveness-interval-ms', '5'], /--liveness-interval-ms must be 10\.\.10000 ms/],
    [['--node', 'n1', '--manifests', '/m', '--bogus'], /unknown argument/],
  ] as const) {
    const r = parseSpeakerArgs(argv);
    assert.equal(typeof r, 'string', argv.join(' '));
    assert.match(r as string, msg);
  }
});

// Without --manifests, `berth speaker` is the Kubernetes mode (src/cli/speaker-k8s.ts); these are manifest-mode usage errors.
test('berth speaker exits 2 on bad usage and on an unreadable path, before touching the network', async () => {
  const { runSpeaker } = await import('../../../src/cli/speaker.ts');
  const write = process.stderr.write.bind(process.stderr);
  const err: string[] = [];
  process.stderr.write = ((chunk: string | Uint8Array) => {
    err.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    assert.equal(await runSpeaker(['--manifests', '/definitely/not/here']), 2);
    assert.equal(await runSpeaker(['--node', 'n1', '--manifests', '/definitely/not/here', '--bogus']), 2);
    assert.equal(await runSpeaker(['--node', 'n1', '--manifests', '/definitely/not/here']), 2);
  } finally {
    process.stderr.write = write;
  }
  assert.match(err.join(''), /--node NAME is required/);
  assert.match(err.join(''), /unknown argument "--bogus"/);
  assert.match(err.join(''), /cannot read \/definitely\/not\/here/);
});
