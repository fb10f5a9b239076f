// The cost measurement of one capture: runs replay with the stage timers off
// and on, alternately (so load changes hit both alike), and gathers what the
// JSON and HTML reports show besides the replay report itself: stage cost with
// its spread, the timers' overhead, batch service time (log histogram) and
// per-worker throughput over time.
import type { Core } from "../core.ts";
import { replay, type BatchExport, type ReplayOptions } from "../commands/replay.ts";
import type { ReplayReport } from "./replay.ts";
import { LogHist, type HistSummary } from "./hist.ts";
import { calibrateMhz, readStageSums, stageCost, type StageCost, type StageSums } from "./stages.ts";
import { cpus } from "node:os";
import { createCore } from "../core.ts";
import { replayCoreConfig } from "../commands/replay.ts";
import { TraceReader } from "../io/reader.ts";
import { TraceError } from "../io/errors.ts";
import { WC_PACKETS, WORKER_COUNT_BYTES } from "../abi.gen.ts";

export const COST_SCHEMA = "ixwasm-cost/1";

export interface Timeline {
  /** ms since the run's first batch */
  t_ms: number[];
  /** per worker: packets per second in the interval ending at t_ms[i] */
  workers_pps: number[][];
}

export interface CostSection {
  schema: typeof COST_SCHEMA;
  stage_cost: StageCost;
  /** each packet waits for its whole batch's core call: call time (µs), one sample per packet */
  batch_service_us: HistSummary;
  timeline: Timeline;
  /** 1..64-style batch-size histogram of the core calls (power-of-two buckets) */
  batch_histogram: Record<string, number>;
}

const TIMED: Record<string, BatchExport> = { raw: "replayRawBatchTimed", track: "replayTrackBatchTimed" };

/** Per-worker counts (u64 packets, abi/table.ts REPLAY). */
function workerPackets(core: Core, workers: number): number[] {
  const ex = core.exports;
  const base = ex.replayWorkerCounts() >>> 0;
  const out: number[] = [];
  for (let i = 0; i < workers; i++) {
    const p = (base + i * WORKER_COUNT_BYTES + WC_PACKETS) >>> 2;
    out.push(core.u32[p] + core.u32[p + 1] * 4294967296);
  }
  return out;
}

let mhzCache = 0;
export function estimatedMhz(): number {
  if (!mhzCache)
    mhzCache = calibrateMhz(createCore({ mbufs: 16, flows: 16, descSlots: 16, stagingBytes: 1 << 16 }));
  return mhzCache;
}

/**
 * V8 tiers a wasm function up after enough calls, not inside a long loop: a
 * batch function called a few dozen times with 4096 records would be timed in
 * the baseline tier. Call each batch function thousands of times on small
 * batches of the capture first, on a throw-away core.
 */
export function warmUp(path: string, mode: string, exportsToWarm: BatchExport[], calls = 3000): void {
  const core = createCore(replayCoreConfig(mode as "raw" | "track", 1, 1 << 14));
  const ex = core.exports;
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core, { batch: 64 });
    const n = reader.next();
    for (let k = 0; k < calls && n > 0; k++) for (const e of exportsToWarm) ex[e](0, n, k & 0xff);
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
  } finally {
    reader?.close();
  }
}

/**
 * `runs` pairs of replays (untimed, timed) after one warm-up pair. Returns the
 * last timed run's report with `cost` added. Only raw and track have stages.
 */
export function measureCost(
  path: string,
  opts: ReplayOptions,
  runs = 5,
): ReplayReport & { cost: CostSection } {
  const mode = opts.mode;
  const mhz = estimatedMhz();
  const workers = opts.workers ?? 1;
  const timedSums: StageSums[] = [];
  const hostOn: number[] = [];
  const hostOff: number[] = [];
  let service = new LogHist();
  let timeline: Timeline = { t_ms: [], workers_pps: [] };
  let last: ReplayReport | null = null;
  if (TIMED[mode]) warmUp(path, mode, [mode === "raw" ? "replayRawBatch" : "replayTrackBatch", TIMED[mode]]);
  else for (let i = 0; i < 10; i++) replay(path, { ...opts, progress: false, stages: i % 2 === 1 }); // serve: poll()
  for (let i = -1; i < runs; i++) {
    // Untimed run: the host's clock around each call, batch service times, throughput over time.
    const hist = new LogHist();
    const tl: Timeline = { t_ms: [], workers_pps: Array.from({ length: workers }, () => []) };
    let t0 = NaN;
    let prevT = 0;
    let prev: number[] = new Array(workers).fill(0);
    const off = replay(path, {
      ...opts,
      progress: false,
      onBatch(core, n, callMs, t) {
        hist.add(callMs * 1000, n);
        if (Number.isNaN(t0)) t0 = t - callMs;
        const el = t - t0;
        if (el - prevT >= 2 || tl.t_ms.length === 0) {
          const now = workerPackets(core, workers);
          tl.t_ms.push(Math.round(el * 100) / 100);
          for (let w = 0; w < workers; w++)
            tl.workers_pps[w].push(Math.round(((now[w] - prev[w]) * 1000) / Math.max(el - prevT, 1e-6)));
          prev = now;
          prevT = el;
        }
      },
    });
    let sums: StageSums | null = null;
    const on = replay(path, {
      ...opts,
      progress: false,
      stages: true,
      batchExport: TIMED[mode], // serve: undefined, poll() marks its sections
      onEnd: (core) => (sums = readStageSums(core)),
    });
    if (i < 0) continue; // warm-up: tier the code up
    hostOff.push(off.stages[mode]);
    hostOn.push(on.stages[mode]);
    timedSums.push(sums!);
    service = hist;
    timeline = tl;
    last = on;
  }
  const cost: CostSection = {
    schema: COST_SCHEMA,
    stage_cost: stageCost(mode, timedSums, hostOn, hostOff, mhz, cpus()[0]?.speed ?? 0),
    batch_service_us: service.summary(),
    timeline,
    batch_histogram: last!.batch_histogram,
  };
  return { ...last!, cost };
}

/**
 * Everything `replay --stages` and `--report html` show: the cost measurement
 * and, for HTML, the cost ladder of the same capture (fewer runs).
 */
export async function costReport(
  path: string,
  opts: ReplayOptions,
  runs: number,
  withLadder: boolean,
): Promise<{ report: ReplayReport & { cost: CostSection }; ladder: Record<string, unknown> | null }> {
  const report = measureCost(path, opts, runs);
  let ladder: Record<string, unknown> | null = null;
  if (withLadder) {
    // bench/ is outside host/'s build root only in name: dist/bench sits beside dist/host.
    const { benchLadder } = await import("../../bench/ladder.ts");
    ladder = benchLadder(path, Math.max(3, Math.min(runs, 5))) as unknown as Record<string, unknown>;
  }
  return { report, ladder };
}
