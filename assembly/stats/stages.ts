// Stage timing: the host's clock (env."performance.now", already imported by
// the core) read at stage boundaries once per batch, never per packet, summed
// per stage in ms. Off unless the host turns it on (stageTimingSet): the plain
// replay batch functions never call it, and poll() pays one branch per section
// per batch.
//
// Stage numbers index the sums; they and the report's names come from one list,
// STAGES in abi/table.ts (assembly/abi/stages.gen.ts here).
@external("env", "performance.now") declare function hostNowMs(): f64;

// S_PARSE..S_DISPATCH: replay raw/track, measured as stage-wise passes over the
// batch (stats/staged.ts). S_TIMERS..S_TX: poll()'s per-batch sections of the
// run-to-completion loop; eth → ip → l4 → events run per frame inside one section
// (they interleave per packet, so they are not split).
export * from "../abi/stages.gen";
import { ACC_CALLS, ACC_IDLE_CALLS, ACC_IDLE_MS, ACC_PACKETS, ACC_TOTAL_MS, ACC_WORDS, STAGES } from "../abi/stages.gen";

// f64 ms per stage, then the ACC_* sums (total ms and calls and packets of timed
// calls, ms and calls of idle polls). A call's marks go to `pend` first and reach `acc` at its end:
// a live loop (pair, tap) polls millions of times with nothing to do, and those
// polls' time is kept apart (stageEndIdle), or it would swamp the cost per packet.
const acc = memory.data(ACC_WORDS * 8, 16);
const pend = memory.data(STAGES * 8, 16);
export let stageTiming = false;
let mark: f64 = 0;
let callStart: f64 = 0;

export function stageTimingSet(on: bool): void {
  stageTiming = on;
}

/** Zeroes the sums; returns the address of the f64 array (see acc). */
export function stageReset(): usize {
  memory.fill(acc, 0, <usize>ACC_WORDS * 8);
  memory.fill(pend, 0, <usize>STAGES * 8);
  return acc;
}

export function stageAccPtr(): usize {
  return acc;
}

/** Start of a timed call (a batch). */
@inline export function stageBegin(): void {
  mark = hostNowMs();
  callStart = mark;
}

/** End of stage s: the time since the last mark is s's. */
@inline export function stageMark(s: i32): void {
  const t = hostNowMs();
  const p = pend + (<usize>s << 3);
  store<f64>(p, load<f64>(p) + (t - mark));
  mark = t;
}

/** End of a timed call of n packets: total (stage marks + the gaps between them). */
@inline export function stageEnd(n: u32): void {
  const t = hostNowMs();
  for (let i: i32 = 0; i < STAGES; i++) {
    const q = pend + (<usize>i << 3);
    const a = acc + (<usize>i << 3);
    store<f64>(a, load<f64>(a) + load<f64>(q));
    store<f64>(q, 0.0);
  }
  const ms = acc + (<usize>ACC_TOTAL_MS << 3);
  store<f64>(ms, load<f64>(ms) + (t - callStart));
  const calls = acc + (<usize>ACC_CALLS << 3);
  store<f64>(calls, load<f64>(calls) + 1.0);
  const pkts = acc + (<usize>ACC_PACKETS << 3);
  store<f64>(pkts, load<f64>(pkts) + <f64>n);
}

/** End of a timed poll that found nothing to do: its time is counted apart, its marks dropped. */
export function stageEndIdle(): void {
  const t = hostNowMs();
  memory.fill(pend, 0, <usize>STAGES * 8);
  const ms = acc + (<usize>ACC_IDLE_MS << 3);
  store<f64>(ms, load<f64>(ms) + (t - callStart));
  const calls = acc + (<usize>ACC_IDLE_CALLS << 3);
  store<f64>(calls, load<f64>(calls) + 1.0);
}

/**
 * Frequency calibration: n iterations of a dependent chain of two single-cycle
 * integer ops (xor then add), so one iteration takes 2 cycles on any core that
 * runs the loop counter in parallel. The host times it and divides: an
 * estimate, used only to label ns as "estimated cycles".
 */
export function calibrateLoop(n: u32, seed: u32): u32 {
  let x = seed;
  for (let i: u32 = 0; i < n; i++) {
    x = (x ^ i) + seed;
  }
  return x;
}
