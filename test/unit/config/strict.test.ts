// The strict field check and deploy/crds can never drift: the generated schema table must equal what
// deploy/crds derives to today, and every field berth lists as unimplemented must be one a CRD accepts
// (or Porter's v1alpha1 BgpPeer, which deploy/crds does not serve).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderGenerated, schemasFromDeploy } from '../../../scripts/gen-crd-schemas.ts';
import { readFileSync } from 'node:fs';
import { CRD_SCHEMAS } from '../../../src/config/crds/schemas.generated.ts';
import type { FieldSchema } from '../../../src/config/crds/schema.ts';
import { UNIMPLEMENTED_FIELDS } from '../../../src/config/strict.ts';

test('schemas.generated.ts is what deploy/crds derives to (run scripts/gen-crd-schemas.ts after editing a CRD)', () => {
  const derived = schemasFromDeploy();
  assert.deepEqual(CRD_SCHEMAS, derived);
  const onDisk = readFileSync(new URL('../../../src/config/crds/schemas.generated.ts', import.meta.url), 'utf8');
  assert.equal(onDisk, renderGenerated(derived), 'the file is byte-for-byte the generator output');
});

test('the table covers every served kind and version of the twelve CRDs', () => {
  const keys = Object.keys(CRD_SCHEMAS);
  for (const k of ['metallb.io/v1beta1/IPAddressPool', 'metallb.io/v1beta2/BGPPeer', 'metallb.io/v1beta1/BGPPeer', 'network.kubesphere.io/v1alpha1/Eip', 'network.kubesphere.io/v1alpha2/BgpPeer']) {
    assert.ok(keys.includes(k), k);
  }
  assert.deepEqual(Object.keys(CRD_SCHEMAS['metallb.io/v1beta1/IPAddressPool']?.properties?.['spec']?.properties ?? {}), ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation']);
});

/** Porter v1alpha1 BgpPeer fields (OpenELB api/v1alpha1/bgppeer_types.go), not served by deploy/crds. */
const PORTER_V1ALPHA1_PEER = ['spec.usingPortForward', 'spec.addPaths'];

function hasPath(schema: FieldSchema | undefined, path: string): boolean {
  let cur = schema;
  for (const part of path.split('.')) {
    const list = part.endsWith('[]');
    cur = cur?.properties?.[list ? part.slice(0, -2) : part];
    if (list) cur = cur?.items;
    if (cur === undefined) return false;
  }
  return true;
}

test('every unimplemented field is a field the CRDs accept for that kind', () => {
  for (const f of UNIMPLEMENTED_FIELDS) {
    if (f.kind === 'network.kubesphere.io/BgpPeer' && PORTER_V1ALPHA1_PEER.includes(f.path)) continue;
    const schemas = Object.entries(CRD_SCHEMAS).filter(([k]) => k.startsWith(`${f.kind.split('/')[0] ?? ''}/`) && k.endsWith(`/${f.kind.split('/')[1] ?? ''}`));
    assert.ok(schemas.length > 0, `${f.kind} has a CRD`);
    assert.ok(schemas.some(([, s]) => hasPath(s, f.path)), `${f.kind} ${f.path} exists in deploy/crds`);
  }
  for (const p of PORTER_V1ALPHA1_PEER) assert.ok(!hasPath(CRD_SCHEMAS['network.kubesphere.io/v1alpha2/BgpPeer'], p), `${p} is v1alpha1-only`);
  assert.ok(UNIMPLEMENTED_FIELDS.some((f) => f.path === 'spec.usingPortForward'));
});
