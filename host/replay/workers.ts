// `ixwasm replay --mode raw|track --workers N` (N ≥ 2): the replay on N worker
// threads (host/replay/plane.ts). This thread reads the capture and
// dispatches; each worker processes its flows; the report merges the workers'
// counts (sums: they own disjoint flows) and adds a per-worker section.
// --workers 1 stays the one-thread path in replay.ts: the fastest here (see the
// docs/figures.md, "Workers").
//
// --out at top speed: this thread writes, after each batch is dispatched, from
// the verdicts the gather call left (raw forwards every frame it does not drop;
// track sends nothing; --out-merged adds the input). It holds every frame in
// input order with the capture's times, so the file is byte for byte the
// one-thread file, with one write and no merge. Workers writing parts would
// take the write off the dispatcher, the thread that limits this design, but
// the parts then need a merge pass that reads and writes every record again,
// and equal times across flows could not keep input order without a sequence
// number carried through. Measured on the 2 M packet gen etc capture (raw, 2
// workers, --out to /tmp, load 10 on 2 vCPUs, 2 runs): writing here adds 160-195
// ns of dispatcher CPU per packet (95-130 → 290); a merge pass alone (read one
// part, write it again) costs 227-238 ns of CPU per packet, before the parts'
// own writes.
//
// Paced speeds: one schedule for the whole capture (replay.ts scheduleMs, t0 =
// its first record, origin = the wall clock when this thread has read it plus
// LEAD_MS), computed here where the packet index and bytes so far are known
// (pps, mbps), and carried to the workers as each descriptor's due time
// (replay-proto.ts). Each worker releases its frames at their due times, so all
// share the origin. --out: at paced speeds a frame's time is when its worker's
// core processed it, known only there: each worker writes a pcapng part and the
// parts are merged by time (host/io/merge-captures.ts; a flow lives in one
// worker, so its frames keep their order). The pacing samples of all workers
// are pooled before taking percentiles (never averaged).
import { cpus } from "node:os";
import { dirname, basename, extname, join } from "node:path";
import { existsSync, rmSync } from "node:fs";
import { TraceError, UsageError } from "../io/errors.ts";
import { TraceReader } from "../io/reader.ts";
import { addCounts, cyclesEstimate, type ReplayReport } from "../report/replay.ts";
import { ReplayPlane } from "./plane.ts";
import type { ReplayWorkerResult } from "./proto.ts";
import { threadCpuMs } from "../runtime/thread-cpu.ts";
import { checkFile } from "../core/open-capture.ts";
import { OutputSink, writeBatch } from "./output.ts";
import { pooledPacing, scheduleMs, speedName } from "./pacing.ts";
import { Progress } from "./progress.ts";
import { replayCoreConfig, type ReplayOptions } from "./options.ts";
import { TraceWriter } from "../io/writer.ts";
import { mergeCaptures } from "../io/merge-captures.ts";
import * as ABI from "../core/abi.gen.ts";

// Record-descriptor word offsets (abi/table.ts) as this module's own constants: V8 folds
// these in the per-packet loops, where an imported binding costs a load at each use
// (a read loop of sec + nsec: 1.7 against 3.1 ns a descriptor, medians).
const { DESC_WORDS, DESC_W_LEN, DESC_W_NSEC, DESC_W_SEC } = ABI;

export const MAX_REPLAY_WORKERS = 64;
/** Paced: the first frame is due this long after the dispatcher has read it (a napping worker wakes within 1 ms). */
const LEAD_MS = 5;

