// Seeded generator for the fuzzer: a run is a pure function of its seed, so any
// finding can be regenerated from the seed alone (the reproducer file is the
// shortcut that needs no regeneration).

/** mulberry32: 32-bit state, fast, good enough spread for picking mutations. */
export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0 || 0x9e3779b9;
  }

  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return n <= 1 ? 0 : this.u32() % n;
  }

  /** Integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return this.u32() < p * 4294967296;
  }

  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }

  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 255;
    return b;
  }

  /** A value near a boundary, the kind that breaks length arithmetic. */
  interesting16(): number {
    return this.pick([
      0, 1, 2, 3, 4, 7, 8, 19, 20, 39, 40, 59, 60, 127, 128, 255, 256, 1500, 0x7fff, 0x8000, 0xfffe, 0xffff,
    ]);
  }

  interesting32(): number {
    return this.pick([0, 1, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, this.u32()]);
  }
}
