// Seeded randomness for `ixwasm gen`: one sequential generator (xoshiro128**) for
// the draws a workload makes in order, and a counter-based hash for values that
// must be recomputable from an index alone (ISNs, key sizes, churn slots), so that
// nothing has to be stored per connection or per key. Only 32-bit integer ops and
// IEEE doubles: the same seed gives the same bytes on every machine.

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

/** xoshiro128** (Blackman & Vigna): fast, 2^128 period, seeded through fmix32. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
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

  /** A uniform 32-bit integer. */
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

  /** A uniform double in (0, 1) with 53 random bits; never exactly 0 or 1. */
  unit(): number {
    const x = this.u32();
    const y = this.u32();
    return ((x >>> 5) * 67108864 + (y >>> 6) + 0.5) / TWO53;
  }

  /** A uniform integer in [0, n), n ≤ 2^32. */
  below(n: number): number {
    return Math.floor(this.unit() * n);
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
