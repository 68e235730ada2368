// A multi-document YAML file -> one value per document, fast and incremental.
//
// The file is cut into chunks at document markers: a line that starts with `---` followed by a space,
// a tab or the line's end (YAML 1.2 §9.1.2: "c-directives-end"; §6.8.1 / §9.1.1 forbid such a line
// inside any scalar, so a cut there never splits a value). Each chunk is parsed alone:
//   - the plainest documents (block mappings and sequences of plain scalars, yaml-plain.ts) by a
//     reader of that subset alone, which gives js-yaml's value for them several times faster;
//   - the others with js-yaml's YAML 1.2 core schema (the same types as the `yaml` library's default: no
//     timestamps, no `<<` merge keys), about 12x faster than a full `yaml` Document build;
//   - when js-yaml refuses the chunk, with the `yaml` library, whose errors carry lines and columns
//     (what users read); the caller reports those.
// A chunk's text is the cache key: re-reading a file where one document changed parses one chunk
// (the Scale issue: a 100,000-Service file re-read after one edit costs the split and the lookups).
import { loadAll as jsYamlLoadAll, CORE_SCHEMA } from 'js-yaml';
import { isCollection, isPair, LineCounter, parseAllDocuments, visit, type Document } from 'yaml';
import { readPlainDocument } from './yaml-plain.ts';

/** One document of a file. */
export type YamlDocument =
  | { readonly ok: true; readonly value: unknown; readonly line: number }
  | { readonly ok: false; readonly line: number; readonly column?: number; readonly message: string };

/** Parsed chunks of the previous read, by chunk text. */
export type ChunkCache = Map<string, readonly ChunkDoc[]>;

interface ChunkDoc {
  /** Line of the document's first content, relative to the chunk's first line (0-based). */
  readonly lineOffset: number;
  readonly value?: unknown;
  readonly error?: { readonly lineOffset: number; readonly column?: number; readonly message: string };
}

interface Chunk {
  readonly text: string;
  /** 1-based line of the chunk's first line in the file. */
  readonly line: number;
}

const MARKER = /^---(?:[ \t]|$)/;

/** Cuts a file into chunks at document markers; directive-only chunks join the chunk that follows. */
export function splitDocuments(text: string): Chunk[] {
  const chunks: Chunk[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    if (pos > start && text.charCodeAt(pos) === 45 /* - */ && MARKER.test(text.slice(pos, Math.min(end, pos + 4)))) {
      const prev = text.slice(start, pos);
      if (onlyDirectives(prev)) {
        // `%YAML 1.2` / `%TAG` lines belong to the document the next marker opens.
      } else {
        chunks.push({ text: prev, line: startLine });
        start = pos;
        startLine = line;
      }
    }
    if (nl < 0) break;
    pos = nl + 1;
    line++;
  }
  if (start < text.length) chunks.push({ text: text.slice(start), line: startLine });
  return chunks;
}

function onlyDirectives(chunk: string): boolean {
  if (!chunk.includes('%')) return false;
  let any = false;
  for (const l of chunk.split('\n')) {
    const t = l.trim();
    if (t === '' || t.startsWith('#')) continue;
    if (!t.startsWith('%')) return false;
    any = true;
  }
  return any;
}

/** 0-based offset of the first line that is content (not blank, a comment, a directive or `---` alone). */
function contentLineOffset(chunk: string): number {
  // Line by line with indexOf, up to the first content line (usually the first or second): splitting
  // the whole chunk cost a string per line for every document of the file.
  let pos = 0;
  for (let i = 0; i < CONTENT_LINE_SCAN && pos <= chunk.length; i++) {
    const nl = chunk.indexOf('\n', pos);
    const t = chunk.slice(pos, nl < 0 ? chunk.length : nl).trim();
    pos = nl < 0 ? chunk.length + 1 : nl + 1;
    if (t === '' || t.startsWith('#') || t.startsWith('%')) continue;
    if (MARKER.test(t)) {
      const rest = t.slice(3).trim();
      if (rest === '' || rest.startsWith('#')) continue;
    }
    return i;
  }
  return 0;
}

/** How many lines contentLineOffset looks at before it gives up (and says the first). */
const CONTENT_LINE_SCAN = 200;

/** An anchor (`&name`): js-yaml resolves aliases without a count limit, so such chunks take the slow
 * path, whose maxAliasCount stops alias bombs ("billion laughs"). */
