// Timers that do not distort (issue 16 §6): a timed run's stage figures
// describe the untimed run. Wall-clock figures on this shared 2-vCPU machine
// scatter between runs and processes, so each side is the median (or the least)
// of interleaved runs:
//  - serve: the timed runs' stage sum per packet (poll() sampled one in 16, the
//    timed polls' extra taken out as the `timers` row) within BOUND of the
//    untimed runs' core cost; and the sum is its own run's core time;
//  - track: the stages, scaled to the plain batch function, sum to its CPU time;
//  - pair: the timed loop costs about what the untimed one does (RUN_BOUND:
//    whole-loop CPU scatters), and the sampled loop parts are the untimed loop's
//    CPU time within BOUND (virtual clock: timed and untimed runs do the same work).
// Why sampling and not every batch, and the figures measured with their
// command: docs/measurement/cost.md "Timers that do not distort". Timing every
// poll (the mutant in test/mutate/mutants/host.mjs) misses by far.
// It measures the machine: the runner gives it the machine, after the other
// suites, alone (test/run.mjs).
// test-run: alone
import { test } from "uvu";
import * as assert from "uvu/assert";
import { replay } from "../../host/replay/replay.ts";
import { prescan } from "../../host/replay/serve/prescan.ts";
import { sampledToRun } from "../../host/measure/cost.ts";
import { createCore } from "../../host/core/core.ts";
import { TraceReader } from "../../host/io/reader.ts";
import { replayCoreConfig } from "../../host/replay/options.ts";
import { threadCpuNs } from "../../host/measure/lib/threadcpu.ts";
import { pairOneThread } from "../../host/pair/pair.ts";
import {
  POLL_STAGES,
  readStageSums,
  REPLAY_STAGES,
  stageTiming,
  withoutClock,
  stagedToPlain,
  type StageSums,
} from "../../host/report/stages.ts";
import type { ReplayOptions } from "../../host/replay/options.ts";
import type { ReplayReport } from "../../host/report/replay.ts";

const NGINX = "traces/servers/http-nginx.pcap";
const BOUND = 0.05;
/**
 * Part 1 compares whole runs' CPU time, which scatters by ±10 % between runs at
 * load 15-20 (caches and cores shared): the tightest bound that held there,
 * against the core's cost per packet (the 5 % figure measured at low load is in
 * docs/measurement/cost.md). Timing every poll costs serve +60 % of it.
 */
const RUN_BOUND = 0.15;
const RUNS = 9;
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
// A loaded machine only adds to a run's CPU time (caches and cores shared with
// other processes), so the least of several interleaved runs is each side's cost.
const least = (xs: number[]) => Math.min(...xs);
const median = (xs: number[]) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};
const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function cpu<R>(f: () => R): [R, number] {
  const c0 = threadCpuNs();
  const r = f();
  return [r, threadCpuNs() - c0];
}

const coreNs = (r: ReplayReport) => r.accounting!.stages.find((s) => s.name === "core")!.ns_per_packet;

