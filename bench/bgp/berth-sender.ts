// berth as a BGP sender for the benchmark: runs inside the sender namespace, builds the table first,
// then opens the sessions. argv[2] = JSON { v4: count, v6: count, peers: PeerSpec[] }.
import { Speaker, type Advertisement, type PeerSpec } from '../../src/bgp/speaker.ts';
import { nodeTransport } from '../../src/bgp/transport.ts';
import { createLogger } from '../../src/log.ts';
import { benchPrefixes } from './prefixes.ts';

interface Args {
  readonly v4: number;
  readonly v6: number;
  readonly peers: readonly PeerSpec[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const { v4, v6 } = benchPrefixes(args.v4, args.v6);
const ads: Advertisement[] = [...v4, ...v6].map((prefix) => ({ prefix }));
const speaker = new Speaker({ transport: nodeTransport(), logger: createLogger({ level: 'warn', name: 'bench-berth' }) });
speaker.setAdvertisements(ads);
speaker.setPeers(args.peers);
console.log(JSON.stringify({ event: 'ready', prefixes: ads.length }));
process.on('SIGTERM', () => {
  void speaker.stop().finally(() => process.exit(0));
});
