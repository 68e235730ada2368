// A set of integers (addresses) kept as sorted, disjoint, maximal runs [lo, hi], stored in chunks of at
// most CHUNK_MAX runs so that insert/delete cost O(log n + CHUNK_MAX) instead of O(n) array moves.
//
// The allocator keeps the *used* addresses here, so memory grows with the number of allocations and
// never with pool size: an IPv6 /64 costs nothing until addresses are handed out. Finding a free
// address is `nextAbsent(x)`: one binary search, then a jump over the run that holds x (runs are maximal,
// so run.hi + 1 is always absent).

const CHUNK_MAX = 128;

interface Run {
  lo: bigint;
  hi: bigint;
}

interface Pos {
  readonly chunk: number;
  readonly index: number;
}

export class IntervalSet {
  #chunks: Run[][] = [];
  #size = 0;

  /** Number of members. */
  get size(): number {
    return this.#size;
  }

  /** Number of runs (for tests and memory accounting). */
  get runCount(): number {
    let n = 0;
    for (const c of this.#chunks) n += c.length;
    return n;
  }

  #run(p: Pos): Run {
    const r = this.#chunks[p.chunk]?.[p.index];
    if (r === undefined) throw new Error('IntervalSet: position out of bounds');
    return r;
  }

  /** Position of the run with the greatest lo <= x, or undefined. */
  #pred(x: bigint): Pos | undefined {
    const chunks = this.#chunks;
    let lo = 0;
    let hi = chunks.length - 1;
    let ci = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const first = chunks[mid]?.[0];
      if (first !== undefined && first.lo <= x) {
        ci = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (ci < 0) return undefined;
    const chunk = chunks[ci] ?? [];
    let a = 0;
    let b = chunk.length - 1;
    let ri = 0;
    while (a <= b) {
      const mid = (a + b) >> 1;
      const r = chunk[mid];
      if (r !== undefined && r.lo <= x) {
        ri = mid;
        a = mid + 1;
      } else b = mid - 1;
    }
    return { chunk: ci, index: ri };
  }

  #next(p: Pos | undefined): Pos | undefined {
    if (p === undefined) return this.#chunks.length > 0 ? { chunk: 0, index: 0 } : undefined;
    const chunk = this.#chunks[p.chunk];
    if (chunk !== undefined && p.index + 1 < chunk.length) return { chunk: p.chunk, index: p.index + 1 };
    return p.chunk + 1 < this.#chunks.length ? { chunk: p.chunk + 1, index: 0 } : undefined;
  }

  #insertAfter(p: Pos | undefined, run: Run): void {
    if (this.#chunks.length === 0) {
      this.#chunks.push([run]);
      return;
    }
    const ci = p === undefined ? 0 : p.chunk;
    const at = p === undefined ? 0 : p.index + 1;
    const chunk = this.#chunks[ci];
    if (chunk === undefined) throw new Error('IntervalSet: chunk out of bounds');
    chunk.splice(at, 0, run);
    if (chunk.length > CHUNK_MAX) {
      const half = chunk.splice(chunk.length >> 1);
      this.#chunks.splice(ci + 1, 0, half);
    }
  }

  #remove(p: Pos): void {
    const chunk = this.#chunks[p.chunk];
    if (chunk === undefined) return;
    chunk.splice(p.index, 1);
    if (chunk.length === 0) this.#chunks.splice(p.chunk, 1);
  }

  has(x: bigint): boolean {
    const p = this.#pred(x);
    return p !== undefined && this.#run(p).hi >= x;
  }

  /** The smallest y >= x that is not in the set. */
  nextAbsent(x: bigint): bigint {
    const p = this.#pred(x);
    if (p === undefined) return x;
    const r = this.#run(p);
    return r.hi >= x ? r.hi + 1n : x;
  }

  /** Add x; false if it was already there. */
  add(x: bigint): boolean {
    const p = this.#pred(x);
    const pr = p === undefined ? undefined : this.#run(p);
    if (pr !== undefined && pr.hi >= x) return false;
    const s = this.#next(p);
    const sr = s === undefined ? undefined : this.#run(s);
    const joinsPrev = pr !== undefined && pr.hi + 1n === x;
    const joinsNext = sr !== undefined && sr.lo === x + 1n;
    if (joinsPrev && joinsNext && s !== undefined) {
      pr.hi = sr.hi;
      this.#remove(s);
    } else if (joinsPrev) {
      pr.hi = x;
    } else if (joinsNext) {
      sr.lo = x;
    } else {
      this.#insertAfter(p, { lo: x, hi: x });
    }
    this.#size++;
    return true;
  }

  /** Remove x; false if it was not there. */
  delete(x: bigint): boolean {
    const p = this.#pred(x);
    if (p === undefined) return false;
    const r = this.#run(p);
    if (r.hi < x) return false;
    if (r.lo === r.hi) this.#remove(p);
    else if (r.lo === x) r.lo = x + 1n;
    else if (r.hi === x) r.hi = x - 1n;
    else {
      const tail = { lo: x + 1n, hi: r.hi };
      r.hi = x - 1n;
      this.#insertAfter(p, tail);
    }
    this.#size--;
    return true;
  }

  /** The runs in ascending order (copies). */
  *runs(): Generator<{ readonly lo: bigint; readonly hi: bigint }> {
    for (const c of this.#chunks) for (const r of c) yield { lo: r.lo, hi: r.hi };
  }
}
