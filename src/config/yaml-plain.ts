// A fast reader for the plainest YAML documents, the shape nearly every generated manifest has: block
// mappings and block sequences of plain scalars, one `key: value` or `- ...` per line, spaces only.
// It reads one document (a chunk of yaml-documents.ts) and returns exactly what js-yaml's core schema
// returns for it, or `undefined` as soon as anything falls outside that subset, and the caller parses
// the document with js-yaml as before. Nothing here reports errors: any doubt is `undefined`.
//
// The subset (YAML 1.2 §8.2 block collections; §7.3.3 plain scalars), line by line after dropping
// blank lines and whole-line comments:
//   `key: value`, `key:` (a nested block, or null), `- value`, `- key: value`, `- key:` (a mapping
//   whose first key is on the dash line); keys are [A-Za-z_][A-Za-z0-9_./-]* and resolve to strings;
//   values are [A-Za-z0-9_./+=-][A-Za-z0-9_./+:=-]* (a leading `-` not alone) not ending in `:`, and resolve through js-yaml's own
//   implicit types (null, bool, int, float, else string: §10.3.2).
// Outside it (undefined): quotes, flow collections, comments after content, anchors, aliases, tags,
// block scalars, multi-line scalars, tabs, directives, `---` with content, `...`, duplicate keys.
// The Scale issue: 100,000 such documents take js-yaml ~3 s; this reader a fraction of that.
import { CORE_SCHEMA, type Type } from 'js-yaml';

/** js-yaml's implicit resolvers of the core schema, in its order (null, bool, int, float). */
const IMPLICIT: readonly Type[] = (CORE_SCHEMA as unknown as { readonly compiledImplicit: readonly Type[] }).compiledImplicit;

const KEY = /^[A-Za-z_][A-Za-z0-9_./-]*$/;
// A leading `-` only before a word character: `-` alone (or before a space) is a sequence entry.
const VALUE = /^(?:[A-Za-z0-9_./+=]|-[A-Za-z0-9_./])[A-Za-z0-9_./+:=-]*$/;
const DOCUMENT_START = /^---[ \t]*$/;

interface Line {
  readonly indent: number;
  readonly text: string;
}

/** What js-yaml makes of a plain scalar (composeNode with the `?` tag): the first implicit type that resolves it. */
function resolvePlain(text: string): unknown {
  for (const t of IMPLICIT) {
    if (t.resolve(text)) return t.construct(text);
  }
  return text;
}

/** Plain key text that resolves to itself (`true:` or `null:` would not). */
function plainKey(text: string): string | undefined {
  if (!KEY.test(text) || text === '__proto__') return undefined;
  return IMPLICIT.some((t) => t.resolve(text)) ? undefined : text;
}

function plainValue(text: string): unknown {
  if (!VALUE.test(text) || text.endsWith(':')) return NOT_PLAIN;
  return resolvePlain(text);
}

const NOT_PLAIN = Symbol('not plain');

/** The document's value, or undefined when it is not in the subset (see the file header). */
export function readPlainDocument(chunk: string): unknown {
  const lines: Line[] = [];
  let started = false;
  for (const raw of chunk.split('\n')) {
    const line = raw.trimEnd();
    if (line === '') continue;
    const indent = line.length - line.trimStart().length;
    if (line.includes('\t')) return undefined;
    if (line[indent] === '#') continue;
    if (indent === 0 && line.startsWith('---')) {
      if (started || lines.length > 0 || !DOCUMENT_START.test(line)) return undefined;
      started = true;
      continue;
    }
    if (indent === 0 && (line.startsWith('...') || line.startsWith('%'))) return undefined;
    lines.push({ indent, text: line.slice(indent) });
  }
  const first = lines[0];
  if (first === undefined || first.indent !== 0) return undefined;
  const r = new Reader(lines);
  const value = first.text.startsWith('- ') || first.text === '-' ? r.sequence(0) : r.mapping(0, undefined);
  return value === NOT_PLAIN || r.at < lines.length ? undefined : value;
}

class Reader {
  at = 0;
  readonly #lines: readonly Line[];
  constructor(lines: readonly Line[]) {
    this.#lines = lines;
  }

  /** A block mapping whose keys sit at `indent`; `firstText` is a first pair already cut off a dash line. */
  mapping(indent: number, firstText: string | undefined): unknown {
    const out: Record<string, unknown> = {};
    let text = firstText;
    if (text === undefined) {
      const line = this.#lines[this.at];
      if (line === undefined || line.indent !== indent) return NOT_PLAIN;
      text = line.text;
      this.at++;
    }
    for (;;) {
      if (!this.#pair(out, indent, text)) return NOT_PLAIN;
      const next = this.#lines[this.at];
      if (next === undefined || next.indent < indent) return out;
      if (next.indent > indent || next.text.startsWith('-')) return NOT_PLAIN;
      text = next.text;
      this.at++;
    }
  }

  /** One `key: value` or `key:` (then its nested block, or null) into `out`. */
  #pair(out: Record<string, unknown>, indent: number, text: string): boolean {
    const colon = text.indexOf(':');
    if (colon <= 0) return false;
    const key = plainKey(text.slice(0, colon));
    if (key === undefined || Object.hasOwn(out, key)) return false;
    const rest = text.slice(colon + 1);
    if (rest !== '') {
      if (!rest.startsWith(' ')) return false;
      const v = plainValue(rest.slice(1));
      if (v === NOT_PLAIN) return false;
      out[key] = v;
      return true;
    }
    const next = this.#lines[this.at];
    if (next !== undefined && next.indent >= indent && (next.text.startsWith('- ') || next.text === '-')) {
      // A sequence under a key may sit at the key's own indentation (YAML 1.2 §8.2.1, "compact").
      const v = this.sequence(next.indent);
      if (v === NOT_PLAIN) return false;
      out[key] = v;
      return true;
    }
    if (next !== undefined && next.indent > indent) {
      const v = this.mapping(next.indent, undefined);
      if (v === NOT_PLAIN) return false;
      out[key] = v;
      return true;
    }
    out[key] = null;
    return true;
  }

  /** A block sequence whose dashes sit at `indent`. */
  sequence(indent: number): unknown {
    const out: unknown[] = [];
    for (;;) {
      const line = this.#lines[this.at];
      if (line === undefined || line.indent < indent) return out;
      if (line.indent > indent) return NOT_PLAIN;
      // A line at the dashes' indentation that is no item ends a compact sequence; the mapping around
      // it reads it (or declines it).
      if (!line.text.startsWith('- ')) return line.text === '-' ? NOT_PLAIN : out;
      this.at++;
      const item = line.text.slice(2);
      if (item.startsWith(' ')) return NOT_PLAIN;
      const colon = item.indexOf(':');
      let v: unknown;
      if (colon > 0 && (colon === item.length - 1 || item[colon + 1] === ' ')) v = this.mapping(indent + 2, item);
      else {
        v = plainValue(item);
        const next = this.#lines[this.at];
        if (next !== undefined && next.indent > indent) return NOT_PLAIN;
      }
      if (v === NOT_PLAIN) return NOT_PLAIN;
      out.push(v);
    }
  }
}
