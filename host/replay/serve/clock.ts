// The serve run's clock and pass. At --speed top the core's clock is the
// capture's timestamps (output is deterministic); at paced speeds it is the wall
// clock. Every part of the run reads the one clock: the poll step stamps polls
// with it, the TX side stamps --out records, the flow step presets at it.

/** Added per --loop pass: more than the serving core's TIME-WAIT (2 × mslMs). */
export const PASS_GAP_S = 3;
/** Top speed: queued work is polled once the capture's clock is this far past the last poll (ns). */
export const MAX_HOLD_NS = 1e6;

export class RunClock {
  // Fields that take fractional or large values start as -0, a double (0 would
  // make them small-integer fields, and their first double would change the
  // object's shape and throw away every optimized method that reads them).
  /** ns since baseSec: capture time (top) or wall time (paced). */
  nowNs = -0;
  /** Paced: PASS_GAP_S per pass, for the core only. */
  clockOffNs = -0;
  /** nowNs at the last poll. */
  polledNs = -0;
  /** The whole second the run's times count from (the first record's, or the wall clock's at start when paced). */
  baseSec = NaN;
  /** The --loop pass (0-based). */
  loop = 0;
  /** This pass's timestamp shift (top: loop × passShiftS). */
  shiftS = -0;
  /** top: timestamps of pass k move by k × this; paced: the schedule's. */
  passShiftS = -0;
  /** One clock in every thread (serve --workers). */
  readonly wallEpochS = performance.timeOrigin / 1000;

  constructor(readonly paced: boolean) {
    if (paced) this.baseSec = Math.floor(this.wallEpochS + performance.now() / 1000);
  }

  /** The wall clock, ns since baseSec. */
  wallNs(): number {
    return (this.wallEpochS - this.baseSec) * 1e9 + performance.now() * 1e6;
  }
}
