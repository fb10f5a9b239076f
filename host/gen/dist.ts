// Distributions of the synthetic workloads, as quantile functions of a uniform
// draw, plus the integer histogram the realised statistics come from.
//
// Parameters are the fits published for Facebook's ETC pool (Atikoglu et al.,
// "Workload Analysis of a Large-Scale Key-Value Store", SIGMETRICS 2012), as the
// mutilate load generator uses them: key size GEV, value size a measured table
// below 15 bytes and a Generalized Pareto above, inter-arrival Generalized Pareto.
import { hashUnit, type Rng } from "../io/prng.ts";

/** ETC key size: Generalized Extreme Value (location, scale, shape). */
export const ETC_KEY = { mu: 30.7984, sigma: 8.20449, xi: 0.078688 };
/** ETC value size above the table: Generalized Pareto (location, scale, shape). */
export const ETC_VALUE = { theta: 15, sigma: 214.476, xi: 0.348238 };
/** ETC inter-arrival per server, in microseconds: Generalized Pareto with location 0. */
export const ETC_IA = { sigmaUs: 16.0292, xi: 0.154971 };
/**
 * Probabilities of ETC value sizes 0..14 bytes (index = size), 44.155 % in all;
 * the remaining mass follows ETC_VALUE.
 */
export const ETC_SMALL_VALUES = [
  0.00536, 0.00047, 0.1782, 0.09239, 0.00018, 0.0274, 0.00065, 0.00606, 0.00023, 0.00837, 0.00837, 0.08989,
  0.00092, 0.00326, 0.0198,
];
export const ETC_GET_RATIO = 30 / 31;
export const USR_GET_RATIO = 0.99;
export const USR_KEY_BYTES = 20;
export const USR_VALUE_BYTES = 2;
/** memcached's default item limit is 1 MiB including key and header: stay under it. */
export const MAX_VALUE = 1_000_000;

/** GEV quantile: μ + σ((−ln u)^(−ξ) − 1)/ξ. */
export function gevQuantile(u: number, mu: number, sigma: number, xi: number): number {
  return mu + (sigma * (Math.pow(-Math.log(u), -xi) - 1)) / xi;
}

/** Generalized Pareto quantile: θ + σ((1 − u)^(−ξ) − 1)/ξ (u and 1 − u are alike, so u is used). */
export function gpdQuantile(u: number, theta: number, sigma: number, xi: number): number {
  return theta + (sigma * (Math.pow(u, -xi) - 1)) / xi;
}

/** Mean of a Generalized Pareto (ξ < 1). */
export function gpdMean(theta: number, sigma: number, xi: number): number {
  return theta + sigma / (1 - xi);
}

const SMALL_CUM = (() => {
  const c = new Float64Array(ETC_SMALL_VALUES.length);
  let s = 0;
  for (let i = 0; i < c.length; i++) c[i] = s += ETC_SMALL_VALUES[i];
  return c;
})();
export const ETC_SMALL_SHARE = SMALL_CUM[SMALL_CUM.length - 1];

/** One ETC value size in bytes: the table below 15 B, else a floored GPD draw, capped at `max`. */
export function etcValueSize(rng: Rng, max: number): number {
  const u = rng.unit();
  if (u < ETC_SMALL_SHARE) {
    let i = 0;
    while (u >= SMALL_CUM[i]) i++;
    return i;
  }
  const v = Math.floor(gpdQuantile(rng.unit(), ETC_VALUE.theta, ETC_VALUE.sigma, ETC_VALUE.xi));
  return v > max ? max : v;
}

/** Mean ETC value size (uncapped; the cap at 1 MB moves it by < 0.01 %). */
export function etcValueMean(): number {
  let m = 0;
  for (let i = 0; i < ETC_SMALL_VALUES.length; i++) m += i * ETC_SMALL_VALUES[i];
  // floor() of a continuous draw lowers its mean by about half a byte.
  return m + (1 - ETC_SMALL_SHARE) * (gpdMean(ETC_VALUE.theta, ETC_VALUE.sigma, ETC_VALUE.xi) - 0.5);
}

