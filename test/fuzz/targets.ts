// The fuzz targets: one per parser berth runs on input it does not control. Each target's run() lets
// only the parser's own typed error through silently; anything else escaping, or a broken invariant
// (FuzzFinding), is a finding. Seeds come from the captured FRR/BIRD/GoBGP messages, the layer 2 test
// vectors, the examples and the upstream MetalLB/OpenELB manifests (test/fuzz/make-corpus.ts writes
// them to test/fuzz/corpus/<target>/, which is what the runner and the smoke test read).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';
import { BgpError, createFramer, decodeMessage, encodeMessage, makeContext, updateRoutes } from '../../src/bgp/codec.ts';
import type { CodecContext } from '../../src/bgp/codec.ts';
import { HEADER_LENGTH } from '../../src/bgp/constants.ts';
import { WireError } from '../../src/bgp/errors.ts';
import { Reader } from '../../src/bgp/wire/reader.ts';
import { readAttributes } from '../../src/bgp/attributes/index.ts';
import { readCapabilities, CapabilityError } from '../../src/bgp/capabilities/index.ts';
import { describeMessage } from '../../src/bgp/describe.ts';
import { decodeControl, encodeControl, BfdDecodeError } from '../../src/bgp/bfd/packet.ts';
import { decodeHeartbeat, encodeHeartbeat, HMAC_BYTES } from '../../src/liveness/packet.ts';
import { answerFrame, COUNTER_SLOTS, type AnswerPort } from '../../src/l2/answer.ts';
import { respondArpDecoded } from '../../src/l2/arp-responder.ts';
import { respondNdpDecoded } from '../../src/l2/ndp-responder.ts';
import { createReplyScratch } from '../../src/l2/frame-bytes.ts';
import { parseManifests } from '../../src/config/manifests.ts';
import { compile } from '../../src/config/compile.ts';
import { parseKubeconfig, KubeConfigError } from '../../src/k8s/kubeconfig.ts';
import { KERNEL_ARP_REQUEST, KERNEL_NS, MAC_B } from '../unit/l2/vectors.ts';
import { FuzzFinding, type FuzzTarget, type Random } from './engine.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CORPUS_DIR = fileURLToPath(new URL('./corpus/', import.meta.url));

function filesUnder(dir: string, match: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, match));
    else if (match(name)) out.push(p);
  }
  return out;
}

/** Every captured BGP message (test/fixtures/bgp/{frr,bird,gobgp}/NNN-*.hex). */
function capturedMessages(): Buffer[] {
  return filesUnder(join(ROOT, 'test/fixtures/bgp'), (n) => n.endsWith('.hex')).map((p) => Buffer.from(readFileSync(p, 'utf8').trim(), 'hex'));
}

const typed = (e: unknown, ...kinds: (abstract new (...a: never[]) => Error)[]): boolean => kinds.some((k) => e instanceof k);

const V4 = { afi: 1, safi: 1 };
const V6 = { afi: 2, safi: 1 };
/** The negotiated contexts berth decodes under (add-path is not implemented, so it is always off). */
export const BGP_CONTEXTS: Readonly<Record<string, CodecContext>> = {
  '2octet': makeContext({ fourOctetAs: false, extendedMessage: false, families: [V4, V6] }),
  '4octet': makeContext({ fourOctetAs: true, extendedMessage: false, families: [V4, V6] }),
  extended: makeContext({ fourOctetAs: true, extendedMessage: true, families: [V4, V6] }),
};

/** Everything the session driver does with a decoded message must work on whatever decoded. */
function useDecoded(buf: Buffer, ctx: CodecContext): void {
  let d;
  try {
    d = decodeMessage(buf, ctx);
  } catch (e) {
    if (typed(e, BgpError)) return;
    throw e;
  }
  describeMessage(d.message);
  if (d.message.type === 'UPDATE') updateRoutes(d.message, d.action);
  // What was accepted must encode again and decode to a value (the Adj-RIB-In keeps decoded attributes;
  // nothing accepted may be unrepresentable). RangeError: larger than the context allows, not a bug.
  let again: Buffer;
  try {
    again = encodeMessage(d.message, ctx);
  } catch (e) {
    if (e instanceof RangeError) return;
    throw new FuzzFinding(`accepted ${d.message.type} does not encode again: ${String(e)}`);
  }
  try {
    decodeMessage(again, ctx);
  } catch (e) {
    throw new FuzzFinding(`accepted ${d.message.type} re-encodes to bytes that do not decode: ${String(e)}`);
  }
}

