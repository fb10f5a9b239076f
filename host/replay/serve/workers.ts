// `ixwasm replay --mode serve --workers N` (N ≥ 2): serve on N worker threads,
// each with its own core, pre-scan (made here, below) and mirror feed, owning the
// flows the flow hash gives it (symmetric Toeplitz + RETA, host/replay/serve/flow-owner.ts).
//
// Why every worker reads the capture itself ("RSS at the source") rather than
// a dispatcher thread handing frames out (as raw and track do, host/replay/plane.ts):
// serve's per-packet work is the host loop around the core (flow table, feed,
// fidelity), and every piece of it belongs to one flow, so it splits by flow
// with nothing shared; the price is that each worker reads and decodes every
// record (~95 ns a record it skips) and skips the others'. A dispatcher would
// have to carry the server's reference payloads to the workers as well.
//
// The pre-scans are made here, every worker's in one pass (prescanWorkers),
// while the workers start (loading modules, compiling), unless the caller made
// them already (opts.prescans: the CLI choosing the mode from them); each
// worker gets its own as its first message. A pre-scan in each worker cost as
// much as the whole capture's (docs/measurement/performance-log.md §11).
//
// The report adds the workers' counts (they own disjoint flows, each record is
// counted by exactly one worker: frames without an IP header by worker 0),
// fidelity included, and lists each worker. --out: each worker writes a part,
// merged by timestamp at the end (a flow's frames keep their order; equal
// times across flows go in worker order).
//
// Paced speeds (realtime, xK): one schedule for all workers. Each worker makes
// its pre-scan and warm-up, then asks for the origin at its first record; this
// thread answers once every worker has asked (or ended), with the wall clock
// plus LEAD_MS, so pre-scans of different lengths do not shift the workers'
// schedules apart. A client packet of capture time t is due at origin +
// (t − t0) / speed, t0 the capture's first record (one thread starts at its
// first client packet: the whole schedule may lie earlier by that gap). pps:N
// and mbps:N are refused: the k-th client packet's slot depends on how many
// client packets all the other workers' flows have before it, which no worker
// knows (each has only its own flows' state). The pacing samples of all
// workers are pooled before the percentiles are taken.
import { cpus } from "node:os";
import { dirname, basename, extname, join } from "node:path";
import { rmSync } from "node:fs";
import { UsageError } from "../../io/errors.ts";
import type { Worker } from "node:worker_threads";
import { spawnWorker, workerUrl } from "../../runtime/spawn.ts";
import type { ServeWorkerData, ServeWorkerResult } from "./worker.ts";
import { mergeCaptures } from "../../io/merge-captures.ts";
import { addCounts, cyclesEstimate, mergeFidelity, type ReplayReport } from "../../report/replay.ts";
import { pooledPacing, speedName } from "../pacing.ts";
import { Progress } from "../progress.ts";
import { MAX_SERVE_WORKERS, type ReplayOptions } from "../options.ts";
import { checkFile } from "../../core/open-capture.ts";
import { mergeModuleReports } from "../../report/module.ts";
import { prescanWorkers, type WorkerPrescans } from "./prescan.ts";

/** Paced: the first record is due this long after the last worker is ready. */
const LEAD_MS = 20;
const ORIGIN_WAIT_MS = 600_000;

export interface ServeWorkerReport {
  worker: number;
  packets: number;
  packets_out: number;
  flows_served: number;
  pps: number;
  /** The thread's CPU time per packet it took in its serve pass (Linux; null elsewhere). */
  cpu_ns_per_packet: number | null;
}

export interface ServeWorkersReport extends ReplayReport {
  /** The whole run: threads started, pre-scans, serve passes, --out merged (duration_s is the serve passes'). */
  wall_s: number;
  /** The pre-scans, all workers' in one pass on the main thread: its wall time and thread CPU (Linux; null elsewhere). */
  prescan_s: number;
  prescan_cpu_ms: number | null;
  per_worker: ServeWorkerReport[];
  /** Paced: the schedule's origin (s since the epoch): a client packet of time t is due at origin + (t − t0) / speed. */
  schedule_origin_s: number | null;
}

