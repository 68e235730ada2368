// A small coverage-guided fuzzing loop (libFuzzer's scheme, in TypeScript): keep a corpus, pick an
// entry, apply a few stacked mutations, run the target, and keep the input when it lit a coverage
// feature no earlier input did. Coverage comes from the edge counters test/fuzz/coverage-hooks.mjs
// compiles into src/ (run with `--import ./test/fuzz/coverage.mjs`); without them the loop still
// runs (plain mutation fuzzing), which is what the unit smoke test does.
//
// A finding is anything the target lets escape: an exception that is not the parser's typed error,
// or a broken invariant (the target throws FuzzFinding). Hangs are caught by the runner (bench/fuzz),
// which watches each worker; an input's duration is never asserted here.

export class FuzzFinding extends Error {
  override readonly name = 'FuzzFinding';
}

export interface FuzzTarget {
  readonly name: string;
  /** Seed inputs (the committed corpus is added to these by the runner). */
  seeds(): Buffer[];
  /** Runs one input. Returns normally for a value or a typed error; throws for a finding. */
  run(input: Buffer): void;
  /** Tokens worth splicing in (field names, magic values). */
  readonly dictionary?: readonly Buffer[];
  /** Largest input worth trying. */
  readonly maxLength: number;
  /** Optional repair after mutation (e.g. rewrite a length field so the parser gets past it). */
  fixup?(input: Buffer, rand: Random): Buffer;
}

export interface Finding {
  readonly target: string;
  readonly input: Buffer;
  readonly error: string;
}

/** xorshift128+ : fast, seedable, reproducible runs. */
export class Random {
  private s0: number;
  private s1: number;
  constructor(seed: number) {
    this.s0 = (seed ^ 0x9e3779b9) >>> 0 || 1;
    this.s1 = (seed * 0x85ebca6b) >>> 0 || 2;
  }
  /** An integer in [0, n). */
  below(n: number): number {
    let x = this.s0;
    const y = this.s1;
    this.s0 = y;
    x ^= x << 23;
    x ^= x >>> 17;
    x ^= y ^ (y >>> 26);
    this.s1 = x >>> 0;
    return ((this.s0 + this.s1) >>> 0) % n;
  }
  chance(oneIn: number): boolean {
    return this.below(oneIn) === 0;
  }
}

interface CoverageGlobals {
  __bfzCov?: Uint8Array;
  __bfzHigh?: number;
  __bfzFiles?: [string, number, number][];
}

/** Bucket of an 8-bit hit count, as libFuzzer: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
const BUCKET = new Uint8Array(256).map((_, n) =>
  n === 0 ? 0 : n === 1 ? 1 : n === 2 ? 2 : n === 3 ? 4 : n < 8 ? 8 : n < 16 ? 16 : n < 32 ? 32 : n < 128 ? 64 : 128,
);

/** Reads and resets the edge counters; remembers every (edge, bucket) feature seen. */
export class Coverage {
  private readonly seen = new Uint8Array(1 << 17);
  private edgesHit = 0;
  private featureCount = 0;

  get instrumented(): boolean {
    return (globalThis as CoverageGlobals).__bfzCov !== undefined;
  }
  /** Edges (counters) any input reached. */
  get edges(): number {
    return this.edgesHit;
  }
  /** (edge, hit-count bucket) pairs any input reached. */
  get features(): number {
    return this.featureCount;
  }
  /** Counters in the modules this target reached at least once (its share of src/). */
  get total(): number {
    let n = 0;
    for (const [, first, end] of (globalThis as CoverageGlobals).__bfzFiles ?? []) {
      for (let i = first; i < end; i++) {
        if (this.seen[i] !== 0) {
          n += end - first;
          break;
        }
      }
    }
    return n;
  }
  reset(): void {
    const g = globalThis as CoverageGlobals;
    g.__bfzCov?.fill(0, 0, g.__bfzHigh ?? 0);
  }
  /** Folds the counters of the last run into `seen`; true when something new was reached. */
  collect(): boolean {
    const g = globalThis as CoverageGlobals;
    const cov = g.__bfzCov;
    if (cov === undefined) return false;
    const high = g.__bfzHigh ?? 0;
    let fresh = false;
    for (let i = 0; i < high; i++) {
      const c = cov[i] as number;
      if (c === 0) continue;
      cov[i] = 0;
      const b = BUCKET[c] as number;
      const before = this.seen[i] as number;
      if ((before & b) === 0) {
        if (before === 0) this.edgesHit++;
        this.seen[i] = before | b;
        this.featureCount++;
        fresh = true;
      }
    }
    return fresh;
  }
}

const INTERESTING_8 = [0, 1, 0x7f, 0x80, 0xff, 0xfe, 2, 4, 16, 32, 64];
const INTERESTING_16 = [0, 1, 19, 29, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 4096, 4097, 65535, 18, 23];