/** Rewrites a BGP header's length (and a valid marker) so mutations reach the body decoders. */
function fixBgpHeader(b: Buffer, rand: Random): Buffer {
  if (b.length < HEADER_LENGTH) return b;
  const out = Buffer.from(b);
  if (rand.chance(2)) out.fill(0xff, 0, 16);
  out.writeUInt16BE(Math.min(out.length, 0xffff), 16);
  return out;
}

const bgpMessageTarget = (name: string, ctx: CodecContext): FuzzTarget => ({
  name: `bgp-message-${name}`,
  maxLength: ctx.maxMessageSize + 8,
  seeds: capturedMessages,
  fixup: fixBgpHeader,
  run: (input) => useDecoded(input, ctx),
});

/** Stream framing: the first octet picks the context and the chunk sizes, the rest is the stream. */
const bgpFramer: FuzzTarget = {
  name: 'bgp-framer',
  maxLength: 12_000,
  seeds: () => {
    const all = capturedMessages();
    const out: Buffer[] = [];
    for (let i = 0; i + 3 <= all.length; i += 3) out.push(Buffer.concat([Buffer.from([i & 0xff]), ...all.slice(i, i + 3)]));
    return out;
  },
  run: (input) => {
    if (input.length === 0) return;
    const mode = input[0] as number;
    const ctx = (mode & 1) === 1 ? BGP_CONTEXTS['extended'] : BGP_CONTEXTS['4octet'];
    const stream = input.subarray(1);
    const step = 1 + (mode >> 1);
    const framer = createFramer();
    const frames: Buffer[] = [];
    try {
      for (let at = 0; at < stream.length; at += step) {
        framer.push(stream.subarray(at, at + step));
        for (let f = framer.next(ctx as CodecContext); f !== undefined; f = framer.next(ctx as CodecContext)) frames.push(f);
      }
    } catch (e) {
      if (!typed(e, BgpError)) throw e;
    }
    // Invariant: the frames are the stream's first octets, in order, each as long as its header says.
    let at = 0;
    for (const f of frames) {
      if (f.length < HEADER_LENGTH || f.readUInt16BE(16) !== f.length) throw new FuzzFinding(`frame of ${f.length} octets has length field ${f.length >= 18 ? f.readUInt16BE(16) : '?'}`);
      if (!f.equals(stream.subarray(at, at + f.length))) throw new FuzzFinding(`frame at ${at} is not the stream's octets`);
      at += f.length;
      useDecoded(f, ctx as CodecContext);
    }
  },
};

/** The Path Attributes field alone (first octet: 2- or 4-octet AS context). */
const bgpAttributes: FuzzTarget = {
  name: 'bgp-attributes',
  maxLength: 4096,
  seeds: () =>
    capturedMessages()
      .filter((m) => m[18] === 2 && m.length > 23)
      .map((m) => {
        const withdrawn = m.readUInt16BE(19);
        const attrLen = m.readUInt16BE(21 + withdrawn);
        return Buffer.concat([Buffer.from([1]), m.subarray(23 + withdrawn, 23 + withdrawn + attrLen)]);
      }),
  run: (input) => {
    if (input.length === 0) return;
    const ctx = ((input[0] as number) & 1) === 1 ? BGP_CONTEXTS['4octet'] : BGP_CONTEXTS['2octet'];
    try {
      readAttributes(new Reader(input, 1), ctx as CodecContext);
    } catch (e) {
      if (!typed(e, BgpError, WireError)) throw e;
    }
  },
};

/** An OPEN's Capabilities optional parameter value (RFC 5492 §4). */
const bgpCapabilities: FuzzTarget = {
  name: 'bgp-capabilities',
  maxLength: 255,
  seeds: () =>
    capturedMessages()
      .filter((m) => m[18] === 1 && m.length > 29)
      .flatMap((m) => {
        const out: Buffer[] = [];
        const end = 29 + (m[28] as number);
        for (let at = 29; at + 2 <= end; at += 2 + (m[at + 1] as number)) if (m[at] === 2) out.push(m.subarray(at + 2, at + 2 + (m[at + 1] as number)));
        return out;
      }),
  run: (input) => {
    try {
      readCapabilities(new Reader(input));
    } catch (e) {
      if (!typed(e, CapabilityError, BgpError, WireError)) throw e;
    }
  },
};

