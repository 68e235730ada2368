// OpenELB dialect: namespace-bound Eips by priority, the default Eip, named Eip, protocol, disable,
// implicit sharing of a requested IP, one IP per Service, Eip.status (OpenELB api/v1alpha2/eip_types.go; OpenELB docs and pkg/controllers/lb (Service annotations)).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eip, pool, req, runScenario, sel } from './helpers.ts';
import type { ReqOpts } from './helpers.ts';

const o = (service: string, opts: ReqOpts = {}) => req(service, { dialect: 'openelb', ...opts });
const tcp = (port: number) => [{ protocol: 'TCP' as const, port }];

test('OpenELB allocation', () => {
  runScenario(
    [
      eip('eip-default', '192.0.2.1-192.0.2.2', { isDefault: true }),
      eip('eip-team', '198.51.100.0/30', { namespaces: ['team'], priority: 5 }),
      eip('eip-gold', '198.51.100.4/30', { namespaceSelectors: [sel({ tier: 'gold' })], priority: 1 }),
      eip('eip-l2', '203.0.113.0/30', { protocol: 'layer2' }),
      eip('eip-off', '203.0.113.8/30', { disabled: true }),
      pool('mlb', ['192.0.2.64/28']),
    ],
    [
      { desc: 'unbound namespace: the default Eip', allocate: o('other/a'), want: { ips: ['192.0.2.1'], pool: 'eip-default' } },
      { desc: 'namespaces binding', allocate: o('team/b'), want: { ips: ['198.51.100.1'], pool: 'eip-team' } },
      { desc: 'namespaceSelector binding with a lower priority wins', allocate: o('team/c', { namespaceLabels: { tier: 'gold' } }), want: { ips: ['198.51.100.5'], pool: 'eip-gold' } },
      { desc: 'eip-team again', allocate: o('team/d'), want: { ips: ['198.51.100.2'], pool: 'eip-team' } },
      { desc: 'eip-team full: on to the default Eip (OpenELB would fail)', allocate: o('team/e'), want: { ips: ['192.0.2.2'], pool: 'eip-default' } },
      { desc: 'everything full', allocate: o('team/f'), want: { fail: 'no-available-ips' } },
      { desc: 'named Eip', allocate: o('other/g', { requestedPool: 'eip-l2' }), want: { ips: ['203.0.113.1'], pool: 'eip-l2' } },
      { desc: 'named Eip bypasses the namespace binding', allocate: o('other/g2', { requestedPool: 'eip-team' }), want: { fail: 'no-available-ips' } },
      { desc: 'disabled Eip', allocate: o('other/h', { requestedPool: 'eip-off' }), want: { fail: 'pool-disabled' } },
      { desc: 'protocol layer2: the bgp default Eip does not qualify', allocate: o('other/i', { protocol: 'layer2' }), want: { fail: 'no-default-pool' } },
      { desc: 'protocol layer2 with a named Eip of another protocol', allocate: o('other/i2', { protocol: 'bgp', requestedPool: 'eip-l2' }), want: { fail: 'pool-incompatible' } },
      { desc: 'requested IP', allocate: o('other/j', { ips: ['203.0.113.3'], ports: tcp(80) }), want: { ips: ['203.0.113.3'], pool: 'eip-l2' } },
      { desc: 'requested again by another OpenELB Service: shared without a key', allocate: o('other/k', { ips: ['203.0.113.3'], ports: tcp(443) }), want: { ips: ['203.0.113.3'] } },
      { desc: 'but never on a port already used there', allocate: o('other/l', { ips: ['203.0.113.3'], ports: tcp(80) }), want: { fail: 'port-conflict' } },
      { desc: 'a MetalLB Service has no implicit sharing', allocate: req('other/m', { ips: ['203.0.113.3'], ports: tcp(8080) }), want: { fail: 'ip-in-use' } },
      { desc: 'a MetalLB Service never gets an Eip automatically', allocate: req('other/n'), want: { ips: ['192.0.2.65'], pool: 'mlb' } },
      { desc: 'an OpenELB Service never gets a MetalLB pool automatically', allocate: o('other/n2', { protocol: 'bgp' }), want: { fail: 'no-available-ips' } },
      { desc: 'a goes', release: 'other/a' },
      {
        desc: 'dual-stack Service: one IP of a family it lists',
        allocate: o('other/p', { ipFamilies: ['ipv6', 'ipv4'], ipFamilyPolicy: 'PreferDualStack' }),
        want: { ips: ['192.0.2.1'], pool: 'eip-default' },
      },
      { desc: 'a disabled Eip keeps what status says', restore: o('other/q'), ips: ['203.0.113.9'], want: { ips: ['203.0.113.9'], pool: 'eip-off' } },
      {
        desc: 'Eip.status',
        check: (al) => {
          assert.deepEqual(al.eipStatus('eip-l2'), {
            occupied: false,
            usage: 2,
            poolSize: 4n,
            used: { '203.0.113.1': 'other/g', '203.0.113.3': 'other/j;other/k' },
            firstIP: '203.0.113.0',
            lastIP: '203.0.113.3',
            v4: true,
            ready: true,
          });
          const team = al.eipStatus('eip-team');
          assert.equal(team?.occupied, true);
          assert.equal(team?.usage, 2);
          assert.equal(al.eipStatus('eip-off')?.ready, false);
          assert.equal(al.eipStatus('eip-off')?.usage, 1);
          assert.equal(al.eipStatus('nope'), undefined);
        },
      },
    ],
  );
});

test('OpenELB: no bound Eip and no default Eip', () => {
  runScenario(
    [eip('bound', '192.0.2.0/30', { namespaces: ['x'] })],
    [
      { desc: 'namespace y', allocate: o('y/a'), want: { fail: 'no-default-pool' } },
      { desc: 'namespace x', allocate: o('x/a'), want: { ips: ['192.0.2.1'] } },
    ],
  );
});
