// Stage cost: what the core's stage timers (assembly/stats/stages.ts) measured,
// turned into ns/packet per stage, estimated cycles/packet, the residual
// against the total, and the timers' own overhead (the same run with them off).
//
// The clock is the host's performance.now(), imported by the core and read at
// stage boundaries once per batch (4096 records in replay), never per packet.
// Cycles are an estimate: ns × a frequency measured by a calibration loop at
// start (hardware counters are not available on these VMs).
import type { Core } from "../core/core.ts";
import { REPLAY_STAGES, STAGE_ABOUT, STAGE_ACC_WORDS, STAGE_NAMES, STAGE_SUM } from "../core/abi.gen.ts";

// Stage names, what they cover, the stages of each replay mode and the sums after
// them: generated from STAGES in abi/table.ts, as the core's S_* numbers are.
export { REPLAY_STAGES, STAGE_ABOUT, STAGE_NAMES };
const N = STAGE_NAMES.length;

const fns = (core: Core) => core.exports;

/**
 * poll() times one poll in this many, at random (assembly/stats/stages.ts): a
 * poll's eight clock reads, each a call out of wasm, cost about as much as a
 * small poll, so timing every poll made a timed run several times its untimed
 * cost (issue 16 §6; docs/measurement/cost.md).
 */
export const POLL_SAMPLE = 16;

/**
 * Turns the core's stage timers on (or off) and zeroes their sums. poll() then
 * times one poll in `every` (1: each); the replay batch functions time every batch.
 */
export function stageTiming(core: Core, on: boolean, every = 1): void {
  fns(core).stageTimingSet(on ? every : 0, every > 1 ? POLL_LONG_MS : 0);
  fns(core).stageReset();
}

/**
 * A sampled poll that took longer than this was descheduled (a poll of 64 frames
 * takes tens of µs; the scheduler's slices on this shared machine are ms): it is
 * left out of the sums and counted (StageSums.dropped), else one such poll × 16
 * would outweigh thousands of others.
 */
export const POLL_LONG_MS = 1;

export interface StageSums {
  /** ms per stage number */
  ms: number[];
  totalMs: number;
  calls: number;
  packets: number;
  /** polls that found nothing to do: kept apart (assembly/stats/stages.ts stageEndIdle) */
  idleMs: number;
  idleCalls: number;
  /** one clock read's cost, ms, summed over the timed calls (two back-to-back reads at each call's start) */
  clockMs: number;
  /** polls while the timers were on, timed or not */
  polls: number;
  /** timed polls longer than POLL_LONG_MS (or descheduled between their first two clock reads), left out of the sums, and their ms */
  dropped: number;
  droppedMs: number;
}

export function readStageSums(core: Core): StageSums {
  const p = fns(core).stageAccPtr() >>> 0;
  const a = new Float64Array(core.memory.buffer, p, STAGE_ACC_WORDS);
  return {
    ms: [...a.slice(0, N)],
    totalMs: a[STAGE_SUM.totalMs],
    calls: a[STAGE_SUM.calls],
    packets: a[STAGE_SUM.packets],
    idleMs: a[STAGE_SUM.idleMs],
    idleCalls: a[STAGE_SUM.idleCalls],
    clockMs: a[STAGE_SUM.clockMs],
    polls: a[STAGE_SUM.polls],
    dropped: a[STAGE_SUM.dropped],
    droppedMs: a[STAGE_SUM.droppedMs],
  };
}

/**
 * How many polls the core has timed so far (kept, idle and dropped), read from
 * its sums in place: the host, which times every poll, tells the timed ones'
 * cost from the others' by it (serve's `timers` row).
 */
export function timedPollCount(core: Core): () => number {
  const a = new Float64Array(core.memory.buffer, fns(core).stageAccPtr() >>> 0, STAGE_ACC_WORDS);
  return () => a[STAGE_SUM.calls] + a[STAGE_SUM.idleCalls] + a[STAGE_SUM.dropped];
}

/**
 * A loop that times every poll on the host clock while some of them also run
 * the core's section timers (tap, serve): the untimed polls' mean, and what the
 * timed ones cost beyond it (the timers' own cost, shown apart from the polls).
 */
