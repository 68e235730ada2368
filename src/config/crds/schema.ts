// Field-level schemas of the custom resources, derived from deploy/crds (one source: the CRDs the API
// server enforces). `deriveFieldSchemas` turns CRD documents into the compact tree below;
// scripts/gen-crd-schemas.ts writes the result to schemas.generated.ts, and
// test/unit/config/strict.test.ts re-derives it from deploy/crds and fails when the two differ.
//
// Only what strict field validation needs is kept: which fields exist at each level (and, for a typo,
// what the nearest existing name is). Types, bounds and CEL rules are the validators' job
// (src/config/metallb/*, src/config/openelb/*), which report them with berth's wording.

/** One level of an OpenAPI v3 schema: the known properties, the list item schema, or an open map. */
export interface FieldSchema {
  /** Named properties of an object; absent when the object is open (no properties listed). */
  readonly properties?: Readonly<Record<string, FieldSchema>>;
  /** Items of an array. */
  readonly items?: FieldSchema;
  /** Values of a map (additionalProperties with a schema). */
  readonly values?: FieldSchema;
  /** x-kubernetes-preserve-unknown-fields: anything goes below. */
  readonly open?: true;
}

/** `group/version/Kind` -> the schema of the whole object (apiVersion, kind, metadata, spec, status). */
export type SchemaTable = Readonly<Record<string, FieldSchema>>;

function isRecord(v: unknown): v is Readonly<Record<string, unknown>> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deriveNode(node: unknown): FieldSchema {
  if (!isRecord(node)) return { open: true };
  if (node['x-kubernetes-preserve-unknown-fields'] === true) return { open: true };
  const out: { properties?: Record<string, FieldSchema>; items?: FieldSchema; values?: FieldSchema; open?: true } = {};
  const props = node['properties'];
  if (isRecord(props)) {
    out.properties = {};
    for (const name of Object.keys(props).sort()) out.properties[name] = deriveNode(props[name]);
  }
  if (node['items'] !== undefined) out.items = deriveNode(node['items']);
  const extra = node['additionalProperties'];
  if (isRecord(extra)) out.values = deriveNode(extra);
  else if (extra === true) out.open = true;
  return out;
}

/** Derives the table from parsed CRD documents (`kind: CustomResourceDefinition`; others are skipped). */
export function deriveFieldSchemas(docs: readonly unknown[]): SchemaTable {
  const out: Record<string, FieldSchema> = {};
  for (const doc of docs) {
    if (!isRecord(doc) || doc['kind'] !== 'CustomResourceDefinition' || !isRecord(doc['spec'])) continue;
    const spec = doc['spec'];
    const group = spec['group'];
    const names = spec['names'];
    const kind = isRecord(names) ? names['kind'] : undefined;
    if (typeof group !== 'string' || typeof kind !== 'string' || !Array.isArray(spec['versions'])) continue;
    for (const v of spec['versions'] as unknown[]) {
      if (!isRecord(v) || typeof v['name'] !== 'string' || v['served'] === false) continue;
      const schema = isRecord(v['schema']) ? v['schema']['openAPIV3Schema'] : undefined;
      out[`${group}/${v['name']}/${kind}`] = deriveNode(schema);
    }
  }
  return Object.fromEntries(Object.keys(out).sort().map((k) => [k, out[k] as FieldSchema]));
}
