// The receivers of the BGP table push (bench/bgp/run.ts): the lab router's FRR and a BIRD 2 instance in
// the lab's client namespace (on the same LAN as the senders, AS 64512 like the router). Each answers
// one cheap poll: is the sender's session Established as the receiver sees it, and how many of its
// prefixes does it count. Polled back to back, both give the same figure: Established -> all counted.
import { connect, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Lab, LabHost, SpawnedProcess } from '../../frr-lab/lab.ts';
import type { BenchFamily } from './table.ts';
import { NODE_ASN, ROUTER, Vtysh, afOf, dataOrTimeout, until, type Summary } from '../common/bgp-senders.ts';

export const RECEIVERS = ['frr', 'bird'] as const;
export type ReceiverName = (typeof RECEIVERS)[number];

/** What one poll of the receiver shows for the sender's session. */
export interface SessionView {
  readonly established: boolean;
  /** Prefixes the receiver counts from the sender (FRR pfxRcd, BIRD "Routes: N imported"). */
  readonly count: number;
  /** The session state as the receiver names it, for error messages. */
  readonly state: string;
}

export interface Receiver {
  readonly name: ReceiverName;
  /** One-line description with the version, for the report. */
  readonly version: string;
  /** The address a sender opens its session to. */
  address(family: BenchFamily): string;
  /** One poll of the sender's session (the sender sits at `senderAddress`). */
  poll(family: BenchFamily, senderAddress: string): Promise<SessionView>;
  /** Resolves once the previous sender is gone: no session up, nothing counted, ready to accept. */
  empty(): Promise<void>;
  close(): Promise<void>;
}

// ----------------------------------------------------------------------------------------------- FRR

/** The lab router: `show bgp summary json` over one long-lived vtysh (counters, no table walk). */
export async function frrReceiver(lab: Lab): Promise<Receiver> {
  const version = ((await lab.vtysh('show version')).split('\n')[0] ?? '').trim();
  const vty = new Vtysh(lab);
  return {
    name: 'frr',
    version,
    address: (f) => (f === 'ipv4' ? ROUTER.ipv4 : ROUTER.ipv6),
    async poll(family, senderAddress) {
      const p = afOf(await vty.json<Summary>('show bgp summary json'), family)?.peers?.[senderAddress];
      return { established: p?.state === 'Established', count: p?.pfxRcd ?? 0, state: p?.state ?? 'no session' };
    },
    async empty() {
      // The dynamic neighbour is gone and the RIB is empty.
      await until(
        'FRR receiver dropped the previous sender',
        async () => {
          const s = await lab.vtyshJson<Summary>('show bgp summary json');
          const peers = Object.keys(s.ipv4Unicast?.peers ?? {}).length + Object.keys(s.ipv6Unicast?.peers ?? {}).length;
          return peers === 0 && (s.ipv4Unicast?.ribCount ?? 0) === 0 && (s.ipv6Unicast?.ribCount ?? 0) === 0;
        },
        300_000,
        200,
      );
    },
    close: () => vty.close(),
  };
}

// ---------------------------------------------------------------------------------------------- BIRD

/**
 * BIRD's control socket, one connection kept open: the text `birdc -s SOCKET CMD` prints, without a
 * process start per poll. Every reply line starts with a four-digit code; `-` after it means more
 * lines follow, a space ends the reply (0000 OK, 8xxx/9xxx errors); continuation lines start with a
 * space.
 */
class BirdControl {
  readonly #sock: Socket;
  #buf = '';
  #wake: (() => void) | undefined;
  #closed: Error | undefined;
  private constructor(sock: Socket) {
    this.#sock = sock;
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      this.#buf += d;
      this.#wake?.();
    });
    sock.on('close', () => {
      this.#closed = new Error('BIRD control socket closed');
      this.#wake?.();
    });
    sock.on('error', (e) => {
      this.#closed = e;
      this.#wake?.();
    });
  }
  static async open(path: string): Promise<BirdControl> {
    const sock = connect(path);
    await new Promise<void>((res, rej) => {
      sock.once('connect', res);
      sock.once('error', rej);
    });
    const c = new BirdControl(sock);
    await c.#reply('BIRD greeting', 10_000); // "0001 BIRD 2.0.x ready."
    return c;
  }
  async #reply(what: string, timeoutMs: number): Promise<string> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const end = /^\d{4} .*\n/m.exec(this.#buf);
      if (end !== null) {
        const text = this.#buf.slice(0, end.index + end[0].length);
        this.#buf = this.#buf.slice(text.length);
        const code = end[0].slice(0, 4);
        if (code.startsWith('8') || code.startsWith('9')) throw new Error(`BIRD: ${what}: ${end[0].trim()}`);
        return text;
      }
      if (this.#closed !== undefined) throw new Error(`BIRD: ${what}: ${this.#closed.message}`);
      if (performance.now() > deadline) throw new Error(`BIRD: no answer to ${what}: ${this.#buf.slice(-300)}`);
      await dataOrTimeout(50, (wake) => (this.#wake = wake));
    }
  }
  async command(cmd: string, timeoutMs = 10_000): Promise<string> {
    this.#buf = '';
    this.#sock.write(`${cmd}\n`);
    return this.#reply(cmd, timeoutMs);
  }
  close(): void {
    this.#sock.destroy();
  }
}

