// The anchor: MetalLB's allocation algorithm (MetalLB internal/allocator/allocator.go getIPFromCIDR) reduced to its core, a
// linear cursor from the first address of the CIDR that returns the first address not in use. Written
// generously (a Set of bigints, no string keys, no sharing checks), so the ratio understates the gap.
export class NaiveLowestFree {
  readonly #first: bigint;
  readonly #last: bigint;
  readonly #used = new Set<bigint>();

  constructor(first: bigint, last: bigint) {
    this.#first = first;
    this.#last = last;
  }

  allocate(): bigint | undefined {
    for (let c = this.#first; c <= this.#last; c++) {
      if (!this.#used.has(c)) {
        this.#used.add(c);
        return c;
      }
    }
    return undefined;
  }

  /** Replay of a status IP (MetalLB `Assign`): a map insert. */
  assign(v: bigint): boolean {
    if (this.#used.has(v)) return false;
    this.#used.add(v);
    return true;
  }

  release(v: bigint): void {
    this.#used.delete(v);
  }
}
