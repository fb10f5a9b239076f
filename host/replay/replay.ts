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
// --workers N > 1 runs them on threads instead (replay-workers.ts).
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
import { CFG_F_SYMMETRIC, createCore } from "../core/core.ts";
import { TraceError, UsageError } from "../io/errors.ts";
import { DESC_BYTES, TraceReader } from "../io/reader.ts";
import { TraceWriter } from "../io/writer.ts";
import { readCounters } from "../report/counters.ts";
import { buildReport, type PacingHists, type ReplayReport, type RunStats } from "../report/replay.ts";
import { LogHist, type HistJson } from "../report/hist.ts";
import { checkFile } from "../core/open-capture.ts";
import { stageTiming } from "../report/stages.ts";
import { runServe } from "./serve/serve.ts";
import type { ServeObserver } from "../report/timeseq.ts";
import { prescan, type Prescan } from "./serve/prescan.ts";
import type { OwnerSpec } from "./serve/flow-owner.ts";
import { shardConfig, type ShardSpec } from "./shard.ts";
import * as ABI from "../core/abi.gen.ts";
import { DESC_F_NOT_PACKET, MODE, VERDICT_WHY_SHIFT } from "../core/abi.gen.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const {
  DESC_WORDS,
  DESC_S_FLAGS,
  DESC_W_CAPLEN,
  DESC_W_LEN,
  DESC_W_LINKTYPE,
  DESC_W_NSEC,
  DESC_W_OFF,
  DESC_W_SEC,
} = ABI;
export type ReplayMode = "raw" | "track" | "serve";
/** CFG_MODE of each replay mode (abi/table.ts MODES). */
export const MODE_WORDS: Record<ReplayMode, number> = { raw: MODE.raw, track: MODE.track, serve: MODE.serve };
export const APPS = ["mirror", "echo", "memcached", "sink"] as const;

export type Speed =
  | { kind: "top" }
  | { kind: "realtime" }
  | { kind: "multiplier"; factor: number }
  | { kind: "pps"; rate: number }
  | { kind: "mbps"; rate: number };

/** top | realtime | xK | pps:N | mbps:N; throws UsageError with the accepted forms. */
export function parseSpeed(s: string): Speed {
  const bad = () =>
    new UsageError(`bad --speed ${JSON.stringify(s)}`, "use top, realtime, xK (e.g. x10), pps:N or mbps:N");
  if (s === "top") return { kind: "top" };
  if (s === "realtime") return { kind: "realtime" };
  let m = /^x(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const factor = Number(m[1]);
    if (!(factor > 0)) throw bad();
    return { kind: "multiplier", factor };
  }
  m = /^(pps|mbps):(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const rate = Number(m[2]);
    if (!(rate > 0)) throw bad();
    return m[1] === "pps" ? { kind: "pps", rate } : { kind: "mbps", rate };
  }
  throw bad();
}

export function speedName(s: Speed): string {
  switch (s.kind) {
    case "multiplier":
      return `x${s.factor}`;
    case "pps":
      return `pps:${s.rate}`;
    case "mbps":
      return `mbps:${s.rate}`;
    default:
      return s.kind;
  }
}

export interface ReplayOptions {
  mode: ReplayMode;
  app?: string | null;
  workers?: number;
  speed?: Speed;
  loop?: number;
  out?: string;
  /** --out holds input and output interleaved by time (input frame first at equal times). */
  outMerged?: boolean;
  /** Flow-table capacity (track). */
  flows?: number;
  /** A progress line on stderr (the CLI sets it for a TTY without --report json). */
  progress?: boolean;
  /** serve: after each read batch, what the progress line shows (serve --workers gathers it from every worker). */
  onProgress?: (packets: number, loop: number, loops: number, offset: number, size: number) => void;
  /** Records per batch (default: the reader's 4096). */
  batch?: number;
  // ---- stage-cost plumbing (host/report/stages.ts, cost.ts) ----
  /** Turn the core's stage timers on (with batchExport naming a timed batch function, assembly/stats/staged.ts). */
  /** serve: the pre-scan already made (the CLI makes one to choose the default mode). */
  prescan?: Prescan;
  /** serve --workers: this worker's share of the flows (host/replay/serve/flow-owner.ts; its pre-scan must have the same). */
  owner?: OwnerSpec;
  /** --shard I/N: only the flows of shard I (host/replay/shard.ts); the reader drops the others. */
  shard?: ShardSpec | null;
  stages?: boolean;
  /** Core export to call per batch instead of the mode's (timed passes, cost-ladder rungs). */
  batchExport?: BatchExport;
  /** After each core call: packets, the call's ms (host clock), performance.now() after it. */
  onBatch?: (core: Core, n: number, callMs: number, t: number) => void;
  /** Once at the end, before the report is built: the core (to read its stage timers). */
  onEnd?: (core: Core) => void;
  /** serve: the HTML report's per-flow fidelity and time-sequence data (host/report/timeseq.ts); first pass only. */
  serveObserver?: ServeObserver;
  // ---- serve --workers at paced speeds (host/replay/serve/workers.ts) ----
  /** The shared schedule origin (ms since the epoch, performance.timeOrigin based); asked once at the first record, t0 is then that record's time. */
  origin?: () => number;
  /** Paced: the run's raw pacing samples (µs) at the end, for the workers' merged percentiles. */
  onSamples?: (s: PacingSampleSets) => void;
}

