// What the replay dispatcher (plane.ts) and its workers (worker.ts)
// share: the worker's start data, the control words and the result message.
// (A module of its own: the worker module runs its loop when imported.)
import type { CoreConfig } from "../core/core.ts";
import type { ReplayReport } from "../report/replay.ts";
import type { PacingSampleSets } from "./pacing.ts";

export interface ReplayWorkerData {
  index: number;
  workers: number;
  mode: "raw" | "track";
  memory: WebAssembly.Memory;
  config: Partial<CoreConfig>;
  /** The descriptor ring's head/tail/sleep words (ring.ts layout; its slots are unused: see plane.ts). */
  ring: SharedArrayBuffer;
  /** RW_STRIDE Int32 words per worker (RW_* below). */
  ctl: Int32Array;
  /** The dispatcher core's memory, this worker's outbox in it (byte address) and its frame bytes (S; descriptors follow). */
  outbox: WebAssembly.Memory;
  outboxAt: number;
  outboxBytes: number;
  /** Empty polls before the worker sleeps on its ring. */
  spinRounds: number;
  /** Largest batch the worker hands the core (adaptive: fewer when fewer are there). */
  maxBatch: number;
  path: string;
  /** Bench-only: give descriptors back without copying or processing them (the dispatcher's cost alone). */
  discard?: boolean;
  /**
   * Paced speeds: each descriptor's seconds field holds its due time instead of
   * the capture's (ms since the epoch on performance.timeOrigin's clock, the same
   * in every thread; the dispatcher computes it from the one schedule, the cores
   * never read timestamps). The worker releases each frame at that time.
   */
  paced?: boolean;
  /** Paced: the flow-table size for the warm-up core (replay.ts warmUp). */
  flows?: number;
  /** Paced --out: this worker's part (pcapng), stamped with the wall clock when its core processed each frame. */
  out?: string;
  outMerged?: boolean;
}

export const RW_STRIDE = 16; // one cache line of words per worker
export const RW_READY = 0; // the worker's core is initialised
export const RW_DONE = 1; // the dispatcher has published its last frame
export const RW_PWAIT = 2; // the dispatcher sleeps until this worker frees ring room
export const RW_EXIT = 3; // the worker has left its loop (normally or by a trap)

export interface ReplayWorkerResult {
  index: number;
  /** Frames the core processed or dropped (one descriptor each). */
  packets: number;
  /** Milliseconds inside the core's batch calls. */
  busyMs: number;
  /** Milliseconds copying frames and descriptors from the outbox into this worker's memory. */
  copyMs: number;
  /** Milliseconds from the worker's first frame to its last. */
  activeMs: number;
  /** This thread's CPU time from its first frame to the end (thread-cpu.ts; spinning included). */
  cpuMs: number;
  /** Batch sizes handed to the core: index k = calls with k frames (1..maxBatch). */
  batchSizes: number[];
  /** Takes (one bulk copy each), and the sum and max of frames available in the ring at a take. */
  takes: number;
  occupancySum: number;
  occupancyMax: number;
  /** Times the worker slept on its empty ring. */
  naps: number;
  /** Paced: this worker's pacing samples (merged by the dispatcher into one set of percentiles). */
  samples: PacingSampleSets | null;
  /** Paced: when its last core call ended (ms since the epoch, as the due times), else 0. */
  endMs: number;
  /** Milliseconds asleep waiting for frames' due times (paced). */
  waitMs: number;
  /** Paced --out: records written to its part. */
  outRecords: number;
  /** This worker's core's report (counts only; the dispatcher merges them). */
  report: ReplayReport | null;
  trap: string | null;
}
