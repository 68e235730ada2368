// Shared helpers for the codec tests.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeContext } from '../../../../src/bgp/context.ts';
import type { CodecContext } from '../../../../src/bgp/messages/types.ts';

/** Bytes from commented hex chunks: bytes('0013', // length ... ). Spaces are ignored. */
export function bytes(...chunks: string[]): Buffer {
  const hex = chunks.join('').replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(hex)) throw new Error(`bad hex: ${hex}`);
  return Buffer.from(hex, 'hex');
}

export const MARKER = 'ff'.repeat(16);

/** ASCII text as hex. */
export function ascii(s: string): string {
  return Buffer.from(s, 'ascii').toString('hex');
}

export const CTX4: CodecContext = makeContext({ fourOctetAs: true, extendedMessage: false });
export const CTX4X: CodecContext = makeContext({ fourOctetAs: true, extendedMessage: true });
export const CTX2: CodecContext = makeContext({ fourOctetAs: false, extendedMessage: false });

export const FIXTURES = join(import.meta.dirname, '../../../fixtures/bgp');

export interface Fixture {
  readonly name: string;
  readonly bytes: Buffer;
}

export function fixtures(dir: string): Fixture[] {
  return readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.hex'))
    .sort()
    .map((name) => ({ name, bytes: Buffer.from(readFileSync(join(FIXTURES, dir, name), 'utf8').trim(), 'hex') }));
}
