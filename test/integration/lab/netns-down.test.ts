// A namespace lab left running (`npm run lab -- --runner netns --keep`) is torn down later from its names alone
// (`npm run lab:down`): processes started in it, the FRR router, the namespaces and the scratch folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { deployNetns, destroyNetnsLab } from '../../../frr-lab/netns.ts';
import { alive, run } from '../../../frr-lab/run.ts';

const PREFIX = 'blabd';

async function labNamespaces(): Promise<string[]> {
  return (await run(['ip', 'netns', 'list'])).stdout.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(`${PREFIX}-`));
}

test('destroyNetnsLab removes a lab it did not build: processes, FRR, namespaces, files', async () => {
  const lab = await deployNetns({ prefix: PREFIX });
  try {
    await lab.start('node2', 'sleeper', ['sleep', '300']);
    const work = join(tmpdir(), 'berth-lab', PREFIX);
    const sleeper = Number(readFileSync(join(work, 'node2', 'sleeper.pid'), 'utf8'));
    const frrPids = ['zebra', 'bgpd'].map((d) => Number(readFileSync(`/var/run/frr/${PREFIX}-router/${d}.pid`, 'utf8')));
    const pids = [sleeper, ...frrPids];
    for (const p of pids) assert.equal(alive(p), true, `pid ${String(p)} running`);
    assert.equal((await labNamespaces()).length, 7);
    // As `npm run lab:down` does, with nothing but the prefix.
    await destroyNetnsLab(PREFIX);
    for (const p of pids) assert.equal(alive(p), false, `pid ${String(p)} still alive`);
    assert.deepEqual(await labNamespaces(), []);
    assert.equal(existsSync(work), false);
    assert.equal(existsSync(`/etc/frr/${PREFIX}-router`), false);
    assert.equal(existsSync(`/var/run/frr/${PREFIX}-router`), false);
  } finally {
    await lab.destroy();
  }
});