/** `show protocols all NAME` -> the BGP state and the imported route count. */
export function parseBirdProtocol(text: string): { readonly state: string; readonly imported: number } {
  const state = /BGP state:\s+(\S+)/.exec(text)?.[1] ?? 'unknown';
  const imported = Number(/Routes:\s+(\d+) imported/.exec(text)?.[1] ?? 0);
  return { state, imported };
}

/**
 * BIRD 2 in the lab's client namespace (a host on the LAN beside the senders), AS 64512 like the
 * router: one passive BGP protocol per family for the sender at the node's address, import all,
 * export none, no kernel protocol (routes stay in BIRD's tables). Short error-wait and connect-delay
 * times so the next sender is accepted soon after the previous one leaves.
 */
export async function birdReceiver(lab: Lab, sender: LabHost): Promise<Receiver> {
  const host = lab.client;
  if (host === undefined) throw new Error('bench/bgp: the BIRD receiver needs the lab client namespace (createLab client: true)');
  const conf = `${lab.workDir}/bird-receiver.conf`;
  const sock = `${lab.workDir}/bird-receiver.ctl`;
  const proto = (f: BenchFamily): string => (f === 'ipv4' ? 'snd4' : 'snd6');
  const common = `passive on; connect delay time 1; error wait time 1, 1; error forget time 1; hold time 90;`;
  await writeFile(
    conf,
    [
      `router id ${host.ipv4};`,
      'protocol device {}',
      `protocol bgp ${proto('ipv4')} { local ${host.ipv4} as ${ROUTER.asn}; neighbor ${sender.ipv4} as ${NODE_ASN}; ${common} ipv4 { import all; export none; }; }`,
      `protocol bgp ${proto('ipv6')} { local ${host.ipv6} as ${ROUTER.asn}; neighbor ${sender.ipv6} as ${NODE_ASN}; ${common} ipv6 { import all; export none; }; }`,
      '',
    ].join('\n'),
  );
  await lab.exec(host, ['bird', '-p', '-c', conf]).catch((e: unknown) => {
    throw new Error(`BIRD receiver: ${conf} rejected: ${String(e)}`);
  });
  const proc: SpawnedProcess = lab.spawn(host, ['bird', '-f', '-c', conf, '-s', sock, '-P', `${lab.workDir}/bird-receiver.pid`]);
  let ctl: BirdControl | undefined;
  await until('BIRD receiver control socket', async () => {
    ctl = await BirdControl.open(sock).catch(() => undefined);
    return ctl !== undefined;
  }, 20_000);
  if (ctl === undefined) throw new Error('BIRD receiver: no control socket');
  const c = ctl;
  const version = (await c.command('show status')).split('\n').find((l) => /BIRD \d/.test(l))?.replace(/^\d{4}[- ]/, '').trim() ?? 'BIRD';
  const view = async (f: BenchFamily): Promise<{ state: string; imported: number }> => parseBirdProtocol(await c.command(`show protocols all ${proto(f)}`));
  return {
    name: 'bird',
    version,
    address: (f) => (f === 'ipv4' ? host.ipv4 : host.ipv6),
    async poll(family) {
      const v = await view(family);
      return { established: v.state === 'Established', count: v.imported, state: v.state };
    },
    async empty() {
      // Both protocols back to listening (Passive; Active if BIRD is connecting; Idle during the short error wait, which
      // would refuse the next sender: wait it out) with nothing imported.
      await until(
        'BIRD receiver dropped the previous sender',
        async () => {
          const v = [await view('ipv4'), await view('ipv6')];
          return v.every((x) => (x.state === 'Passive' || x.state === 'Active') && x.imported === 0);
        },
        300_000,
        200,
      );
    },
    async close() {
      c.close();
      await proc.kill(3000);
    },
  };
}
