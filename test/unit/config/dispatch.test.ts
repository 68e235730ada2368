// Dispatch per VIP (DESIGN.md): Service annotation > Eip protocol > advertisements > nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispatch, DecidedBy } from '../../../src/config/dispatch.ts';
import type { PoolProtocol } from '../../../src/config/model.ts';
import { compileYaml, POOL } from './helpers.ts';

const yaml =
  POOL('l2only', '192.0.2.0/28') +
  POOL('bgponly', '192.0.2.16/28') +
  POOL('both', '192.0.2.32/28') +
  POOL('none', '192.0.2.48/28') +
  POOL('selective', '192.0.2.64/28') +
  `
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2, namespace: metallb-system}
spec: {ipAddressPools: [l2only, both, eip-plain-l2]}
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: l2-web, namespace: metallb-system}
spec: {ipAddressPools: [selective], serviceSelectors: [{matchLabels: {app: web}}]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: bgp, namespace: metallb-system}
spec: {ipAddressPools: [bgponly, both, eip-bgp, eip-l2], communities: [no-export]}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: eip-l2}
spec: {address: 198.51.100.0/28, protocol: layer2, interface: eth1}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: eip-bgp}
spec: {address: 198.51.100.16/28, protocol: bgp}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: eip-plain}
spec: {address: 198.51.100.32/28}
---
apiVersion: network.kubesphere.io/v1alpha2
kind: Eip
metadata: {name: eip-plain-l2}
spec: {address: 198.51.100.48/28}
`;

interface Row {
  readonly pool: string;
  readonly annotation?: PoolProtocol;
  readonly labels?: Readonly<Record<string, string>>;
  readonly modes: readonly string[];
  readonly decidedBy: DecidedBy;
  /** Sources of the rules returned, as kind/name. */
  readonly rules: readonly string[];
}

const rows: readonly Row[] = [
  { pool: 'l2only', modes: ['l2'], decidedBy: DecidedBy.Advertisements, rules: ['L2Advertisement/l2'] },
  { pool: 'bgponly', modes: ['bgp'], decidedBy: DecidedBy.Advertisements, rules: ['BGPAdvertisement/bgp'] },
  { pool: 'both', modes: ['bgp', 'l2'], decidedBy: DecidedBy.Advertisements, rules: ['BGPAdvertisement/bgp', 'L2Advertisement/l2'] },
  { pool: 'none', modes: [], decidedBy: DecidedBy.Nothing, rules: [] },
  // The Service annotation wins over the advertisements, and a forced mode without a rule gets defaults.
  { pool: 'both', annotation: 'layer2', modes: ['l2'], decidedBy: DecidedBy.ServiceAnnotation, rules: ['L2Advertisement/l2'] },
  { pool: 'l2only', annotation: 'bgp', modes: ['bgp'], decidedBy: DecidedBy.ServiceAnnotation, rules: ['IPAddressPool/l2only'] },
  { pool: 'none', annotation: 'layer2', modes: ['l2'], decidedBy: DecidedBy.ServiceAnnotation, rules: ['IPAddressPool/none'] },
  // Eip protocol beats the advertisements (a BGPAdvertisement names eip-l2, but it is layer2).
  { pool: 'eip-l2', modes: ['l2'], decidedBy: DecidedBy.PoolProtocol, rules: ['Eip/eip-l2'] },
  { pool: 'eip-bgp', modes: ['bgp'], decidedBy: DecidedBy.PoolProtocol, rules: ['BGPAdvertisement/bgp'] },
  // ...and the Service annotation beats the Eip protocol.
  { pool: 'eip-l2', annotation: 'bgp', modes: ['bgp'], decidedBy: DecidedBy.ServiceAnnotation, rules: ['BGPAdvertisement/bgp'] },
  { pool: 'eip-bgp', annotation: 'layer2', modes: ['l2'], decidedBy: DecidedBy.ServiceAnnotation, rules: ['Eip/eip-bgp'] },
  // An Eip without protocol: the OpenELB default (bgp) unless an advertisement says otherwise.
  { pool: 'eip-plain', modes: ['bgp'], decidedBy: DecidedBy.Advertisements, rules: ['Eip/eip-plain'] },
  { pool: 'eip-plain-l2', modes: ['l2'], decidedBy: DecidedBy.Advertisements, rules: ['L2Advertisement/l2'] },
  // Advertisement serviceSelectors.
  { pool: 'selective', labels: { app: 'web' }, modes: ['l2'], decidedBy: DecidedBy.Advertisements, rules: ['L2Advertisement/l2-web'] },
  { pool: 'selective', labels: { app: 'db' }, modes: [], decidedBy: DecidedBy.Nothing, rules: [] },
  // A pool that is not in the configuration.
  { pool: 'gone', modes: [], decidedBy: DecidedBy.Nothing, rules: [] },
];

const { config, problems } = compileYaml(yaml);

test('dispatch fixture compiles cleanly', () => {
  assert.deepEqual(problems, []);
});

for (const row of rows) {
  test(`dispatch: pool ${row.pool}${row.annotation === undefined ? '' : `, annotation ${row.annotation}`}${row.labels === undefined ? '' : `, labels ${JSON.stringify(row.labels)}`}`, () => {
    const d = dispatch(config, { pool: row.pool, serviceProtocol: row.annotation, serviceLabels: row.labels ?? {} });
    assert.deepEqual(d.modes, row.modes);
    assert.equal(d.decidedBy, row.decidedBy);
    assert.deepEqual([...d.l2Rules, ...d.bgpRules].map((r) => `${r.source.kind}/${r.source.name}`).sort(), [...row.rules].sort());
    if (row.modes.length === 0) assert.ok(d.reason !== undefined && d.reason.length > 0, 'no modes must say why');
  });
}

test('dispatch: a forced L2 default on an Eip uses the Eip interface', () => {
  const d = dispatch(config, { pool: 'eip-bgp', serviceProtocol: 'layer2', serviceLabels: {} });
  assert.deepEqual(d.l2Rules[0]?.interfaces, []);
  const e = dispatch(config, { pool: 'eip-l2', serviceProtocol: undefined, serviceLabels: {} });
  assert.deepEqual(e.l2Rules[0]?.interfaces, [{ kind: 'name', name: 'eth1' }]);
});

test('dispatch: a shared IP is not announced by L2 rules that select Services (MetalLB sharedIPWithServiceSelector)', () => {
  const shared = dispatch(config, { pool: 'selective', serviceProtocol: undefined, serviceLabels: { app: 'web' }, sharingKey: 'k' });
  assert.deepEqual(shared.modes, []);
  assert.match(shared.reason ?? '', /allow-shared-ip/);
  // Rules without serviceSelectors are unaffected by sharing.
  const plain = dispatch(config, { pool: 'both', serviceProtocol: undefined, serviceLabels: {}, sharingKey: 'k' });
  assert.deepEqual(plain.modes, ['bgp', 'l2']);
});
