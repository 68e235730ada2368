// Reads YAML/JSON manifests into a Snapshot. A file or a folder (recursive, *.yaml/*.yml/*.json, sorted
// by path) of multi-document YAML; `kind: List` documents are unpacked. Nothing here throws on bad input:
// YAML errors, unknown kinds and malformed objects become problems naming the file and line.
//
// Split: parseManifests() is pure (text in, snapshot out); loadManifests() only lists and reads files.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { readDocuments, replaceCachedValues, type ChunkCache } from './yaml-documents.ts';
import { detachedCopy } from './compact.ts';
import { emptySnapshot, SnapshotKinds, type Snapshot, type SnapshotKindKey } from './snapshot.ts';
import { makeProblem, objectKey, type ObjectKey, type ObjectRef, type Problem } from './problems.ts';
import { isRecord } from './read.ts';

export interface ManifestFile {
  readonly path: string;
  readonly text: string;
}

/** Where an object was read from. */
export interface Origin {
  readonly file: string;
  /** 1-based first content line of the document (List items carry the List's line). */
  readonly line: number;
}

/** A well-formed object berth does not read (Deployment, ConfigMap, ...): skipped, not a problem. */
export interface IgnoredObject extends ObjectRef {
  readonly apiVersion: string;
  readonly origin: Origin;
}

export interface ManifestResult {
  readonly snapshot: Snapshot;
  readonly problems: readonly Problem[];
  /** objectKey(ref) -> origin, for every object routed into the snapshot. */
  readonly origins: ReadonlyMap<ObjectKey, Origin>;
  readonly ignored: readonly IgnoredObject[];
}

const EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** Accepted versions per group berth reads. */
const VERSIONS: Readonly<Record<string, readonly string[]>> = {
  '': ['v1'],
  'metallb.io': ['v1beta1', 'v1beta2'],
  'network.kubesphere.io': ['v1alpha1', 'v1alpha2'],
  'discovery.k8s.io': ['v1'],
};

/** Cluster-scoped kinds: no namespace. Every other kind we read defaults to namespace "default". */
const CLUSTER_SCOPED: ReadonlySet<string> = new Set(['/Node', '/Namespace', 'network.kubesphere.io/Eip', 'network.kubesphere.io/BgpConf', 'network.kubesphere.io/BgpPeer']);

/** Kinds of groups we read that are legitimately present in manifests but carry nothing for berth. */
const IGNORED_KINDS: ReadonlySet<string> = new Set([
  '/ConfigMap', '/Pod', '/ServiceAccount', '/PersistentVolumeClaim', '/PersistentVolume', '/Endpoints',
  '/LimitRange', '/ResourceQuota', '/ReplicationController', '/Event', '/PodTemplate',
  'metallb.io/ServiceL2Status', 'metallb.io/ServiceBGPStatus', 'metallb.io/ConfigurationState',
]);

/** Groups of other projects' objects that come with MetalLB / OpenELB setups: what to do instead. */
const FOREIGN_GROUPS: Readonly<Record<string, string>> = {
  'frrk8s.metallb.io':
    "berth has no equivalent of frr-k8s objects (FRRConfiguration, FRRNodeState): it announces Service IPs with BGPPeer and BGPAdvertisement, does not receive or install routes, and takes no raw FRR configuration; keep frr-k8s (or another routing daemon) for those, and leave its objects out of berth's manifests",
};

const LEGACY_METALLB_CONFIG =
  "MetalLB's ConfigMap configuration (MetalLB before v0.13) is not read by berth: convert it to custom resources with MetalLB's configmaptocrs tool and give berth the output unchanged";

/** A ConfigMap holding MetalLB's pre-CRD configuration: `data.config` with address-pools or peers. */
function isLegacyMetalLBConfig(obj: Readonly<Record<string, unknown>>): boolean {
  const data = obj['data'];
  const config = isRecord(data) ? data['config'] : undefined;
  return typeof config === 'string' && /^\s*(address-pools|peers|bgp-communities)\s*:/m.test(config);
}

