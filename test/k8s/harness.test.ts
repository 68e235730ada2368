// The harness itself: a real API server the code under test can reach through the kubeconfig (with
// @kubernetes/client-node, as src/k8s will), two identities for RBAC tests, restart() on the same etcd
// and port, stop() leaving nothing behind, and a failed start cleaning up after itself.
import { apiServerForFile } from './helpers.ts';
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { ApiServerStartError, serviceClusterIpRange, startApiServer, users } from './harness/index.ts';
import { AssetsError, resolveAssets } from './harness/assets.ts';
import { sweepStale } from './harness/process.ts';

const api = apiServerForFile();

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** PIDs of every etcd started by this harness (whatever test started it), from /proc. */
function harnessEtcds(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmd.includes('--name=berth-test') && cmd.includes('--initial-cluster=berth-test=')) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

const tempDirs = (): string[] => readdirSync(tmpdir()).filter((d) => d.startsWith('berth-k8s-run-'));

describe('a running API server', () => {
  test('serves a Kubernetes version whose CEL has the IP and CIDR libraries (>= 1.31)', async () => {
    const v = JSON.parse(await api().kubectlOk(['version', '-o', 'json'])) as { serverVersion?: { major?: string; minor?: string } };
    const minor = Number.parseInt(v.serverVersion?.minor ?? '', 10);
    assert.equal(v.serverVersion?.major, '1');
    assert.ok(minor >= 31, `server minor version ${String(minor)}`);
  });

  test('listens on 127.0.0.1 over TLS signed by the harness CA', () => {
    assert.match(api().url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(readFileSync(api().caFile, 'utf8'), /BEGIN CERTIFICATE/);
  });

  test('the admin kubeconfig works with @kubernetes/client-node', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(api().kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const list = await core.listNamespace();
    const names = list.items.map((n) => n.metadata?.name);
    assert.ok(names.includes('default') && names.includes('kube-system'), names.join(','));
  });

  test('the admin token is system:masters', async () => {
    const who = JSON.parse(await api().kubectlOk(['auth', 'whoami', '-o', 'json'])) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(who.status.userInfo.username, users.admin.name);
    assert.ok(who.status.userInfo.groups.includes('system:masters'));
  });

  test('the limited user is refused until RBAC grants it something', async () => {
    const before = await api().kubectl(['get', 'namespaces'], { user: 'limited' });
    assert.notEqual(before.code, 0);
    assert.match(before.stderr, /User "berth-limited" cannot list resource "namespaces"/);
    await api().kubectlOk(['create', 'clusterrole', 'ns-reader', '--verb=list', '--resource=namespaces']);
    await api().kubectlOk(['create', 'clusterrolebinding', 'ns-reader', '--clusterrole=ns-reader', `--user=${users.limited.name}`]);
    const after = await api().kubectl(['get', 'namespaces'], { user: 'limited' });
    assert.equal(after.code, 0, after.stderr);
    const secrets = await api().kubectl(['get', 'secrets', '-A'], { user: 'limited' });
    assert.notEqual(secrets.code, 0, 'the binding must grant namespaces only');
  });

  test('serviceAccountKubeconfig() authenticates as the ServiceAccount with a real token', async () => {
    await api().kubectlOk(['create', 'serviceaccount', 'probe', '-n', 'default']);
    const path = await api().serviceAccountKubeconfig('default', 'probe');
    const who = JSON.parse(await api().kubectlOk(['auth', 'whoami', '-o', 'json'], { kubeconfig: path })) as {
      status: { userInfo: { username: string; groups: string[] } };
    };
    assert.equal(who.status.userInfo.username, 'system:serviceaccount:default:probe');
    assert.ok(who.status.userInfo.groups.includes('system:serviceaccounts:default'));
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    await assert.rejects(kc.makeApiClient(CoreV1Api).listNamespace(), /403|forbidden/i, 'a bare ServiceAccount may not list namespaces');
  });

  test('Services get cluster IPs from the documentation range', async () => {
    const ip = await api().kubectlOk(['get', 'service', 'kubernetes', '-n', 'default', '-o', 'jsonpath={.spec.clusterIP}']);
    assert.equal(serviceClusterIpRange, '198.51.100.0/24');
    assert.match(ip, /^198\.51\.100\.\d+$/);
  });
});

describe('restart() and stop()', () => {
  test('restart() brings kube-apiserver back on the same port and etcd, with a new process', async () => {
    await api().kubectlOk(['create', 'configmap', 'survives', '--from-literal=k=v']);
    const pidBefore = api().apiserverPid();
    assert.ok(pidBefore !== undefined);
    await api().restart();
    const pidAfter = api().apiserverPid();
    assert.ok(pidAfter !== undefined && pidAfter !== pidBefore, 'a new kube-apiserver process');
    assert.ok(!alive(pidBefore), 'the old kube-apiserver is gone');
    const v = await api().kubectlOk(['get', 'configmap', 'survives', '-o', 'jsonpath={.data.k}']);
    assert.equal(v, 'v');
  });

  test('stop() kills both processes, removes the temp dir, and is idempotent', async () => {
    const other = await startApiServer();
    const pid = other.apiserverPid();
    assert.ok(pid !== undefined);
    const etcdPid = Number(readFileSync(`${other.dir}/etcd.pid`, 'utf8'));
    assert.ok(alive(etcdPid));
    await other.stop();
    assert.ok(!alive(pid), 'kube-apiserver still running');
    assert.ok(!alive(etcdPid), 'etcd still running');
    assert.ok(!existsSync(other.dir), 'temp dir left behind');
    await other.stop();
    await assert.rejects(other.restart(), /restart\(\) after stop\(\)/);
  });

  test('a kube-apiserver that fails to start is reported with its log, and nothing is left running', async () => {
    const etcdsBefore = harnessEtcds().length;
    const dirsBefore = tempDirs().length;
    await assert.rejects(
      startApiServer({ extraApiserverArgs: ['--no-such-flag=1'] }),
      (err: unknown) => err instanceof ApiServerStartError && /kube-apiserver exited/.test(err.message) && /unknown flag/.test(err.message),
    );
    assert.equal(harnessEtcds().length, etcdsBefore, 'an etcd was left running');
    assert.equal(tempDirs().length, dirsBefore, 'a temp dir was left behind');
  });
});

/** Polls `cond` every 20 ms; fails after 10 s (a bound for a hung test, not a measurement). */
async function until(what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!cond()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('sweepStale()', () => {
  test('kills what a dead test run left (only PIDs whose command line names the dir) and removes the dir', async () => {
    const root = mkdtempSync(join(tmpdir(), 'berth-sweep-test-'));
    const stale = mkdtempSync(join(root, 'berth-k8s-run-'));
    const owned = mkdtempSync(join(root, 'berth-k8s-run-'));
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const leftover = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)', stale], { stdio: 'ignore' });
    const bystander = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600000)'], { stdio: 'ignore' });
    try {
      assert.ok(leftover.pid !== undefined && bystander.pid !== undefined && dead !== undefined);
      writeFileSync(join(stale, 'owner.pid'), `${String(dead)}\n`);
      writeFileSync(join(stale, 'etcd.pid'), `${String(leftover.pid)}\n`);
      writeFileSync(join(stale, 'kube-apiserver.pid'), `${String(bystander.pid)}\n`);
      writeFileSync(join(owned, 'owner.pid'), `${String(process.pid)}\n`);
      writeFileSync(join(owned, 'etcd.pid'), `${String(leftover.pid)}\n`);
      // Positive signals, no pauses: the leftover runs with the stale dir on its command line before the
      // sweep, and is gone (reaped by its 'exit') after it.
      const leftoverPid = leftover.pid;
      await until('the leftover shows the stale dir in /proc/PID/cmdline', () => {
        try {
          return readFileSync(`/proc/${String(leftoverPid)}/cmdline`, 'utf8').includes(stale);
        } catch {
          return false;
        }
      });
      const gone = new Promise((r) => leftover.once('exit', r));
      assert.deepEqual(sweepStale(root, 'berth-k8s-run-'), [stale]);
      await gone;
      assert.ok(!alive(leftoverPid), 'the leftover named by the stale dir was not killed');
      assert.ok(alive(bystander.pid), 'a PID whose command line does not name the dir was killed');
      assert.ok(!existsSync(stale) && existsSync(owned), 'only the dead owner\'s dir goes');
    } finally {
      leftover.kill('SIGKILL');
      bystander.kill('SIGKILL');
      spawnSync('rm', ['-rf', root]);
    }
  });
});

describe('KUBEBUILDER_ASSETS', () => {
  test('a folder without kube-apiserver is refused with the reason', () => {
    const empty = mkdtempSync(join(tmpdir(), 'berth-assets-test-'));
    try {
      assert.throws(() => resolveAssets({ ...process.env, KUBEBUILDER_ASSETS: empty }),
        (err: unknown) => err instanceof AssetsError && err.message.includes(`KUBEBUILDER_ASSETS=${empty} has no executable kube-apiserver`));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  test('a folder with kube-apiserver and etcd but no kubectl is used, with kubectl from elsewhere', () => {
    const own = resolveAssets();
    const folder = mkdtempSync(join(tmpdir(), 'berth-assets-test-'));
    try {
      symlinkSync(own.kubeApiserver, join(folder, 'kube-apiserver'));
      symlinkSync(own.etcd, join(folder, 'etcd'));
      const a = resolveAssets({ ...process.env, KUBEBUILDER_ASSETS: folder });
      assert.equal(a.dir, folder);
      assert.equal(a.kubeApiserver, join(folder, 'kube-apiserver'));
      assert.equal(a.etcd, join(folder, 'etcd'));
      assert.ok(!a.kubectl.startsWith(folder) && existsSync(a.kubectl), a.kubectl);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
