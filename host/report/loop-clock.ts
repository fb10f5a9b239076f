// Where a live loop's time goes (pair, tap; issue 16 §1, §6) without the
// clock reads changing it: one iteration in LOOP_SAMPLE is timed part by part
// on the host clock (performance.now(), the clock of the run's rates), another
// one in LOOP_SAMPLE runs its polls with the core's section timers on, and the
// rest run as they would untimed. A part's time over the run is its sampled time,
// less one clock read per part (measured in place: two back-to-back reads at each
// sampled iteration's start), × iterations / sampled iterations.
import { LOOP_SAMPLE, POLL_LONG_MS } from "./stages.ts";
export { LOOP_SAMPLE };

/** LoopClock.pick(): this iteration is timed part by part by the host, or runs its polls with the section timers on. */
export const HOST = 0;
export const CORE = 1;

export class LoopClock {
  /** ms per part over the kept sampled iterations (clock reads included), and how many times each part was marked */
  readonly ms: Float64Array;
  readonly marks: Float64Array;
  private readonly pend: Float64Array;
  private readonly pendN: Float64Array;
  sampled = 0;
  /** sampled iterations longer than POLL_LONG_MS: the thread was descheduled; left out */
  dropped = 0;
  /** one host clock read, ms, summed over the sampled iterations */
  readMs = 0;
  private t = 0;
  private start = 0;
  private rng = 0x9e3779b9;

  constructor(readonly parts: string[]) {
    this.ms = new Float64Array(parts.length);
    this.marks = new Float64Array(parts.length);
    this.pend = new Float64Array(parts.length);
    this.pendN = new Float64Array(parts.length);
  }

  /**
   * What this iteration is: HOST (timed part by part), CORE (its polls with the
   * section timers on) or neither. At random (xorshift32, fixed seed), one in
   * LOOP_SAMPLE each: a fixed phase would fall in step with the loop's own
   * rhythm (in the one-thread pair the server takes frames every other iteration).
   */
  pick(): number {
    let x = this.rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.rng = x >>> 0;
    return (x >>> 0) % LOOP_SAMPLE;
  }

  /** Start of a sampled iteration. */
  begin(): void {
    const a = performance.now();
    this.t = performance.now();
    this.readMs += this.t - a;
    this.start = this.t;
  }

  /** End of part j of the sampled iteration. */
  mark(j: number): void {
    const t = performance.now();
    this.pend[j] += t - this.t;
    this.pendN[j]++;
    this.t = t;
  }

  /** End of the sampled iteration. */
  end(): void {
    const keep = this.t - this.start <= POLL_LONG_MS;
    for (let j = 0; j < this.pend.length; j++) {
      if (keep) {
        this.ms[j] += this.pend[j];
        this.marks[j] += this.pendN[j];
      }
      this.pend[j] = 0;
      this.pendN[j] = 0;
    }
    if (keep) this.sampled++;
    else this.dropped++;
  }

  /** One host clock read, ms (measured in place). */
  readCostMs(): number {
    const n = this.sampled + this.dropped;
    return n ? this.readMs / n : 0;
  }

  /** Each part's ms over `iterations` iterations: sampled, less one read per mark, scaled. */
  estimate(iterations: number): Record<string, number> {
    const r = this.readCostMs();
    const f = this.sampled ? iterations / this.sampled : 0;
    const out: Record<string, number> = {};
    this.parts.forEach((p, j) => (out[p] = Math.max(0, this.ms[j] - this.marks[j] * r) * f));
    return out;
  }

  /** How many times part j ran over `iterations` iterations (estimated from the sampled ones). */
  count(j: number, iterations: number): number {
    return this.sampled ? (this.marks[j] * iterations) / this.sampled : 0;
  }
}

/**
 * The sampled parts leave out time the thread was not on a CPU (a sampled
 * iteration it was descheduled in is dropped; on a shared machine that is most
 * of a loaded run's wall time): it has a row of its own, wall − thread CPU time.
 */
export const DESCHEDULED = "the loop's wall time off the CPU (wall − thread CPU time, naps and waits apart)";
export const descheduled = (wallMs: number, cpuMs: number): number =>
  Number.isFinite(cpuMs) && cpuMs > 0 ? Math.max(0, wallMs - cpuMs) : 0;
