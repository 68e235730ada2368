// The speaker's liveness flags, the same in both modes (manifests: src/cli/speaker.ts; Kubernetes:
// src/cli/speaker-k8s.ts, where the Secret is mounted as a file, docs/liveness.md "Deploying"):
//   --liveness-secret-file PATH   turns liveness on; the shared HMAC key (src/liveness/packet.ts parseKey)
//   --liveness-port N             UDP port (default DEFAULT_LIVENESS_PORT)
//   --liveness-interval-ms N      heartbeat interval (default 100)
// extractLivenessFlags takes them out of argv and leaves the rest to the mode's own parser.
import { readFileSync } from 'node:fs';
import { flagTokens } from './args.ts';
import { parseKey } from '../liveness/packet.ts';
import { DEFAULT_LIVENESS_PORT } from '../liveness/driver.ts';
import { DEFAULT_DETECTOR } from '../liveness/detector.ts';

export const LIVENESS_USAGE = `  --liveness-secret-file PATH
                     turn on speaker liveness (docs/liveness.md): heartbeats between the speakers,
                     authenticated with HMAC-SHA256 and this shared key (at least 16 octets; the same
                     on every node); a layer 2 VIP moves within about 0.5 s of its owner's speaker
                     dying, hanging or losing its link. Default: off
  --liveness-port N  UDP port of the liveness heartbeats (default ${DEFAULT_LIVENESS_PORT})
  --liveness-interval-ms N
                     heartbeat interval (default ${DEFAULT_DETECTOR.intervalMs}; a member is dead after ${DEFAULT_DETECTOR.deadAfter} missed intervals)
`;

export interface LivenessFlags {
  readonly secretFile: string | undefined;
  readonly port: number;
  readonly intervalMs: number;
}

export function extractLivenessFlags(argv: readonly string[]): { readonly flags: LivenessFlags; readonly rest: readonly string[] } | string {
  let secretFile: string | undefined;
  let port = DEFAULT_LIVENESS_PORT;
  let intervalMs = DEFAULT_DETECTOR.intervalMs;
  const rest: string[] = [];
  for (const { arg, flag, value } of flagTokens(argv)) {
    switch (flag) {
      case '--liveness-secret-file':
        secretFile = value();
        if (secretFile === undefined || secretFile === '') return '--liveness-secret-file needs a file path';
        break;
      case '--liveness-port': {
        const v = value() ?? '';
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 1 || n > 65535) return `--liveness-port must be a UDP port 1..65535, got "${v}"`;
        port = n;
        break;
      }
      case '--liveness-interval-ms': {
        const v = value() ?? '';
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < 10 || n > 10_000) return `--liveness-interval-ms must be 10..10000 ms, got "${v}"`;
        intervalMs = n;
        break;
      }
      default:
        rest.push(arg);
    }
  }
  return { flags: { secretFile, port, intervalMs }, rest };
}

/** Reads the key file; a string is the problem (the caller exits 2 with it). */
export function readLivenessKey(file: string): Buffer | string {
  try {
    return parseKey(readFileSync(file));
  } catch (e) {
    return `--liveness-secret-file ${file}: ${e instanceof Error ? e.message : String(e)}`;
  }
}