/** BFD Control packets (RFC 5880 §4.1, §6.8.6). */
const bfdControl: FuzzTarget = {
  name: 'bfd-control',
  maxLength: 128,
  seeds: () => {
    const base = { diag: 0, state: 'Up' as const, poll: false, final: false, controlPlaneIndependent: false, demand: false, detectMult: 3, myDiscriminator: 1, yourDiscriminator: 2, desiredMinTxUs: 300_000, requiredMinRxUs: 300_000, requiredMinEchoRxUs: 0 };
    const auth = Buffer.concat([encodeControl(base), Buffer.from([1, 6, 1, 0x61, 0x62, 0x63])]); // simple password section
    auth[1] = (auth[1] as number) | 0x04; // A bit
    auth[3] = auth.length;
    return [encodeControl(base), encodeControl({ ...base, state: 'Down', yourDiscriminator: 0 }), encodeControl({ ...base, poll: true }), auth];
  },
  run: (input) => {
    try {
      decodeControl(input);
    } catch (e) {
      if (!typed(e, BfdDecodeError)) throw e;
    }
  },
};

const LIVENESS_KEY = Buffer.from('fuzz-liveness-key-0123456789');
/** Liveness heartbeats. When the first octet is odd the rest gets a valid HMAC appended, so the fuzzer
 * reaches the fields behind authentication. */
const livenessHeartbeat: FuzzTarget = {
  name: 'liveness-heartbeat',
  maxLength: 512,
  seeds: () => {
    const h = { node: 'node1', leaving: false, boot: '0011223344556677', seq: 7, sentAt: 1_700_000_000_000, macs: ['02:00:00:00:00:0a'] };
    const packet = encodeHeartbeat(h, LIVENESS_KEY);
    return [Buffer.concat([Buffer.from([1]), packet.subarray(0, packet.length - HMAC_BYTES)]), Buffer.concat([Buffer.from([0]), packet])];
  },
  run: (input) => {
    if (input.length === 0) return;
    const body = input.subarray(1);
    const packet = ((input[0] as number) & 1) === 1 ? Buffer.concat([body, createHmac('sha256', LIVENESS_KEY).update(body).digest()]) : body;
    const r = decodeHeartbeat(packet, LIVENESS_KEY);
    if (r.ok && ((input[0] as number) & 1) === 0 && !packet.equals(input.subarray(1))) throw new FuzzFinding('accepted a packet it did not read');
  },
};

const VIP4 = '192.0.2.11';
const VIP6 = '2001:db8::b';
/** The responders' answer path (answerFrame: the fast path the threads run), checked against the
 * codec-based reference: a reply only where the reference, which decodes and validates the whole
 * frame (RFC 826, RFC 4861 §7.1.1), replies too, with the same octets. */
function l2Target(family: 4 | 6): FuzzTarget {
  const sent: Buffer[] = [];
  const ctx = { mac: MAC_B, owns: (ip: string) => ip === VIP4 || ip === VIP6 };
  const port: AnswerPort = { iface: 'fuzz0', family, ctx, scratch: createReplyScratch(), send: (f) => sent.push(Buffer.from(f)) };
  const counters = new Float64Array(COUNTER_SLOTS);
  const log = { isLevelEnabled: () => false, debug: () => undefined, warn: () => undefined };
  return {
    name: family === 4 ? 'arp-answer' : 'ndp-answer',
    maxLength: 256,
    seeds: () => [family === 4 ? KERNEL_ARP_REQUEST : KERNEL_NS],
    run: (input) => {
      sent.length = 0;
      const replied = answerFrame(port, input, counters, log);
      const reference = family === 4 ? respondArpDecoded(input, ctx) : respondNdpDecoded(input, ctx);
      if (replied !== (reference.kind === 'reply')) throw new FuzzFinding(`fast path ${replied ? 'replied' : 'dropped'}, reference ${reference.kind === 'reply' ? 'replied' : `dropped (${reference.reason})`}`);
      if (replied && reference.kind === 'reply' && !(sent[0] as Buffer).equals(reference.frame)) throw new FuzzFinding('fast path reply differs from the reference reply');
    },
  };
}

