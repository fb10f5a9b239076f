// `ixwasm replay`: a capture through the WASM core, in one of three modes.
//
//   raw    parse, Toeplitz hash, RETA → worker, count (assembly/replay/raw.ts)
//   track  + symmetric flow lookup and passive TCP state tracking (replay/track.ts)
//   serve  the core plays every server (host/replay/serve/serve.ts)
//
// The host only moves batches: the reader frames up to 4096 records into
// descriptors, the core processes them in one call, and the host times each
// call (performance.now() around it, never per packet). Per-packet JS runs only
// for what is per packet by nature: pacing schedules (paced speeds) and --out.
//
// Workers: replay() runs raw and track in this thread on one core; workers N
// sizes the RETA (128 flow groups → N workers) and the core counts each packet
// on the worker its flow hashes to, the split N worker threads get. The CLI's
// --workers N > 1 runs them on threads instead (workers.ts).
//
// Time: at --speed top the core's clock is the capture's timestamps (output is
// deterministic); at paced speeds it is the wall clock, and --out timestamps are
// the wall-clock time the core processed the frame.
//
// --loop N: pass k (0-based) rewrites each TCP/UDP client port to port + k (the
// core does it, see assembly/replay/common.ts) and shifts timestamps by
// k × (whole seconds the capture spans + 1), so every pass is a distinct set of
// conversations later in time.
import { cpus } from "node:os";
import type { Core } from "../core/core.ts";
import { createCore } from "../core/core.ts";
import { TraceError, UsageError } from "../io/errors.ts";
import { DESC_BYTES, TraceReader } from "../io/reader.ts";
import { readCounters } from "../report/counters.ts";
import { buildReport, type ReplayReport } from "../report/replay.ts";
import { checkFile } from "../core/open-capture.ts";
import { stageTiming } from "../report/stages.ts";
import { runServe } from "./serve/serve.ts";
import { prescan } from "./serve/prescan.ts";
import * as ABI from "../core/abi.gen.ts";

import { replayCoreConfig, type ReplayOptions } from "./options.ts";
import { OutputSink, writeBatch } from "./output.ts";
import { PacingSamples, pacingHists, scheduleMs, sleepUntil } from "./pacing.ts";
import { Progress } from "./progress.ts";
import { warmUp } from "./warm-up.ts";
import { bucket, newRunStats } from "./run-stats.ts";
import { accounting } from "../report/accounting.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const { DESC_WORDS, DESC_W_LEN, DESC_W_NSEC, DESC_W_SEC } = ABI;

