// BFD in the node runtime (both speaker modes): the driver over src/sys UDP with the real clock and
// Math.random, and the gate that puts it between the agent and the BGP speaker (src/bgp/bfd/gate.ts).
// Kept in its own file so the node runtime only swaps the BGP driver it hands to the agent.
import type { Logger } from '../log.ts';
import type { Speaker } from '../bgp/speaker.ts';
import { BfdDriver } from '../bgp/bfd/driver.ts';
import { BfdGate } from '../bgp/bfd/gate.ts';
import { sysBfdTransport } from '../bgp/bfd/transport.ts';
import { openUdp } from '../sys/index.ts';

export function createBfdGate(speaker: Speaker, log: Logger): BfdGate {
  const driver = new BfdDriver({
    transport: sysBfdTransport(openUdp),
    clock: { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) },
    random: Math.random,
    logger: log,
    // Called only from setSessions on, after `gate` below exists.
    onStateChange: (c) => gate.onBfdStateChange(c),
  });
  const gate = new BfdGate({ speaker, bfd: driver, logger: log });
  return gate;
}
