// The cost measurement of one capture: runs replay with the stage timers off
// and on, alternately (so load changes hit both alike), and gathers what the
// JSON and HTML reports show besides the replay report itself: stage cost with
// its spread, the timers' overhead, batch service time (log histogram) and
// per-worker throughput over time.
import type { Core } from "../core/core.ts";
import { replay } from "../replay/replay.ts";
import { speedName } from "../replay/pacing.ts";
import { type BatchExport, type ReplayOptions } from "../replay/options.ts";
import type { ReplayReport } from "../report/replay.ts";
import { LogHist, type HistSummary } from "../report/hist.ts";
import { calibrateMhz, readStageSums, stageCost, type StageCost, type StageSums } from "../report/stages.ts";
import { cpus } from "node:os";
import { warmBatchExports } from "./lib/warm.ts";
import { createCore } from "../core/core.ts";
import { DEFAULT_CHARTS, ServeObserver, type FlowSpec, type ServeView } from "../report/timeseq.ts";
import { WC_PACKETS, WORKER_COUNT_BYTES } from "../core/abi.gen.ts";

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

/**
 * Serve times one poll in `every` (host/replay/serve/pump.ts pollSampled): the
 * run's time per stage is the sampled polls' × polls / sampled, and every figure
 * is per input packet, the unit of the host's figures (timers on and off) and of
 * pps. (Per packet the core received, as before, a serve figure was 5-30× the
 * packet's share: most input packets are the capture's server side, which the
 * core never sees.)
 */
function sampledToRun(s: StageSums, r: ReplayReport): StageSums {
  const smp = r.serve?.stage_samples;
  if (!smp || !smp.sampled) return s;
  const f = smp.polls / smp.sampled;
  return {
    ms: s.ms.map((x) => x * f),
    totalMs: s.totalMs * f,
    calls: s.calls * f,
    packets: r.packets_in,
    idleMs: s.idleMs * f,
    idleCalls: s.idleCalls * f,
  };
}

let mhzCache = 0;
export function estimatedMhz(): number {
  if (!mhzCache)
    mhzCache = calibrateMhz(createCore({ mbufs: 16, flows: 16, descSlots: 16, stagingBytes: 1 << 16 }));
  return mhzCache;
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
  if (TIMED[mode])
    warmBatchExports(path, mode, [mode === "raw" ? "replayRawBatch" : "replayTrackBatch", TIMED[mode]]);
  else for (let i = 0; i < 10; i++) replay(path, { ...opts, progress: false, stages: i % 2 === 1 }); // serve: poll()
  for (let i = -1; i < runs; i++) {
    // Untimed run: the host's clock around each call, batch service times, throughput over time.
    const hist = new LogHist();
    const tl: Timeline = {
      t_ms: [],
      workers_pps: Array.from({ length: mode === "serve" ? 1 : workers }, () => []),
    };
    let t0 = NaN;
    let prevT = 0;
    let prev: number[] = new Array(workers).fill(0);
    // serve: one core, whose poll() does not keep the replay worker counts: its calls' packets summed.
    const served = [0];
    const off = replay(path, {
      ...opts,
      progress: false,
      onBatch(core, n, callMs, t) {
        hist.add(callMs * 1000, n);
        served[0] += n;
        if (Number.isNaN(t0)) t0 = t - callMs;
        const el = t - t0;
        if (el - prevT >= 2 || tl.t_ms.length === 0) {
          const now = mode === "serve" ? served.slice() : workerPackets(core, workers);
          tl.t_ms.push(Math.round(el * 100) / 100);
          for (let w = 0; w < tl.workers_pps.length; w++)
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
    timedSums.push(mode === "serve" ? sampledToRun(sums!, on) : sums!);
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
 * Serve's flow detail for the HTML report (host/report/timeseq.ts), from runs of
 * their own (the timed ones carry no observer): the flows `specs` name, or by
 * default a counting run first, then the DEFAULT_CHARTS flows with most mismatches.
 */
export function serveView(path: string, opts: ReplayOptions, specs: FlowSpec[]): ServeView {
  const sp = opts.speed ?? { kind: "top" };
  const paced =
    sp.kind === "top"
      ? null
      : {
          scale: sp.kind === "multiplier" ? sp.factor : sp.kind === "realtime" ? 1 : NaN,
          speed: speedName(sp),
        };
  const run = (obs: ServeObserver) => replay(path, { ...opts, progress: false, serveObserver: obs });
  if (specs.length) {
    const obs = new ServeObserver(specs, "named by --flow", paced);
    run(obs);
    return obs.result();
  }
  const count = new ServeObserver(null, "", paced);
  run(count);
  const pick = count.pick(DEFAULT_CHARTS);
  const obs = new ServeObserver(
    pick.map((ord) => ({ ord })),
    `by default the flows with most mismatches first, then most segments compared (at most ${DEFAULT_CHARTS}; --flow names others)`,
    paced,
  );
  run(obs);
  return obs.result();
}

/**
 * Everything `replay --stages` and `--report html` show: the cost measurement
 * and, for HTML, the cost ladder of the same capture (fewer runs) and, in serve
 * mode, the flow detail (serveView).
 */
export async function costReport(
  path: string,
  opts: ReplayOptions,
  runs: number,
  withLadder: boolean,
  flowSpecs: FlowSpec[] = [],
): Promise<{
  report: ReplayReport & { cost: CostSection };
  ladder: Record<string, unknown> | null;
  serve: ServeView | null;
}> {
  const report = measureCost(path, opts, runs);
  let ladder: Record<string, unknown> | null = null;
  let serve: ServeView | null = null;
  if (withLadder) {
    const { benchLadder } = await import("./ladder.ts");
    // fewer runs and rounds than `bench ladder`: the report's ladder is a sketch beside its stages
    const l = await benchLadder(path, { runs: Math.max(3, Math.min(runs, 5)), rounds: 2 });
    ladder = l as unknown as Record<string, unknown>;
    if (opts.mode === "serve" && (opts.app ?? "mirror") === "mirror")
      serve = serveView(path, opts, flowSpecs);
  }
  return { report, ladder, serve };
}
