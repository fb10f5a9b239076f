// Where a live loop's time goes (pair, tap; issue 16 §1, §6) without the
// clock reads changing it: one iteration in LOOP_SAMPLE is timed part by part
// on the host clock (performance.now(), the clock of the run's rates), another
// one in LOOP_SAMPLE runs its polls with the core's section timers on, and the
// rest run as they would untimed. A part's time over the run is its sampled time,
// less one clock read per part (measured in place: two back-to-back reads at each
// sampled iteration's start), × iterations / sampled iterations.
//
// Long iterations are timed whole instead. The loop reads the clock once per
// iteration anyway (pair: the cores' time; pair workers: the round's), so every
// iteration's length is known: those over LONG_ITER_MS (a GC step, a page fault, a
// preemption) are summed exactly in a row of their own, and a sampled iteration
// that long is left out of the samples. Sampled, one such iteration × LOOP_SAMPLE
// outweighed thousands: 6 of 1,280 samples held 11 % of the sampled time and put
// the estimate 7-11 % above the loop's wall time on a quiet machine (2026-12-07).
import { LOOP_SAMPLE } from "./stages.ts";
export { LOOP_SAMPLE };

/**
 * An iteration longer than this is timed whole, not sampled: well above the
 * one-thread pair's median iteration (1.8-3 µs on the AMD VM; ~11 µs with
 * --stages and 8 connections on an Intel VM, where 10 µs made half of them
 * "long" and left the samples nearly without polls that took frames), below
 * what a GC step or a preemption takes (docs/measurement/cost.md).
 */
export const LONG_ITER_MS = 0.025;
/** A back-to-back pair of clock reads longer than this was interrupted. */
const READ_MAX_MS = 0.001;

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
  /** sampled iterations longer than LONG_ITER_MS: left out (their time is in longMs) */
  dropped = 0;
  /** iterations longer than LONG_ITER_MS (tick to tick) and their whole time, ms */
  long = 0;
  longMs = 0;
  /**
   * The class of the running iteration (the caller's: 1 a poll that took frames,
   * 0 one that did not), and the long iterations of each: see perMark().
   */
  cls = 0;
  readonly longOf = [0, 0];

  private last = -1;
  /** one host clock read, ms, summed over `reads` in-place measurements */
  readMs = 0;
  reads = 0;
  private t = 0;
  private start = 0;
  private rng = 0x9e3779b9;

  constructor(readonly parts: string[]) {
    this.ms = new Float64Array(parts.length);
    this.marks = new Float64Array(parts.length);
    this.pend = new Float64Array(parts.length + 1); // + the spare slot begin() marks
    this.pendN = new Float64Array(parts.length + 1);
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
    // One mark's cost in place, its bookkeeping with its clock read (on a spare
    // slot): every part holds one. Two bare reads left that bookkeeping in the
    // parts, ~3 % of a one-thread pair round trip.
    this.t = performance.now();
    const a = this.t;
    this.mark(this.parts.length);
    this.noteRead(this.t - a);
    this.start = this.t;
  }

  /**
   * Start of a sampled iteration at t, the loop's own clock read at its start:
   * no read is added before its first part (with measureRead() after its end).
   */
  beginAt(t: number): void {
    this.t = t;
    this.start = t;
  }

  /** Measures one host clock read in place (two back-to-back reads): for loops that time every part themselves. */
  measureRead(): void {
    const a = performance.now();
    this.noteRead(performance.now() - a);
  }

  /**
   * A pair of reads that straddles an interrupt or a preemption says nothing of
   * a read's cost (~40 ns here) and, × every read of the run, wiped out the
   * parts under load: left out.
   */
  private noteRead(ms: number): void {
    if (ms > READ_MAX_MS) return;
    this.readMs += ms;
    this.reads++;
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
    const keep = this.t - this.start <= LONG_ITER_MS;
    for (let j = 0; j < this.pend.length; j++) {
      if (keep && j < this.parts.length) {
        this.ms[j] += this.pend[j];
        this.marks[j] += this.pendN[j];
      }
      this.pend[j] = 0;
      this.pendN[j] = 0;
    }
    if (keep) this.sampled++;
    else this.dropped++;
  }

  /**
   * The clock read at an iteration's start (ms, any origin): the previous
   * iteration, if longer than LONG_ITER_MS, goes whole to longMs.
   */
  tick(t: number): void {
    const d = t - this.last;
    const long = this.last >= 0 && d > LONG_ITER_MS;
    if (long) {
      this.long++;
      this.longMs += d;
      this.longOf[this.cls]++;
    }
    this.last = t;
  }

  /** The loop stops ticking at t (a nap follows): closes the running iteration; the next tick starts afresh. */
  pause(t: number): void {
    this.tick(t);
    this.last = -1;
  }

  /** One host clock read, ms (measured in place). */
  readCostMs(): number {
    return this.reads ? this.readMs / this.reads : 0;
  }

  /** Each part's ms over the `iterations` iterations less the long ones: sampled, less one read per mark, scaled. */
  estimate(iterations: number): Record<string, number> {
    const r = this.readCostMs();
    const f = this.sampled ? Math.max(0, iterations - this.long) / this.sampled : 0;
    const out: Record<string, number> = {};
    this.parts.forEach((p, j) => (out[p] = Math.max(0, this.ms[j] - this.marks[j] * r) * f));
    return out;
  }

  /**
   * Part j's mean per mark over the kept samples, less one clock read. A loop
   * whose iterations fall in classes that cost differently (a worker's polls
   * that took frames and those that did not) and that counts each class
   * exactly multiplies this by the count: the samples' mix of classes need not
   * be the run's (a worker's sampled round reads the clock before its poll,
   * which then finds frames more often).
   */
  perMark(j: number): number {
    return this.marks[j] ? Math.max(0, this.ms[j] / this.marks[j] - this.readCostMs()) : 0;
  }

  /**
   * How many times part j ran over the `iterations` iterations less the long
   * ones, estimated from the samples, which hold short iterations only (as
   * estimate()). Scaled to all iterations instead, a part of the short ones (a
   * poll that took nothing) took the long ones' share too: in short pair runs on
   * a slow start, where most iterations with frames were long, the polls with
   * frames came out near 0.
   */
  count(j: number, iterations: number): number {
    return this.sampled ? (this.marks[j] * Math.max(0, iterations - this.long)) / this.sampled : 0;
  }
}

/**
 * Time off the CPU (wall − thread CPU): shown beside the rows, not added to them.
 * The parts are wall time, so what the thread lost inside one is already in it
 * (a write(2) to the tap that wakes the client on this CPU); a row of its own
 * counted that twice and put tap runs 13-39 % over their wall time.
 */
export const OFF_CPU = "off the CPU (wall − thread CPU time, naps and waits apart): inside the rows above";
export const offCpu = (wallMs: number, cpuMs: number): number =>
  Number.isFinite(cpuMs) && cpuMs > 0 ? Math.max(0, wallMs - cpuMs) : 0;
