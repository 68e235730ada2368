// Per-Service BGP attributes end to end (docs/steering.md): two `berth speaker --manifests` processes
// in frr-lab node namespaces (prefix bsat), iBGP to an FRR router (AS 64512), asserting what FRR
// received (`show bgp ipv4 unicast PREFIX json`):
//   tagged    berth.io/bgp-communities "64512:700,no-export,large:1:2:3" + berth.io/bgp-local-pref 250,
//             on top of the BGPAdvertisement's LOCAL_PREF 150 and community 64512:1
//   plain     the BGPAdvertisement's attributes only
//   shared-a / shared-b   one IP (allow-shared-ip), LOCAL_PREF 180 and 300: FRR gets 300 and both communities
// Then removing tagged's annotations gives its prefix the advertisement's attributes back, at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withLab, type Lab } from '../../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const ASN = 64512;
const TAGGED = '203.0.113.50';
const PLAIN = '203.0.113.51';
const SHARED = '203.0.113.52';

interface FrrPath {
  readonly locPrf?: number;
  readonly community?: { readonly string?: string };
  readonly largeCommunity?: { readonly string?: string };
}

const words = (s: string | undefined): string[] => (s ?? '').split(' ').filter((w) => w !== '').sort();

async function paths(lab: Lab, ip: string): Promise<readonly FrrPath[]> {
  const r = await lab.vtyshJson<{ paths?: readonly FrrPath[] }>(`show bgp ipv4 unicast ${ip}/32 json`);
  return r.paths ?? [];
}

/** Each path's LOCAL_PREF, communities and large communities, when every node's path is there. */
async function seen(lab: Lab, ip: string): Promise<{ locPrf: number | undefined; communities: string[]; large: string[] }[] | undefined> {
  const p = await paths(lab, ip);
  return p.length === lab.nodes.length ? p.map((x) => ({ locPrf: x.locPrf, communities: words(x.community?.string), large: words(x.largeCommunity?.string) })) : undefined;
}

const config = [
  'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.48/28"]}',
  `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {myASN: ${ASN}, peerASN: ${ASN}, peerAddress: 192.0.2.1, holdTime: 9s}`,
  'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: adv, namespace: metallb-system}\nspec: {ipAddressPools: [pool], localPref: 150, communities: ["64512:1"]}',
];

function services(tagged: boolean): string[] {
  const sharedSvc = (name: string, lp: string, c: string, port: number): string =>
    serviceDoc(name, { statusIPs: [SHARED], annotations: { 'metallb.io/allow-shared-ip': 'k', 'berth.io/bgp-local-pref': lp, 'berth.io/bgp-communities': c } }).replace('ports: [{port: 80,', `ports: [{port: ${port},`);
  return [
    serviceDoc('tagged', { statusIPs: [TAGGED], ...(tagged ? { annotations: { 'berth.io/bgp-communities': '64512:700,no-export,large:1:2:3', 'berth.io/bgp-local-pref': '250' } } : {}) }),
    serviceDoc('plain', { statusIPs: [PLAIN] }),
    sharedSvc('shared-a', '180', '64512:801', 80),
    sharedSvc('shared-b', '300', '64512:802', 443),
  ];
}

test('per-Service BGP attributes reach FRR on that Service\'s prefix only; a shared IP gets the largest LOCAL_PREF', { timeout: 180_000 }, async (t) => {
  const dir = new ManifestDir();
  try {
    await withLab({ prefix: 'bsat', nodes: 2, router: { asn: ASN, nodeAsn: ASN } }, async (lab) => {
      dir.write('nodes.yaml', lab.nodes.map((n) => nodeDoc(n)));
      dir.write('config.yaml', config);
      dir.write('services.yaml', services(true));
      const speakers = lab.nodes.map((n) => new SpeakerProcess(lab, n, dir.path));
      const logs = async (): Promise<string> =>
        speakers.map((s) => `--- ${s.node.name}\n${s.tail(15)}`).join('\n') + `\n--- FRR\n${await lab.vtysh(['show bgp ipv4 unicast']).catch((e: unknown) => String(e))}`;
      try {
        await t.test('tagged: LOCAL_PREF 250 and the advertisement\'s community plus its own, standard, well-known and large', async () => {
          const s = await waitFor(`${TAGGED}/32 from both nodes`, 60_000, () => seen(lab, TAGGED), logs);
          for (const p of s) assert.deepEqual(p, { locPrf: 250, communities: ['64512:1', '64512:700', 'no-export'], large: ['1:2:3'] });
        });
        await t.test('plain: only the advertisement\'s LOCAL_PREF 150 and community', async () => {
          const s = await waitFor(`${PLAIN}/32 from both nodes`, 30_000, () => seen(lab, PLAIN), logs);
          for (const p of s) assert.deepEqual(p, { locPrf: 150, communities: ['64512:1'], large: [] });
        });
        await t.test('shared IP: LOCAL_PREF 300 (the largest), the communities of both Services, and the speaker warns about the other', async () => {
          const s = await waitFor(`${SHARED}/32 from both nodes`, 30_000, () => seen(lab, SHARED), logs);
          for (const p of s) assert.deepEqual(p, { locPrf: 300, communities: ['64512:1', '64512:801', '64512:802'], large: [] });
          await waitFor('the warning in a speaker log', 10_000, async () =>
            speakers.some((sp) => sp.raw.some((l) => l.includes('180 is not sent') && l.includes('default/shared-b'))) ? true : undefined, logs);
        });
        await t.test('removing the annotations gives tagged the advertisement\'s attributes back', async () => {
          dir.write('services.yaml', services(false));
          await waitFor(`${TAGGED}/32 back to LOCAL_PREF 150`, 30_000, async () => {
            const s = await seen(lab, TAGGED);
            return s?.every((p) => p.locPrf === 150 && p.communities.join() === '64512:1' && p.large.length === 0) === true ? true : undefined;
          }, logs);
        });
      } finally {
        for (const s of speakers) await s.stop();
      }
    });
  } finally {
    dir.remove();
  }
});