/**
 * Zipf ranks 1..n with P(k) ∝ k^−s by rejection-inversion (Hörmann & Derflinger 1996):
 * O(1) per draw and no table, so key spaces of millions cost nothing. s = 0 is uniform.
 */
export class Zipf {
  private readonly hX1: number;
  private readonly hN: number;
  private readonly sC: number;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    this.hX1 = this.hInt(1.5) - 1;
    this.hN = this.hInt(n + 0.5);
    this.sC = 2 - this.hIntInv(this.hInt(2.5) - this.h(2));
  }

  /** ∫ x^−s dx, written with expm1 so s near 1 stays accurate. */
  private hInt(x: number): number {
    const lx = Math.log(x);
    const t = (1 - this.s) * lx;
    return Math.abs(t) < 1e-12 ? lx : (lx * Math.expm1(t)) / t;
  }

  private hIntInv(y: number): number {
    let t = y * (1 - this.s);
    if (t < -1) t = -1; // rounding at the far end of the range
    return Math.exp(Math.abs(t) < 1e-12 ? y : (y * Math.log1p(t)) / t);
  }

  private h(x: number): number {
    return Math.exp(-this.s * Math.log(x));
  }

  // Walker's alias table when the key space is small enough (12 B per key): one
  // uniform draw per sample instead of logs and powers.
  private prob: Float64Array | null = null;
  private alias: Int32Array | null = null;

  /** Builds the alias table (n ≤ 2^22); sample() uses it from then on. */
  buildAlias(): this {
    const n = this.n;
    if (n > 1 << 22 || this.s === 0) return this;
    let total = 0;
    for (let k = 1; k <= n; k++) total += Math.pow(k, -this.s);
    const prob = new Float64Array(n);
    const alias = new Int32Array(n);
    const small: number[] = [];
    const large: number[] = [];
    for (let i = 0; i < n; i++) {
      prob[i] = (Math.pow(i + 1, -this.s) / total) * n;
      (prob[i] < 1 ? small : large).push(i);
    }
    while (small.length && large.length) {
      const l = small.pop()!;
      const g = large[large.length - 1];
      alias[l] = g;
      prob[g] += prob[l] - 1;
      if (prob[g] < 1) small.push(large.pop()!);
    }
    for (const i of large) prob[i] = 1;
    for (const i of small) prob[i] = 1;
    this.prob = prob;
    this.alias = alias;
    return this;
  }

  sample(rng: Rng): number {
    if (this.s === 0) return 1 + rng.below(this.n);
    if (this.prob) {
      const x = rng.unit() * this.n;
      const i = Math.floor(x);
      return (x - i < this.prob[i] ? i : this.alias![i]) + 1;
    }
    for (;;) {
      const u = this.hN + rng.unit() * (this.hX1 - this.hN);
      const x = this.hIntInv(u);
      let k = Math.floor(x + 0.5);
      if (k < 1) k = 1;
      else if (k > this.n) k = this.n;
      if (k - x <= this.sC || u >= this.hInt(k + 0.5) - this.h(k)) return k;
    }
  }
}

/**
 * Key popularity rank → key index: a multiplicative bijection of [0, n) so that the
 * hottest keys are scattered over the key space (and over key sizes).
 */
export class KeyPermutation {
  readonly mul: number;
  readonly inv: number;
  readonly add: number;

  constructor(
    readonly n: number,
    seed: number,
  ) {
    let a = Math.max(1, Math.floor(n * 0.6180339887)) | 1;
    while (gcd(a, n) !== 1) a += 2;
    this.mul = a % n || 1 % n;
    this.inv = n === 1 ? 0 : modInverse(this.mul, n);
    this.add = Math.floor(hashUnit(seed, n, 77) * n);
  }

  /** Index of the key of popularity rank r (1-based). */
  index(r: number): number {
    return (mulMod(r - 1, this.mul, this.n) + this.add) % this.n;
  }

  /** Popularity rank (1-based) of key index i. */
  rank(i: number): number {
    return mulMod((i - this.add + this.n) % this.n, this.inv, this.n) + 1;
  }
}

