// The one seeded randomness of the host and the tests: a run that draws from it is
// a pure function of its seed, on every machine (32-bit integer ops and IEEE
// doubles only). Two generators share the draws below, because each one's stream
// is part of an output contract that predates this file:
//   Xoshiro128 (xoshiro128**, Blackman & Vigna): `ixwasm gen` — the same seed
//     writes the same bytes, so its captures must not change;
//   Mulberry32: the fault injector (`pair --loss ... --seed`, the fault sweep's
//     seeds), the fuzzer (a finding is regenerated from its seed) and the tests.
// Beside them, a counter-based hash (fmix32, hash3, hashUnit) for values that must
// be recomputable from an index alone (gen's ISNs, key sizes, churn slots).

const TWO32 = 4294967296;
const TWO53 = 9007199254740992;

/** 32-bit finaliser (murmur3 fmix32): a bijection with good avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of (seed, a, b): independent streams for independent uses. */
export function hash3(seed: number, a: number, b: number): number {
  // a may exceed 2^32 (churn connection numbers): fold its high part in.
  const hi = Math.floor(a / TWO32);
  let h = fmix32((seed ^ 0x9e3779b9) >>> 0);
  h = fmix32((h ^ (a >>> 0)) >>> 0);
  h = fmix32((h ^ Math.imul(hi + 1, 0x27d4eb2f)) >>> 0);
  return fmix32((h ^ Math.imul(b + 1, 0x165667b1)) >>> 0);
}

/** A uniform double in (0, 1) from (seed, a, b), never 0 or 1 (quantile functions take logs). */
export function hashUnit(seed: number, a: number, b: number): number {
  const x = hash3(seed, a, b);
  const y = hash3(seed ^ 0x5bd1e995, a, b);
  return ((x >>> 5) * 67108864 + (y >>> 6) + 0.5) / TWO53;
}

/**
 * The draws, over a generator's u32(). Two kinds of integer draw stay apart on
 * purpose (each keeps its user's stream): below(n) scales a 53-bit unit (two
 * u32 draws, no modulo bias; gen), int(n) takes one u32 modulo n (fuzz, where
 * n is small).
 */
export abstract class Rng {
  /** A uniform 32-bit integer. */
  abstract u32(): number;

  /** A uniform double in [0, 1) from one u32 draw (32 random bits). */
  float(): number {
    return this.u32() / TWO32;
  }

  /** A uniform double in (0, 1) with 53 random bits (two draws); never exactly 0 or 1. */
  unit(): number {
    const x = this.u32();
    const y = this.u32();
    return ((x >>> 5) * 67108864 + (y >>> 6) + 0.5) / TWO53;
  }

  /** A uniform integer in [0, n), n ≤ 2^32, through unit(). */
  below(n: number): number {
    return Math.floor(this.unit() * n);
  }

  /** An integer in [0, n) from one draw modulo n. */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** An integer in [lo, hi], through int(). */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * TWO32;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  /** n bytes, one draw each (its low byte). */
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 255;
    return b;
  }
}

/** xoshiro128**: fast, 2^128 period, seeded through fmix32; `stream` picks an independent sequence. */
export class Xoshiro128 extends Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    super();
    let s = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    // splitmix-style seeding: never all-zero state.
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s) || 1;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
  }

  u32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }
}

/** mulberry32: 32-bit state, fast, a good enough spread for fault and mutation picks. Any seed, 0 included. */
export class Mulberry32 extends Rng {
  private s: number;

  constructor(seed: number) {
    super();
    this.s = seed >>> 0;
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
}

/** A seeded source of doubles in [0, 1) (mulberry32), for code that only needs a number. */
export function prng(seed: number): () => number {
  const r = new Mulberry32(seed);
  return () => r.float();
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