/** Built-in API groups (apps, batch, *.k8s.io ...): their objects are skipped without a problem. */
function isBuiltInGroup(group: string): boolean {
  return ['apps', 'batch', 'autoscaling', 'policy', 'extensions'].includes(group) || group.endsWith('.k8s.io');
}

/** Lists manifest files under `path` (a file is returned as is), sorted, skipping dot-entries. */
export function listManifestFiles(path: string): string[] {
  const st = statSync(path);
  if (st.isFile()) return [path];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.')) continue;
      const full = join(dir, name);
      const s = statSync(full);
      if (s.isDirectory()) walk(full);
      else if (EXTENSIONS.some((e) => name.endsWith(e))) out.push(full);
    }
  };
  walk(path);
  return out;
}

/** Reads and parses manifests. Throws only when `path` itself cannot be read (bad usage). */
export function loadManifests(path: string): ManifestResult {
  const files = listManifestFiles(path).map((p) => ({ path: p, text: readFileSync(p, 'utf8') }));
  return parseManifests(files);
}

/** What a re-read found: the same files unchanged since the last read, or a new result. */
export type ReadResult = { readonly changed: false } | { readonly changed: true; readonly result: ManifestResult };

export interface ManifestReader {
  /**
   * Reads `path` again. When every file has the same identity, size and modification time as at the
   * last read, nothing is read or parsed ({ changed: false }); otherwise only documents whose text
   * changed are parsed. Throws only when `path` itself cannot be read.
   */
  read(): ReadResult;
}

