// What a replay run is asked to do (mode, app, speed, output, the stage-cost
// plumbing) and the core a raw or track run needs. Serve's core: serve/sizing.ts.

import type { ServedModule } from "../apps/module-host.ts";
import type { Core } from "../core/core.ts";
import { CFG_F_SYMMETRIC } from "../core/core.ts";
import { MODE } from "../core/abi.gen.ts";
import type { ServeObserver } from "../report/timeseq.ts";
import type { Prescan, WorkerPrescans } from "./serve/prescan.ts";
import type { OwnerSpec } from "./serve/flow-owner.ts";
import { shardConfig, type ShardSpec } from "./shard.ts";
import type { PacingSampleSets, Speed } from "./pacing.ts";

export type ReplayMode = "raw" | "track" | "serve";

/** serve --workers: at most this many threads (host/replay/serve/workers.ts). */
export const MAX_SERVE_WORKERS = 16;
/** CFG_MODE of each replay mode (abi/table.ts MODES). */
export const MODE_WORDS: Record<ReplayMode, number> = { raw: MODE.raw, track: MODE.track, serve: MODE.serve };
export const APPS = ["mirror", "echo", "memcached", "sink"] as const;

export interface ReplayOptions {
  mode: ReplayMode;
  app?: string | null;
  /** serve: an app module answers (docs/design/app-modules.md) instead of `app` (with workers: an instance in each). */
  module?: ServedModule;
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
  /** serve --workers: the workers' pre-scans, made already (the CLI's choice of mode); else serveWorkers makes them. */
  prescans?: WorkerPrescans;
  /** serve --workers: this worker's share of the flows (host/replay/serve/flow-owner.ts; its pre-scan must have the same). */
  owner?: OwnerSpec;
  /** --shard I/N: only the flows of shard I (host/replay/shard.ts); the reader drops the others. */
  shard?: ShardSpec | null;
  stages?: boolean;
  /** Core export to call per batch instead of the mode's (timed passes, cost-ladder rungs). */
  batchExport?: BatchExport;
  /** Right before each core call at top speed (the cost ladder reads a thread-CPU clock here and in onBatch). */
  beforeBatch?: () => void;
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