export function timedPollsExtra(
  totalMs: number,
  polls: number,
  timedMs: number,
  timedPolls: number,
): { untimedMean: number; extraMs: number } {
  const untimedMean = polls > timedPolls ? (totalMs - timedMs) / (polls - timedPolls) : 0;
  return { untimedMean, extraMs: timedMs - timedPolls * untimedMean };
}

/** One clock read inside the core, ms: measured in place at each timed call's start. */
export function clockReadMs(s: StageSums): number {
  const n = s.calls + s.idleCalls + s.dropped;
  return n ? s.clockMs / n : 0;
}

/**
 * The sums less the timers' own clock reads. Between two marks lies one read (the
 * end of the first, the start of the second), so each stage a timed call marks
 * (`ids`) loses one read per call, a call's total one per mark and one for its
 * end, and an idle poll (which marks `idleMarks`) as many.
 */
export function withoutClock(s: StageSums, ids: number[], idleMarks = 4): StageSums {
  const c = clockReadMs(s);
  const ms = s.ms.slice();
  for (const i of ids) ms[i] = Math.max(0, ms[i] - s.calls * c);
  return {
    ...s,
    ms,
    totalMs: Math.max(0, s.totalMs - (ids.length + 1) * s.calls * c),
    idleMs: Math.max(0, s.idleMs - (idleMarks + 1) * s.idleCalls * c),
  };
}

/** How many polls were timed: every, polls seen, polls timed. */
export function stageSamples(s: StageSums): {
  every: number;
  sampled: number;
  polls: number;
  dropped: number;
  clock_read_ns: number;
} {
  return {
    every: POLL_SAMPLE,
    sampled: s.calls + s.idleCalls,
    polls: s.polls,
    dropped: s.dropped,
    clock_read_ns: r2(clockReadMs(s) * 1e6),
  };
}

/**
 * poll()'s sums for the whole run: the sampled polls' less their clock reads,
 * × polls / sampled polls (the timed polls are a random 1 in POLL_SAMPLE).
 */
export function pollSumsForRun(s: StageSums): StageSums {
  const w = withoutClock(s, POLL_STAGES);
  // The dropped polls are taken as unsampled: the kept ones stand for them.
  const sampled = s.calls + s.idleCalls;
  const f = sampled && s.polls ? s.polls / sampled : 1;
  return {
    ms: w.ms.map((x) => x * f),
    totalMs: w.totalMs * f,
    calls: Math.round(s.calls * f),
    packets: s.packets * f,
    idleMs: w.idleMs * f,
    idleCalls: Math.round(s.idleCalls * f),
    clockMs: s.clockMs,
    polls: s.polls,
    dropped: s.dropped,
    droppedMs: s.droppedMs,
  };
}

/** Timed batch function of a replay mode (stats/staged.ts). */
export function timedBatch(core: Core, mode: string): (first: number, count: number, loop: number) => number {
  const f = fns(core);
  return mode === "raw" ? f.replayRawBatchTimed : f.replayTrackBatchTimed;
}

/**
 * Core frequency in MHz from the calibration loop (2 dependent single-cycle ops
 * per iteration): the fastest of `reps` runs of ~20 ms, so a descheduled run
 * does not lower it. An estimate.
 */
export function calibrateMhz(core: Core, reps = 5): number {
  const loop = fns(core).calibrateLoop;
  let n = 1 << 20;
  loop(n, 7); // compile and tier up
  for (;;) {
    const t0 = performance.now();
    loop(n, 7);
    if (performance.now() - t0 > 20 || n > 1 << 30) break;
    n *= 2;
  }
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    loop(n, i + 3);
    best = Math.min(best, performance.now() - t0);
  }
  return Math.round((2 * n) / (best * 1000));
}

/** One stage's figures: median over runs with its spread. */
export interface StageFigure {
  name: string;
  about: string;
  ns_per_packet: number;
  min: number;
  max: number;
  cycles_per_packet_est: number;
}

