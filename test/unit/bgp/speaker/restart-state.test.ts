// RFC 4724 §4.1 R bit: only a start that follows a run of this speaker in the same boot is a restart.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { beginRun, defaultRestartStatePath, isRestart, type RestartStateIo } from '../../../../src/bgp/restart-state.ts';

function memIo(bootId: string | undefined): RestartStateIo & { files: Map<string, string>; boot: string | undefined } {
  const files = new Map<string, string>();
  const io = {
    files,
    boot: bootId,
    read: (p: string) => files.get(p),
    write: (p: string, t: string) => void files.set(p, t),
    remove: (p: string) => void files.delete(p),
    bootId: () => io.boot,
  };
  return io;
}

const PATH = '/run/berth/speaker-restart.json';

describe('restart state', () => {
  it('a first start is fresh and records the boot', () => {
    const io = memIo('boot-a');
    const r = beginRun(PATH, io, new Date(0), 42);
    assert.equal(r.restarting, false);
    assert.deepEqual(JSON.parse(io.files.get(PATH) ?? '{}'), { bootId: 'boot-a', pid: 42, startedAt: '1970-01-01T00:00:00.000Z' });
  });

  it('a start after a planned restart or a crash (file kept) in the same boot is a restart', () => {
    const io = memIo('boot-a');
    beginRun(PATH, io);
    assert.equal(beginRun(PATH, io).restarting, true);
  });

  it('a start after a drain (file removed) is fresh', () => {
    const io = memIo('boot-a');
    beginRun(PATH, io).drained();
    assert.equal(io.files.has(PATH), false);
    assert.equal(beginRun(PATH, io).restarting, false);
  });

  it('a start after a reboot (other boot id) is fresh', () => {
    const io = memIo('boot-a');
    beginRun(PATH, io);
    io.boot = 'boot-b';
    assert.equal(beginRun(PATH, io).restarting, false);
  });

  it('unknown boot id, garbage or an unwritable file: fresh, never a throw', () => {
    assert.equal(isRestart('{"bootId":""}', ''), false);
    assert.equal(isRestart('not json', 'boot-a'), false);
    assert.equal(isRestart(undefined, 'boot-a'), false);
    const io = memIo(undefined);
    beginRun(PATH, io);
    assert.equal(beginRun(PATH, io).restarting, false);
    const broken = { ...memIo('boot-a'), write: () => { throw new Error('EROFS'); } };
    const r = beginRun(PATH, broken);
    assert.equal(r.restarting, false);
    assert.equal(r.problem, 'EROFS');
  });

  it('default path: /run/berth for root, else the runtime dir', () => {
    assert.equal(defaultRestartStatePath({}, 0), '/run/berth/speaker-restart.json');
    assert.equal(defaultRestartStatePath({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/berth/speaker-restart.json');
  });
});