/** A reader for the standalone speaker's loop: unchanged files cost a stat each. */
export function createManifestReader(path: string): ManifestReader {
  let signature: string | undefined;
  let previous = new Map<string, ChunkCache>();
  const routed = new WeakMap<object, Routed>();
  return {
    read() {
      const paths = listManifestFiles(path);
      const sig = paths
        .map((p) => {
          const st = statSync(p, { bigint: true });
          return `${p}\u0000${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
        })
        .join('\n');
      if (sig === signature) return { changed: false };
      const files = paths.map((p) => ({ path: p, text: readFileSync(p, 'utf8') }));
      const cache: ParseCache = { previous, next: new Map(), routed };
      const result = parseManifests(files, cache);
      previous = cache.next;
      signature = sig;
      return { changed: true, result };
    },
  };
}

type MutableSnapshot = { -readonly [K in keyof Snapshot]: unknown[] };

/**
 * Parsed documents carried from one read to the next (createManifestReader): a document whose text did
 * not change is not parsed again. What is kept per routed document is its routed object alone (a
 * detached copy: no view into the file's text, see yaml-documents.ts detachedCopy); the value the YAML
 * parser returned is dropped once it is routed (the Scale issue: memory proportional to the data).
 */
export interface ParseCache {
  /** file path -> that file's chunks at the previous read. */
  previous: Map<string, ChunkCache>;
  /** Filled by this read; becomes `previous` for the next. */
  next: Map<string, ChunkCache>;
  /** Parsed value, or the routed object that replaced it in the chunk cache -> the object routed into
   * the snapshot, so an unchanged document yields the same object on every read (planners reuse their
   * work for objects they have seen). */
  readonly routed: WeakMap<object, Routed>;
}

/** Where an object went the last time it was read (reused while its parsed value is the same). */
interface Routed {
  readonly normalised: unknown;
  readonly ref: ObjectRef;
  readonly key: ObjectKey;
  readonly field: keyof Snapshot;
}

function nextChunks(cache: ParseCache | undefined, path: string): ChunkCache | undefined {
  if (cache === undefined) return undefined;
  const c: ChunkCache = new Map();
  cache.next.set(path, c);
  return c;
}

export function parseManifests(files: readonly ManifestFile[], cache?: ParseCache): ManifestResult {
  const snap: MutableSnapshot = Object.fromEntries(Object.keys(emptySnapshot).map((k) => [k, []])) as unknown as MutableSnapshot;
  const problems: Problem[] = [];
  const origins = new Map<ObjectKey, Origin>();
  const ignored: IgnoredObject[] = [];
  const where = new Map<ObjectKey, { list: unknown[]; index: number }>();

  const place = (r: Routed, origin: Origin): void => {
    const list = snap[r.field];
    const previous = where.get(r.key);
    if (previous !== undefined) {
      const first = origins.get(r.key);
      problems.push(
        makeProblem(r.ref, undefined, `defined twice (${first === undefined ? '?' : `${first.file}:${first.line}`} and ${origin.file}:${origin.line}): the later one is used; remove one`),
      );
      previous.list[previous.index] = r.normalised;
    } else {
      where.set(r.key, { list, index: list.length });
      list.push(r.normalised);
    }
    origins.set(r.key, origin);
  };

  const add = (obj: unknown, origin: Origin): void => {
    // A document read before, unchanged: routed as it was (its checks depend on it alone).
    const known = typeof obj === 'object' && obj !== null ? cache?.routed.get(obj) : undefined;
    if (known !== undefined) {
      place(known, origin);
      return;
    }
    const at = `${origin.file}:${origin.line}`;
    const fileRef: ObjectRef = { kind: 'File', name: origin.file };
    if (obj === null || obj === undefined) return; // empty document
    if (!isRecord(obj)) {
      problems.push(makeProblem(fileRef, undefined, `line ${origin.line}: a document must be a mapping with apiVersion and kind`));
      return;
    }
    const apiVersion = obj['apiVersion'];
    const kind = obj['kind'];
    if (typeof apiVersion !== 'string' || typeof kind !== 'string' || apiVersion === '' || kind === '') {
      problems.push(makeProblem(fileRef, undefined, `line ${origin.line}: the document has no apiVersion or kind`));
      return;
    }
    if (kind === 'List' && apiVersion === 'v1') {
      const items = obj['items'];
      if (!Array.isArray(items)) {
        problems.push(makeProblem(fileRef, 'items', `line ${origin.line}: a List needs an items list`));
        return;
      }
      for (const item of items) add(item, origin);
      return;
    }
    const slash = apiVersion.lastIndexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    const metadata = isRecord(obj['metadata']) ? obj['metadata'] : undefined;
    const rawName = metadata?.['name'];
    const name = typeof rawName === 'string' ? rawName : '';
    const gk = `${group}/${kind}`;
    const routed = (SnapshotKinds as Readonly<Record<string, keyof Snapshot>>)[gk];
    const rawNs = metadata?.['namespace'];
    const clusterScoped = CLUSTER_SCOPED.has(gk) || routed === undefined;
    const givenNs = typeof rawNs === 'string' && rawNs !== '' ? rawNs : undefined;
    const namespace = routed === undefined ? givenNs : clusterScoped ? undefined : (givenNs ?? 'default');
    const ref: ObjectRef = { kind, ...(namespace === undefined ? {} : { namespace }), name: name === '' ? `(unnamed at ${at})` : name };

    if (routed === undefined) {
      if (gk === '/ConfigMap' && isLegacyMetalLBConfig(obj)) {
        problems.push(makeProblem(ref, 'data.config', `${LEGACY_METALLB_CONFIG} (${at})`));
        return;
      }
      if (IGNORED_KINDS.has(gk) || (isBuiltInGroup(group) && !(group in VERSIONS))) {
        ignored.push({ ...ref, apiVersion, origin });
        return;
      }
      const foreign = FOREIGN_GROUPS[group];
      if (foreign !== undefined) {
        problems.push(makeProblem(ref, 'apiVersion', `${foreign} (${at})`));
        return;
      }
      const known = group in VERSIONS ? `berth reads no kind "${kind}" in ${group === '' ? 'the core API' : group}` : `berth does not read ${apiVersion} objects`;
      problems.push(makeProblem(ref, 'kind', `${known} (${at}): check the kind's spelling or remove the object`));
      return;
    }
    const allowed = gk === 'metallb.io/BGPPeer' ? ['v1beta1', 'v1beta2'] : group === 'metallb.io' ? ['v1beta1'] : (VERSIONS[group] ?? []);
    if (!allowed.includes(version)) {
      const spelled = allowed.map((v) => (group === '' ? v : `${group}/${v}`)).join(' or ');
      problems.push(makeProblem(ref, 'apiVersion', `unsupported apiVersion "${apiVersion}" (${at}): use ${spelled}`));
      return;
    }
    if (name === '') {
      problems.push(makeProblem(ref, 'metadata.name', `the object has no metadata.name (${at}): give it a name`));
      return;
    }
    const fresh = { ...obj, metadata: { ...metadata, name, ...(namespace === undefined ? {} : { namespace }) } };
    if (namespace === undefined && metadata !== undefined && 'namespace' in metadata) {
      delete (fresh.metadata as Record<string, unknown>)['namespace'];
    }
    if (cache === undefined) {
      place({ normalised: fresh, ref, key: objectKey(ref), field: routed }, origin);
      return;
    }
    // Kept across reads: a detached copy, its reference and key as flat strings.
    const kept = detachedCopy(fresh) as object;
    const keptRef = detachedCopy(ref) as ObjectRef;
    const r: Routed = { normalised: kept, ref: keptRef, key: detachedCopy(objectKey(keptRef)) as ObjectKey, field: routed };
    cache.routed.set(obj, r);
    cache.routed.set(kept, r);
    place(r, origin);
  };

  for (const file of files) {
    problems.push(...nonBreakingIndentation(file));
    const chunks = nextChunks(cache, file.path);
    for (const doc of readDocuments(file.text, cache?.previous.get(file.path), chunks)) {
      if (doc.ok) add(doc.value, { file: file.path, line: doc.line });
      else problems.push(makeProblem({ kind: 'File', name: file.path }, undefined, `line ${doc.line}${doc.column === undefined ? '' : `, column ${doc.column}`}: ${doc.message}`));
    }
    // The next read finds each routed document's kept object in place of the parsed value.
    if (cache !== undefined && chunks !== undefined) replaceCachedValues(chunks, (v) => (typeof v === 'object' && v !== null ? (cache.routed.get(v)?.normalised ?? v) : v));
  }
  return { snapshot: snap as unknown as Snapshot, problems, origins, ignored };
}

/**
 * Lines whose indentation holds a non-breaking space (U+00A0), a common copy-paste trap from web pages:
 * YAML does not count it as indentation, so the parser's own error would point elsewhere.
 */
function nonBreakingIndentation(file: ManifestFile): Problem[] {
  const out: Problem[] = [];
  // Most files hold none at all: one scan instead of a string per line (a 100,000-Service file has
  // 1.5 million lines).
  if (!file.text.includes('\u00a0')) return out;
  file.text.split('\n').forEach((text, i) => {
    const indent = /^[ \t\u00a0]*/.exec(text)?.[0] ?? '';
    if (indent.includes('\u00a0')) {
      out.push(makeProblem({ kind: 'File', name: file.path }, undefined, `line ${i + 1}: the indentation holds a non-breaking space (U+00A0), often pasted from a web page: replace it with ordinary spaces`));
    }
  });
  return out;
}

/** The snapshot routing key of an apiVersion/kind pair, when berth reads that kind. */
export function snapshotKindOf(apiVersion: string, kind: string): SnapshotKindKey | undefined {
  const slash = apiVersion.lastIndexOf('/');
  const gk = `${slash < 0 ? '' : apiVersion.slice(0, slash)}/${kind}`;
  return gk in SnapshotKinds ? (gk as SnapshotKindKey) : undefined;
}
