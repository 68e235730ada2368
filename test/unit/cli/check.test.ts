// `berth check` end to end: spawn `node bin/berth.mjs check ...` on examples/ and assert the JSON and
// the exit codes (0 valid, 1 invalid, 2 bad usage).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Every run starts in the clone's root, wherever the clone is and whatever the caller's working directory,
// so the relative example paths below (and the file names the problems print) stay the same.
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function berth(...args: string[]): Run {
  const r = spawnSync(process.execPath, ['bin/berth.mjs', 'check', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface ServiceJSON {
  readonly namespace: string;
  readonly name: string;
  readonly ips: readonly string[];
  readonly pool: string | null;
  readonly modes: readonly string[];
  readonly reason?: string;
}

interface ProblemJSON {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly field?: string;
  readonly message: string;
  readonly severity?: string;
}

function json(r: Run): { services: ServiceJSON[]; problems: ProblemJSON[] } {
  assert.equal(r.stderr, '', 'nothing on stderr');
  const parsed = JSON.parse(r.stdout) as { services: ServiceJSON[]; problems: ProblemJSON[] };
  assert.deepEqual(Object.keys(parsed).sort(), ['problems', 'services']);
  for (const s of parsed.services) {
    for (const k of Object.keys(s)) assert.ok(['namespace', 'name', 'ips', 'pool', 'modes', 'reason'].includes(k), `unexpected key ${k}`);
  }
  for (const p of parsed.problems) {
    for (const k of Object.keys(p)) assert.ok(['kind', 'namespace', 'name', 'field', 'message', 'severity'].includes(k), `unexpected key ${k}`);
  }
  return parsed;
}

/** The seed scenarios: what the seed documents show users. */
const seeds: readonly { dir: string; service: ServiceJSON }[] = [
  // "Porter layer2模式": kubectl get svc shows 172.22.0.188.
  { dir: 'examples/porter-layer2-cn', service: { namespace: 'default', name: 'mylbapp-svc-layer2', ips: ['172.22.0.188'], pool: 'eip-sample-layer2', modes: ['l2'] } },
  // "Use Porter in Layer 2 Mode": first Eip matching the protocol.
  { dir: 'examples/porter-layer2', service: { namespace: 'default', name: 'porter-layer2-svc', ips: ['192.168.0.91'], pool: 'porter-layer2-eip', modes: ['l2'] } },
  // "Use PorterLB in Layer 2 Mode": the address the document pings, 192.168.0.91.
  { dir: 'examples/porterlb-layer2', service: { namespace: 'default', name: 'porter-layer2-svc', ips: ['192.168.0.91'], pool: 'porter-layer2-eip', modes: ['l2'] } },
  // MetalLB L2 and BGP examples.
  { dir: 'examples/metallb-l2', service: { namespace: 'default', name: 'metallb1-cluster', ips: ['192.168.10.1'], pool: 'demo-pool', modes: ['l2'] } },
  { dir: 'examples/metallb-bgp', service: { namespace: 'default', name: 'metallb-demo', ips: ['192.168.10.1'], pool: 'bgp-pool', modes: ['bgp'] } },
];

for (const s of seeds) {
  test(`berth check ${s.dir}: exit 0, the seed's Service gets its IP, pool and mode`, () => {
    const r = berth('--manifests', s.dir, '--output', 'json');
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const out = json(r);
    assert.deepEqual(out.problems, []);
    assert.deepEqual(out.services, [s.service]);
  });
}

test('berth check examples/mixed-dialects: both dialects side by side', () => {
  const r = berth('--manifests', 'examples/mixed-dialects', '-o', 'json');
  assert.equal(r.status, 0, r.stdout);
  assert.deepEqual(
    json(r).services.map((s) => [s.name, s.ips, s.pool, s.modes]),
    [
      ['api', ['198.51.100.80'], 'web', ['bgp']],
      ['legacy', [], null, []],
      ['payments', ['203.0.113.1'], 'routed', ['bgp']],
      ['printer-gateway', ['192.0.2.200'], 'lan', ['l2']],
      ['storefront', ['198.51.100.1', '2001:db8:100::1'], 'web', ['bgp']],
    ],
  );
});

test('every example folder (not broken) exits 0 and every broken one exits 1 with problems', () => {
  const dirs = readdirSync(join(ROOT, 'examples'), { withFileTypes: true }).filter((d) => d.isDirectory() && d.name !== 'broken');
  assert.ok(dirs.length >= 5);
  for (const d of dirs) assert.equal(berth('--manifests', `examples/${d.name}`, '-o', 'json').status, 0, d.name);
  const broken = readdirSync(join(ROOT, 'examples/broken'), { withFileTypes: true }).filter((d) => d.isDirectory());
  assert.ok(broken.length >= 8);
  for (const d of broken) {
    const r = berth('--manifests', `examples/broken/${d.name}`, '-o', 'json');
    assert.equal(r.status, 1, d.name);
    assert.ok(json(r).problems.length > 0, d.name);
  }
});

test('berth check examples/broken/bgp-peer: problems name object, field and file', () => {
  const r = berth('--manifests', 'examples/broken/bgp-peer', '--output=json');
  assert.equal(r.status, 1);
  const hold = json(r).problems.find((p) => p.name === 'short-hold');
  assert.deepEqual(hold && { ...hold, message: hold.message.replace(/;.*/, '') }, {
    kind: 'BGPPeer',
    namespace: 'metallb-system',
    name: 'short-hold',
    field: 'spec.holdTime',
    message: 'hold time 2s is invalid: use 0 (no keepalives) or at least 3s (RFC 4271 §4.2)',
  });
  assert.match(hold?.message ?? '', /\[examples\/broken\/bgp-peer\/peers\.yaml:2\]$/);
});

test('berth check examples/broken/service: valid Services still get IPs next to invalid ones', () => {
  const out = json(berth('--manifests', 'examples/broken/service', '-o', 'json'));
  assert.deepEqual(
    out.services.map((s) => [s.name, s.ips]),
    [
      ['both-ips', []],
      ['fine', ['198.51.100.1']],
      ['two-ipv4', []],
    ],
  );
});

test('berth check table output: aligned columns with a header, problems listed', () => {
  const ok = berth('--manifests', 'examples/metallb-bgp');
  assert.equal(ok.status, 0);
  const lines = ok.stdout.split('\n');
  assert.match(lines[0] ?? '', /^SERVICE\s+IPS\s+POOL\s+MODES\s+NOTE$/);
  assert.equal(lines[0]?.indexOf('IPS'), lines[1]?.indexOf('192.168.10.1'), 'IPS column aligned');
  assert.equal(lines[0]?.indexOf('POOL'), lines[1]?.indexOf('bgp-pool'), 'POOL column aligned');
  assert.match(ok.stdout, /No problems\./);
  assert.match(ok.stdout, /Announcements:\nSERVICE\s+MODE\s+PREFIX\/ADDRESS\s+TO\/FROM\ndefault\/metallb-demo\s+bgp\s+192\.168\.10\.1\/32\s+peers test; nodes all\n/);
  const bad = berth('--manifests', 'examples/broken/openelb');
  assert.equal(bad.status, 1);
  assert.match(bad.stdout, /6 problems:\nKIND\s+OBJECT\s+FIELD\s+PROBLEM\n/);
  assert.match(bad.stdout, /BgpConf\s+main\s+metadata\.name\s+only the BgpConf named "default" is used/);
  assert.match(bad.stdout, /Eip\s+misspelt-field\s+spec\.protocl\s+unknown field "protocl" .*did you mean protocol\?/);
});

test('berth check --openelb off: the OpenELB Services are left to OpenELB, the Eips are not read', () => {
  const r = berth('--manifests', 'examples/mixed-dialects', '--openelb', 'off', '-o', 'json');
  assert.equal(r.status, 0, r.stdout);
  const services = json(r).services;
  assert.deepEqual(
    services.map((s) => [s.name, s.ips, s.pool]),
    [
      ['api', ['198.51.100.80'], 'web'],
      ['legacy', [], null],
      ['payments', [], null],
      ['printer-gateway', [], null],
      ['storefront', ['198.51.100.1', '2001:db8:100::1'], 'web'],
    ],
  );
  assert.match(services.find((s) => s.name === 'payments')?.reason ?? '', /hands it to OpenELB/);
  // The BGPAdvertisement naming the Eip "routed" now names nothing: a warning, as for any missing pool.
  assert.deepEqual(json(r).problems.map((p) => [p.kind, p.name, p.severity]), [['BGPAdvertisement', 'routed-no-export', 'warning']]);
  assert.equal(berth('--manifests', 'examples/mixed-dialects', '--openelb', 'no').status, 2);
});

test('berth check --namespace refuses metallb.io objects elsewhere', () => {
  assert.equal(berth('--manifests', 'examples/metallb-bgp', '--namespace', 'metallb-system').status, 0);
  const r = berth('--manifests', 'examples/metallb-bgp', '--namespace', 'elsewhere', '-o', 'json');
  assert.equal(r.status, 1);
  assert.deepEqual(json(r).problems.map((p) => [p.kind, p.field]), [
    ['BGPAdvertisement', 'metadata.namespace'],
    ['BGPPeer', 'metadata.namespace'],
    ['IPAddressPool', 'metadata.namespace'],
  ]);
});

test('berth check: bad usage exits 2', () => {
  assert.equal(berth().status, 2, 'no --manifests');
  assert.equal(berth('--manifests').status, 2, 'no path');
  assert.equal(berth('--manifests', 'examples/metallb-bgp', '--output', 'xml').status, 2, 'bad output');
  assert.equal(berth('--manifests', 'examples/metallb-bgp', '--frobnicate').status, 2, 'unknown flag');
  assert.equal(berth('--manifests', 'examples/metallb-bgp', '--namespace').status, 2, 'no namespace');
  const missing = berth('--manifests', 'examples/no-such-folder');
  assert.equal(missing.status, 2, 'missing path');
  assert.match(missing.stderr, /cannot read examples\/no-such-folder/);
  const help = berth('--help');
  assert.equal(help.status, 0);
  assert.match(help.stdout, /usage: berth check/);
});

test('berth check: warnings alone exit 0 and are listed apart; a misspelt field exits 1 naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-check-'));
  try {
    const pool = 'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: ipv4-pool, namespace: metallb-system}\nspec: {addresses: [192.0.2.0/24]}\n---\n';
    const adv = 'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: docs, namespace: metallb-system}\nspec: {ipAddressPools: [ipv4-pool, ipv6-pool]}\n';
    writeFileSync(join(dir, 'a.yaml'), pool + adv);
    const warned = berth('--manifests', dir);
    assert.equal(warned.status, 0, warned.stdout);
    assert.match(warned.stdout, /\n1 warning \(the objects are in force\):\nKIND\s+OBJECT\s+FIELD\s+PROBLEM\nL2Advertisement\s+metallb-system\/docs\s+spec\.ipAddressPools\[1\]\s+no valid IPAddressPool or Eip named "ipv6-pool"/);
    assert.doesNotMatch(warned.stdout, /No problems|\d+ problems?:/);
    const j = json(berth('--manifests', dir, '-o', 'json'));
    assert.deepEqual(j.problems.map((p) => [p.name, (p as { severity?: string }).severity]), [['docs', 'warning']]);

    writeFileSync(join(dir, 'a.yaml'), pool.replace('spec: {', 'spec: {autoassign: false, '));
    const bad = berth('--manifests', dir, '-o', 'json');
    assert.equal(bad.status, 1);
    const p = json(bad).problems[0];
    assert.deepEqual([p?.field, p?.message.includes('did you mean autoAssign?')], ['spec.autoassign', true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('berth check examples/metallb-unnumbered: the interface peer, its families and next-hop encoding are shown', () => {
  const r = berth('--manifests', 'examples/metallb-unnumbered');
  assert.equal(r.status, 0, r.stderr + r.stdout);
  const lines = r.stdout.split('\n');
  const at = lines.indexOf('BGP peers:');
  assert.ok(at >= 0, r.stdout);
  assert.match(lines[at + 1] ?? '', /^PEER\s+AS\s+FAMILIES\s+SESSION\s+NEXT HOPS$/);
  const tor = lines[at + 2] ?? '';
  assert.match(tor, /^tor\s+64513 -> external\s+ipv4\+ipv6\s+interface eth1: IPv6 link-local/);
  assert.match(tor, /RFC 8950 extended next hop for IPv4/);
  assert.match(r.stdout, /203\.0\.113\.1\/32\s+peers tor/);
});