/** One mutation of `input` (a new Buffer). */
export function mutate(input: Buffer, rand: Random, corpus: readonly Buffer[], target: FuzzTarget): Buffer {
  let b = Buffer.from(input);
  const max = target.maxLength;
  const stack = 1 + rand.below(4);
  for (let k = 0; k < stack; k++) {
    const at = b.length === 0 ? 0 : rand.below(b.length);
    switch (rand.below(12)) {
      case 0: // flip one bit
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rand.below(8));
        break;
      case 1: // random byte
        if (b.length > 0) b[at] = rand.below(256);
        break;
      case 2: // interesting byte
        if (b.length > 0) b[at] = INTERESTING_8[rand.below(INTERESTING_8.length)] as number;
        break;
      case 3: // interesting 16-bit big-endian value (lengths, AS numbers)
        if (b.length > 1) b.writeUInt16BE(INTERESTING_16[rand.below(INTERESTING_16.length)] as number, rand.below(b.length - 1));
        break;
      case 4: // add or subtract a little (length fields off by a few)
        if (b.length > 0) b[at] = ((b[at] as number) + rand.below(9) - 4) & 0xff;
        break;
      case 5: // delete a run
        if (b.length > 0) b = Buffer.concat([b.subarray(0, at), b.subarray(at + 1 + rand.below(Math.min(16, b.length - at)))]);
        break;
      case 6: // insert random bytes
        if (b.length < max) {
          const n = 1 + rand.below(8);
          const ins = Buffer.alloc(n);
          for (let i = 0; i < n; i++) ins[i] = rand.below(256);
          b = Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
        }
        break;
      case 7: // duplicate a run in place
        if (b.length > 0 && b.length < max) {
          const n = 1 + rand.below(Math.min(32, b.length - at));
          b = Buffer.concat([b.subarray(0, at + n), b.subarray(at, at + n), b.subarray(at + n)]);
        }
        break;
      case 8: // splice in a run of another corpus entry (crossover)
      case 9: {
        const other = corpus[rand.below(corpus.length)];
        if (other !== undefined && other.length > 0) {
          const from = rand.below(other.length);
          const n = 1 + rand.below(Math.min(64, other.length - from));
          const overwrite = rand.chance(2);
          const piece = other.subarray(from, from + n);
          b = overwrite ? Buffer.concat([b.subarray(0, at), piece, b.subarray(at + n)]) : Buffer.concat([b.subarray(0, at), piece, b.subarray(at)]);
        }
        break;
      }
      case 10: // dictionary token
        if (target.dictionary !== undefined && target.dictionary.length > 0) {
          const tok = target.dictionary[rand.below(target.dictionary.length)] as Buffer;
          b = rand.chance(2) ? Buffer.concat([b.subarray(0, at), tok, b.subarray(at)]) : Buffer.concat([b.subarray(0, at), tok, b.subarray(at + tok.length)]);
        } else if (b.length > 0) b[at] = rand.below(256);
        break;
      default: // truncate
        if (b.length > 0) b = b.subarray(0, at);
        break;
    }
  }
  if (b.length > max) b = b.subarray(0, max);
  return target.fixup !== undefined && rand.chance(2) ? target.fixup(b, rand) : b;
}

export interface FuzzStats {
  readonly target: string;
  readonly inputs: number;
  readonly seconds: number;
  readonly corpus: number;
  readonly edges: number;
  readonly features: number;
  readonly instrumentedEdges: number;
  readonly findings: readonly Finding[];
  /** Inputs that reached new coverage (beyond the seeds and corpus), smallest first. */
  readonly fresh: readonly Buffer[];
}

export interface FuzzOptions {
  /** Mutated inputs to run after the seeds. */
  readonly inputs: number;
  readonly seed: number;
  /** Extra corpus entries (the committed corpus). */
  readonly corpus?: readonly Buffer[];
  /** Called before each input, so a watchdog can name the input that hung. */
  readonly onInput?: (input: Buffer) => void;
  /** Called every `progressEvery` inputs. */
  readonly onProgress?: (done: number) => void;
  readonly progressEvery?: number;
  /** Stop collecting after this many distinct findings (default 20). */
  readonly maxFindings?: number;
}

/** Runs `target` on its seeds and corpus, then on `opts.inputs` mutated inputs. */
export function fuzz(target: FuzzTarget, opts: FuzzOptions): FuzzStats {
  const rand = new Random(opts.seed);
  const cov = new Coverage();
  const corpus: Buffer[] = [];
  const findings: Finding[] = [];
  const seenErrors = new Set<string>();
  const maxFindings = opts.maxFindings ?? 20;
  const every = opts.progressEvery ?? 10_000;
  const started = process.hrtime.bigint();

  const runOne = (input: Buffer): boolean => {
    opts.onInput?.(input);
    cov.reset();
    try {
      target.run(input);
    } catch (e) {
      const error = e instanceof Error ? `${e.name}: ${e.message}\n${(e.stack ?? '').split('\n').slice(1, 4).join('\n')}` : String(e);
      const key = error.split('\n').slice(0, 2).join('|').replace(/\d+/g, 'N');
      if (!seenErrors.has(key) && findings.length < maxFindings) {
        seenErrors.add(key);
        findings.push({ target: target.name, input: Buffer.from(input), error });
      }
      cov.collect();
      return false;
    }
    return cov.collect();
  };

  for (const s of [...target.seeds(), ...(opts.corpus ?? [])]) {
    runOne(s);
    corpus.push(s);
  }
  if (corpus.length === 0) corpus.push(Buffer.alloc(0));
  const initial = corpus.length;
  for (let i = 1; i <= opts.inputs; i++) {
    const parent = corpus[rand.below(corpus.length)] as Buffer;
    const child = mutate(parent, rand, corpus, target);
    if (runOne(child)) corpus.push(child);
    if (i % every === 0) opts.onProgress?.(i);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    target: target.name,
    inputs: opts.inputs,
    seconds,
    corpus: corpus.length,
    edges: cov.edges,
    features: cov.features,
    instrumentedEdges: cov.total,
    findings,
    fresh: corpus.slice(initial).sort((a, b) => a.length - b.length),
  };
}
