// Compact forms of kept values (src/config/compact.ts): the same content as the original, in the
// smaller form, and nothing that a reader of the value could tell apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { load, CORE_SCHEMA } from 'js-yaml';
import { detachedCopy, fitted, flat, hash53 } from '../../../src/config/compact.ts';

test('fitted: an equal array that is not the original; one shared frozen array for empty', () => {
  const items: number[] = [];
  for (let i = 0; i < 3; i++) items.push(i);
  const f = fitted(items);
  assert.deepStrictEqual(f, [0, 1, 2]);
  assert.notEqual(f, items);
  assert.equal(fitted([]), fitted([]));
  assert.ok(Object.isFrozen(fitted([])));
});

test('flat: the same text, short or long, concatenated or sliced', () => {
  const long = `${'a'.repeat(20)}/${String(12345)}\u0000${'é'.repeat(5)}\ud800`;
  assert.equal(flat(long), long);
  assert.equal(flat('short'), 'short');
  const sliced = 'x'.repeat(100).slice(10, 40);
  assert.equal(flat(sliced), sliced);
});

test('detachedCopy: deep-equal to a parsed document, not sharing its objects; __proto__ stays a data key', () => {
  const doc = load('apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-with-a-long-name\n  annotations:\n    metallb.io/loadBalancerIPs: 198.51.100.17\nspec:\n  ports:\n  - port: 80\n    protocol: TCP\n  x: null\n  y: .inf\n  z: true\n', { schema: CORE_SCHEMA }) as Record<string, unknown>;
  const copy = detachedCopy(doc) as Record<string, unknown>;
  assert.deepStrictEqual(copy, doc);
  assert.notEqual(copy['metadata'], doc['metadata']);
  assert.notEqual((copy['spec'] as Record<string, unknown>)['ports'], (doc['spec'] as Record<string, unknown>)['ports']);
  const proto = load('__proto__:\n  polluted: true\n', { schema: CORE_SCHEMA }) as Record<string, unknown>;
  const protoCopy = detachedCopy(proto) as Record<string, unknown>;
  assert.ok(Object.hasOwn(protoCopy, '__proto__'));
  assert.equal(Object.getPrototypeOf(protoCopy), Object.prototype);
  assert.deepStrictEqual(Object.getOwnPropertyDescriptor(protoCopy, '__proto__')?.value, { polluted: true });
});

test('hash53: deterministic, 53-bit, different for texts that differ in one character', () => {
  const a = hash53('["198.18.0.1"],["bgp"],null,"-","announced"');
  assert.equal(a, hash53('["198.18.0.1"],["bgp"],null,"-","announced"'));
  assert.ok(Number.isSafeInteger(a) && a >= 0);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) seen.add(hash53(`svc-${i}`));
  assert.equal(seen.size, 10_000);
  assert.notEqual(hash53('a'), hash53('b'));
});
