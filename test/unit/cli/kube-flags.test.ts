// The Kubernetes-mode flags (src/cli/controller.ts parseKubeFlags), as `berth speaker` and `berth
// controller` use them: environment defaults, per-command flags, refusals that name the flag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseKubeFlags } from '../../../src/cli/controller.ts';

const speaker = (argv: readonly string[], env: NodeJS.ProcessEnv = {}) =>
  parseKubeFlags(argv, { env, defaultHealthPort: 17473, allow: new Set(['--node-name', '--node', '--listen-port', '--l2-threads']) });
const controller = (argv: readonly string[]) =>
  parseKubeFlags(argv, { env: {}, defaultHealthPort: 17472, allow: new Set(['--identity', '--workers']) });

test('speaker flags: node from the environment, --l2-threads default 8, 0 allowed, bounds named', () => {
  const d = speaker([], { BERTH_NODE_NAME: 'n1', BERTH_NAMESPACE: 'lb' });
  assert.ok(typeof d !== 'string');
  assert.deepEqual([d.nodeName, d.namespace, d.l2Threads, d.healthPort], ['n1', 'lb', 8, 17473]);
  const z = speaker(['--l2-threads', '0', '--listen-port=1790']);
  assert.ok(typeof z !== 'string');
  assert.deepEqual([z.l2Threads, z.listenPort], [0, 1790]);
  assert.match(speaker(['--l2-threads', '-1']) as string, /--l2-threads must be a number 0\.\.1024/);
  assert.match(speaker(['--l2-threads', '4096']) as string, /--l2-threads must be a number 0\.\.1024, got "4096"/);
  assert.match(speaker(['--l2-threads']) as string, /--l2-threads needs a value/);
});

test('controller flags: speaker-only flags are unknown there', () => {
  assert.match(controller(['--l2-threads', '2']) as string, /unknown argument "--l2-threads"/);
  const c = controller(['--workers', '4']);
  assert.ok(typeof c !== 'string');
  assert.equal(c.workers, 4);
});

test('dialect flags, both processes: --metallb-namespace, --openelb on|off (default: both dialects, any namespace)', () => {
  for (const parse of [speaker, controller]) {
    const d = parse([]);
    assert.ok(typeof d !== 'string');
    assert.deepEqual(d.dialects, {});
    const f = parse(['--metallb-namespace', 'metallb-system', '--openelb=off']);
    assert.ok(typeof f !== 'string');
    assert.deepEqual(f.dialects, { metallbNamespace: 'metallb-system', openelb: false });
    const on = parse(['--openelb', 'on']);
    assert.ok(typeof on !== 'string');
    assert.deepEqual(on.dialects, { openelb: true });
    assert.match(parse(['--openelb', 'false']) as string, /--openelb must be on or off, got "false"/);
    assert.match(parse(['--metallb-namespace']) as string, /--metallb-namespace needs a value/);
  }
});