const ANCHOR = /(?:^|[\s[{,:-])&[^\s]/m;

function parseChunk(text: string): ChunkDoc[] {
  if (ANCHOR.test(text)) return parseChunkSlowly(text);
  // The plainest documents (most generated manifests) without js-yaml: the same value, several times faster.
  const plain = readPlainDocument(text);
  if (plain !== undefined) return [{ lineOffset: contentLineOffset(text), value: plain }];
  try {
    const values: unknown[] = [];
    jsYamlLoadAll(text, (v) => values.push(v), { schema: CORE_SCHEMA, json: false });
    const offset = contentLineOffset(text);
    if (values.length === 1) return [{ lineOffset: offset, value: values[0] }];
    if (values.length === 0) return [];
  } catch {
    // Fall through: the `yaml` library says where and why.
  }
  return parseChunkSlowly(text);
}

/** The `yaml` library's reading of one chunk: its values, or its errors with positions. */
function parseChunkSlowly(text: string): ChunkDoc[] {
  const lineCounter = new LineCounter();
  const out: ChunkDoc[] = [];
  let docs;
  try {
    // logLevel silent: the library would print its warnings to stderr and go on; they are refused below.
    docs = parseAllDocuments(text, { lineCounter, prettyErrors: true, uniqueKeys: true, logLevel: 'silent' });
  } catch (err: unknown) {
    return [{ lineOffset: 0, error: { lineOffset: 0, message: `cannot parse: ${err instanceof Error ? err.message : String(err)}` } }];
  }
  for (const doc of Array.isArray(docs) ? docs : [docs]) {
    const lineOffset = lineCounter.linePos(doc.contents?.range?.[0] ?? doc.range[0]).line - 1;
    // Warnings (an unresolved tag such as `!foo`) and keys that are lists or mappings (which toJS would
    // turn into text like "[object Object]") are errors here: nothing of the document is used silently.
    const refused = [...doc.errors, ...doc.warnings, ...collectionKeys(doc, lineCounter)];
    if (refused.length > 0) {
      for (const e of refused) {
        const at = e.linePos?.[0];
        const firstLine = e.message.split('\n')[0] ?? e.message;
        out.push({
          lineOffset,
          error: { lineOffset: at === undefined ? lineOffset : at.line - 1, ...(at === undefined ? {} : { column: at.col }), message: `YAML error: ${firstLine.replace(/ at line \d+, column \d+:?$/, '')}` },
        });
      }
      continue;
    }
    try {
      out.push({ lineOffset, value: doc.toJS({ maxAliasCount: 100 }) });
    } catch (err: unknown) {
      out.push({ lineOffset, error: { lineOffset, message: err instanceof Error ? err.message : String(err) } });
    }
  }
  return out;
}

/** A mapping key that is a list or a mapping: Kubernetes objects (JSON) have only string keys. */
function collectionKeys(doc: Document.Parsed, lineCounter: LineCounter): { readonly message: string; readonly linePos?: readonly [{ line: number; col: number }] }[] {
  const found: { message: string; linePos?: [{ line: number; col: number }] }[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (!isPair(pair) || !isCollection(pair.key)) return;
      const at = pair.key.range?.[0];
      found.push({ message: 'a mapping key is a list or a mapping; keys must be plain text', ...(at === undefined ? {} : { linePos: [lineCounter.linePos(at)] as [{ line: number; col: number }] }) });
    },
  });
  return found;
}

/**
 * Replaces the values kept in `cache` by `smaller(value)` (the same value when it returns it): a caller
 * that keeps its own compact form of each document (config/manifests.ts keeps the routed object) lets
 * the parsed one go. Documents that failed to parse are left as they are.
 */
export function replaceCachedValues(cache: ChunkCache, smaller: (value: unknown) => unknown): void {
  for (const [text, docs] of cache) {
    let out: ChunkDoc[] | undefined;
    docs.forEach((d, i) => {
      if (d.error !== undefined) return;
      const v = smaller(d.value);
      if (v === d.value) return;
      out ??= [...docs];
      out[i] = { lineOffset: d.lineOffset, value: v };
    });
    if (out !== undefined) cache.set(text, out);
  }
}

/**
 * Every document of `text`, in order. With `cache` (the previous read's), chunks whose text is in it
 * are not parsed again; `next` receives this read's chunks (pass it as `cache` next time).
 */
export function readDocuments(text: string, cache?: ChunkCache, next?: ChunkCache): YamlDocument[] {
  const out: YamlDocument[] = [];
  for (const chunk of splitDocuments(text)) {
    let docs = cache?.get(chunk.text) ?? next?.get(chunk.text);
    if (docs === undefined) docs = parseChunk(chunk.text);
    next?.set(chunk.text, docs);
    for (const d of docs) {
      if (d.error !== undefined) {
        out.push({ ok: false, line: chunk.line + d.error.lineOffset, ...(d.error.column === undefined ? {} : { column: d.error.column }), message: d.error.message });
      } else {
        out.push({ ok: true, value: d.value, line: chunk.line + d.lineOffset });
      }
    }
  }
  return out;
}
