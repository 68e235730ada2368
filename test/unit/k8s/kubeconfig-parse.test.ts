// parseKubeconfig (src/k8s/kubeconfig.ts): the selection, or a KubeConfigError naming the field.
// Regressions from fuzzing (test/fuzz, target "kubeconfig"): before, these inputs threw TypeError
// (reading fields of null, calling .find on a non-list) or printed a YAML warning to stderr and went on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as tick } from 'node:timers/promises';
import { KubeConfigError, parseKubeconfig } from '../../../src/k8s/kubeconfig.ts';

const GOOD = [
  'clusters:',
  '- name: a',
  '  cluster: {server: "https://192.0.2.1:6443", certificate-authority-data: AAAA}',
  'users:',
  '- name: u',
  '  user: {token: abc}',
  'contexts:',
  '- name: c',
  '  context: {cluster: a, user: u}',
  'current-context: c',
].join('\n');

test('a kubeconfig selects the current context cluster and user', () => {
  const sel = parseKubeconfig(GOOD, 'k');
  assert.equal(sel.cluster.server, 'https://192.0.2.1:6443');
  assert.equal(sel.user.token, 'abc');
});

const BAD: readonly { readonly name: string; readonly text: string; readonly error: RegExp }[] = [
  { name: 'empty file (null document)', text: '', error: /kubeconfig k: not a mapping/ },
  { name: 'a list at the top', text: '- a\n- b\n', error: /not a mapping/ },
  { name: 'a scalar at the top', text: '5', error: /not a mapping/ },
  { name: 'clusters not a list', text: 'clusters: 5\n', error: /clusters must be a list/ },
  { name: 'a cluster entry not a mapping', text: 'clusters: [5]\n', error: /clusters\[0\] must be a mapping/ },
  { name: 'cluster body a list', text: 'clusters:\n- name: a\n  cluster: [1]\n', error: /clusters\[0\]\.cluster must be a mapping/ },
  { name: 'server not a string', text: 'clusters:\n- cluster: {server: 5}\n', error: /clusters\[0\]\.cluster\.server must be a string/ },
  { name: 'token not a string', text: `${GOOD}\n`.replace('token: abc', 'token: [1]'), error: /users\[0\]\.user\.token must be a string/ },
  { name: 'insecure-skip-tls-verify not a boolean', text: 'clusters:\n- cluster: {server: "https://192.0.2.1", insecure-skip-tls-verify: "yes"}\n', error: /insecure-skip-tls-verify must be true or false/ },
  { name: 'current-context a list', text: `${GOOD.replace('current-context: c', 'current-context: [c]')}\n`, error: /current-context must be a string/ },
  { name: 'an unresolved tag (a YAML warning, was printed to stderr)', text: 'clusters:\n- cluster:\n    !server: https://192.0.2.1\n', error: /cannot read kubeconfig k: .*Unresolved tag/ },
  { name: 'no server', text: 'clusters:\n- name: a\n', error: /no cluster server/ },
];

for (const c of BAD) {
  test(`kubeconfig: ${c.name} -> KubeConfigError`, async () => {
    const warnings: unknown[] = [];
    const onWarning = (w: unknown): number => warnings.push(w);
    process.on('warning', onWarning);
    try {
      assert.throws(() => parseKubeconfig(c.text, 'k'), (e: unknown) => e instanceof KubeConfigError && c.error.test(e.message));
      await tick(); // process warnings are emitted on the next tick
      assert.deepEqual(warnings, []);
    } finally {
      process.off('warning', onWarning);
    }
  });
}
