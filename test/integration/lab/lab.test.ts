// The lab itself: builds the full topology, checks it works end to end, and that destroy (explicit,
// after a throwing body, or by sweepLabs after a crash) leaves nothing behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createLab, withLab, sweepLabs, frrVersion, LabError, type Lab } from '../../../frr-lab/lab.ts';
import { run, alive } from '../../../frr-lab/run.ts';
import { waitFor } from '../common.ts';

async function namespacesWith(prefix: string): Promise<string[]> {
  const out = (await run(['ip', 'netns', 'list'])).stdout;
  return out
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

async function ping(lab: Lab, from: string, to: string): Promise<void> {
  const argv = ['ping', ...(to.includes(':') ? ['-6'] : []), '-c', '1', '-W', '2', to];
  const r = await lab.exec(from, argv, { check: false });
  assert.equal(r.code, 0, `${from} -> ${to}: ${r.stdout}${r.stderr}`);
}

test('a lab with 2 nodes, router, client and external client: pings, FRR, routes; destroy leaves nothing', async () => {
  const lab = await createLab({ prefix: 'blab', nodes: 2, router: { asn: 64512 }, client: true, externalClient: true });
  const started: number[] = []; // FRR daemons and a spawned process: all must be gone after destroy
  try {
    assert.deepEqual([...lab.namespaces].sort(), ['blab-cl', 'blab-ext', 'blab-n1', 'blab-n2', 'blab-rt', 'blab-sw']);
    assert.deepEqual(
      lab.nodes.map((n) => [n.name, n.ipv4, n.ipv6, n.mac]),
      [
        ['node1', '192.0.2.11', '2001:db8:1::11', '02:b1:00:00:01:0b'],
        ['node2', '192.0.2.12', '2001:db8:1::12', '02:b1:00:00:01:0c'],
      ],
    );
    // The LAN, both families, no DAD wait.
    await ping(lab, 'client', '192.0.2.11');
    await ping(lab, 'client', '192.0.2.12');
    await ping(lab, 'node1', '192.0.2.1');
    await ping(lab, 'client', '2001:db8:1::11');
    await ping(lab, 'node2', '2001:db8:1::1');
    // Through the router.
    await ping(lab, 'externalClient', '192.0.2.12');
    await ping(lab, 'externalClient', '2001:db8:1::11');
    // The MAC we planned is the MAC the client learned.
    const neigh = await lab.neigh('client', { family: 4 });
    assert.equal(neigh.find((n) => n.dst === '192.0.2.11')?.lladdr, '02:b1:00:00:01:0b');
    // Router: forwarding + ECMP hashing on, FRR instance answering.
    assert.equal((await lab.exec('router', ['sysctl', '-n', 'net.ipv4.fib_multipath_hash_policy'])).stdout.trim(), '1');
    assert.equal((await lab.exec('router', ['sysctl', '-n', 'net.ipv6.conf.all.forwarding'])).stdout.trim(), '1');
    const version = await frrVersion();
    assert.match(version, /^\d+\.\d+/);
    assert.match(await lab.vtysh('show version'), new RegExp(`FRRouting ${version.replaceAll('.', '\\.')}`));
    const bgp = await lab.vtyshJson<{ ipv4Unicast?: { as?: number } }>('show bgp summary json');
    assert.ok(typeof bgp === 'object' && bgp !== null);
    assert.match(await lab.vtysh('show running-config'), /router bgp 64512/);
    const routes = await lab.routes('router');
    assert.ok(routes.some((r) => r.dst === '198.51.100.0/24' && r.dev === 'eth2'));
    assert.ok((await lab.routes('node1', { family: 6 })).some((r) => r.dst === 'default' && r.gateway === '2001:db8:1::1'));
    // Reload applies a change to the running config.
    const router = lab.router;
    assert.ok(router !== undefined);
    await router.reload(router.frr.config.replace(' bgp router-id 192.0.2.1', ' bgp router-id 192.0.2.254'));
    assert.match(await lab.vtysh('show running-config'), /bgp router-id 192\.0\.2\.254/);
    assert.ok(existsSync(router.logFile));
    // A tracked process and a capture.
    const sleeper = lab.spawn('node1', ['sleep', '300']);
    started.push(sleeper.pid);
    // A chatty process whose output nobody reads must not block on a full pipe (~64 KiB).
    const chatty = lab.spawn('node2', ['sh', '-c', 'head -c 1000000 /dev/zero | tr "\\0" x; echo; echo done >&2']);
    const code = await new Promise((res) => chatty.child.once('exit', res));
    assert.equal(code, 0);
    assert.equal(chatty.output().stderr, 'done\n');
    assert.equal(chatty.output().stdout.length, 256 * 1024);
    const cap = await lab.tcpdump('client', 'eth1', 'icmp.pcap', ['icmp']);
    await ping(lab, 'client', '192.0.2.12');
    await cap.stop();
    const read = await run(['tcpdump', '-n', '-r', cap.file]);
    assert.match(read.stdout, /192\.0\.2\.100 > 192\.0\.2\.12: ICMP echo request/);
    const frrPids = [...(await router.frr.pids()).values()];
    assert.equal(frrPids.length, 2);
    started.push(...frrPids);
  } finally {
    await lab.destroy();
  }
  assert.deepEqual(await namespacesWith('blab'), []);
  assert.equal(started.length, 3);
  for (const pid of started) assert.equal(alive(pid), false, `pid ${pid} still alive`);
  assert.equal(existsSync('/etc/frr/blab-rt'), false);
  assert.equal(existsSync('/var/run/frr/blab-rt'), false);
  assert.equal(existsSync(lab.workDir), false);
  await lab.destroy(); // idempotent
});

test('withLab destroys the lab when the body throws, and rethrows the error', async () => {
  let pid = 0;
  let orphan = 0;
  let seen: Lab | undefined;
  const boom = new Error('test body failed');
  await assert.rejects(
    withLab({ prefix: 'blabw', nodes: 1, client: true }, async (lab) => {
      seen = lab;
      pid = lab.spawn('client', ['sleep', '300']).pid;
      // Not even tracked by the lab: started by exec, survives it. destroy() still finds it by namespace.
      orphan = Number((await lab.exec('node1', ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!'])).stdout.trim());
      assert.equal(alive(pid), true);
      assert.equal(alive(orphan), true);
      throw boom;
    }),
    (err) => err === boom,
  );
  assert.ok(seen !== undefined);
  assert.deepEqual(await namespacesWith('blabw'), []);
  assert.equal(alive(pid), false);
  assert.equal(alive(orphan), false, 'a process left in a lab namespace survived destroy');
});

test('a Layer 2 lab without router: client reaches VIP ranges on-link', async () => {
  await withLab({ prefix: 'blabl', nodes: 1, client: true }, async (lab) => {
    const v4 = await lab.routes('client');
    assert.ok(v4.some((r) => r.dst === '203.0.113.0/24' && r.dev === 'eth1' && r.gateway === undefined));
    const v6 = await lab.routes('client', { family: 6 });
    assert.ok(v6.some((r) => r.dst === '2001:db8:f00::/64' && r.dev === 'eth1'));
    await assert.rejects(lab.vtysh('show version'), LabError);
  });
});

test('sweepLabs removes leftovers of its own prefix only', async () => {
  await run(['ip', 'netns', 'add', 'blabs-n1']);
  await run(['ip', 'netns', 'add', 'blabsx-n1']);
  for (const d of ['/etc/frr/blabs-rt', '/var/run/frr/blabs-node1', '/etc/frr/blabsx-rt']) await mkdir(d, { recursive: true });
  try {
    const p = (await run(['sh', '-c', 'ip netns exec blabs-n1 sleep 300 >/dev/null 2>&1 & echo $!'])).stdout.trim();
    const pid = Number(p);
    assert.ok(pid > 0 && alive(pid));
    const removed = await sweepLabs('blabs');
    assert.deepEqual(removed, ['blabs-n1']);
    assert.deepEqual(await namespacesWith('blabs'), []);
    assert.deepEqual(await namespacesWith('blabsx'), ['blabsx-n1']);
    assert.equal(existsSync('/etc/frr/blabs-rt'), false);
    assert.equal(existsSync('/var/run/frr/blabs-node1'), false);
    assert.equal(existsSync('/etc/frr/blabsx-rt'), true);
    // Killed by the sweep; gone once its parent (init) has reaped it.
    await waitFor('the process in the swept namespace gone', 10_000, async () => (alive(pid) ? undefined : true));
  } finally {
    await run(['ip', 'netns', 'del', 'blabs-n1'], { check: false });
    await run(['ip', 'netns', 'del', 'blabsx-n1'], { check: false });
    await rm('/etc/frr/blabsx-rt', { recursive: true, force: true });
  }
});

test('bad options fail with a clear LabError before anything is built', async () => {
  await assert.rejects(createLab({ prefix: 'Bad-Prefix', nodes: 1 }), (e: Error) => e instanceof LabError && /prefix/.test(e.message));
  await assert.rejects(createLab({ prefix: 'blabe', nodes: 1, externalClient: true }), (e: Error) => e instanceof LabError && /router/.test(e.message));
  assert.deepEqual(await namespacesWith('blabe'), []);
});

test('without root the lab refuses with a clear message', async () => {
  // The lab module is found from this file, wherever the clone is.
  const labUrl = new URL('../../../frr-lab/lab.ts', import.meta.url).href;
  const script = `import(${JSON.stringify(labUrl)}).then(m => m.createLab({ prefix: 'blabr', nodes: 1 })).then(() => process.exit(0), (e) => { process.stdout.write(e.message); process.exit(3); })`;
  const r = await run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', 'tsx', '-e', script], { check: false });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stdout, /needs root/);
});

test('router with bfd: bfdd runs as part of the instance and answers', async () => {
  await withLab({ prefix: 'blabf', nodes: 1, router: { bfd: true } }, async (lab) => {
    const pids = await lab.router?.frr.pids();
    assert.deepEqual([...(pids?.keys() ?? [])], ['zebra', 'bgpd', 'bfdd']);
    assert.deepEqual(await lab.vtyshJson('show bfd peers json'), []);
    assert.match(await lab.vtysh('show running-config'), /neighbor NODES bfd/);
  });
});
