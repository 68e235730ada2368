// The steady-state churn of the scale benchmark: the Services as one document each, and a rotation of
// changes (add a Service, delete one, move one from pool `scale` to pool `alt`), each with what the
// router must show once it is applied. Pure: the runner writes services.yaml and polls the router.
//
// Every Service has a pinned IP (metallb.io/loadBalancerIPs), so one change moves exactly one prefix:
// an unpinned IP is allocated in name order from each snapshot and would shift when a Service before
// it comes or goes (src/speaker/services.ts). The three kinds never touch the same Service: adds take
// new indexes from N up, deletes take indexes from 0 up, moves take indexes from N-1 down, so a change
// still in flight is never undone by a later one.
import { benchPrefix } from '../bgp/table.ts';
import { joinDocuments, serviceDoc } from './manifests.ts';

/** Addresses of 198.18.0.0/15 (RFC 2544) from index 0: the pool `scale` takes MAIN_SIZE of them, `alt` the rest. */
export const MAIN_SIZE = 114_688; // 198.18.0.0 - 198.19.191.255
export const POOLS = { scale: '198.18.0.0-198.19.191.255', alt: '198.19.192.0/18' } as const;
const ALT_SIZE = 16_384;

export const mainIP = (i: number): string => hostOf(benchPrefix('ipv4', i));
const altIP = (k: number): string => hostOf(benchPrefix('ipv4', MAIN_SIZE + (k % ALT_SIZE)));
const hostOf = (prefix: string): string => prefix.slice(0, prefix.indexOf('/'));

export type ChangeKind = 'add' | 'delete' | 'move';
export interface Change {
  readonly kind: ChangeKind;
  readonly service: number;
  /** /32 prefixes the router's RIB must hold once the change is applied. */
  readonly present: readonly string[];
  /** /32 prefixes it must no longer hold. */
  readonly absent: readonly string[];
}

export class Churn {
  readonly #docs = new Map<number, string>();
  #step = 0;
  #nextAdd: number;
  #nextDelete = 0;
  #nextMove: number;
  #moves = 0;

  readonly initial: number;

  constructor(initial: number) {
    this.initial = initial;
    if (initial + 1 > MAIN_SIZE) throw new RangeError(`at most ${MAIN_SIZE - 1} Services fit in pool scale`);
    for (let i = 0; i < initial; i++) this.#docs.set(i, serviceDoc(i, { ip: mainIP(i) }));
    this.#nextAdd = initial;
    this.#nextMove = initial - 1;
  }

  get size(): number {
    return this.#docs.size;
  }

  /** services.yaml as it stands. */
  yaml(): string {
    return joinDocuments(this.#docs.values());
  }

  /** The next change of the rotation, applied to the documents. */
  next(): Change {
    const kind = (['add', 'delete', 'move'] as const)[this.#step++ % 3] ?? 'add';
    if (kind === 'add') {
      const i = this.#nextAdd++;
      if (i >= MAIN_SIZE) throw new RangeError('pool scale exhausted by adds');
      this.#docs.set(i, serviceDoc(i, { ip: mainIP(i) }));
      return { kind, service: i, present: [`${mainIP(i)}/32`], absent: [] };
    }
    if (kind === 'delete') {
      const i = this.#nextDelete++;
      if (i >= this.#nextMove) throw new RangeError('deletes reached the moved Services: run shorter or with more Services');
      this.#docs.delete(i);
      return { kind, service: i, present: [], absent: [`${mainIP(i)}/32`] };
    }
    const i = this.#nextMove--;
    if (i < this.#nextDelete) throw new RangeError('moves reached the deleted Services: run shorter or with more Services');
    const to = altIP(this.#moves++);
    this.#docs.set(i, serviceDoc(i, { ip: to, pool: 'alt' }));
    return { kind, service: i, present: [`${to}/32`], absent: [`${mainIP(i)}/32`] };
  }
}
