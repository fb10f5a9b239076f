// One replay worker thread (raw or track mode): owns one core in its own
// presized memory. It takes what the dispatcher published in its ring (all
// that is there, up to the end of the descriptor region: never waiting for
// more), copies those descriptors and their frames in bulk from its outbox in
// the dispatcher's memory to the same positions in its own (the outbox mirrors
// its staging and descriptor regions: plane.ts), gives the slots back,
// then runs the same batch function as the one-thread replay over them, at
// most maxBatch at a time (adaptive batching). Idle: spins spinRounds empty polls, then sleeps on the ring's
// sleeping flag (the dispatcher notifies only a sleeper). When the dispatcher
// sleeps because the ring is full, the worker wakes it after freeing room.
// At the end it reports its core's counts (buildReport in this thread: the
// track-state scan is a call into this thread's instance).
//
// Paced speeds: the dispatcher runs ahead (its rings and the outboxes are the
// buffer) and writes each frame's due time into its descriptor; the worker
// walks what it took as the one-thread path walks a batch (replay.ts): sleep
// until the next frame is due, one core call per run of due frames (≤ maxBatch),
// lateness and gap error per frame, latency after the call. Its --out part is
// stamped with the wall clock after each call, as one thread does; the parts
// are merged by time at the end (workers.ts).
import { parentPort, workerData } from "node:worker_threads";
import { cpus } from "node:os";
import { createCore } from "../core/core.ts";
import { SpscRing } from "../runtime/ring.ts";
import { threadCpuMs } from "../runtime/thread-cpu.ts";
import { Backoff } from "../runtime/poll-loop.ts";
import { newRunStats } from "./run-stats.ts";
import { DESC_BYTES, DESC_CAPLEN, DESC_LINKTYPE, DESC_OFF, DESC_SEC } from "../core/abi.gen.ts";
import { buildReport, type RunStats } from "../report/replay.ts";
import { OutputSink, writeBatch } from "./output.ts";
import { PacingSamples, sleepUntil } from "./pacing.ts";
import { warmUp } from "./warm-up.ts";
import {
  RW_DONE,
  RW_EXIT,
  RW_PWAIT,
  RW_READY,
  RW_STRIDE,
  type ReplayWorkerData,
  type ReplayWorkerResult,
} from "./proto.ts";

type BatchFn = (first: number, count: number, loop: number) => number;