for (const mode of ["serve"] as const)
  test(`${mode}: timed runs cost what untimed ones do, and their stages sum to their core time (nginx, --loop 10)`, () => {
    const base: ReplayOptions = {
      mode,
      loop: 10,
      progress: false,
      prescan: prescan(NGINX),
    };
    const timedOpts: ReplayOptions = { ...base, stages: true };
    for (let i = 0; i < 4; i++) replay(NGINX, i & 1 ? timedOpts : base); // tier up
    const core: number[] = [];
    const coreOn: number[] = [];
    const sumNs: number[] = [];
    const sumVsCore: number[] = [];
    let packets = 0;
    for (let i = 0; i < RUNS; i++) {
      const off = replay(NGINX, base);
      let sums: StageSums | null = null;
      const on = replay(NGINX, { ...timedOpts, onEnd: (c) => (sums = readStageSums(c)) });
      packets = off.packets_in;
      core.push(coreNs(off));
      coreOn.push(coreNs(on));
      const s = mode === "serve" ? sampledToRun(sums!, on) : withoutClock(sums!, REPLAY_STAGES.track, 0);
      const ids = mode === "serve" ? [4, 5, 6, 7, 8, 9] : REPLAY_STAGES.track;
      const sum =
        ((ids.reduce((a, k) => a + s.ms[k], 0) + (mode === "serve" ? s.idleMs : 0)) * 1e6) / packets;
      sumNs.push(sum);
      // The timed polls' extra is measured (every poll on the host clock) and shown apart.
      const timersRow = on.accounting!.stages.find((x) => x.name === "timers")!;
      assert.ok(timersRow.ms > 0, `serve: timers row ${timersRow.ms} ms`);
      sumVsCore.push(sum / coreNs(on) - 1);
    }
    // 1. What the timed runs' stages say the core costs is what it costs untimed:
    // their stage sum per packet against the untimed runs' `core` row (host clock
    // around every poll). The timed polls' extra is the accounting's `timers`
    // row, out of `core` and so out of the sum (it was +6-7 % of the core's cost
    // when left in). Each timed run against the untimed run just before it, the
    // median of the ratios: two runs differ by ±10 % here even on a quiet
    // machine (the core's cost drifts by process and by minute, 383-624 ns in
    // one invocation), so the bound is RUN_BOUND; part 2 holds BOUND. Not the
    // whole run's CPU time (host and core, ~1.4-2 µs a packet): it scattered
    // ±20 % by process, as much as half the core's cost either way.
    const d = median(sumNs.map((x, i) => x / core[i])) - 1;
    assert.ok(
      Math.abs(d) <= RUN_BOUND,
      `${mode}: timed runs' stage sum ${pct(d)} off the untimed runs' core (ns/packet: sums ${sumNs.map(Math.round)}, untimed core ${core.map(Math.round)}, timed core ${coreOn.map(Math.round)})`,
    );
    // 2. The stages sum to the timed run's own core time: the 15 in 16 polls
    // that ran untimed in the same run are the untimed cost, with no drift
    // between runs; the sampling and its scaling must give it within BOUND.
    const m = med(sumVsCore);
    assert.ok(
      Math.abs(m) <= BOUND,
      `${mode}: stage sum vs the run's core time ${pct(m)} (runs ${sumVsCore.map(pct)})`,
    );
    console.log(
      `\nnote: timers, ${mode}: stage sum ${pct(d)} off the untimed core, ${pct(m)} off its own run's`,
    );
  });

test("track: the stages, scaled to the plain batch function's cost, sum to it", () => {
  // The core's calls alone, on one read batch of the capture (4096 packets) called
  // again and again: the rest of a replay (reading, the host's JS) scatters more
  // under load than the core's whole cost.
  const core = createCore(replayCoreConfig("track", 1, 1 << 14));
  const reader = new TraceReader(NGINX, core, { batch: 4096 });
  const n = reader.next();
  reader.close();
  const ex = core.exports;
  const CALLS = 100;
  const calls = (f: (first: number, count: number, loop: number) => number) => {
    const c0 = threadCpuNs();
    for (let k = 0; k < CALLS; k++) f(0, n, k & 0xff);
    return (threadCpuNs() - c0) / (CALLS * n);
  };
  for (let i = 0; i < 20; i++) (calls(ex.replayTrackBatch), calls(ex.replayTrackBatchTimed)); // tier up
  const off: number[] = [];
  const on: number[] = [];
  const sum: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    off.push(calls(ex.replayTrackBatch));
    stageTiming(core, true);
    on.push(calls(ex.replayTrackBatchTimed));
    const s = withoutClock(readStageSums(core), REPLAY_STAGES.track, 0);
    sum.push((REPLAY_STAGES.track.reduce((a, k) => a + s.ms[k], 0) * 1e6) / (CALLS * n));
  }
  // The passes cost more than the one walk (+14-17 % CPU measured here at load 20):
  // the stages give shares, scaled to the plain calls' cost (host/report/stages.ts
  // stagedToPlain), here with the plain calls' CPU time; unscaled they miss it.
  const scaled = least(sum) * stagedToPlain(least(off), least(sum));
  const p = scaled / least(off) - 1;
  assert.ok(
    Math.abs(p) <= BOUND,
    `track: stage sum ${scaled.toFixed(1)} vs the plain calls' CPU ${least(off).toFixed(1)} ns/packet (${pct(p)}; unscaled sums ${sum.map(Math.round)}, timed calls' CPU ${on.map(Math.round)})`,
  );
});