/** Runs serve on opts.workers threads; a corrupt capture ends every worker at the same record, with `error` set. */
export async function serveWorkers(path: string, opts: ReplayOptions): Promise<ServeWorkersReport> {
  const workers = opts.workers ?? 2;
  if (!(workers >= 2 && workers <= MAX_SERVE_WORKERS))
    throw new UsageError(`serve --workers ${workers} is out of range`, `use 1..${MAX_SERVE_WORKERS}`);
  const speed = opts.speed ?? { kind: "top" };
  if (speed.kind === "pps" || speed.kind === "mbps")
    throw new UsageError(
      `--speed ${speedName(speed)} with serve --workers ${workers} is not available: a client packet's slot would depend on the other workers' flows`,
      "use realtime or xK, or --workers 1",
    );
  checkFile(path);
  const paced = speed.kind !== "top";
  // Int32 [0]: workers that asked for the origin, [1]: it is set; Float64 [1]: the origin (ms since the epoch).
  const sync = new SharedArrayBuffer(16);
  const flags = new Int32Array(sync, 0, 2);
  const originAt = new Float64Array(sync);
  const parts = opts.out
    ? Array.from({ length: workers }, (_, i) =>
        join(
          dirname(opts.out!),
          `.${basename(opts.out!, extname(opts.out!))}.worker${i}${extname(opts.out!)}`,
        ),
      )
    : [];
  const t0 = performance.now();
  const entry = workerUrl(import.meta.url, "worker");
  let ended = 0;
  // A progress line on a TTY (the CLI sets opts.progress): the workers' packets, the slowest one's share of the file.
  const progress = opts.progress ? new Progress() : null;
  const shared = new SharedArrayBuffer(workers * 3 * 8);
  const prog = new Float64Array(shared);
  const ticker = progress
    ? setInterval(() => {
        let packets = 0;
        let frac = 1;
        for (let i = 0; i < workers; i++) {
          packets += prog[3 * i];
          frac = Math.min(frac, prog[3 * i + 1]);
        }
        progress.tick(packets, 0, 1, frac, 1);
      }, 250)
    : null;
  const spawned: Worker[] = [];
  try {
    // Until each worker has its pre-scan, a failure here must end the ones already
    // started: they wait for their first message and would keep the process alive.
    let running: Promise<ServeWorkerResult>[];
    let made: WorkerPrescans;
    try {
      running = Array.from({ length: workers }, (_, i) => {
        const data: ServeWorkerData = {
          path,
          owner: { index: i, workers, shard: opts.shard },
          opts: {
            app: opts.app,
            loop: opts.loop,
            flows: opts.flows,
            batch: opts.batch,
            outMerged: opts.outMerged,
            out: parts[i],
            speed,
            module: opts.module, // an instance of it in each worker (its own watchdog and restarts)
          },
          sync: paced ? sync : undefined,
          progress: progress ? shared : undefined,
        };
        const w = spawnWorker(entry, data);
        spawned.push(w);
        return new Promise<ServeWorkerResult>((resolve, reject) => {
          w.once("message", resolve);
          w.once("error", reject);
          w.once("exit", (code) => reject(new Error(`serve worker ${i} exited (${code}) without a report`)));
        }).finally(() => ended++);
      });
      running.forEach((p) => p.catch(() => {})); // awaited below; a worker that fails early must not be unhandled meanwhile
      made = opts.prescans ?? prescanWorkers(path, workers, opts.shard);
      if (made.pres.length !== workers)
        throw new Error(`${made.pres.length} pre-scans for ${workers} workers`);
    } catch (e) {
      for (const w of spawned) void w.terminate();
      throw e;
    }
    made.pres.forEach((pre, i) => spawned[i].postMessage({ pre }, [pre.rec.buffer as ArrayBuffer]));
    if (paced) {
      // The origin, once every worker has asked for it or ended (bounded: a stuck worker
      // must not hold the others forever).
      while (Atomics.load(flags, 0) + ended < workers && performance.now() - t0 < ORIGIN_WAIT_MS)
        await new Promise((r) => setTimeout(r, 1));
      originAt[1] = performance.timeOrigin + performance.now() + LEAD_MS;
      Atomics.store(flags, 1, 1);
      Atomics.notify(flags, 1);
    }
    const results = await Promise.all(running);
    const failed = results.findIndex((r) => r.error !== null);
    if (failed >= 0) throw new Error(`serve worker ${failed}: ${results[failed].error}`);
    const wallMs = performance.now() - t0;
    let outRecords = 0;
    if (opts.out) outRecords = mergeCaptures(parts, opts.out);
    return mergeServeReports(
      results.map((r) => r.report!),
      results,
      wallMs,
      opts.out ? { file: opts.out, records: outRecords } : null,
      paced ? originAt[1] : NaN,
      made,
    );
  } finally {
    if (ticker) clearInterval(ticker);
    progress?.done();
    for (const p of parts) rmSync(p, { force: true });
  }
}

const r2 = (x: number) => Math.round(x * 100) / 100;