export interface StageCost {
  /** how the figures were taken */
  method: string;
  runs: number;
  packets: number;
  batches: number;
  mhz_estimated: number;
  mhz_nominal: number;
  stages: StageFigure[];
  /** median per-packet time inside the timed core calls (the core's clock, first read to last) */
  total_ns_per_packet: { median: number; min: number; max: number };
  /** median over runs of the run's stage sum */
  sum_ns_per_packet: number;
  /** median over runs of (the run's total − its stage sum) */
  residual_ns_per_packet: number;
  /** residual / total, % (the issue asks for |residual| ≤ 5 %) */
  residual_pct: number;
  /** host clock around the core calls, timers on and off: the instrumentation's cost */
  overhead: {
    timed_ns_per_packet: { median: number; min: number; max: number };
    untimed_ns_per_packet: { median: number; min: number; max: number };
    overhead_pct: number;
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;
export function spread(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  const median = s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  return { median: r2(median), min: r2(s[0]), max: r2(s[s.length - 1]) };
}

/**
 * raw and track time their stages as passes over the batch, one pass per stage
 * (assembly/stats/staged.ts): the passes cost more than the plain batch
 * function's one walk (track +14 % in CPU time, test/measure/timers.test.ts),
 * so they give each stage's share and the plain calls' cost per packet (host
 * clock around them, untimed runs) gives the total: the factor to apply.
 */
export function stagedToPlain(plainNs: number, stagedNs: number): number {
  return stagedNs > 0 && plainNs > 0 ? plainNs / stagedNs : 1;
}

/**
 * Figures from the stage sums of `timed` runs (one StageSums each) and the host's
 * per-packet call time of timed and untimed runs.
 */
export function stageCost(
  mode: string,
  timed: StageSums[],
  hostTimedNs: number[],
  hostUntimedNs: number[],
  mhzEst: number,
  mhzNominal: number,
): StageCost {
  const ids = REPLAY_STAGES[mode] ?? [...Array(N).keys()].filter((i) => timed[0].ms[i] > 0);
  // raw, track: every batch timed, its clock reads taken out, then scaled to the plain calls' cost (serve's
  // polls come corrected and scaled: host/measure/cost.ts sampledToRun).
  if (REPLAY_STAGES[mode]) timed = timed.map((s) => withoutClock(s, ids, 0));
  if (REPLAY_STAGES[mode] && hostUntimedNs.length) {
    const g = stagedToPlain(
      spread(hostUntimedNs).median,
      spread(timed.map((s) => (s.packets ? (s.totalMs * 1e6) / s.packets : 0))).median,
    );
    timed = timed.map((s) => ({ ...s, ms: s.ms.map((x) => x * g), totalMs: s.totalMs * g }));
  }
  const per = (s: StageSums, ms: number) => (s.packets ? (ms * 1e6) / s.packets : 0);
  const stages = ids.map((i) => {
    const sp = spread(timed.map((s) => per(s, s.ms[i])));
    return {
      name: STAGE_NAMES[i],
      about: STAGE_ABOUT[STAGE_NAMES[i]],
      ns_per_packet: sp.median,
      min: sp.min,
      max: sp.max,
      cycles_per_packet_est: Math.round((sp.median * mhzEst) / 1000),
    };
  });
  const total = spread(timed.map((s) => per(s, s.totalMs)));
  // Sum and residual per run (medians of separate stages need not add up).
  const sums = timed.map((s) => ids.reduce((a, i) => a + per(s, s.ms[i]), 0));
  const sum = spread(sums).median;
  const residual = spread(timed.map((s, k) => per(s, s.totalMs) - sums[k])).median;
  const on = spread(hostTimedNs);
  const off = spread(hostUntimedNs);
  return {
    method: REPLAY_STAGES[mode]
      ? "core-imported clock (performance.now) read at each stage boundary once per batch, one read (measured in place) taken out per stage; stages run as passes over the batch, scaled to the plain batch calls' cost; medians over runs; cycles = ns × calibrated MHz (estimated: no hardware counters)"
      : "serve: poll()'s sections in a random one poll in 16, less one clock read each (measured in place), as shares of the run's poll() time on the host clock; per input packet; medians over runs; cycles = ns × calibrated MHz (estimated)",
    runs: timed.length,
    packets: timed[0].packets,
    batches: timed[0].calls,
    mhz_estimated: mhzEst,
    mhz_nominal: mhzNominal,
    stages,
    total_ns_per_packet: total,
    sum_ns_per_packet: sum,
    residual_ns_per_packet: residual,
    residual_pct: total.median ? r2((residual / total.median) * 100) : 0,
    overhead: {
      timed_ns_per_packet: on,
      untimed_ns_per_packet: off,
      overhead_pct: off.median ? r2(((on.median - off.median) / off.median) * 100) : 0,
    },
  };
}

export function formatStageCost(c: StageCost): string {
  const rows = [
    `stage cost (${c.runs} runs, ${c.packets.toLocaleString("en-US")} packets, ${c.batches} batches per run; ${c.method.startsWith("serve") ? "a random one poll in 16 timed" : "clock read per batch"})`,
    `  ${"stage".padEnd(14)} ${"ns/packet".padStart(10)} ${"(min..max)".padStart(16)} ${"est. cycles".padStart(12)}`,
  ];
  for (const s of c.stages)
    rows.push(
      `  ${s.name.padEnd(14)} ${s.ns_per_packet.toFixed(2).padStart(10)} ${`(${s.min.toFixed(1)}..${s.max.toFixed(1)})`.padStart(16)} ${String(s.cycles_per_packet_est).padStart(12)}`,
    );
  rows.push(
    `  ${"sum".padEnd(14)} ${c.sum_ns_per_packet.toFixed(2).padStart(10)}`,
    `  ${"total".padEnd(14)} ${c.total_ns_per_packet.median.toFixed(2).padStart(10)} ${`(${c.total_ns_per_packet.min.toFixed(1)}..${c.total_ns_per_packet.max.toFixed(1)})`.padStart(16)} ${String(Math.round((c.total_ns_per_packet.median * c.mhz_estimated) / 1000)).padStart(12)}`,
    `  residual       ${c.residual_ns_per_packet.toFixed(2).padStart(10)} ns (${c.residual_pct} % of total)`,
    `  timers on ${c.overhead.timed_ns_per_packet.median} ns/packet, off ${c.overhead.untimed_ns_per_packet.median} ns/packet (host clock around the calls): overhead ${c.overhead.overhead_pct} %`,
    `  cycles estimated at ${c.mhz_estimated} MHz (calibration loop; the CPU reports ${c.mhz_nominal} MHz)`,
  );
  return rows.join("\n") + "\n";
}

/** poll()'s sections (assembly/core.ts), in the order poll runs them. */
export const POLL_STAGES = [4, 5, 6, 7, 8, 9];

/** What poll()'s stage timers measured in one core of a live run (pair, tap): time per unit of work. */
export interface PollStageCost {
  /** polls that took frames, over the run (estimated from the host-timed ones in pair) */
  polls: number;
  /** polls that took no frame (host clock), and the ns each took on average */
  idle_polls: number;
  idle_ns_per_poll: number;
  packets: number;
  /** the unit the figures are divided by: round trips (pair) or received packets */
  unit: string;
  units: number;
  /** each section's share of the core's poll time (less one clock read per section), × that time */
  ns_per_unit: Record<string, number>;
  /** polls that found nothing to do, per unit */
  idle_ns_per_unit: number;
  /** the core's poll() calls on the host clock (sampled, see host/report/loop-clock.ts): what the sections divide */
  total_ns_per_unit: number;
  /** what lies between the marks (the timed polls' total less their sections), per unit */
  residual_ns_per_unit: number;
  /** polls run with the section timers on (one in LOOP_SAMPLE), those dropped as descheduled, one clock read (ns) */
  timed_polls: number;
  dropped_polls: number;
  clock_read_ns: number;
}

/**
 * A core's poll() sections over a live run: `s` holds the polls run with the
 * timers on (each timed), `pollMs` the run's poll() time on the host clock and
 * `polls` how many polls the run made. The sections (less one clock read each)
 * give each one's share of pollMs.
 */
export function pollStageCost(
  s: StageSums,
  unit: string,
  units: number,
  pollMs: number,
  polls: number,
  empty: { ms: number; polls: number },
): PollStageCost {
  // Polls that took no frame are timed apart on the host (`empty`): an idle poll
  // costs less than one clock read, too little for the core's timers to split.
  const w = withoutClock(s, POLL_STAGES);
  const busyMs = Math.max(0, pollMs - empty.ms);
  // No timed poll with work (a short run): the busy polls' time stays unsplit, in the residual.
  const g = w.totalMs > 0 ? busyMs / w.totalMs : 0;
  const timed = s.calls + s.idleCalls;
  const f = timed ? polls / timed : 0;
  const per = (ms: number) => (units ? r2((ms * g * 1e6) / units) : 0);
  const ns: Record<string, number> = {};
  let sum = 0;
  for (const i of POLL_STAGES) {
    ns[STAGE_NAMES[i]] = per(w.ms[i]);
    sum += w.ms[i];
  }
  return {
    polls: Math.round(polls - empty.polls),
    idle_polls: Math.round(empty.polls),
    idle_ns_per_poll: empty.polls ? r2((empty.ms * 1e6) / empty.polls) : 0,
    packets: Math.round(s.packets * f),
    unit,
    units,
    ns_per_unit: ns,
    idle_ns_per_unit: units ? r2((empty.ms * 1e6) / units) : 0,
    total_ns_per_unit: units ? r2((pollMs * 1e6) / units) : 0,
    residual_ns_per_unit: w.totalMs > 0 ? per(w.totalMs - sum) : units ? r2((busyMs * 1e6) / units) : 0,
    timed_polls: timed,
    dropped_polls: s.dropped,
    clock_read_ns: r2(clockReadMs(s) * 1e6),
  };
}

/** Turns a core's section timers on for the next poll (every poll timed) or off again; the sums stay. */
export function pollTimersFor(core: Core): (on: boolean) => void {
  const set = fns(core).stageTimingSet;
  return (on) => set(on ? 1 : 0, on ? POLL_LONG_MS : 0);
}

/** Live loops (pair, tap): one iteration in this many timed by the host, another by the core (host/report/loop-clock.ts). */
export const LOOP_SAMPLE = 64;

/** Side-by-side table of poll stage costs of several cores (pair: client and server). */
export function formatPollStages(cores: Record<string, PollStageCost>): string {
  const names = Object.keys(cores);
  const first = cores[names[0]];
  const head = `poll() stage cost, ns per ${first.unit}: the core's poll() time on the host clock (one loop iteration in ${LOOP_SAMPLE} timed) divided by the sections' shares (another one in ${LOOP_SAMPLE} run with the section timers on, less one clock read each)`;
  const rows = [head, `  ${"stage".padEnd(16)}${names.map((n) => n.padStart(12)).join("")}`];
  for (const i of POLL_STAGES) {
    const st = STAGE_NAMES[i];
    rows.push(
      `  ${st.padEnd(16)}${names.map((n) => cores[n].ns_per_unit[st].toFixed(1).padStart(12)).join("")}`,
    );
  }
  rows.push(
    `  ${"idle polls".padEnd(16)}${names.map((n) => cores[n].idle_ns_per_unit.toFixed(1).padStart(12)).join("")}`,
    `  ${"total".padEnd(16)}${names.map((n) => cores[n].total_ns_per_unit.toFixed(1).padStart(12)).join("")}`,
    `  ${"residual".padEnd(16)}${names.map((n) => cores[n].residual_ns_per_unit.toFixed(1).padStart(12)).join("")}`,
    `  ${"busy polls".padEnd(16)}${names.map((n) => String(cores[n].polls).padStart(12)).join("")}`,
    `  ${"idle polls, n".padEnd(16)}${names.map((n) => String(cores[n].idle_polls).padStart(12)).join("")}`,
    `  ${"ns / idle poll".padEnd(16)}${names.map((n) => cores[n].idle_ns_per_poll.toFixed(1).padStart(12)).join("")}`,
    `  ${"timed polls".padEnd(16)}${names.map((n) => String(cores[n].timed_polls).padStart(12)).join("")}`,
    `  ${"clock read, ns".padEnd(16)}${names.map((n) => cores[n].clock_read_ns.toFixed(1).padStart(12)).join("")}`,
  );
  return rows.join("\n") + "\n";
}