function mulMod(a: number, b: number, n: number): number {
  // n ≤ 2^26 keeps a·b below 2^53.
  return (a * b) % n;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function modInverse(a: number, n: number): number {
  let [r0, r1] = [n, a % n];
  let [t0, t1] = [0, 1];
  while (r1) {
    const q = Math.floor(r0 / r1);
    [r0, r1] = [r1, r0 - q * r1];
    [t0, t1] = [t1, t0 - q * t1];
  }
  return ((t0 % n) + n) % n;
}

/**
 * Key sizes for a key space, so that sizes weighted by request popularity follow
 * the GEV: keys are walked in index order (random with respect to popularity), each
 * takes a slice of [0, 1) as wide as its request probability, and its size is the
 * quantile at the slice's middle. Per-key draws would not do: under Zipf a handful
 * of hot keys carry a large share of the requests, and their sizes alone would move
 * the mean by several percent.
 */
export function etcKeySizes(perm: KeyPermutation, s: number, minLen: number): Uint8Array {
  const n = perm.n;
  let total = 0;
  for (let r = 1; r <= n; r++) total += Math.pow(r, -s);
  const out = new Uint8Array(n);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const p = Math.pow(perm.rank(i), -s) / total;
    const u = Math.min(Math.max(at + p / 2, 1e-12), 1 - 1e-12);
    at += p;
    out[i] = clampKey(Math.round(gevQuantile(u, ETC_KEY.mu, ETC_KEY.sigma, ETC_KEY.xi)), minLen);
  }
  return out;
}

export function clampKey(len: number, minLen: number): number {
  return len < minLen ? minLen : len > 250 ? 250 : len;
}

/** Expected ETC key size after rounding and clamping to [minLen, 250] (midpoint rule). */
export function etcKeyMean(minLen: number): number {
  const n = 200000;
  let s = 0;
  for (let i = 0; i < n; i++)
    s += clampKey(Math.round(gevQuantile((i + 0.5) / n, ETC_KEY.mu, ETC_KEY.sigma, ETC_KEY.xi)), minLen);
  return s / n;
}

/**
 * Histogram of non-negative integers: exact below 1024, then 128 buckets per power
 * of two (< 0.8 % relative error); the mean is exact. Constant memory.
 */
export class Hist {
  private readonly counts = new Float64Array(1024 + 44 * 128);
  n = 0;
  sum = 0;
  max = 0;

  add(v: number): void {
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
    this.counts[bucketOf(v)]++;
  }

  mean(): number {
    return this.n ? this.sum / this.n : 0;
  }

  /** How many values equal v (exact for v < 1024). */
  countOf(v: number): number {
    return this.counts[bucketOf(v)];
  }

  /** The q-quantile (0..1): the smallest bucket value with cumulative count ≥ q·n. */
  quantile(q: number): number {
    if (!this.n) return 0;
    const want = Math.max(1, Math.ceil(q * this.n));
    let c = 0;
    for (let i = 0; i < this.counts.length; i++) {
      c += this.counts[i];
      if (c >= want) return bucketValue(i);
    }
    return this.max;
  }
}

function bucketOf(v: number): number {
  if (v < 1024) return v < 0 ? 0 : Math.floor(v);
  if (v < 4294967296) {
    // Integer shifts give the same bucket as the division below: ⌊⌊v⌋/2^k⌋ = ⌊v/2^k⌋.
    const x = v >>> 0;
    const e = 31 - Math.clz32(x);
    return 1024 + (e - 10) * 128 + (x >>> (e - 7)) - 128;
  }
  const e = v < 4294967296 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  const sub = Math.floor(v / Math.pow(2, e - 7)) - 128;
  return 1024 + (e - 10) * 128 + Math.min(127, Math.max(0, sub));
}

function bucketValue(i: number): number {
  if (i < 1024) return i;
  const e = 10 + Math.floor((i - 1024) / 128);
  const sub = (i - 1024) % 128;
  return (128 + sub) * Math.pow(2, e - 7);
}
