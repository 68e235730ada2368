// The lab's plan (names, addresses, MACs) and configuration files, without building anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { parse } from 'yaml';
import { fileInterface, planLab, planNamespaces } from '../../../frr-lab/plan.ts';
import { readTopology, TOPOLOGY_FILE } from '../../../frr-lab/topology.ts';
import { routerConfig } from '../../../frr-lab/router-config.ts';
import { LabError } from '../../../frr-lab/run.ts';
import { run } from '../../../frr-lab/run.ts';

const full = planLab({ prefix: 'p', nodes: 3, router: true, client: true, externalClient: true });

test('plan: names carry the prefix, addresses are documentation ranges, MACs follow the IPv4 host octet', () => {
  assert.deepEqual(planNamespaces(full), ['p-sw', 'p-rt', 'p-n1', 'p-n2', 'p-n3', 'p-cl', 'p-ext']);
  const rows = [full.router, ...full.nodes, full.client, full.externalClient].map((h) => h && [h.name, h.ipv4, h.ipv6, h.mac, h.switchPort]);
  assert.deepEqual(rows, [
    ['router', '192.0.2.1', '2001:db8:1::1', '02:b1:00:00:01:01', 'rt'],
    ['node1', '192.0.2.11', '2001:db8:1::11', '02:b1:00:00:01:0b', 'n1'],
    ['node2', '192.0.2.12', '2001:db8:1::12', '02:b1:00:00:01:0c', 'n2'],
    ['node3', '192.0.2.13', '2001:db8:1::13', '02:b1:00:00:01:0d', 'n3'],
    ['client', '192.0.2.100', '2001:db8:1::100', '02:b1:00:00:01:64', 'cl'],
    ['externalClient', '198.51.100.100', '2001:db8:2::100', '02:b1:00:00:02:64', ''],
  ]);
  assert.equal(full.frrName, 'p-rt');
  assert.deepEqual(full.upstream, { routerIface: 'eth2', routerIpv4: '198.51.100.1', routerIpv6: '2001:db8:2::1' });
});

test('plan: invalid options are refused', () => {
  const base = { prefix: 'ok', nodes: 1, router: false, client: false, externalClient: false };
  for (const prefix of ['', '1abc', 'UPPER', 'has-dash', 'elevenchars']) {
    assert.throws(() => planLab({ ...base, prefix }), LabError, prefix);
  }
  assert.throws(() => planLab({ ...base, nodes: 51 }), LabError);
  assert.throws(() => planLab({ ...base, nodes: 1.5 }), LabError);
  assert.throws(() => planLab({ ...base, externalClient: true }), /router/);
  assert.equal(planLab({ ...base, prefix: 'abcdefghij' }).switchNs, 'abcdefghij-sw');
});

test('the containerlab router config is the lab default, and FRR accepts it (vtysh -C)', async () => {
  const file = await readFile(new URL('../../../frr-lab/router/frr.conf', import.meta.url), 'utf8');
  const expected = routerConfig({ asn: 64512, routerId: '192.0.2.1', nodes: full.nodes, nodeAsn: 64513, bfd: false });
  assert.equal(file.split('\n').filter((l) => !l.startsWith('! Generated')).join('\n'), expected);
  for (const bfd of [false, true]) {
    const path = `${tmpdir()}/berth-router-${bfd ? 'bfd' : 'plain'}.conf`;
    await writeFile(path, routerConfig({ asn: 64512, routerId: '192.0.2.1', nodes: full.nodes, nodeAsn: 'external', bfd }));
    try {
      const r = await run(['vtysh', '-C', '-f', path], { check: false });
      assert.equal(r.code, 0, r.stdout + r.stderr);
    } finally {
      await rm(path, { force: true });
    }
  }
});

test('the containerlab topology has the same hosts, addresses and links as the namespace plan', async () => {
  const clab = parse(await readFile(new URL('../../../frr-lab/topology.clab.yml', import.meta.url), 'utf8')) as {
    topology: { nodes: Record<string, { exec?: string[] }>; links: { endpoints: string[] }[] };
  };
  const names: Record<string, string> = { router: 'router', node1: 'node1', node2: 'node2', node3: 'node3', client: 'client', ext: 'externalClient' };
  for (const [clabName, planName] of Object.entries(names)) {
    const h = [full.router, ...full.nodes, full.client, full.externalClient].find((x) => x?.name === planName);
    assert.ok(h !== undefined);
    const exec = (clab.topology.nodes[clabName]?.exec ?? []).join('\n');
    assert.ok(exec.includes(`ip addr add ${h.ipv4}/24 dev ${h.iface}`), `${clabName} ${h.ipv4}`);
    assert.ok(exec.includes(`ip addr add ${h.ipv6}/64 dev ${h.iface} nodad`), `${clabName} ${h.ipv6}`);
    assert.ok(exec.includes(`address ${h.mac}`), `${clabName} ${h.mac}`);
    if (h.switchPort !== '') {
      assert.ok(clab.topology.links.some((l) => l.endpoints.includes(`${clabName}:${h.iface}`) && l.endpoints.includes(`lan:${h.switchPort}`)));
    }
  }
});

test('the plan reads its addresses from topology.clab.yml: an edited file gives other addresses, a node without them is refused', async () => {
  const text = await readFile(TOPOLOGY_FILE, 'utf8');
  const path = `${tmpdir()}/berth-plan-topology-${String(process.pid)}.clab.yml`;
  try {
    await writeFile(path, text.replace('ip addr add 192.0.2.1/24 dev eth1', 'ip addr add 192.0.2.254/24 dev eth1').replace('ip addr add 198.51.100.100/24 dev eth1', 'ip link set eth1 up'));
    const t = readTopology(path, {});
    const r = fileInterface(t, 'router', 'eth1');
    assert.deepEqual([r.ipv4, r.v4Len, r.ipv6, r.mac, r.switchPort], ['192.0.2.254', 24, '2001:db8:1::1', '02:b1:00:00:01:01', 'rt']);
    assert.equal(fileInterface(t, 'router', 'eth2').mac, '', 'the file leaves eth2 random');
    assert.throws(() => fileInterface(t, 'ext', 'eth1'), /ext does not give eth1 an IPv4 and an IPv6 address/);
    // A broken file is refused with the node named, not a TypeError.
    await writeFile(path, text.replace('ip addr add 198.51.100.100/24 dev eth1', ''));
    assert.throws(() => readTopology(path, {}), /node ext: an exec line is null, not a command/);
  } finally {
    await rm(path, { force: true });
  }
});