type BatchFn = (first: number, count: number, loop: number) => number;
/** Runs the replay; a corrupt capture ends it early with `error` set in the report. */
export function replay(path: string, opts: ReplayOptions): ReplayReport {
  const tStart = performance.now();
  const mode = opts.mode;
  const workers = opts.workers ?? 1;
  const speed = opts.speed ?? { kind: "top" };
  const loops = opts.loop ?? 1;
  const flows = opts.flows ?? 1 << 18;
  if (workers < 1 || workers > 255)
    throw new UsageError(`--workers ${workers} is out of range`, "use 1..255");
  if (loops < 1) throw new UsageError(`--loop ${loops} is out of range`, "use 1 or more");
  checkFile(path);
  if (mode === "serve") {
    // A shard serves as worker 0 of 1 of its shard: its pre-scan and core read the shard's records only.
    if (opts.shard && !opts.owner) opts = { ...opts, owner: { index: 0, workers: 1, shard: opts.shard } };
    return runServe(path, opts.prescan ?? prescan(path, undefined, undefined, opts.owner), opts);
  }
  if (opts.app)
    throw new UsageError(`--app ${opts.app} applies to --mode serve only`, "drop --app for raw and track");

  const core: Core = createCore(replayCoreConfig(mode, workers, flows, opts.shard));
  const ex = core.exports;
  let batchFn: BatchFn = mode === "raw" ? ex.replayRawBatch : ex.replayTrackBatch;
  if (opts.stages) stageTiming(core, true); // stage cost (host/report/stages.ts)
  if (opts.batchExport) batchFn = ex[opts.batchExport];
  const onBatch = opts.onBatch;
  const beforeBatch = opts.beforeBatch;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const paced = speed.kind !== "top";

  const st = newRunStats(path, mode, workers, speed, loops, null, opts.out);
  let sink: OutputSink | null = null;
  const lateness = paced ? new PacingSamples() : null;
  const gapErr = paced ? new PacingSamples() : null;
  const latency = paced ? new PacingSamples() : null;
  const schedOf = new Float64Array(core.regions.desc.bytes / DESC_BYTES);

  // Pacing state: schedule origin, previous packet's schedule and actual time.
  let origin = 0; // performance.now() at the first packet
  let trace0 = NaN; // capture time of the first packet (s)
  let pktIndex = 0;
  let bitsSoFar = 0;
  let prevSched = NaN;
  let prevActual = NaN;
  const wallEpochS = Date.now() / 1000 - performance.now() / 1000;
  let loopShift = 0; // seconds added to this pass's timestamps
  let spanSec = 0;

  st.setupMs = performance.now() - tStart;
  if (paced) {
    const w0 = performance.now();
    warmUp(path, mode, workers, flows);
    st.warmupMs = performance.now() - w0;
  }
  const progress = opts.progress ? new Progress() : null;
  const t0 = performance.now();
  let reader: TraceReader | null = null;
  try {
    for (let loop = 0; loop < loops; loop++) {
      const o0 = performance.now();
      reader = new TraceReader(path, core, opts.batch ? { batch: opts.batch } : {});
      st.readMs += performance.now() - o0; // opening the file: part of reading
      if (loop === 0) {
        st.format = reader.format;
        st.linktypes = reader.linktypes;
      }
      loopShift = loop * spanSec;
      let firstSec = NaN;
      let lastSec = NaN;
      for (;;) {
        const r0 = performance.now();
        const n = reader.next();
        const r1 = performance.now();
        st.readMs += r1 - r0;
        if (n === 0) break;
        if (loop === 0 && st.linktypes.length === 0) st.linktypes = reader.linktypes;
        if (opts.out && !sink) sink = new OutputSink(opts.out, !!opts.outMerged, reader.linktypes[0] ?? 1);
        // Capture span of this pass (whole seconds), for the next pass's shift and the report.
        const s0 = f64[(descW + DESC_W_SEC) >>> 1] + u32[descW + DESC_W_NSEC] / 1e9;
        const s1 =
          f64[(descW + (n - 1) * DESC_WORDS + DESC_W_SEC) >>> 1] +
          u32[descW + (n - 1) * DESC_WORDS + DESC_W_NSEC] / 1e9;
        if (Number.isNaN(firstSec)) firstSec = s0;
        lastSec = s1;
        if (st.firstTs === null) st.firstTs = s0;
        st.lastTs = s1 + loopShift;
        if (!paced) {
          if (beforeBatch) beforeBatch();
          const p0 = performance.now();
          batchFn(0, n, loop);
          const p1 = performance.now();
          st.procMs += p1 - p0;
          bucket(st.batches, n);
          if (onBatch) onBatch(core, n, p1 - p0, p1);
          if (sink) {
            writeBatch(sink, core, 0, n, loopShift, null);
            st.outMs += performance.now() - p1;
          }
        } else {
          // Walk the schedule: process each run of packets that are due, sleep to the next.
          const runDue = (from: number, to: number) => {
            const p0 = performance.now();
            batchFn(from, to - from, loop);
            const p1 = performance.now();
            st.procMs += p1 - p0;
            bucket(st.batches, to - from);
            for (let j = from; j < to; j++) latency!.add((p1 - schedOf[j]) * 1000);
            if (sink) {
              writeBatch(sink, core, from, to - from, 0, wallEpochS + p1 / 1000);
              st.outMs += performance.now() - p1;
            }
          };
          let runStart = 0;
          for (let i = 0; i <= n; i++) {
            let sched = Infinity;
            if (i < n) {
              const d = descW + i * DESC_WORDS;
              const ts = f64[(d + DESC_W_SEC) >>> 1] + u32[d + DESC_W_NSEC] / 1e9 + loopShift;
              if (Number.isNaN(trace0)) {
                trace0 = ts;
                origin = performance.now();
              }
              sched = origin + scheduleMs(speed, ts - trace0, pktIndex, bitsSoFar);
              schedOf[i] = sched;
              bitsSoFar += u32[d + DESC_W_LEN] * 8;
              pktIndex++;
            }
            const now = performance.now();
            if (sched > now && i > runStart) {
              // Packets runStart..i-1 are due: one core call for them.
              runDue(runStart, i);
              runStart = i;
            }
            if (i === n) break;
            if (sched > performance.now()) {
              const w0 = performance.now();
              sleepUntil(sched);
              st.waitMs += performance.now() - w0;
            }
            const actual = performance.now();
            lateness!.add((actual - sched) * 1000);
            if (!Number.isNaN(prevSched))
              gapErr!.add(Math.abs(actual - prevActual - (sched - prevSched)) * 1000);
            prevSched = sched;
            prevActual = actual;
          }
          if (runStart < n) runDue(runStart, n);
        }
        if (progress)
          progress.tick(readCounters(core).rx_frames, loop, loops, reader.offset, reader.fileSize);
      }
      if (!Number.isNaN(firstSec) && loop === 0) spanSec = Math.floor(lastSec) - Math.floor(firstSec) + 1;
    }
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
    st.error = e.message;
  } finally {
    const c0 = performance.now();
    reader?.close();
    st.readMs += performance.now() - c0;
    const o0 = performance.now();
    sink?.close();
    st.outMs += performance.now() - o0; // the last --out records written
    progress?.done();
  }
  st.wallMs = performance.now() - t0;
  if (sink) st.packetsOut = sink.records;
  if (paced) {
    const [l50, l99] = lateness!.quantiles([0.5, 0.99]) ?? [0, 0];
    const [g50, g99] = gapErr!.quantiles([0.5, 0.99]) ?? [0, 0];
    st.pacing = { lateness_p50: l50, lateness_p99: l99, gap_p50: g50, gap_p99: g99 };
    const q = latency!.quantiles([0.5, 0.99, 0.999]);
    st.latency = q ? { p50: q[0], p99: q[1], p999: q[2] } : null;
    st.hists = pacingHists(lateness!.values(), gapErr!.values(), latency!.values());
  }
  opts.onEnd?.(core);
  const rep = buildReport(core, st, cpus());
  const end = performance.now();
  rep.accounting = accounting(rep.packets_in, end - tStart, [
    ["set-up", "the core and the run's tables", st.setupMs],
    ["warm-up", "paced speeds: a short run first", st.warmupMs],
    ["read", "reading read batches into descriptors", st.readMs],
    ["core", `the core's ${mode} batches`, st.procMs],
    ["output", "--out written", st.outMs],
    ["wait", "paced: sleeping until a packet's slot", st.waitMs],
    ["report", "the report: counters", end - t0 - st.wallMs],
  ]);
  return rep;
}
