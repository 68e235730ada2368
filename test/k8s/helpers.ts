// Shared steps of the test/k8s files: install the CRDs, parse manifests, compare what the API server
// stored with what was sent.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { parseAllDocuments } from 'yaml';
import { after, before } from 'node:test';
import { startApiServer, type ApiServer, type StartApiServerOptions } from './harness/index.ts';

export const repoRoot = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const crdDir = join(repoRoot, 'deploy/crds');
export const fixture = (name: string): string => join(repoRoot, 'test/k8s/fixtures', name);

/** Applies deploy/crds and waits until every CRD is Established. */
export async function installCrds(k: ApiServer): Promise<void> {
  await k.kubectlOk(['apply', '-f', crdDir]);
  await k.kubectlOk([
    'wait', '--for=condition=Established', '--timeout=60s', 'crd', '-l', 'app.kubernetes.io/part-of=berth',
  ]);
}

export type Json = null | boolean | number | string | readonly Json[] | { readonly [k: string]: Json };
export type JsonObject = { readonly [k: string]: Json };

export function isObject(v: Json | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The documents of a YAML file (or string), as plain JSON values. */
export function loadYaml(text: string): JsonObject[] {
  return parseAllDocuments(text).map((d) => {
    if (d.errors.length > 0) throw new Error(`YAML: ${d.errors.map((e) => e.message).join('; ')}`);
    const v = d.toJS({ maxAliasCount: 1000 }) as Json;
    if (!isObject(v)) throw new Error('YAML document is not an object');
    return v;
  });
}

export const loadYamlFile = (path: string): JsonObject[] => loadYaml(readFileSync(path, 'utf8'));

/**
 * Asserts that every field of `sent` is in `stored` with the same value (defaults may add fields). A
 * field the schema does not know is pruned by the API server and shows up here as missing.
 */
export function assertSubset(sent: Json, stored: Json | undefined, path: string): void {
  if (isObject(sent)) {
    assert.ok(isObject(stored), `${path}: stored value is not an object: ${JSON.stringify(stored)}`);
    for (const [key, value] of Object.entries(sent)) assertSubset(value, stored[key], `${path}.${key}`);
    return;
  }
  if (Array.isArray(sent)) {
    assert.ok(Array.isArray(stored), `${path}: stored value is not a list: ${JSON.stringify(stored)}`);
    const list = stored as readonly Json[];
    assert.equal(list.length, sent.length, `${path}: list length`);
    sent.forEach((item: Json, i: number) => assertSubset(item, list[i], `${path}[${String(i)}]`));
    return;
  }
  assert.deepEqual(stored, sent, `${path}: stored ${JSON.stringify(stored)}, sent ${JSON.stringify(sent)}`);
}

export function field(obj: Json | undefined, ...path: readonly string[]): Json | undefined {
  let cur: Json | undefined = obj;
  for (const key of path) {
    if (!isObject(cur)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** `kubectl get ... -o json`, parsed. */
export async function getJson(k: ApiServer, args: readonly string[]): Promise<JsonObject> {
  const out = await k.kubectlOk(['get', ...args, '-o', 'json']);
  const v = JSON.parse(out) as Json;
  if (!isObject(v)) throw new Error(`kubectl get ${args.join(' ')}: not an object`);
  return v;
}

export interface FileApiServerOptions {
  readonly start?: StartApiServerOptions;
  /** After the server is up: CRDs, namespaces, the processes the file's tests talk to. */
  readonly setup?: (k: ApiServer) => Promise<void>;
  /** Before the server stops: stop what uses it. */
  readonly beforeStop?: () => Promise<void>;
}

/**
 * One API server for a test file: started (then `setup`) in a `before` hook, stopped in an `after`
 * hook. Returns the accessor the tests use; it throws when the server never started.
 */
export function apiServerForFile(opts: FileApiServerOptions = {}): () => ApiServer {
  let k: ApiServer | undefined;
  before(async () => {
    k = await startApiServer(opts.start);
    await opts.setup?.(k);
  });
  after(async () => {
    try {
      await opts.beforeStop?.();
    } finally {
      await k?.stop();
    }
  });
  return () => {
    if (k === undefined) throw new Error('API server did not start (see the before hook)');
    return k;
  };
}
