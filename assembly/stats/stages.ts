// Stage timing: the host's clock (env."performance.now", already imported by
// the core) read at stage boundaries once per batch, never per packet, summed
// per stage in ms. Off unless the host turns it on (stageTimingSet): the plain
// replay batch functions never call it, and poll() pays one branch per section
// per batch.
//
// Stage numbers are the index into one list the host mirrors
// (host/report/stages.ts STAGE_NAMES).
@external("env", "performance.now") declare function hostNowMs(): f64;

// replay raw/track, measured as stage-wise passes over the batch (stats/staged.ts)
export const S_PARSE: i32 = 0; //     link → IP → ports, Toeplitz hash (one walk: flow/extract.ts tupleHash)
export const S_LOOKUP: i32 = 1; //    flow-table lookup/insert (track)
export const S_TCP: i32 = 2; //       passive TCP tracking (track's TCP input)
export const S_DISPATCH: i32 = 3; //  RETA → worker, per-worker count, verdict, batch counters
// poll(): per-batch sections of the run-to-completion loop; eth → ip → l4 → events
// run per frame inside one section (they interleave per packet, so they are not split)
export const S_TIMERS: i32 = 4; //    reclaim sent frames, timers
export const S_RX_INPUT: i32 = 5; //  RX burst + eth → ip → tcp/udp/icmp input per frame
export const S_APP: i32 = 6; //       the app's step
export const S_COMMANDS: i32 = 7; //  the stack executes the app's commands (TCP output of sends)
export const S_FLUSH: i32 = 8; //     coalesced ACKs, queued data (TCP output)
export const S_TX: i32 = 9; //        TX publish
export const STAGES: i32 = 10;

// f64 ms per stage, then: [STAGES] total ms inside timed calls, [STAGES+1] timed
// calls, [STAGES+2] packets in timed calls, [STAGES+3] ms and [STAGES+4] calls
// of idle polls. A call's marks go to `pend` first and reach `acc` at its end:
// a live loop (pair, tap) polls millions of times with nothing to do, and those
// polls' time is kept apart (stageEndIdle), or it would swamp the cost per packet.
const ACC_WORDS: i32 = STAGES + 5;
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
  const p = acc + (<usize>STAGES << 3);
  store<f64>(p, load<f64>(p) + (t - callStart));
  store<f64>(p, load<f64>(p, 8) + 1.0, 8);
  store<f64>(p, load<f64>(p, 16) + <f64>n, 16);
}

/** End of a timed poll that found nothing to do: its time is counted apart, its marks dropped. */
export function stageEndIdle(): void {
  const t = hostNowMs();
  memory.fill(pend, 0, <usize>STAGES * 8);
  const p = acc + (<usize>(STAGES + 3) << 3);
  store<f64>(p, load<f64>(p) + (t - callStart));
  store<f64>(p, load<f64>(p, 8) + 1.0, 8);
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
