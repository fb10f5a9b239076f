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
import { ACC_CALLS, ACC_CLOCK_MS, ACC_DROPPED, ACC_DROPPED_MS, ACC_IDLE_CALLS, ACC_IDLE_MS, ACC_PACKETS, ACC_POLLS, ACC_TOTAL_MS, ACC_WORDS, STAGES } from "../abi/stages.gen";

// f64 ms per stage, then the ACC_* sums (total ms and calls and packets of timed
// calls, ms and calls of idle polls). A call's marks go to `pend` first and reach `acc` at its end:
// a live loop (pair, tap) polls millions of times with nothing to do, and those
// polls' time is kept apart (stageEndIdle), or it would swamp the cost per packet.
const acc = memory.data(ACC_WORDS * 8, 16);
const pend = memory.data(STAGES * 8, 16);
export let stageTiming = false;
let mark: f64 = 0;
let callStart: f64 = 0;
/** The current timed call's clock gap when it was over dropMs (then the call is dropped), else 0. */
let beginGap: f64 = 0;
// poll() times one poll in `period`, chosen at random (xorshift32, fixed seed):
// evenly spaced samples could fall in step with a loop's own rhythm (pair's
// client and server polls alternate, serve settles in runs of polls).
let period: u32 = 1;
let rng: u32 = 0x9e3779b9;
let dropMs: f64 = Infinity;

/**
 * 0: timers off. 1: poll() times every poll. A power of two k: one poll in k on
 * average (a poll's eight clock reads cost as much as a small poll: sampling
 * keeps the timed run's cost that of the untimed one). The replay batch
 * functions time every batch whatever k is. A timed poll longer than longMs
 * is left out of the sums (counted apart): the thread was descheduled in it, and
 * one such poll, scaled by k, would outweigh thousands of others.
 */
export function stageTimingSet(k: u32, longMs: f64): void {
  stageTiming = k != 0;
  period = k == 0 ? 1 : k;
  dropMs = longMs > 0 ? longMs : Infinity;
}

/** poll(): count the poll, and say whether this one is timed. */
@inline export function stageSample(): bool {
  const p = acc + (<usize>ACC_POLLS << 3);
  store<f64>(p, load<f64>(p) + 1.0);
  if (period == 1) return true;
  let x = rng;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  rng = x;
  return (x & (period - 1)) == 0;
}

/** Zeroes the sums; returns the address of the f64 array (see acc). */
export function stageReset(): usize {
  memory.fill(acc, 0, <usize>ACC_WORDS * 8);
  memory.fill(pend, 0, <usize>STAGES * 8);
  rng = 0x9e3779b9; // the same polls sampled in the same run
  return acc;
}

export function stageAccPtr(): usize {
  return acc;
}

/**
 * Start of a timed call (a batch). The clock is read twice: the gap between the
 * two reads is one read's cost where the stages' reads happen (a call out of
 * wasm into the host, 30-100 ns: as much as a small poll's section). Every
 * interval between two marks holds one such read, so the host subtracts it per
 * mark (host/report/stages.ts corrected()).
 */
@inline export function stageBegin(): void {
  const t0 = hostNowMs();
  mark = hostNowMs();
  callStart = mark;
  // A gap over dropMs is the thread descheduled between the two reads, not a
  // read's cost: it stays out of the clock sum and the poll is dropped
  // (stagePollEnd). Counted, a few ms over the ~40 k timed polls of a pair run
  // raise the mean read by ~100 ns, and a small section less one read a call
  // clamps to 0. The dropped poll's read is still in the divisor (calls + idle
  // + dropped): the mean comes out low by one read in that many.
  const gap = mark - t0;
  beginGap = gap > dropMs ? gap : 0;
  if (beginGap > 0) return;
  const c = acc + (<usize>ACC_CLOCK_MS << 3);
  store<f64>(c, load<f64>(c) + gap);
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
  stageEndAt(n, hostNowMs());
}

/** End of a timed poll: busy or idle, or left out when it took longer than dropMs. */
export function stagePollEnd(n: u32, busy: bool): void {
  const t = hostNowMs();
  if (beginGap > 0 || t - callStart > dropMs) {
    memory.fill(pend, 0, <usize>STAGES * 8);
    const d = acc + (<usize>ACC_DROPPED << 3);
    store<f64>(d, load<f64>(d) + 1.0);
    const dm = acc + (<usize>ACC_DROPPED_MS << 3);
    store<f64>(dm, load<f64>(dm) + (t - callStart) + beginGap);
  } else if (busy) stageEndAt(n, t);
  else stageEndIdleAt(t);
}

@inline function stageEndAt(n: u32, t: f64): void {
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
function stageEndIdleAt(t: f64): void {
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
