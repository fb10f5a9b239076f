// One replay worker thread (raw or track mode): owns one core in its own
// presized memory, takes the descriptors the dispatcher published in its ring
// (at most maxBatch at a time, never waiting for more: adaptive batching), runs
// the same batch function as the one-thread replay over them, and gives the
// slots back. Idle: spins spinRounds empty polls, then sleeps on the ring's
// sleeping flag (the dispatcher notifies only a sleeper). When the dispatcher
// sleeps because the ring is full, the worker wakes it after freeing room.
// At the end it reports its core's counts (buildReport in this thread: the
// track-state scan is a call into this thread's instance).
import { parentPort, workerData } from "node:worker_threads";
import { cpus } from "node:os";
import { createCore } from "../core.ts";
import { SpscRing } from "./ring.ts";
import { threadCpuMs } from "./thread-cpu.ts";
import { buildReport, type RunStats } from "../report/replay.ts";
import {
  RW_DONE,
  RW_EXIT,
  RW_PWAIT,
  RW_READY,
  RW_STRIDE,
  type ReplayWorkerData,
  type ReplayWorkerResult,
} from "./replay-proto.ts";

type BatchFn = (first: number, count: number, loop: number) => number;

const d = workerData as ReplayWorkerData;
const base = d.index * RW_STRIDE;
const res: ReplayWorkerResult = {
  index: d.index,
  packets: 0,
  busyMs: 0,
  activeMs: 0,
  cpuMs: 0,
  batchSizes: new Array(d.maxBatch + 1).fill(0),
  occupancySum: 0,
  occupancyMax: 0,
  naps: 0,
  report: null,
  trap: null,
};
try {
  const core = createCore(d.config, { memory: d.memory, fresh: true });
  const ex = core.exports as unknown as Record<string, BatchFn>;
  const fn = d.mode === "raw" ? ex.replayRawBatch : ex.replayTrackBatch;
  const ring = new SpscRing(d.ring, 0);
  const slots = ring.slots;
  const mask = slots - 1;
  const half = slots >>> 1;
  const sizes = res.batchSizes;
  Atomics.store(d.ctl, base + RW_READY, 1);
  let idle = 0;
  let first = 0;
  let last = 0;
  let cpu0 = 0;
  for (;;) {
    const avail = ring.available();
    if (avail > 0) {
      const i = ring.tail() & mask;
      // Descriptors are contiguous up to the end of the region: a wrap takes two calls.
      const k = Math.min(avail, d.maxBatch, slots - i);
      const t0 = performance.now();
      if (!d.discard) fn(i, k, 0); // loop 0: the dispatcher made the --loop rewrite before hashing
      const t1 = performance.now();
      ring.release(k);
      // A dispatcher asleep on the full ring is woken once half of it is free,
      // not for every batch given back (a wake-up costs tens of µs here).
      if (
        Atomics.load(d.ctl, base + RW_PWAIT) !== 0 &&
        avail - k <= half &&
        Atomics.compareExchange(d.ctl, base + RW_PWAIT, 1, 0) === 1
      )
        Atomics.notify(d.ctl, base + RW_PWAIT, 1);
      if (res.packets === 0) {
        first = t0;
        cpu0 = threadCpuMs();
      }
      last = t1;
      res.busyMs += t1 - t0;
      res.packets += k;
      sizes[k]++;
      res.occupancySum += avail;
      if (avail > res.occupancyMax) res.occupancyMax = avail;
      idle = 0;
      continue;
    }
    // DONE is set after the last publish: empty now means empty for good.
    if (Atomics.load(d.ctl, base + RW_DONE) !== 0 && ring.available() === 0) break;
    if (++idle > d.spinRounds) {
      ring.sleep(1); // bounded: a missed wake-up costs at most 1 ms
      res.naps++;
      idle = 0;
    }
  }
  res.activeMs = last - first;
  res.cpuMs = res.packets ? threadCpuMs() - cpu0 : 0;
  const st: RunStats = {
    path: d.path,
    mode: d.mode,
    workers: d.workers,
    speed: "top",
    loops: 1,
    format: "",
    linktypes: [],
    readMs: 0,
    procMs: res.busyMs,
    outMs: 0,
    waitMs: 0,
    wallMs: res.activeMs,
    batches: new Map(),
    packetsOut: 0,
    bytesOut: 0,
    firstTs: null,
    lastTs: null,
    pacing: null,
    latency: null,
    error: null,
    outFile: null,
  };
  res.report = buildReport(core, st, cpus());
} catch (e) {
  res.trap = (e as Error).message ?? String(e);
} finally {
  Atomics.store(d.ctl, base + RW_EXIT, 1);
  // A dispatcher waiting for room must not wait for a worker that is gone.
  Atomics.store(d.ctl, base + RW_PWAIT, 0);
  Atomics.notify(d.ctl, base + RW_PWAIT);
}
parentPort!.postMessage(res);
