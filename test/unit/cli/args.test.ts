import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flagTokens } from '../../../src/cli/args.ts';

test('flagTokens: --flag value, --flag=value, short flags, a missing value at the end', () => {
  const seen: [string, string, string | undefined][] = [];
  for (const t of flagTokens(['--a', '1', '--b=2=x', '-m', 'p', 'loose', '--c'])) {
    seen.push([t.arg, t.flag, t.flag === 'loose' ? undefined : t.value()]);
  }
  assert.deepEqual(seen, [
    ['--a', '--a', '1'],
    ['--b=2=x', '--b', '2=x'],
    ['-m', '-m', 'p'],
    ['loose', 'loose', undefined],
    ['--c', '--c', undefined],
  ]);
});

test('flagTokens: a flag whose value is never asked for does not consume the next argument', () => {
  assert.deepEqual([...flagTokens(['--x', '--y'])].map((t) => t.flag), ['--x', '--y']);
});