test("pair (one thread, virtual clock): timed runs cost what untimed ones do, and their loop parts are its CPU time", () => {
  const o = {
    app: "echo" as const,
    conns: 4,
    msgs: 40000, // 1,300 sampled iterations a run: at 4,000 (135) the parts scattered 875-1779 ns per round trip
    size: 64,
    faults: {},
    timeoutS: 60,
    workers: 1 as const,
    clock: "virtual" as const,
  };
  pairOneThread({ ...o, stages: true }); // tier the code up
  pairOneThread({ ...o, loopCpu: true });
  const cpuOff: number[] = [];
  const cpuOn: number[] = [];
  const parts: number[] = [];
  const timers: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const off = pairOneThread({ ...o, loopCpu: true });
    cpuOff.push((off.loop_cpu_ms! * 1e6) / off.round_trips);
    const on = pairOneThread({ ...o, stages: true, loopCpu: true });
    cpuOn.push((on.loop_cpu_ms! * 1e6) / on.round_trips);
    const s = Object.fromEntries(on.accounting!.main.stages.map((x) => [x.name, x.ns_per_packet]));
    // The long iterations are timed whole, wall time: what of them was off the CPU is the aside.
    const offCpu = on.accounting!.main.aside!.find((x) => x.name === "off the CPU")!.ns_per_packet;
    timers.push(s.timers);
    parts.push(
      s["client poll"] +
        s["server poll"] +
        s.module +
        s.link +
        s["loop clock"] +
        s["long iterations"] -
        offCpu,
    );
  }
  // Each timed run against the untimed run just before it: the loop's CPU per
  // round trip drifts by 30 % within one process here (875-1,407 ns in one
  // invocation), more than between two neighbouring runs; the median of the
  // neighbours' ratios, bound RUN_BOUND.
  // The timed loop less its `timers` row (the sampling's reads, and the clock
  // read per iteration that finds the long ones: measured, shown apart; +4-9 %
  // of the loop here) costs what the untimed loop does.
  const ratio = (xs: number[], ys: number[]) => median(xs.map((x, i) => x / ys[i])) - 1;
  const untimedInRun = cpuOn.map((c, i) => c - timers[i]);
  const d = ratio(untimedInRun, cpuOff);
  assert.ok(
    Math.abs(d) <= RUN_BOUND,
    `pair: timed loop CPU less its timers ${pct(d)} off the untimed one's (off ${cpuOff.map(Math.round)}, on ${cpuOn.map(Math.round)}, timers ${timers.map(Math.round)})`,
  );
  const p = ratio(parts, cpuOff);
  assert.ok(
    Math.abs(p) <= RUN_BOUND,
    `pair: loop parts ${pct(p)} off the untimed loop's CPU per round trip (parts ${parts.map(Math.round)}, untimed CPU ${cpuOff.map(Math.round)})`,
  );
  // Within the timed run (no drift): the parts are its loop CPU less the sampling's own cost.
  const q = ratio(parts, untimedInRun);
  assert.ok(
    Math.abs(q) <= BOUND,
    `pair: loop parts ${pct(q)} off the timed run's loop CPU less its timers (parts ${parts.map(Math.round)}, timers ${timers.map(Math.round)}, timed CPU ${cpuOn.map(Math.round)})`,
  );
  console.log(
    `\nnote: timers, pair: timed loop CPU less its timers ${pct(d)}, loop parts ${pct(p)} off the untimed loop CPU (medians of neighbouring runs), ${pct(q)} off their own run's less its timers`,
  );
});

test.run();
