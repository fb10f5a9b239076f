// Seeded, deterministic fault injection between two endpoints (the idea of
// smoltcp's FaultInjector): loss, duplication, reordering, corruption (one bit
// flip) and a rate limit (token bucket in the caller's clock). Same seed and
// same input order → same faults (mulberry32, host/io/prng.ts).
import { prng } from "./prng.ts";

export interface FaultConfig {
  loss?: number;
  dup?: number;
  reorder?: number;
  corrupt?: number;
  /** Bytes per second the link carries; 0 = unlimited. */
  rateBps?: number;
  seed?: number;
}

export interface FaultCounts {
  passed: number;
  lost: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  rateDropped: number;
}

export class FaultInjector {
  readonly counts: FaultCounts = {
    passed: 0,
    lost: 0,
    duplicated: 0,
    reordered: 0,
    corrupted: 0,
    rateDropped: 0,
  };
  private readonly rnd: () => number;
  private held: Uint8Array | null = null;
  private tokens = 0;
  private lastNs = 0;

  constructor(private readonly cfg: FaultConfig = {}) {
    this.rnd = prng(cfg.seed ?? 1);
  }

  get active(): boolean {
    const c = this.cfg;
    return !!(c.loss || c.dup || c.reorder || c.corrupt || c.rateBps);
  }

  /**
   * Passes one frame (bytes copied when held or corrupted) to emit, zero or more
   * times, at time nowNs. Reordering holds a frame back until the next one passes.
   */
  pass(frame: Uint8Array, nowNs: number, emit: (f: Uint8Array) => void): void {
    const c = this.cfg;
    if (c.rateBps) {
      this.tokens = Math.min(
        this.tokens + ((nowNs - this.lastNs) * c.rateBps) / 1e9,
        c.rateBps / 100 + 65536,
      );
      this.lastNs = nowNs;
      if (this.tokens < frame.length) {
        this.counts.rateDropped++;
        return;
      }
      this.tokens -= frame.length;
    }
    if (c.loss && this.rnd() < c.loss) {
      this.counts.lost++;
      return;
    }
    let f = frame;
    if (c.corrupt && this.rnd() < c.corrupt) {
      f = Uint8Array.from(frame);
      const bit = Math.floor(this.rnd() * f.length * 8);
      f[bit >>> 3] ^= 1 << (bit & 7);
      this.counts.corrupted++;
    }
    const copies = c.dup && this.rnd() < c.dup ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    if (c.reorder && this.held === null && this.rnd() < c.reorder) {
      this.held = f === frame ? Uint8Array.from(frame) : f;
      this.counts.reordered++;
      return;
    }
    for (let i = 0; i < copies; i++) {
      emit(f);
      this.counts.passed++;
    }
    if (this.held) {
      const h = this.held;
      this.held = null;
      emit(h);
      this.counts.passed++;
    }
  }

  /** Releases a held frame (end of a burst). */
  flush(emit: (f: Uint8Array) => void): void {
    if (this.held) {
      const h = this.held;
      this.held = null;
      emit(h);
      this.counts.passed++;
    }
  }
}
