// BFD as a client of BGP (RFC 5882): sits between the agent and the BGP speaker, runs one BFD session
// per peer that has a BFD profile (PeerSpec.bfd), and lets the BGP session follow it.
//
//   BFD Up -> Down   the BGP session is torn down at once (RFC 5882 §4.3: the client "SHOULD" act on
//                    the Down; §10.2 for BGP): the speaker stops it with a Cease whose communication
//                    names BFD (it may not arrive: the path is down). The peer then has no BGP session
//                    to wait out a hold timer on, and nothing else is withdrawn.
//   held             while BFD is not Up again, the BGP session is not re-created (§4.3: a session
//                    that cannot pass BFD is not brought up, which avoids flapping on a broken path).
//   BFD Down -> Up   the hold ends and the session reconnects as any new one.
//   remote AdminDown the peer turned its BFD off: not a failure, the BGP session stays (RFC 5882 §3.2).
// A BFD session that has never been Up holds nothing: BGP comes up on its own (as FRR does without
// strict mode), so a router without BFD configured still gets its BGP session.
// Stop: a drain sends AdminDown (RFC 5880 §6.8.16) then the Ceases; a planned restart (preserveRoutes)
// closes BFD silently too, so only the router's own settings decide about graceful restart (the C bit
// is clear: our BFD shares fate with the control plane, RFC 5882 §4.3.1).
import type { Logger } from '../../log.ts';
import type { PeerSpec } from '../peer.ts';
import type { Advertisement, SessionStopOptions } from '../speaker.ts';
import type { BfdSessionInfo, BfdSessionSpec, BfdStateChange } from './driver.ts';
import { BFD_DIAG } from './packet.ts';
import { US_PER_MS } from './fsm.ts';

/** What the gate needs of the BGP speaker (src/bgp/speaker.ts Speaker). */
export interface GatedSpeaker {
  setPeers(peers: readonly PeerSpec[], opts?: { readonly removedBecause?: string }): void;
  setAdvertisements(all: readonly Advertisement[]): void;
  stop(opts?: SessionStopOptions | string): Promise<void>;
  sessions(): readonly { readonly peer: string; readonly state: string }[];
  advertised(peer: string): ReadonlyMap<string, unknown>;
}

/** What the gate needs of the BFD driver (driver.ts BfdDriver). */
export interface GatedBfd {
  setSessions(all: readonly BfdSessionSpec[]): void;
  sessions(): readonly BfdSessionInfo[];
  close(opts?: { readonly silent?: boolean }): void;
}

/** The BFD session a peer asks for, or undefined when it has no profile. */
export function bfdSessionFor(peer: PeerSpec): BfdSessionSpec | undefined {
  const b = peer.bfd;
  if (b === undefined) return undefined;
  return {
    peer: peer.name,
    peerAddress: peer.peerAddress,
    ...(peer.sourceAddress !== undefined ? { localAddress: peer.sourceAddress } : {}),
    ...(peer.bindDevice !== undefined ? { device: peer.bindDevice } : {}),
    multihop: peer.ebgpMultiHop === true,
    minimumTtl: b.minimumTtl,
    params: {
      // MetalLB transmitInterval / receiveInterval are FRR's desired / required minimums (RFC 5880 §4.1).
      desiredMinTxUs: b.transmitIntervalMs * US_PER_MS,
      requiredMinRxUs: b.receiveIntervalMs * US_PER_MS,
      detectMult: b.detectMultiplier,
      passive: b.passive,
    },
  };
}

export class BfdGate {
  readonly #speaker: GatedSpeaker;
  readonly #bfd: GatedBfd;
  readonly #log: Logger;
  #peers: readonly PeerSpec[] = [];
  /** Peers whose BGP session is held down by BFD, with why. */
  readonly #held = new Map<string, string>();

  constructor(opts: { readonly speaker: GatedSpeaker; readonly bfd: GatedBfd; readonly logger: Logger }) {
    this.#speaker = opts.speaker;
    this.#bfd = opts.bfd;
    this.#log = opts.logger;
  }

  setPeers(peers: readonly PeerSpec[]): void {
    this.#peers = peers;
    const names = new Set(peers.filter((p) => p.bfd !== undefined).map((p) => p.name));
    // A peer that lost its profile (or went away) is no longer held.
    for (const name of this.#held.keys()) if (!names.has(name)) this.#held.delete(name);
    this.#bfd.setSessions(peers.flatMap((p) => bfdSessionFor(p) ?? []));
    this.#apply();
  }

  setAdvertisements(all: readonly Advertisement[]): void {
    this.#speaker.setAdvertisements(all);
  }

  /** Called by the BFD driver on every state change. */
  onBfdStateChange(c: BfdStateChange): void {
    if (!this.#peers.some((p) => p.name === c.peer && p.bfd !== undefined)) return;
    // Up -> AdminDown is our own stop (the peer removed or re-created): nothing to hold.
    if (c.from === 'Up' && c.to === 'Down' && c.remoteAdminDown === true) {
      // RFC 5882 §3.2: the remote's AdminDown says its BFD was turned off, not that the path failed.
      this.#log.info({ peer: c.peer }, 'BFD: the peer signalled AdminDown; the BGP session is kept (RFC 5882 §3.2)');
    } else if (c.from === 'Up' && c.to === 'Down') {
      const why = `BFD session down (${diagName(c.diag)})`;
      this.#held.set(c.peer, why);
      this.#log.warn({ peer: c.peer, reason: why }, 'BGP session torn down: BFD is down (RFC 5882 §4.3)');
      this.#apply(why);
    } else if (c.to === 'Up' && this.#held.delete(c.peer)) {
      this.#log.info({ peer: c.peer }, 'BFD up again: the BGP session may reconnect');
      this.#apply();
    }
  }

  /** BGP sessions as the speaker has them, held peers as Idle. */
  sessions(): readonly { readonly peer: string; readonly state: string }[] {
    const running = this.#speaker.sessions();
    const held = [...this.#held.keys()].filter((peer) => !running.some((s) => s.peer === peer)).map((peer) => ({ peer, state: 'Idle' }));
    return [...running, ...held];
  }

  advertised(peer: string): ReadonlyMap<string, unknown> {
    return this.#speaker.advertised(peer);
  }

  bfdSessions(): readonly BfdSessionInfo[] {
    return this.#bfd.sessions();
  }

  /** Peers held down by BFD (tests, status). */
  held(): readonly string[] {
    return [...this.#held.keys()];
  }

  async stop(opts: SessionStopOptions | string = {}): Promise<void> {
    const o: SessionStopOptions = typeof opts === 'string' ? { communication: opts } : opts;
    this.#bfd.close({ silent: o.preserveRoutes === true });
    await this.#speaker.stop(o);
  }

  #apply(removedBecause?: string): void {
    const running = this.#peers.filter((p) => !this.#held.has(p.name)).map(withoutBfd);
    this.#speaker.setPeers(running, removedBecause === undefined ? {} : { removedBecause });
  }
}

/** The BGP speaker compares specs to decide on restarts: a BFD profile change must not restart BGP. */
function withoutBfd(p: PeerSpec): PeerSpec {
  if (p.bfd === undefined) return p;
  const { bfd: _bfd, ...rest } = p;
  return rest;
}

function diagName(diag: number): string {
  const entry = Object.entries(BFD_DIAG).find(([, v]) => v === diag);
  return entry === undefined ? `diagnostic ${diag}` : entry[0].toLowerCase().replaceAll('_', ' ');
}
