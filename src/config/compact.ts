// Compact forms of values that long-running processes keep for a long time (the Scale issue: the speaker
// keeps one record per Service for 100,000 Services; per-object overheads that do not matter for one
// plan decide whether it fits in 300 MB). Pure.

/** Shorter substrings are copies in V8 (SlicedString::kMinLength); longer ones are views. */
const SLICE_MIN_LENGTH = 13;

const NONE: readonly never[] = Object.freeze([]);

/**
 * `items` as an array of exactly its length (one shared frozen array when empty): an array built by
 * push keeps spare capacity (V8 grows a backing store to at least 17 elements, ~150 bytes), which is
 * most of a one-element array's size.
 */
export function fitted<T>(items: readonly T[]): readonly T[] {
  return items.length === 0 ? NONE : items.slice();
}

/**
 * `text` as one flat string. V8 keeps the result of a concatenation (template literals, `+`) of 13
 * characters or more as a tree of its parts, and JSON.stringify's result often is one: ~32 bytes per
 * part, several times the text itself, for strings kept per Service (keys, encodings compared on the
 * next plan).
 */
export function flat(text: string): string {
  return text.length < SLICE_MIN_LENGTH ? text : (JSON.parse(JSON.stringify(text)) as string);
}

/**
 * A 53-bit hash of `text` (cyrb53, public domain: two 32-bit multiply-xorshift lanes): for states kept
 * only to notice that something changed, where a collision (2^-53 per comparison) costs one log line.
 */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/**
 * A copy of a parsed value that holds no reference into the text it was parsed from, for values kept
 * long after the read: V8 keeps a substring of 13 characters or more as a view of its whole source (a
 * "sliced string"), and js-yaml parses a copy of each document, so one kept IP or name would pin that
 * document's whole text. Arrays get their exact length (arrays built by push carry spare capacity).
 * Numbers, booleans and null are kept as they are.
 */
export function detachedCopy(value: unknown): unknown {
  if (typeof value === 'string') return flat(value);
  if (Array.isArray(value)) return value.map(detachedCopy);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    // A `__proto__` key is data here (js-yaml and `yaml` define it as an own property), not the prototype.
    if (k === '__proto__') Object.defineProperty(out, k, { value: detachedCopy(v), enumerable: true, writable: true, configurable: true });
    else out[k] = detachedCopy(v);
  }
  return out;
}
