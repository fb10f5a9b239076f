// Timers that do not distort (issue 16 §6): a timed run's stage figures
// describe the untimed run. Wall-clock figures on this shared 2-vCPU machine
// scatter 3-10× between runs at load 15 (other suites run beside this one), so
// the claim is checked in two parts that hold under load:
//  1. the timers do not change the run: the thread CPU time of timed and
//     untimed runs (interleaved, the median of each) differs by at most BOUND of the
//     untimed core's cost per packet (serve: poll() sampled one in 16; track:
//     one clock read per 4096 packets; pair: one loop iteration in 16 timed);
//  2. the stage figures add up to the timed run's core time on its own clock
//     (the same run, so the same load): serve and track per input packet, pair
//     per round trip against the loop's thread CPU time (virtual clock: timed
//     and untimed pair runs do the same work).
// Why sampling and not every batch, and the 5 % figures measured with their
// command: docs/measurement/cost.md "Timers that do not distort". Timing every
// poll (the mutant in test/mutate/mutants/host.mjs) misses part 1 by far.
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
    const cpuOff: number[] = [];
    const cpuOn: number[] = [];
    const core: number[] = [];
    const sumVsCore: number[] = [];
    let packets = 0;
    for (let i = 0; i < RUNS; i++) {
      const [off, c0] = cpu(() => replay(NGINX, base));
      let sums: StageSums | null = null;
      const [on, c1] = cpu(() => replay(NGINX, { ...timedOpts, onEnd: (c) => (sums = readStageSums(c)) }));
      packets = off.packets_in;
      cpuOff.push(c0 / packets);
      cpuOn.push(c1 / packets);
      core.push(coreNs(off));
      const s = mode === "serve" ? sampledToRun(sums!, on) : withoutClock(sums!, REPLAY_STAGES.track, 0);
      const ids = mode === "serve" ? [4, 5, 6, 7, 8, 9] : REPLAY_STAGES.track;
      const sum =
        ((ids.reduce((a, k) => a + s.ms[k], 0) + (mode === "serve" ? s.idleMs : 0)) * 1e6) / packets;
      sumVsCore.push(sum / coreNs(on) - 1);
    }
    // 1. The least disturbed untimed run's core cost is the yardstick.
    const yard = Math.min(...core);
    // The whole run's CPU (host and core, ~2 µs a packet on serve) varies by
    // process both ways, not only up: a timed run once came out 114 ns below
    // every untimed one (the least of each then differed by 18.6 % of the core's
    // 615 ns). The medians of the interleaved runs compare the runs' typical cost.
    const d = (median(cpuOn) - median(cpuOff)) / yard;
    assert.ok(
      Math.abs(d) <= RUN_BOUND,
      `${mode}: timed runs cost ${(median(cpuOn) - median(cpuOff)).toFixed(1)} ns CPU per packet more than untimed ones: ${pct(d)} of the core's ${yard.toFixed(1)} ns (bound ${pct(RUN_BOUND)}; CPU ns/packet off ${cpuOff.map(Math.round)}, on ${cpuOn.map(Math.round)})`,
    );
    // 2. The stages sum to the timed run's own core time.
    const m = med(sumVsCore);
    assert.ok(
      Math.abs(m) <= BOUND,
      `${mode}: stage sum vs the run's core time ${pct(m)} (runs ${sumVsCore.map(pct)})`,
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
    msgs: 4000,
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
  for (let i = 0; i < RUNS; i++) {
    const off = pairOneThread({ ...o, loopCpu: true });
    cpuOff.push((off.loop_cpu_ms! * 1e6) / off.round_trips);
    const on = pairOneThread({ ...o, stages: true, loopCpu: true });
    cpuOn.push((on.loop_cpu_ms! * 1e6) / on.round_trips);
    const s = Object.fromEntries(on.accounting!.main.stages.map((x) => [x.name, x.ns_per_packet]));
    parts.push(s["client poll"] + s["server poll"] + s.module + s.link + s["loop clock"]);
  }
  const d = least(cpuOn) / least(cpuOff) - 1;
  assert.ok(
    Math.abs(d) <= RUN_BOUND,
    `pair: timed loop CPU ${pct(d)} off the untimed one's (off ${cpuOff.map(Math.round)}, on ${cpuOn.map(Math.round)})`,
  );
  const p = least(parts) / least(cpuOff) - 1;
  assert.ok(
    Math.abs(p) <= BOUND,
    `pair: loop parts ${least(parts).toFixed(1)} vs untimed loop CPU ${least(cpuOff).toFixed(1)} ns per round trip (${pct(p)}; parts ${parts.map(Math.round)})`,
  );
});

test.run();