export interface WorkerReport {
  worker: number;
  /** Frames the dispatcher gave this worker. */
  dispatched: number;
  /** Frames this worker's core took (processed or dropped), and their bytes. */
  packets: number;
  bytes: number;
  processed: number;
  /** packets / the run's wall time. */
  pps: number;
  /** ns inside the core's batch calls per packet (wall clock). */
  busy_ns_per_packet: number;
  /** ns per packet copying frames and descriptors from the outbox (wall clock); busy + copy is the worker's cost. */
  copy_ns_per_packet: number;
  /** The thread's CPU time per packet from its first frame on (spinning while idle included; Linux only, else null). */
  cpu_ns_per_packet: number | null;
  drops: Record<string, number>;
  batch_histogram: Record<string, number>;
  mean_batch: number;
  ring: {
    slots: number;
    /** Frames waiting in the ring when the worker took them (one bulk copy): mean and max. */
    mean_occupancy: number;
    max_occupancy: number;
    /** Times the dispatcher found this ring full and slept. */
    dispatcher_waits: number;
    /** Times the worker slept on its empty ring. */
    worker_naps: number;
  };
}

export interface WorkersReport extends ReplayReport {
  per_worker: WorkerReport[];
  /** The dispatcher's cost per packet: reading; parse, hash and copy into the outboxes (one WASM call per batch); ring words in JS. */
  dispatch: {
    read_ns: number;
    gather_ns: number;
    ring_ns: number;
    /** The dispatching thread's CPU time per frame over the read/dispatch loop (Linux only, else null). */
    cpu_ns: number | null;
    wait_ms: number;
    ring_waits: number;
    /** All threads' CPU time per packet over the run's wall time (worker start-up excluded), and CPUs used (CPU / wall). */
    process_cpu_ns: number;
    process_cpus: number;
  };
  /** Paced: the schedule's origin (s since the epoch): the first record is due then, record t at origin + (t − t0) / speed. */
  schedule_origin_s: number | null;
}

export interface WorkersOptions extends ReplayOptions {
  spinRounds?: number;
  /** Ring and staging size per worker (tests: wrap-around and back-pressure). */
  ringSlots?: number;
  stagingBytes?: number;
  /** Bench-only: workers discard their frames (the report's counts are then zero). */
  discard?: boolean;
}