const d = workerData as ReplayWorkerData;
const base = d.index * RW_STRIDE;
const res: ReplayWorkerResult = {
  index: d.index,
  packets: 0,
  busyMs: 0,
  copyMs: 0,
  activeMs: 0,
  cpuMs: 0,
  batchSizes: new Array(d.maxBatch + 1).fill(0),
  takes: 0,
  occupancySum: 0,
  occupancyMax: 0,
  naps: 0,
  samples: null,
  endMs: 0,
  waitMs: 0,
  outRecords: 0,
  report: null,
  trap: null,
};
let sink = null as OutputSink | null; // set in runDue (a closure: TS would narrow it to null)
try {
  const paced = d.paced;
  // V8 compiles wasm functions at their first call, in every thread: warm up before saying ready.
  if (paced) warmUp(d.path, d.mode, d.workers, d.flows ?? 4096);
  const core = createCore(d.config, { memory: d.memory, fresh: true });
  const ex = core.exports;
  const fn = d.mode === "raw" ? ex.replayRawBatch : ex.replayTrackBatch;
  const ring = new SpscRing(d.ring, 0);
  const slots = ring.slots;
  const mask = slots - 1;
  const half = slots >>> 1;
  const sizes = res.batchSizes;
  const S = d.outboxBytes;
  const src = Buffer.from(d.outbox.buffer);
  const dst = Buffer.from(d.memory.buffer);
  const ob = d.outboxAt; // frame bytes; descriptors at ob + S
  const stage = core.regions.staging.offset;
  const desc = core.regions.desc.offset;
  const u32 = core.u32;
  const f64 = core.f64;
  // Paced: due times in this thread's performance.now() (the dispatcher's are on the epoch).
  const schedOf = new Float64Array(slots);
  const lateness: PacingSamples | null = paced ? new PacingSamples() : null;
  const gapErr: PacingSamples | null = paced ? new PacingSamples() : null;
  const latency: PacingSamples | null = paced ? new PacingSamples() : null;
  let prevSched = NaN;
  let prevActual = NaN;
  /** Paced: one core call per maxBatch of descriptors from..to-1, all due; then their latency and --out. */
  const runDue = (from: number, to: number): void => {
    for (let j = from; j < to; j += d.maxBatch) {
      const m = Math.min(d.maxBatch, to - j);
      fn(j, m, 0);
      sizes[m]++;
    }
    const p1 = performance.now();
    for (let j = from; j < to; j++) latency!.add((p1 - schedOf[j]) * 1000);
    res.endMs = performance.timeOrigin + p1;
    if (d.out) {
      sink ??= new OutputSink(
        d.out,
        !!d.outMerged,
        u32[(desc + from * DESC_BYTES + DESC_LINKTYPE) >>> 2] & 0xffff,
      );
      writeBatch(sink, core, from, to - from, 0, (performance.timeOrigin + p1) / 1000);
    }
  };
  /** Paced: descriptors i..i+k-1, each released at its due time (replay.ts's walk). */
  const pacedRun = (i: number, k: number): void => {
    const t0 = performance.timeOrigin;
    let runStart = i;
    for (let j = i; j <= i + k; j++) {
      let sched = Infinity;
      if (j < i + k) {
        sched = f64[(desc + j * DESC_BYTES + DESC_SEC) >>> 3] - t0;
        schedOf[j] = sched;
      }
      if (j > runStart && (j - runStart >= d.maxBatch || sched > performance.now())) {
        runDue(runStart, j);
        runStart = j;
      }
      if (j === i + k) break;
      if (sched > performance.now()) {
        const w0 = performance.now();
        sleepUntil(sched);
        res.waitMs += performance.now() - w0;
      }
      const actual = performance.now();
      lateness!.add((actual - sched) * 1000);
      if (!Number.isNaN(prevSched)) gapErr!.add(Math.abs(actual - prevActual - (sched - prevSched)) * 1000);
      prevSched = sched;
      prevActual = actual;
    }
  };
  Atomics.store(d.ctl, base + RW_READY, 1);
  // bounded nap: a missed wake-up costs at most 1 ms
  const backoff = new Backoff({ rounds: d.spinRounds }, () => {
    ring.sleep(1);
    res.naps++;
  });
  let first = 0;
  let last = 0;
  let cpu0 = 0;
  for (;;) {
    const avail = ring.available();
    if (avail > 0) {
      const i = ring.tail() & mask;
      // Descriptors are contiguous up to the end of the region: a wrap takes two takes.
      const k = Math.min(avail, slots - i);
      const t0 = performance.now();
      const waited = res.waitMs;
      if (!d.discard) {
        src.copy(dst, desc + i * DESC_BYTES, ob + S + i * DESC_BYTES, ob + S + (i + k) * DESC_BYTES);
        // The frames lie from the first descriptor's to the end of the last one's,
        // wrapping once at most (the outbox never holds more than S bytes).
        const p0 = u32[(desc + i * DESC_BYTES + DESC_OFF) >>> 2] - stage;
        const pl = u32[(desc + (i + k - 1) * DESC_BYTES + DESC_OFF) >>> 2] - stage;
        const end = pl + u32[(desc + (i + k - 1) * DESC_BYTES + DESC_CAPLEN) >>> 2];
        if (pl >= p0) src.copy(dst, stage + p0, ob + p0, ob + end);
        else {
          src.copy(dst, stage + p0, ob + p0, ob + S);
          src.copy(dst, stage, ob, ob + end);
        }
      }
      const t1 = performance.now();
      // The copies are ours now: the slots and their bytes go back at once.
      ring.release(k);
      // A dispatcher asleep on a full outbox is woken once half of it is free,
      // not for every take given back (a wake-up costs tens of µs here).
      if (
        Atomics.load(d.ctl, base + RW_PWAIT) !== 0 &&
        avail - k <= half &&
        Atomics.compareExchange(d.ctl, base + RW_PWAIT, 1, 0) === 1
      )
        Atomics.notify(d.ctl, base + RW_PWAIT, 1);
      if (paced && !d.discard) pacedRun(i, k);
      else if (!d.discard)
        for (let j = 0; j < k; j += d.maxBatch) {
          const m = Math.min(d.maxBatch, k - j);
          fn(i + j, m, 0); // loop 0: the dispatcher made the --loop rewrite before hashing
          sizes[m]++;
        }
      else sizes[Math.min(k, d.maxBatch)]++;
      const t2 = performance.now();
      if (res.packets === 0) {
        first = t0;
        cpu0 = threadCpuMs();
      }
      last = t2;
      res.copyMs += t1 - t0;
      res.busyMs += t2 - t1 - (paced ? res.waitMs - waited : 0);
      res.packets += k;
      res.takes++;
      res.occupancySum += avail;
      if (avail > res.occupancyMax) res.occupancyMax = avail;
      backoff.after(k);
      continue;
    }
    // DONE is set after the last publish: empty now means empty for good.
    if (Atomics.load(d.ctl, base + RW_DONE) !== 0 && ring.available() === 0) break;
    backoff.after(0);
  }
  res.activeMs = last - first;
  res.cpuMs = res.packets ? threadCpuMs() - cpu0 : 0;
  const st: RunStats = {
    ...newRunStats(d.path, d.mode, d.workers, { kind: "top" }, 1, null, undefined),
    procMs: res.busyMs,
    wallMs: res.activeMs,
  };

  res.report = buildReport(core, st, cpus());
  if (paced)
    res.samples = { lateness: lateness!.values(), gap: gapErr!.values(), latency: latency!.values() };
} catch (e) {
  res.trap = (e as Error).message ?? String(e);
} finally {
  try {
    sink?.close();
    res.outRecords = sink?.records ?? 0;
  } catch (e) {
    res.trap ??= `--out: ${(e as Error).message}`;
  }
  Atomics.store(d.ctl, base + RW_EXIT, 1);
  // A dispatcher waiting for room must not wait for a worker that is gone.
  Atomics.store(d.ctl, base + RW_PWAIT, 0);
  Atomics.notify(d.ctl, base + RW_PWAIT);
}
parentPort!.postMessage(res);
