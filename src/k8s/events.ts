// Kubernetes Events (core/v1), as client-go's recorder writes them: asynchronous, never blocking a
// reconcile, a repeat of the same (object, type, reason, message) patches count/lastTimestamp instead of
// creating a new Event, and a bounded backlog (client-go's broadcaster drops when its 1000-slot queue is
// full; so does this, counting what it dropped). Reasons are MetalLB's (MetalLB controller/service.go Service events).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../log.ts';
import { PatchType, isNotFound, type Rest } from './rest.ts';
import { Resources, collectionPath, objectPath } from './resources.ts';

export const EventType = { Normal: 'Normal', Warning: 'Warning' } as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

/** MetalLB's Event reasons, spelled exactly as MetalLB does (MetalLB controller/service.go Service events). */
export const EventReason = {
  IPAllocated: 'IPAllocated',
  AllocationFailed: 'AllocationFailed',
  ClearAssignment: 'ClearAssignment',
  AdditionalAssignFailed: 'AdditionalAssignFailed',
  LoadBalancerFailed: 'LoadBalancerFailed',
  NotEnoughClusterIPs: 'not enough clusterips',
  DeprecatedAnnotation: 'deprecatedAnnotation',
  InternalError: 'InternalError',
  NodeAssigned: 'nodeAssigned',
  AnnounceFailed: 'announceFailed',
  /** berth: a configuration object is invalid (on the object itself). */
  ConfigurationError: 'ConfigurationError',
  /** berth: another MAC answered for a VIP this node answers for (docs/liveness.md). */
  DuplicateOwner: 'duplicateOwner',
} as const;
export type EventReason = (typeof EventReason)[keyof typeof EventReason];

export interface InvolvedObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

export interface EventRecorder {
  record(obj: InvolvedObject, type: EventType, reason: EventReason, message: string): void;
  /** Resolves when the backlog is written. */
  flush(): Promise<void>;
  dropped(): number;
}

export interface RecorderOptions {
  readonly rest: Rest;
  readonly logger: Logger;
  /** source.component / reportingComponent, e.g. berth-controller. */
  readonly component: string;
  /** reportingInstance / source.host (pod or node name). */
  readonly instance: string;
  readonly maxBacklog?: number;
  readonly concurrency?: number;
  /** Where Events of cluster-scoped objects go (default "default"). */
  readonly clusterScopedNamespace?: string;
  /**
   * While it returns true, Events wait (the component has more important writes queued: status comes
   * before the Events that describe it). Checked again every DEFER_POLL_MS.
   */
  readonly defer?: () => boolean;
}

interface Pending {
  readonly obj: InvolvedObject;
  readonly type: EventType;
  readonly reason: EventReason;
  readonly message: string;
  readonly at: string;
}

const MAX_REMEMBERED = 4096;
const DEFER_POLL_MS = 200;
const MESSAGE_LIMIT = 1024;

export function createEventRecorder(opts: RecorderOptions): EventRecorder {
  const log = opts.logger;
  const maxBacklog = opts.maxBacklog ?? 1000;
  const concurrency = opts.concurrency ?? 2;
  const backlog: Pending[] = [];
  const seen = new Map<string, { name: string; namespace: string; count: number }>();
  let running = 0;
  let dropped = 0;
  let waiters: (() => void)[] = [];
  let deferTimer: NodeJS.Timeout | undefined;

  const nsOf = (o: InvolvedObject): string => o.namespace ?? opts.clusterScopedNamespace ?? 'default';

  async function write(p: Pending): Promise<void> {
    const namespace = nsOf(p.obj);
    const key = `${p.obj.kind}/${namespace}/${p.obj.name}/${p.obj.uid ?? ''}|${p.type}|${p.reason}|${p.message}`;
    const prev = seen.get(key);
    if (prev !== undefined) {
      try {
        await opts.rest.request('PATCH', objectPath(Resources.events, prev.namespace, prev.name), {
          body: { count: prev.count + 1, lastTimestamp: p.at },
          contentType: PatchType.Merge,
        });
        prev.count++;
        return;
      } catch (e) {
        if (!isNotFound(e)) throw e;
        seen.delete(key);
      }
    }
    const name = `${p.obj.name}.${randomBytes(8).toString('hex')}`;
    await opts.rest.request('POST', collectionPath(Resources.events, namespace), {
      body: {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace },
        involvedObject: { apiVersion: p.obj.apiVersion, kind: p.obj.kind, name: p.obj.name, ...(p.obj.namespace === undefined ? {} : { namespace: p.obj.namespace }), ...(p.obj.uid === undefined ? {} : { uid: p.obj.uid }) },
        reason: p.reason,
        message: p.message.slice(0, MESSAGE_LIMIT),
        type: p.type,
        source: { component: opts.component, host: opts.instance },
        reportingComponent: opts.component,
        reportingInstance: opts.instance,
        firstTimestamp: p.at,
        lastTimestamp: p.at,
        count: 1,
      },
    });
    if (seen.size >= MAX_REMEMBERED) seen.delete(seen.keys().next().value ?? '');
    seen.set(key, { name, namespace, count: 1 });
  }

  function pump(): void {
    if (backlog.length > 0 && opts.defer?.() === true) {
      deferTimer ??= setTimeout(() => {
        deferTimer = undefined;
        pump();
      }, DEFER_POLL_MS);
      return;
    }
    while (running < concurrency && backlog.length > 0) {
      const p = backlog.shift();
      if (p === undefined) break;
      running++;
      void write(p)
        .catch((e: unknown) => log.debug({ reason: e instanceof Error ? e.message : String(e), event: p.reason }, 'cannot write an Event'))
        .finally(() => {
          running--;
          pump();
          if (running === 0 && backlog.length === 0) {
            const w = waiters;
            waiters = [];
            for (const f of w) f();
          }
        });
    }
  }

  return {
    record(obj, type, reason, message) {
      if (backlog.length >= maxBacklog) {
        dropped++;
        return;
      }
      backlog.push({ obj, type, reason, message, at: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
      pump();
    },
    flush() {
      if (running === 0 && backlog.length === 0) return Promise.resolve();
      return new Promise((r) => waiters.push(r));
    },
    dropped: () => dropped,
  };
}
