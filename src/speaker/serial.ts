// One job at a time, coalescing: both speaker modes (src/speaker/manifest-source.ts, src/k8s/speaker.ts)
// re-plan through this, so changes that arrive while a plan is being applied cause exactly one more
// pass after it, never a second concurrent one.

export interface SerialRunnerOptions {
  /** Once true, calls do nothing and a pending extra pass is dropped. */
  readonly stopped: () => boolean;
  /** A pass that threw (the next change or resync tries again). */
  readonly onError: (e: unknown) => void;
}

/**
 * A function that runs `job`, or, while it runs, marks one more pass and returns the running promise
 * (which settles after that pass).
 */
export function serialRunner(job: () => Promise<void>, opts: SerialRunnerOptions): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;
  return () => {
    if (opts.stopped()) return Promise.resolve();
    if (running !== undefined) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          try {
            await job();
          } catch (e) {
            opts.onError(e);
          }
        } while (again && !opts.stopped());
      } finally {
        running = undefined;
      }
    })();
    return running;
  };
}
