import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesAny, selectorMatches, type LabelSelector } from '../../../src/labels/selector.ts';

const labels = { app: 'web', tier: 'front' };

test('label selector semantics (metav1.LabelSelector)', () => {
  const cases: readonly { name: string; s: LabelSelector; want: boolean }[] = [
    { name: 'empty matches everything', s: { matchLabels: {}, matchExpressions: [] }, want: true },
    { name: 'matchLabels equal', s: { matchLabels: { app: 'web' }, matchExpressions: [] }, want: true },
    { name: 'matchLabels other value', s: { matchLabels: { app: 'db' }, matchExpressions: [] }, want: false },
    { name: 'matchLabels missing key', s: { matchLabels: { zone: 'a' }, matchExpressions: [] }, want: false },
    { name: 'In hit', s: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['db', 'web'] }] }, want: true },
    { name: 'In miss', s: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'In', values: ['db'] }] }, want: false },
    { name: 'In absent key', s: { matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'In', values: ['db'] }] }, want: false },
    { name: 'NotIn hit', s: { matchLabels: {}, matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['web'] }] }, want: false },
    { name: 'NotIn absent key matches', s: { matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'NotIn', values: ['web'] }] }, want: true },
    { name: 'Exists', s: { matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'Exists', values: [] }] }, want: true },
    { name: 'Exists absent', s: { matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'Exists', values: [] }] }, want: false },
    { name: 'DoesNotExist', s: { matchLabels: {}, matchExpressions: [{ key: 'tier', operator: 'DoesNotExist', values: [] }] }, want: false },
    { name: 'DoesNotExist absent', s: { matchLabels: {}, matchExpressions: [{ key: 'x', operator: 'DoesNotExist', values: [] }] }, want: true },
    {
      name: 'all parts ANDed',
      s: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['back'] }] },
      want: false,
    },
    { name: 'prototype keys are not labels', s: { matchLabels: {}, matchExpressions: [{ key: 'toString', operator: 'Exists', values: [] }] }, want: false },
  ];
  for (const c of cases) assert.equal(selectorMatches(c.s, labels), c.want, c.name);
});

test('both parts are optional, as in the API: a bare selector matches everything, absent values match nothing', () => {
  assert.equal(selectorMatches({}, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'web', tier: 'front' } }, labels), true);
  assert.equal(selectorMatches({ matchLabels: { app: 'web', tier: 'back' } }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, labels), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In' }] }, labels), false);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn' }] }, labels), true);
});

test('only own keys are labels: inherited properties neither match nor block', () => {
  const empty = {};
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'constructor', operator: 'DoesNotExist' }] }, empty), true);
  assert.equal(selectorMatches({ matchExpressions: [{ key: 'hasOwnProperty', operator: 'NotIn', values: ['x'] }] }, empty), true);
  assert.equal(selectorMatches({ matchLabels: { toString: 'x' } }, empty), false);
  assert.equal(selectorMatches({ matchLabels: { toString: 'x' } }, { toString: 'x' }), true);
});

test('matchesAny: a list of selectors is ORed, the empty list is no restriction', () => {
  assert.equal(matchesAny([], labels), true);
  assert.equal(matchesAny([], {}), true);
  assert.equal(matchesAny([{ matchLabels: { app: 'db' } }], labels), false);
  assert.equal(
    matchesAny(
      [
        { matchLabels: { app: 'db' }, matchExpressions: [] },
        { matchLabels: { tier: 'front' }, matchExpressions: [] },
      ],
      labels,
    ),
    true,
  );
});