/** A paced run's samples (µs): lateness, gap error and latency (PacingSamples.values()). */
export interface PacingSampleSets {
  lateness: Float64Array;
  gap: Float64Array;
  latency: Float64Array;
}

// serve mode: host/replay/serve/serve.ts (runServe).
export type { Prescan } from "./serve/prescan.ts";

/** The counters of one replay run, all zero (serve and raw/track alike). */
export function newRunStats(
  path: string,
  mode: RunStats["mode"],
  workers: number,
  speed: Speed,
  loops: number,
  error: RunStats["error"],
  out: string | undefined,
): RunStats {
  return {
    path,
    mode,
    workers,
    speed: speedName(speed),
    loops,
    format: "",
    linktypes: [],
    readMs: 0,
    procMs: 0,
    outMs: 0,
    waitMs: 0,
    wallMs: 0,
    batches: new Map(),
    packetsOut: 0,
    bytesOut: 0,
    firstTs: null,
    lastTs: null,
    pacing: null,
    latency: null,
    hists: null,
    error,
    outFile: out ?? null,
  };
}

// ---- output -------------------------------------------------------------------------
/** --out: what the core transmitted, optionally interleaved with the input (--out-merged). */
export class OutputSink {
  private readonly w: TraceWriter;
  constructor(
    path: string,
    readonly merged: boolean,
    linktype: number,
  ) {
    this.w = new TraceWriter(path, { linktype });
  }
  input(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    if (this.merged) this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  /** A transmitted frame (raw: the forwarded input; serve: a frame drained from the TX ring). */
  output(
    u8: Uint8Array,
    off: number,
    caplen: number,
    len: number,
    lt: number,
    sec: number,
    nsec: number,
  ): void {
    this.w.write(u8, off, caplen, sec, nsec, len, lt);
  }
  get records(): number {
    return this.w.records;
  }
  close(): void {
    this.w.close();
  }
}

// ---- pacing --------------------------------------------------------------------------
const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps until performance.now() >= t: blocks until SPIN_MS before, then spins. Measured here under load (6 on 2 vCPUs): a 0.3 ms Atomics.wait sometimes returns 4 ms late; longer spins did not help (the spinner gets descheduled instead). */
const SPIN_MS = 0.5;
export function sleepUntil(t: number): void {
  for (;;) {
    const rem = t - performance.now();
    if (rem <= 0) return;
    if (rem > SPIN_MS + 0.05) Atomics.wait(sleeper, 0, 0, rem - SPIN_MS);
  }
}

/** Bounded sample of pacing errors (µs): the first 2^20, then every k-th (deterministic). */
class Samples {
  private readonly a = new Float64Array(1 << 20);
  private n = 0;
  private seen = 0;
  add(x: number): void {
    this.seen++;
    if (this.n < this.a.length) this.a[this.n++] = x;
    else if (this.seen % 7 === 0) this.a[(this.seen >>> 3) % this.a.length] = x;
  }
  quantiles(qs: number[]): number[] | null {
    return quantilesOf(this.a.slice(0, this.n), qs);
  }
  /** The samples kept (a copy). */
  values(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/** Quantiles of the samples of several runs together (sorts `s` in place; null when empty). */
export function quantilesOf(s: Float64Array, qs: number[]): number[] | null {
  const n = s.length;
  if (n === 0) return null;
  s.sort();
  return qs.map((q) => s[Math.min(n - 1, Math.floor(q * n))]);
}

/**
 * The pacing and latency of a run on workers: every worker's samples pooled, then the
 * percentiles, as one thread reports them (percentiles are never averaged); null when not paced.
 * pacedSec: from the schedule's origin to the last worker's end.
 */
export function pooledPacing(
  sets: (PacingSampleSets | null)[],
  packets: number,
  bytes: number,
  pacedSec: number,
): Pick<ReplayReport, "pacing" | "latency_us" | "histograms"> {
  if (!sets.some((s) => s !== null)) return { pacing: null, latency_us: null, histograms: null };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const pool = (k: keyof PacingSampleSets, qs: number[]) => {
    const parts = sets.map((s) => s?.[k] ?? new Float64Array(0));
    const all = new Float64Array(parts.reduce((a, x) => a + x.length, 0));
    let at = 0;
    for (const x of parts) {
      all.set(x, at);
      at += x.length;
    }
    return quantilesOf(all, qs);
  };
  const all = (k: keyof PacingSampleSets) => sets.flatMap((s) => (s ? [s[k]] : []));
  const histograms: PacingHists = {
    latency_us: histOfAll(all("latency")),
    lateness_us: histOfAll(all("lateness")),
    gap_error_us: histOfAll(all("gap")),
  };
  const late = pool("lateness", [0.5, 0.99]) ?? [0, 0];
  const gap = pool("gap", [0.5, 0.99]) ?? [0, 0];
  const lat = pool("latency", [0.5, 0.99, 0.999]);
  return {
    pacing: {
      achieved_pps: pacedSec > 0 ? Math.round(packets / pacedSec) : 0,
      achieved_mbps: pacedSec > 0 ? r2((bytes * 8) / pacedSec / 1e6) : 0,
      lateness_us: { p50: r2(late[0]), p99: r2(late[1]) },
      gap_error_us: { p50: r2(gap[0]), p99: r2(gap[1]) },
    },
    latency_us: lat ? { p50: r2(lat[0]), p99: r2(lat[1]), p999: r2(lat[2]) } : null,
    histograms,
  };
}

/** One histogram of several sample sets (null when they are all empty). */
function histOfAll(parts: Float64Array[]): HistJson | null {
  const h = new LogHist();
  for (const p of parts) h.merge(LogHist.of(p));
  return h.total ? h.toJSON() : null;
}

/** The histograms behind a paced run's percentiles, from the samples they were taken of. */
export function pacingHists(lateness: Float64Array, gap: Float64Array, latency: Float64Array): PacingHists {
  return {
    latency_us: histOfAll([latency]),
    lateness_us: histOfAll([lateness]),
    gap_error_us: histOfAll([gap]),
  };
}

// ---- the run ---------------------------------------------------------------------------
type BatchFn = (first: number, count: number, loop: number) => number;
/** The core's replay batch functions (first, count, loop), the timed ones of assembly/stats/staged.ts among them. */
export type BatchExport =
  | "replayRawBatch"
  | "replayTrackBatch"
  | "replayRawBatchTimed"
  | "replayTrackBatchTimed"
  | "replayLookupBatch";

export function replayCoreConfig(mode: ReplayMode, workers: number, flows: number, shard?: ShardSpec | null) {
  const track = mode === "track";
  return {
    stagingBytes: 8 << 20,
    descSlots: 4096,
    mbufs: 0,
    ringSlots: 0,
    flows: track ? flows : 0,
    appBytes: track ? flows * 128 : 0, // track's flow records (assembly/replay/track.ts TR_BYTES)
    workers,
    flags: CFG_F_SYMMETRIC, // both directions of a flow on one worker (and in one shard)
    mode: MODE_WORDS[mode],
    ...shardConfig(shard),
  };
}

/** Runs the replay; a corrupt capture ends it early with `error` set in the report. */
export function replay(path: string, opts: ReplayOptions): ReplayReport {
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
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const paced = speed.kind !== "top";

  const st = newRunStats(path, mode, workers, speed, loops, null, opts.out);
  let sink: OutputSink | null = null;
  const lateness = paced ? new Samples() : null;
  const gapErr = paced ? new Samples() : null;
  const latency = paced ? new Samples() : null;
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

  if (paced) warmUp(path, mode, workers, flows);
  const progress = opts.progress ? new Progress() : null;
  const t0 = performance.now();
  let reader: TraceReader | null = null;
  try {
    for (let loop = 0; loop < loops; loop++) {
      reader = new TraceReader(path, core, opts.batch ? { batch: opts.batch } : {});
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
    reader?.close();
    sink?.close();
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
  return buildReport(core, st, cpus());
}

/**
 * Paced runs start on a throw-away core that processes the capture's first
 * batch a few times: V8 compiles wasm functions lazily on their first call
 * (measured: a 12-16 ms stall at the first packets otherwise), and the compiled
 * code is shared by every instance of the module.
 */
export function warmUp(path: string, mode: ReplayMode, workers: number, flows: number): void {
  const core = createCore(replayCoreConfig(mode, workers, Math.min(flows, 4096)));
  const ex = core.exports;
  const fn = mode === "raw" ? ex.replayRawBatch : ex.replayTrackBatch;
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core, { batch: 256 });
    const n = reader.next();
    for (let k = 0; k < 50 && n > 0; k++) fn(0, n, k);
  } catch (e) {
    if (!(e instanceof TraceError)) throw e; // the real run reports it
  } finally {
    reader?.close();
  }
}

/** Milliseconds after the first packet at which a packet is due. */
function scheduleMs(speed: Speed, traceDeltaS: number, index: number, bitsBefore: number): number {
  switch (speed.kind) {
    case "realtime":
      return traceDeltaS * 1000;
    case "multiplier":
      return (traceDeltaS * 1000) / speed.factor;
    case "pps":
      return (index * 1000) / speed.rate;
    case "mbps":
      return bitsBefore / (speed.rate * 1000);
    default:
      return 0;
  }
}

/** Histogram of core-call sizes in power-of-two buckets (key: the bucket's lower bound). */
export function bucket(h: Map<number, number>, n: number): void {
  const b = 2 ** Math.floor(Math.log2(n));
  h.set(b, (h.get(b) ?? 0) + 1);
}

/**
 * --out for descriptors first..first+count-1 after the core call: raw forwards
 * every processed frame unchanged (as DPDK's l2fwd, without its MAC rewrite, so
 * the output compares byte for byte with the input); track transmits nothing.
 * wallS: the wall-clock time (paced), or null for the capture's (top).
 * forwards: raw's (replay --workers: the dispatcher core is a raw one in track mode too).
 */
export function writeBatch(
  sink: OutputSink,
  core: Core,
  first: number,
  count: number,
  shift: number,
  wallS: number | null,
  forwards = core.config.mode === MODE_WORDS.raw,
): void {
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  const verdictW = core.regions.decode.offset >>> 2;
  let sec = 0;
  let nsec = 0;
  if (wallS !== null) {
    sec = Math.floor(wallS);
    nsec = Math.min(999999999, Math.round((wallS - sec) * 1e9));
  }
  for (let i = first; i < first + count; i++) {
    const d = descW + i * DESC_WORDS;
    if (wallS === null) {
      sec = f64[(d + DESC_W_SEC) >>> 1] + shift;
      nsec = u32[d + DESC_W_NSEC];
    }
    const lt = u32[d + DESC_W_LINKTYPE] & 0xffff;
    const flags = u32[d + DESC_W_LINKTYPE] >>> DESC_S_FLAGS;
    if (flags & DESC_F_NOT_PACKET) continue; // not a packet (pcapng custom block): nothing to write
    sink.input(core.u8, u32[d + DESC_W_OFF], u32[d + DESC_W_CAPLEN], u32[d + DESC_W_LEN], lt, sec, nsec);
    if (forwards && u32[verdictW + i] >>> VERDICT_WHY_SHIFT === 0)
      sink.output(core.u8, u32[d + DESC_W_OFF], u32[d + DESC_W_CAPLEN], u32[d + DESC_W_LEN], lt, sec, nsec);
  }
}

// ---- progress -------------------------------------------------------------------------------
/** One line on stderr, rewritten at most 5 times a second: packets, rate, ETA from the file offset. */
export class Progress {
  private readonly t0 = performance.now();
  private last = 0;
  private shown = false;
  tick(packets: number, loop: number, loops: number, offset: number, size: number): void {
    const now = performance.now();
    if (now - this.last < 200) return;
    this.last = now;
    const frac = Math.min(1, (loop + (size ? offset / size : 1)) / loops);
    const el = (now - this.t0) / 1000;
    const eta = frac > 0 ? (el * (1 - frac)) / frac : 0;
    const line = `  ${fmtCount(packets)} packets  ${fmtCount(packets / Math.max(el, 1e-9))}/s  ${(frac * 100).toFixed(0)}%  ETA ${eta.toFixed(0)} s`;
    process.stderr.write(`\r${line.padEnd(60)}`);
    this.shown = true;
  }
  done(): void {
    if (this.shown) process.stderr.write(`\r${" ".repeat(60)}\r`);
  }
}

function fmtCount(x: number): string {
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(1)} k`;
  return x.toFixed(0);
}

// ---- shared with `ixwasm inject` (host/tap/inject.ts) ----------------------------
// The pacing schedule and the bounded quantile sample, so inject paces and reports
// its pacing error the same way as replay does.
export { scheduleMs, Samples as PacingSamples };