/** Manifests (multi-document YAML, JSON) through parseManifests and compile(): problems, never a throw. */
const manifests: FuzzTarget = {
  name: 'manifests',
  maxLength: 4096,
  dictionary: [
    'apiVersion: metallb.io/v1beta1\n', 'apiVersion: metallb.io/v1beta2\n', 'apiVersion: network.kubesphere.io/v1alpha2\n', 'apiVersion: v1\n',
    'kind: IPAddressPool\n', 'kind: L2Advertisement\n', 'kind: BGPAdvertisement\n', 'kind: BGPPeer\n', 'kind: Community\n', 'kind: BFDProfile\n',
    'kind: Eip\n', 'kind: BgpConf\n', 'kind: BgpPeer\n', 'kind: Service\n', 'kind: Node\n', 'kind: List\n', 'items:\n', '---\n', 'metadata:\n  name: a\n',
    'spec:\n', '  addresses:\n  - 192.0.2.0/28\n', '- 2001:db8::/120\n', '- 192.0.2.1-192.0.2.0\n', ': ', '- ', '{', '}', '[', ']', 'null', '~', '&a ', '*a', '!!binary ',
    '<<: *a\n', '0x10', '-1', '1e309', '"', "'", '\t', '\n  ', 'type: LoadBalancer\n', 'ipAddressPools: [a]\n', 'peerAddress: 192.0.2.1\n', 'myASN: 64512\n',
    'peerASN: 4294967295\n', 'holdTime: 0s\n', 'communities: [65535:65281]\n', 'aggregationLength: 33\n', 'metallb.io/loadBalancerIPs: 192.0.2.5\n',
  ].map((t) => Buffer.from(t)),
  seeds: () =>
    [...filesUnder(join(ROOT, 'examples'), (n) => /\.(ya?ml|json)$/.test(n)), ...filesUnder(join(ROOT, 'test/fixtures/upstream'), (n) => /\.(ya?ml|json)$/.test(n))]
      .map((p) => readFileSync(p))
      .filter((b) => b.length <= 4096),
  run: (input) => {
    const result = parseManifests([{ path: 'fuzz.yaml', text: input.toString('utf8') }]);
    compile(result.snapshot);
  },
};

/** Kubeconfig files: the selection, or a KubeConfigError naming the field. */
const kubeconfig: FuzzTarget = {
  name: 'kubeconfig',
  maxLength: 2048,
  dictionary: ['clusters:\n', 'users:\n', 'contexts:\n', 'current-context: a\n', '- name: a\n', '  cluster:\n', '  user:\n', '  context:\n', '    server: https://192.0.2.1:6443\n', '    token: x\n', '    certificate-authority-data: AAAA\n', '    insecure-skip-tls-verify: true\n', '    exec: {}\n', 'null', '[]', '{}', '~', '1'].map((t) => Buffer.from(t)),
  seeds: () => [
    Buffer.from('apiVersion: v1\nkind: Config\nclusters:\n- name: a\n  cluster:\n    server: https://192.0.2.1:6443\n    certificate-authority-data: AAAA\nusers:\n- name: u\n  user:\n    token: abc\ncontexts:\n- name: c\n  context:\n    cluster: a\n    user: u\ncurrent-context: c\n'),
    Buffer.from('clusters:\n- cluster: {server: "https://[2001:db8::1]:6443", insecure-skip-tls-verify: true}\nusers:\n- user: {username: a, password: b}\n'),
    Buffer.from('{"clusters":[{"name":"a","cluster":{"server":"https://192.0.2.1"}}],"users":[{"name":"a","user":{"client-certificate":"c.crt","client-key":"c.key"}}]}'),
  ],
  run: (input) => {
    try {
      parseKubeconfig(input.toString('utf8'), 'fuzz');
    } catch (e) {
      if (!typed(e, KubeConfigError)) throw e;
    }
  },
};

export const TARGETS: readonly FuzzTarget[] = [
  bgpFramer,
  ...Object.entries(BGP_CONTEXTS).map(([name, ctx]) => bgpMessageTarget(name, ctx)),
  bgpAttributes,
  bgpCapabilities,
  l2Target(4),
  l2Target(6),
  bfdControl,
  livenessHeartbeat,
  manifests,
  kubeconfig,
];

export function targetNamed(name: string): FuzzTarget {
  const t = TARGETS.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no fuzz target "${name}"; targets: ${TARGETS.map((x) => x.name).join(', ')}`);
  return t;
}

/** The committed corpus of a target (test/fuzz/corpus/<name>/*). Missing: a loud error. */
export function committedCorpus(name: string): Buffer[] {
  const dir = join(CORPUS_DIR, name);
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    throw new Error(`fuzz corpus ${dir} is missing: run node --import tsx test/fuzz/make-corpus.ts`);
  }
  return names.map((n) => readFileSync(join(dir, n)));
}
