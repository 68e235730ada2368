// Leader election on a coordination.k8s.io/v1 Lease (client-node has none), with client-go's rules:
// - a candidate takes the Lease when it is free (no holderIdentity) or expired: the record (holder,
//   renewTime) has not changed for leaseDurationSeconds *as measured on our own clock* since we first saw
//   it (no trust in other nodes' clocks);
// - writes are optimistic (PUT with resourceVersion): of two candidates, the API server lets one win;
// - the leader renews every retryPeriod; if it cannot renew within renewDeadline it stops leading
//   (onStoppedLeading) before its Lease can expire for others (renewDeadline < leaseDuration);
// - release() on graceful stop clears holderIdentity and sets leaseDurationSeconds to 1, so a standby
//   takes over at its next retry instead of waiting out the lease.
import type { Logger } from '../log.ts';
import { isConflict, isNotFound, type Rest } from './rest.ts';
import { Resources, collectionPath, objectPath } from './resources.ts';

export interface LeaseSpec {
  readonly holderIdentity?: string;
  readonly leaseDurationSeconds?: number;
  readonly acquireTime?: string;
  readonly renewTime?: string;
  readonly leaseTransitions?: number;
}

interface Lease {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: { readonly name: string; readonly namespace: string; readonly resourceVersion?: string; readonly labels?: Readonly<Record<string, string>> };
  readonly spec?: LeaseSpec;
}

export interface LeaderElectionOptions {
  readonly rest: Rest;
  readonly logger: Logger;
  readonly namespace: string;
  readonly name: string;
  readonly identity: string;
  readonly leaseDurationMs?: number;
  readonly renewDeadlineMs?: number;
  readonly retryPeriodMs?: number;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  /** Injected clock (ms). */
  readonly now?: () => number;
}

export interface LeaderElector {
  start(): void;
  isLeader(): boolean;
  /** Stops campaigning; if leading, releases the Lease (holderIdentity cleared). */
  release(): Promise<void>;
  /** Stops campaigning and renewing without touching the Lease (what a crash looks like to others). */
  abandon(): void;
}

/** metav1.MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export function createLeaderElector(opts: LeaderElectionOptions): LeaderElector {
  const log = opts.logger.child({ lease: `${opts.namespace}/${opts.name}`, identity: opts.identity });
  const now = opts.now ?? Date.now;
  const leaseMs = opts.leaseDurationMs ?? LEASE_DEFAULTS.leaseDurationMs;
  const renewMs = opts.renewDeadlineMs ?? LEASE_DEFAULTS.renewDeadlineMs;
  const retryMs = opts.retryPeriodMs ?? LEASE_DEFAULTS.retryPeriodMs;
  const path = objectPath(Resources.leases, opts.namespace, opts.name);
  let leader = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let lastRenew = 0;
  /** The record we last saw and when (our clock): expiry is judged from it. */
  let observed: { record: string; at: number; durationMs: number } | undefined;
  let inFlight: Promise<void> | undefined;

  const body = (spec: LeaseSpec, rv: string | undefined): Lease => ({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: opts.name, namespace: opts.namespace, ...(rv === undefined ? {} : { resourceVersion: rv }), labels: { 'app.kubernetes.io/part-of': 'berth' } },
    spec,
  });

  async function tryAcquireOrRenew(): Promise<boolean> {
    const t = now();
    let lease: Lease | undefined;
    try {
      lease = await opts.rest.request<Lease>('GET', path, { timeoutMs: retryMs * 2 });
    } catch (e) {
      if (!isNotFound(e)) throw e;
    }
    if (lease === undefined) {
      await opts.rest.request<Lease>('POST', collectionPath(Resources.leases, opts.namespace), {
        body: body({ holderIdentity: opts.identity, leaseDurationSeconds: Math.ceil(leaseMs / 1000), acquireTime: microTime(t), renewTime: microTime(t), leaseTransitions: 0 }, undefined),
        timeoutMs: retryMs * 2,
      });
      return true;
    }
    const spec = lease.spec ?? {};
    const record = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}|${String(spec.leaseDurationSeconds ?? '')}`;
    if (observed?.record !== record) observed = { record, at: t, durationMs: (spec.leaseDurationSeconds ?? 0) * 1000 };
    const holder = spec.holderIdentity ?? '';
    const mine = holder === opts.identity;
    if (!mine && holder !== '' && observed.at + observed.durationMs > t) return false;
    const next: LeaseSpec = {
      holderIdentity: opts.identity,
      leaseDurationSeconds: Math.ceil(leaseMs / 1000),
      acquireTime: mine && spec.acquireTime !== undefined ? spec.acquireTime : microTime(t),
      renewTime: microTime(t),
      leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
    };
    await opts.rest.request<Lease>('PUT', path, { body: body(next, lease.metadata.resourceVersion), timeoutMs: retryMs * 2 });
    return true;
  }

  function schedule(ms: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      inFlight = tick().finally(() => (inFlight = undefined));
    }, ms);
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    let got = false;
    try {
      got = await tryAcquireOrRenew();
    } catch (e) {
      if (!isConflict(e)) log.warn({ reason: e instanceof Error ? e.message : String(e) }, leader ? 'cannot renew the lease' : 'cannot acquire the lease');
    }
    if (stopped) return;
    const t = now();
    if (got) {
      lastRenew = t;
      if (!leader) {
        leader = true;
        log.info({ state: 'leading' }, 'became leader');
        opts.onStartedLeading();
      }
    } else if (leader && t - lastRenew > renewMs) {
      leader = false;
      log.error({ state: 'lost', reason: `no renewal for ${String(t - lastRenew)} ms` }, 'lost leadership');
      opts.onStoppedLeading();
    }
    schedule(retryMs);
  }

  return {
    start() {
      schedule(0);
    },
    isLeader: () => leader,
    abandon() {
      stopped = true;
      leader = false;
      if (timer !== undefined) clearTimeout(timer);
    },
    async release() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      if (inFlight !== undefined) await inFlight.catch(() => undefined);
      if (!leader) return;
      leader = false;
      try {
        const lease = await opts.rest.request<Lease>('GET', path, { timeoutMs: 5_000 });
        if (lease.spec?.holderIdentity !== opts.identity) return;
        const { holderIdentity: _h, ...rest } = lease.spec;
        await opts.rest.request('PUT', path, {
          body: body({ ...rest, leaseDurationSeconds: 1, renewTime: microTime(now()) }, lease.metadata.resourceVersion),
          timeoutMs: 5_000,
        });
        log.info({ state: 'released' }, 'released the lease');
      } catch (e) {
        log.warn({ reason: e instanceof Error ? e.message : String(e) }, 'cannot release the lease; it expires by itself');
      }
    },
  };
}