/** Runs the replay on opts.workers threads; a corrupt capture ends it early with `error` set. */
export async function replayWorkers(path: string, opts: WorkersOptions): Promise<WorkersReport> {
  const mode = opts.mode;
  const workers = opts.workers ?? 2;
  const speed = opts.speed ?? { kind: "top" };
  const loops = opts.loop ?? 1;
  const flows = opts.flows ?? 1 << 18;
  if (mode !== "raw" && mode !== "track")
    throw new UsageError(`--mode ${mode} --workers ${workers} is not available yet`, "use --workers 1");
  if (workers < 2 || workers > MAX_REPLAY_WORKERS)
    throw new UsageError(`--workers ${workers} is out of range`, `use 1..${MAX_REPLAY_WORKERS}`);
  const paced = speed.kind !== "top";
  if (opts.discard && (paced || opts.out)) throw new UsageError("discard runs are top speed without --out");
  if (opts.app)
    throw new UsageError(`--app ${opts.app} applies to --mode serve only`, "drop --app for raw and track");
  if (loops < 1) throw new UsageError(`--loop ${loops} is out of range`, "use 1 or more");
  checkFile(path);
  // Paced --out: one pcapng part per worker next to the output (pcapng keeps each record's link type and ns).
  const parts =
    paced && opts.out
      ? Array.from({ length: workers }, (_, i) =>
          join(dirname(opts.out!), `.${basename(opts.out!, extname(opts.out!))}.worker${i}.pcapng`),
        )
      : [];

  const plane = await ReplayPlane.start({
    mode,
    workers,
    path,
    config: replayCoreConfig(mode, workers, flows, opts.shard),
    // The dispatcher only reads, parses and hashes: raw mode's config, no flow table.
    dispatcherConfig: replayCoreConfig("raw", workers, 0, opts.shard), // its reader keeps the shard's records
    spinRounds: opts.spinRounds,
    ringSlots: opts.ringSlots,
    stagingBytes: opts.stagingBytes,
    discard: opts.discard,
    paced,
    flows,
    parts,
    outMerged: opts.outMerged,
  });
  const core = plane.dispatcher;
  const u32 = core.u32;
  const f64 = core.f64;
  const descW = core.regions.desc.offset >>> 2;
  let format = "";
  let linktypes: number[] = [];
  let error: string | null = null;
  let readMs = 0;
  let firstTs: number | null = null;
  let lastTs: number | null = null;
  let spanSec = 0;
  const t0 = performance.now();
  const cpu0 = threadCpuMs();
  const proc0 = process.cpuUsage();
  let cpuMs = NaN;
  let results: ReplayWorkerResult[];
  let sink: OutputSink | null = null;
  let outRecords = 0;
  // Paced: the schedule (replay.ts's paced path, over every record).
  let trace0 = NaN;
  let originMs = NaN;
  let pktIndex = 0;
  let bitsSoFar = 0;
  // A progress line on a TTY (the CLI sets opts.progress): records handed to the workers.
  const progress = opts.progress ? new Progress() : null;
  let dispatched = 0;
  try {
    let reader: TraceReader | null = null;
    try {
      for (let loop = 0; loop < loops; loop++) {
        reader = new TraceReader(path, core, opts.batch ? { batch: opts.batch } : {});
        if (loop === 0) {
          format = reader.format;
          linktypes = reader.linktypes;
        }
        const shift = loop * spanSec;
        let firstSec = NaN;
        let lastSec = NaN;
        for (;;) {
          const r0 = performance.now();
          const n = reader.next();
          readMs += performance.now() - r0;
          if (n === 0) break;
          if (loop === 0 && linktypes.length === 0) linktypes = reader.linktypes;
          const s0 = f64[(descW + DESC_W_SEC) >>> 1] + u32[descW + DESC_W_NSEC] / 1e9;
          const s1 =
            f64[(descW + (n - 1) * DESC_WORDS + DESC_W_SEC) >>> 1] +
            u32[descW + (n - 1) * DESC_WORDS + DESC_W_NSEC] / 1e9;
          if (Number.isNaN(firstSec)) firstSec = s0;
          lastSec = s1;
          if (firstTs === null) firstTs = s0;
          lastTs = s1 + shift;
          if (paced)
            for (let i = 0; i < n; i++) {
              const d = descW + i * DESC_WORDS;
              const ts = f64[(d + DESC_W_SEC) >>> 1] + u32[d + DESC_W_NSEC] / 1e9 + shift;
              if (Number.isNaN(trace0)) {
                trace0 = ts;
                originMs = performance.timeOrigin + performance.now() + LEAD_MS;
              }
              f64[(d + DESC_W_SEC) >>> 1] = originMs + scheduleMs(speed, ts - trace0, pktIndex, bitsSoFar);
              bitsSoFar += u32[d + DESC_W_LEN] * 8;
              pktIndex++;
            }
          plane.dispatch(n, loop);
          dispatched += n;
          progress?.tick(dispatched, loop, loops, reader.offset, reader.fileSize);
          if (opts.out && !paced) {
            sink ??= new OutputSink(opts.out, !!opts.outMerged, reader.linktypes[0] ?? 1);
            writeBatch(sink, core, 0, n, shift, null, mode === "raw");
          }
        }
        reader.close();
        reader = null;
        if (!Number.isNaN(firstSec) && loop === 0) spanSec = Math.floor(lastSec) - Math.floor(firstSec) + 1;
      }
    } catch (e) {
      if (!(e instanceof TraceError)) throw e;
      error = e.message;
    } finally {
      reader?.close();
      sink?.close();
      progress?.done();
    }
    cpuMs = threadCpuMs() - cpu0;
    results = await plane.finish();
    if (sink) outRecords = sink.records;
    else if (opts.out) {
      // Paced: the workers' parts by time; a worker that processed nothing wrote none.
      const have = parts.filter((p) => existsSync(p));
      if (have.length) outRecords = mergeCaptures(have, opts.out, linktypes[0] ?? 1);
      else new TraceWriter(opts.out, { linktype: linktypes[0] ?? 1 }).close();
    }
  } catch (e) {
    await plane.abort();
    throw e;
  } finally {
    for (const p of parts) rmSync(p, { force: true });
  }
  const wallMs = performance.now() - t0;
  const pc = process.cpuUsage(proc0);
  return mergeReports(results, plane, {
    path,
    mode,
    workers,
    loops,
    format,
    linktypes,
    error,
    readMs,
    wallMs,
    firstTs,
    lastTs,
    cpuMs,
    processCpuMs: (pc.user + pc.system) / 1000,
    speed: speedName(speed),
    originMs,
    out: opts.out ? { file: opts.out, records: outRecords } : null,
  });
}

