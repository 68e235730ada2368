// berth under test: one `berth speaker --manifests` per node namespace (the integration tests'
// SpeakerProcess), liveness on (shared key, docs/liveness.md), `--l2-threads 0` as in the figures of
// docs/liveness.md. Layer 2: a pool and an L2Advertisement on eth1. BGP: a BGPPeer to the router with
// the variant's holdTime and, for the BFD variant, a MetalLB BFDProfile (docs/bfd.md).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Lab, LabHost } from '../../frr-lab/lab.ts';
import { ManifestDir, nodeDoc, serviceDoc, SpeakerProcess } from '../../test/integration/speaker/harness.ts';
import { BGP_BLOCK, L2_BLOCK, NODE_ASN, ROUTER_ASN, VIPS } from './lab-setup.ts';
import type { Subject } from './subject.ts';

const LIVENESS_PORT = 17950;
const HEALTH_PORT = 17951;

export interface BerthBgp {
  /** BGPPeer.holdTime in seconds; undefined: berth's default. */
  readonly holdTimeS?: number;
  readonly bfd?: { readonly receiveMs: number; readonly transmitMs: number; readonly multiplier: number };
}

export function berthManifests(lab: Lab, mode: { readonly l2: true } | { readonly bgp: BerthBgp }): string[] {
  const docs = lab.nodes.map((n) => nodeDoc(n));
  if ('l2' in mode) {
    docs.push(
      `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: l2, namespace: metallb-system}\nspec: {addresses: ["${L2_BLOCK}"]}`,
      'apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2, namespace: metallb-system}\nspec: {ipAddressPools: [l2], interfaces: [eth1]}',
      serviceDoc('web', { statusIPs: [VIPS.berthL2] }),
    );
    return docs;
  }
  const b = mode.bgp;
  const peer = [`myASN: ${NODE_ASN}`, `peerASN: ${ROUTER_ASN}`, 'peerAddress: 192.0.2.1', ...(b.holdTimeS === undefined ? [] : [`holdTime: ${b.holdTimeS}s`]), ...(b.bfd === undefined ? [] : ['bfdProfile: bench'])];
  docs.push(
    `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: bgp, namespace: metallb-system}\nspec: {addresses: ["${BGP_BLOCK}"]}`,
    `apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: router, namespace: metallb-system}\nspec: {${peer.join(', ')}}`,
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: bgp, namespace: metallb-system}\nspec: {ipAddressPools: [bgp]}',
    serviceDoc('web', { statusIPs: [VIPS.berthBgp] }),
  );
  if (b.bfd !== undefined) docs.push(`apiVersion: metallb.io/v1beta1\nkind: BFDProfile\nmetadata: {name: bench, namespace: metallb-system}\nspec: {receiveInterval: ${b.bfd.receiveMs}, transmitInterval: ${b.bfd.transmitMs}, detectMultiplier: ${b.bfd.multiplier}}`);
  return docs;
}

async function memberUp(lab: Lab, n: LabHost): Promise<number> {
  const r = await lab.exec(n, ['curl', '-s', '-m', '2', `http://127.0.0.1:${HEALTH_PORT}/metrics`], { check: false });
  let sum = 0;
  for (const line of r.stdout.split('\n')) if (line.startsWith('berth_liveness_member_up{')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

export class BerthSubject implements Subject {
  readonly name = 'berth';
  readonly #lab: Lab;
  readonly #dir = new ManifestDir();
  readonly #key: string;
  readonly speakers = new Map<string, SpeakerProcess>();

  constructor(lab: Lab, docs: readonly string[]) {
    this.#lab = lab;
    this.#key = join(lab.workDir, 'liveness.key');
    writeFileSync(this.#key, 'bfo-failover-benchmark-liveness-key-0123\n');
    this.#dir.write('all.yaml', docs);
  }

  start(node: LabHost): Promise<void> {
    this.speakers.set(node.name, new SpeakerProcess(this.#lab, node, this.#dir.path, ['--liveness-secret-file', this.#key, '--liveness-port', String(LIVENESS_PORT), '--health-port', String(HEALTH_PORT), '--l2-threads', '0', '--log-level', 'info']));
    return Promise.resolve();
  }

  #sp(node: LabHost): SpeakerProcess {
    const sp = this.speakers.get(node.name);
    if (sp === undefined) throw new Error(`no berth speaker on ${node.name}`);
    return sp;
  }

  async signal(node: LabHost, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const sp = this.#sp(node);
    if (sig === 'SIGKILL') await sp.signal('SIGKILL');
    else process.kill(sp.pid, sig);
  }

  async stop(node: LabHost): Promise<void> {
    const code = await this.#sp(node).stop();
    if (code !== 0) throw new Error(`berth speaker on ${node.name} exited with ${String(code)} after SIGTERM`);
  }

  async converged(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs;
    for (const n of this.#lab.nodes) {
      while ((await memberUp(this.#lab, n)) !== this.#lab.nodes.length - 1) {
        if (Date.now() > until) throw new Error(`berth on ${n.name} does not hear the other speakers:\n${this.#sp(n).tail(20)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async close(): Promise<void> {
    for (const sp of this.speakers.values()) if (sp.running) await sp.signal('SIGKILL').catch(() => undefined);
    this.#dir.remove();
  }
}
