// BFD between `berth speaker` (manifest mode, BFDProfile + BGPPeer.bfdProfile) and BIRD 2's BFD, in
// frr-lab namespaces (prefix bbfdb): node1 plays the router (BIRD, `bfd on` on the BGP protocol),
// node2 runs berth. The BFD session comes Up on both sides with BIRD's view of the negotiated
// interval; cutting berth's link takes BIRD's BFD session Down and, through it, the BGP session.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createLab, type Lab, type LabHost } from '../../../frr-lab/lab.ts';
import { startBird, type Bird } from '../bgp-interop/peers.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess, waitFor } from './harness.ts';

const BIRD_ASN = 64512;
const NODE_ASN = 64513;
const VIP = '203.0.113.20';
const BERTH = { receiveMs: 250, transmitMs: 200, multiplier: 3 } as const;
const BIRD = { intervalMs: 150, multiplier: 4 } as const;

let lab: Lab;
let bird: Bird;
let rt: LabHost;
let node: LabHost;
let speaker: SpeakerProcess | undefined;
const dir = new ManifestDir();

interface BirdBfdSession {
  readonly address: string;
  readonly state: string;
  /** BIRD's Interval column: its transmit interval in force, seconds. */
  readonly interval: number;
  /** BIRD's Timeout column: its detection time, seconds. */
  readonly timeout: number;
}

/** `show bfd sessions`: "IP address  Interface  State  Since  Interval  Timeout" rows. */
async function bfdSessions(): Promise<BirdBfdSession[]> {
  const text = await bird.birdc(['show', 'bfd', 'sessions']);
  const out: BirdBfdSession[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 6 || !/^\d+\.\d+\.\d+\.\d+$/.test(f[0] ?? '')) continue;
    out.push({ address: f[0] ?? '', state: f[2] ?? '', interval: Number(f.at(-2)), timeout: Number(f.at(-1)) });
  }
  return out;
}

describe('BFD: berth speaker <-> BIRD 2', { timeout: 180_000 }, () => {
  before(async () => {
    lab = await createLab({ prefix: 'bbfdb', nodes: 2, router: false });
    const [a, b] = lab.nodes;
    assert.ok(a !== undefined && b !== undefined);
    rt = a;
    node = b;
    bird = await startBird(
      lab,
      rt,
      'bird',
      [
        `router id ${rt.ipv4};`,
        'protocol device { scan time 1; }',
        `protocol bfd { interface "${rt.iface}" { min rx interval ${BIRD.intervalMs} ms; min tx interval ${BIRD.intervalMs} ms; multiplier ${BIRD.multiplier}; }; }`,
        `protocol bgp e4 { local ${rt.ipv4} as ${BIRD_ASN}; neighbor ${node.ipv4} as ${NODE_ASN}; hold time 240; connect retry time 1; bfd on; ipv4 { import all; export none; }; }`,
        '',
      ].join('\n'),
    );
  });

  after(async () => {
    if (speaker?.running === true) await speaker.stop().catch(() => undefined);
    await lab?.destroy();
    dir.remove();
  });

  it('comes Up; BIRD runs the negotiated interval and detection time; BGP Established', async () => {
    dir.write('config.yaml', [
      'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp-pool, namespace: metallb-system}\nspec: {addresses: ["203.0.113.16/28"]}',
      `apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: fast, namespace: metallb-system}\nspec: {receiveInterval: ${BERTH.receiveMs}, transmitInterval: ${BERTH.transmitMs}, detectMultiplier: ${BERTH.multiplier}}`,
      `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: bird, namespace: metallb-system}\nspec: {myASN: ${NODE_ASN}, peerASN: ${BIRD_ASN}, peerAddress: ${rt.ipv4}, holdTime: 240s, bfdProfile: fast}`,
      'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp-adv, namespace: metallb-system}\nspec: {ipAddressPools: [bgp-pool]}',
      nodeDoc(node),
      serviceDoc('svc-b', { statusIPs: [VIP] }),
    ]);
    const s = new SpeakerProcess(lab, node, dir.path);
    speaker = s;
    const session = await waitFor('BIRD: BFD session Up', 60_000, async () => {
      const x = (await bfdSessions()).find((y) => y.address === node.ipv4);
      return x?.state === 'Up' ? x : undefined;
    }, async () => `${await bird.birdc(['show', 'bfd', 'sessions'])}\n${s.tail()}`);
    // RFC 5880 §6.8.2/§6.8.4 from BIRD's side: it sends every max(its 150 ms, our RX 250 ms) and
    // declares us dead after our multiplier x max(its RX 150 ms, our TX 200 ms).
    await waitFor('BIRD runs the negotiated timers', 30_000, async () => {
      const x = (await bfdSessions()).find((y) => y.address === node.ipv4);
      return x?.interval === Math.max(BIRD.intervalMs, BERTH.receiveMs) / 1000 && x.timeout === (BERTH.multiplier * Math.max(BIRD.intervalMs, BERTH.transmitMs)) / 1000 ? x : undefined;
    }, async () => JSON.stringify([session, await bfdSessions()]));
    await waitFor('BGP Established with BIRD', 60_000, async () => ((await bird.state('e4')) === 'Established' ? true : undefined), async () => s.tail());
    assert.ok(s.lines.some((l) => l['msg'] === 'BFD session up' && l['peer'] === 'bird'), 'berth logged its BFD session Up');
  });

  it("the node's link cut: BIRD's BFD session goes Down and takes the BGP session down with it", async () => {
    // Nothing reaches BIRD any more (no FIN, no NOTIFICATION): only BFD can tell, well before the
    // 240 s hold time.
    await lab.exec(node, ['ip', 'link', 'set', node.iface, 'down']);
    await waitFor('BIRD: BFD session Down', 30_000, async () => ((await bfdSessions()).find((y) => y.address === node.ipv4)?.state === 'Down' ? true : undefined), async () => bird.birdc(['show', 'bfd', 'sessions']));
    const detail = await waitFor('BIRD: BGP down because of BFD', 30_000, async () => {
      const d = await bird.birdc(['show', 'protocols', 'all', 'e4']);
      return (await bird.state('e4')) !== 'Established' && /BFD session down/i.test(d) ? d : undefined;
    }, async () => bird.birdc(['show', 'protocols', 'all', 'e4']));
    assert.match(detail, /Last error:\s+(Error: )?BFD session down/i);
  });
});