interface RunInfo {
  path: string;
  mode: "raw" | "track";
  workers: number;
  loops: number;
  format: string;
  linktypes: number[];
  error: string | null;
  readMs: number;
  wallMs: number;
  firstTs: number | null;
  lastTs: number | null;
  /** The dispatching thread's CPU time over the read/dispatch loop. */
  cpuMs: number;
  /** The process's CPU time (all threads) over the same span as wallMs. */
  processCpuMs: number;
  speed: string;
  /** Paced: the schedule's origin (ms since the epoch), else NaN. */
  originMs: number;
  out: ReplayReport["out"];
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Power-of-two buckets, as the one-thread report's batch_histogram. */
function histogram(sizes: number[]): Record<string, number> {
  const h = new Map<number, number>();
  sizes.forEach((k, n) => {
    if (n === 0 || k === 0) return;
    const b = 2 ** Math.floor(Math.log2(n));
    h.set(b, (h.get(b) ?? 0) + k);
  });
  const out: Record<string, number> = {};
  for (const [b, k] of [...h.entries()].sort((x, y) => x[0] - y[0]))
    out[b === 1 ? "1" : `${b}-${2 * b - 1}`] = k;
  return out;
}

function mergeReports(results: ReplayWorkerResult[], plane: ReplayPlane, run: RunInfo): WorkersReport {
  const parts = results.map((r) => r.report!);
  const m = structuredClone(parts[0]);
  for (const p of parts.slice(1)) {
    const counts = {
      packets_in: p.packets_in,
      packets_out: p.packets_out,
      bytes_in: p.bytes_in,
      bytes_out: p.bytes_out,
      packets_processed: p.packets_processed,
      flows: p.flows,
      drops: p.drops,
      worker_packets: p.worker_packets,
      tcp: p.tcp,
    };
    addCounts(m as unknown as Record<string, unknown>, counts);
  }
  const n = m.packets_in;
  const sec = run.wallMs / 1000;
  const st = plane.stats;
  const perPkt = (ms: number) => (n ? r2((ms * 1e6) / n) : 0);
  // The dispatcher's costs per frame it dispatched (= packets_in, except in the bench's discard runs).
  const nd = st.dispatched.reduce((a, b) => a + b, 0);
  const perFrame = (ms: number) => (nd ? r2((ms * 1e6) / nd) : 0);
  const busy = results.reduce((a, r) => a + r.busyMs, 0);
  const copy = results.reduce((a, r) => a + r.copyMs, 0);
  const stages: Record<string, number> = {
    read: perFrame(run.readMs),
    gather: perFrame(st.gatherMs),
    ring: perFrame(st.ringMs),
    copy: perPkt(copy),
    [run.mode]: perPkt(busy),
  };
  const mhz = m.machine.mhz;
  const allSizes: number[] = [];
  for (const r of results) r.batchSizes.forEach((k, i) => (allSizes[i] = (allSizes[i] ?? 0) + k));
  const perWorker: WorkerReport[] = results.map((r, i) => {
    const p = parts[i];
    const calls = r.batchSizes.reduce((a, k) => a + k, 0);
    return {
      worker: i,
      dispatched: st.dispatched[i],
      packets: p.packets_in,
      bytes: p.bytes_in,
      processed: p.packets_processed,
      pps: sec > 0 ? Math.round(p.packets_in / sec) : 0,
      busy_ns_per_packet: p.packets_in ? r2((r.busyMs * 1e6) / p.packets_in) : 0,
      copy_ns_per_packet: p.packets_in ? r2((r.copyMs * 1e6) / p.packets_in) : 0,
      cpu_ns_per_packet: Number.isFinite(r.cpuMs) && p.packets_in ? r2((r.cpuMs * 1e6) / p.packets_in) : null,
      drops: Object.fromEntries(Object.entries(p.drops).map(([k, v]) => [k, v ?? 0])),
      batch_histogram: histogram(r.batchSizes),
      mean_batch: calls ? r2(r.packets / calls) : 0,
      ring: {
        slots: plane.ringSlots,
        mean_occupancy: r.takes ? r2(r.occupancySum / r.takes) : 0,
        max_occupancy: r.occupancyMax,
        dispatcher_waits: st.waits[i],
        worker_naps: r.naps,
      },
    };
  });
  // The achieved rate over the schedule: from its origin to the last worker's last core call.
  const pacedSec = (Math.max(...results.map((r) => r.endMs)) - run.originMs) / 1000;
  return {
    ...m,
    trace: run.path,
    format: run.format,
    linktypes: run.linktypes,
    workers: run.workers,
    speed: run.speed,
    loops: run.loops,
    duration_s: r2(sec * 1000) / 1000,
    trace_duration_s: run.firstTs === null || run.lastTs === null ? null : run.lastTs - run.firstTs,
    trace_first_s: run.firstTs,
    trace_last_s: run.lastTs,
    pps: sec > 0 ? Math.round(n / sec) : 0,
    mbps: sec > 0 ? r2((m.bytes_in * 8) / sec / 1e6) : 0,
    stages,
    stages_cycles_est: cyclesEstimate(stages, mhz),
    batch_histogram: histogram(allSizes),
    error: run.error,
    out: run.out,
    ...pooledPacing(
      results.map((r) => r.samples),
      n,
      m.bytes_in,
      pacedSec,
    ),
    schedule_origin_s: Number.isNaN(run.originMs) ? null : run.originMs / 1000,
    machine: { ...m.machine, cores: cpus().length },
    per_worker: perWorker,
    dispatch: {
      read_ns: perFrame(run.readMs),
      gather_ns: perFrame(st.gatherMs),
      ring_ns: perFrame(st.ringMs),
      cpu_ns: Number.isFinite(run.cpuMs) ? perFrame(run.cpuMs) : null,
      wait_ms: r2(st.waitMs),
      ring_waits: st.waits.reduce((a, b) => a + b, 0),
      process_cpu_ns: perPkt(run.processCpuMs),
      process_cpus: run.wallMs > 0 ? r2(run.processCpuMs / run.wallMs) : 0,
    },
  };
}

/** The per-worker lines under the one-thread table (formatReplay). */
export function formatWorkers(r: WorkersReport): string {
  const num = (x: number) => x.toLocaleString("en-US");
  const cpu = r.dispatch.cpu_ns === null ? "" : `, thread CPU ${r.dispatch.cpu_ns} ns`;
  const lines = [
    `dispatcher  read ${r.dispatch.read_ns} ns, gather (parse, hash, copy to outbox) ${r.dispatch.gather_ns} ns, ring ${r.dispatch.ring_ns} ns per packet${cpu}; outbox full ${num(r.dispatch.ring_waits)} times (${r.dispatch.wait_ms} ms)`,
  ];
  for (const w of r.per_worker) {
    const drops = Object.entries(w.drops).filter(([, v]) => v);
    lines.push(
      `worker ${w.worker}    ${num(w.packets)} packets, ${num(w.pps)}/s, ${w.busy_ns_per_packet} ns/packet busy + ${w.copy_ns_per_packet} copy, batch mean ${w.mean_batch}, ring mean ${w.ring.mean_occupancy} max ${w.ring.max_occupancy} of ${w.ring.slots}, naps ${num(w.ring.worker_naps)}, dispatcher waits ${num(w.ring.dispatcher_waits)}, dropped ${drops.length ? drops.map(([k, v]) => `${k} ${num(v)}`).join(", ") : "none"}`,
    );
  }
  return lines.join("\n") + "\n";
}