function mergeServeReports(
  parts: ReplayReport[],
  results: ServeWorkerResult[],
  wallMs: number,
  out: ReplayReport["out"],
  originMs: number,
  prescan: WorkerPrescans,
): ServeWorkersReport {
  const m = structuredClone(parts[0]);
  for (const p of parts.slice(1)) {
    addCounts(m as unknown as Record<string, unknown>, {
      packets_in: p.packets_in,
      packets_out: p.packets_out,
      bytes_in: p.bytes_in,
      bytes_out: p.bytes_out,
      packets_processed: p.packets_processed,
      flows: p.flows, // nulls stay (addCounts adds numbers only)
      drops: p.drops,
      serve: p.serve ?? {},
      batch_histogram: p.batch_histogram,
    });
  }
  if (m.fidelity) m.fidelity = mergeFidelity(parts.map((p) => p.fidelity!));
  if (m.module) m.module = mergeModuleReports(parts.map((p) => p.module));
  // Capture times: each worker saw its own flows' first and last packets.
  const firsts = parts.flatMap((p) => (p.trace_first_s === null ? [] : [p.trace_first_s]));
  const lasts = parts.flatMap((p) => (p.trace_last_s === null ? [] : [p.trace_last_s]));
  m.trace_first_s = firsts.length ? Math.min(...firsts) : null;
  m.trace_last_s = lasts.length ? Math.max(...lasts) : null;
  const mem = m.serve?.memory;
  if (mem) {
    // Counts and bytes add up over the workers' cores; a unit's size and per-connection state do not.
    const m0 = parts[0].serve!.memory!;
    mem.per_connection = m0.per_connection;
    mem.fixed.mbufs.bytes_each = m0.fixed.mbufs.bytes_each;
    mem.fixed.spans.bytes_each = m0.fixed.spans.bytes_each;
    mem.fixed_bytes = Math.round(mem.total_bytes - mem.per_connection.bytes * mem.connections);
    mem.predict = {
      ...m0.predict,
      bytes_1m: Math.round(mem.fixed_bytes + mem.per_connection.bytes * m0.predict.connections_1m),
      bytes_1m_max: Math.round(
        mem.fixed_bytes -
          mem.fixed.mirror_streams.bytes +
          mem.fixed.mirror_streams.cap +
          mem.per_connection.bytes * m0.predict.connections_1m,
      ),
    };
    m.serve!.bytes_per_connection = mem.per_connection.bytes;
  }
  const n = m.packets_in;
  // The serve passes' span, as one worker's report (its pre-scan is apart too); the command's wall time is wall_s.
  const sec = Math.max(...parts.map((p) => p.duration_s));
  // Stages: each worker's ns per packet, weighted by its packets (the work done, whatever ran in parallel).
  const stages: Record<string, number> = {};
  for (const p of parts)
    for (const [k, v] of Object.entries(p.stages))
      stages[k] = (stages[k] ?? 0) + (n ? (v * p.packets_in) / n : 0);
  for (const k of Object.keys(stages)) stages[k] = r2(stages[k]);
  const mhz = m.machine.mhz;
  const paced = !Number.isNaN(originMs);
  // The achieved rate over the schedule: from its origin to the end of the last serve pass.
  const pacedSec = (Math.max(...results.map((r) => r.endMs)) - originMs) / 1000;
  return {
    ...m,
    ...pooledPacing(
      results.map((r) => r.samples),
      n,
      m.bytes_in,
      pacedSec,
    ),
    schedule_origin_s: paced ? originMs / 1000 : null,
    workers: parts.length,
    worker_packets: parts.map((p) => p.packets_in),
    duration_s: r2(sec * 1000) / 1000,
    wall_s: Math.round(wallMs) / 1000,
    prescan_s: Math.round(prescan.s * 1000) / 1000,
    prescan_cpu_ms: Number.isFinite(prescan.cpuMs) ? prescan.cpuMs : null,
    pps: sec > 0 ? Math.round(n / sec) : 0,
    mbps: sec > 0 ? r2((m.bytes_in * 8) / sec / 1e6) : 0,
    stages,
    stages_cycles_est: cyclesEstimate(stages, mhz),
    error: parts.find((p) => p.error)?.error ?? null,
    out,
    machine: { ...m.machine, cores: cpus().length },
    per_worker: parts.map((p, i) => ({
      worker: i,
      packets: p.packets_in,
      packets_out: p.packets_out,
      flows_served: p.flows.served,
      pps: p.duration_s > 0 ? Math.round(p.packets_in / p.duration_s) : 0,
      cpu_ns_per_packet:
        Number.isFinite(results[i].cpuMs) && p.packets_in
          ? r2((results[i].cpuMs * 1e6) / p.packets_in)
          : null,
    })),
  };
}

/** The per-worker lines under the report's table. */
export function formatServeWorkers(r: ServeWorkersReport): string {
  const num = (x: number) => x.toLocaleString("en-US");
  return (
    `workers     ${r.workers} threads, each reads the capture and serves its flows; their pre-scans in one pass (${r.prescan_s} s); ${r.wall_s} s in all\n` +
    r.per_worker
      .map(
        (w) =>
          `worker ${w.worker}    ${num(w.packets)} packets, ${num(w.packets_out)} sent, ${num(w.flows_served)} flows served, ${num(w.pps)}/s in its serve pass${w.cpu_ns_per_packet === null ? "" : `, CPU ${w.cpu_ns_per_packet} ns/packet`}`,
      )
      .join("\n") +
    "\n"
  );
}
