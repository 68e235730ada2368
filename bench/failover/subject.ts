// What the trials need from a system under test (berth, keepalived, MetalLB's speaker): start it on a
// node, signal its processes there, stop it gracefully, and wait until its members see each other.
import type { LabHost } from '../../frr-lab/lab.ts';

export interface Subject {
  /** Shown in the table. */
  readonly name: string;
  /** Starts it on the node (again); resolves when its process runs, not when it converged. */
  start(node: LabHost): Promise<void>;
  /** Sends `sig` to every process it runs on the node (SIGKILL: and waits until they are gone). */
  signal(node: LabHost, sig: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void>;
  /** SIGTERM, and waits for the exit (the graceful stop of a rolling upgrade). */
  stop(node: LabHost): Promise<void>;
  /** Waits until every running member sees every other (its own liveness view), or throws. */
  converged(timeoutMs: number): Promise<void>;
  /** Stops it everywhere. */
  close(): Promise<void>;
}
