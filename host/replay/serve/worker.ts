// One serve worker (serve --workers N, host/replay/serve/workers.ts): it
// reads the whole capture and serves only the flows the flow hash gives it
// (host/replay/serve/flow-owner.ts): its own core, its own --out part. Its
// pre-scan comes from the main thread, which makes every worker's in one pass
// while the workers start (the first message: { pre }).
import { parentPort, workerData } from "node:worker_threads";
import type { Prescan } from "./prescan.ts";
import { runServe } from "./serve.ts";
import type { ReplayReport } from "../../report/replay.ts";
import type { PacingSampleSets } from "../pacing.ts";
import type { ReplayOptions } from "../options.ts";
import type { OwnerSpec } from "./flow-owner.ts";
import { threadCpuMs } from "../../runtime/thread-cpu.ts";

export interface ServeWorkerData {
  path: string;
  owner: OwnerSpec;
  opts: Pick<ReplayOptions, "app" | "loop" | "flows" | "batch" | "outMerged" | "speed" | "module"> & {
    out?: string;
  };
  /** Paced: Int32 [0] workers that asked for the origin, [1] set; Float64 [1] the origin (workers.ts). */
  sync?: SharedArrayBuffer;
  /** The progress line: Float64 [3i] packets, [3i+1] fraction of the run done (workers.ts). */
  progress?: SharedArrayBuffer;
}

export interface ServeWorkerResult {
  report: ReplayReport | null;
  /** An exception (not a capture error: those are in report.error). */
  error: string | null;
  /** The thread's CPU time for its serve pass (Linux; NaN elsewhere). */
  cpuMs: number;
  /** When its serve pass ended (ms since the epoch, performance.timeOrigin based). */
  endMs: number;
  /** Paced: the pacing samples, pooled with the other workers'. */
  samples: PacingSampleSets | null;
}

const d = workerData as ServeWorkerData;
let samples: PacingSampleSets | null = null;
/** Paced: says this worker is ready (pre-scan and warm-up done) and waits for the shared origin. */
function origin(): number {
  const flags = new Int32Array(d.sync!, 0, 2);
  Atomics.add(flags, 0, 1);
  // Bounded: the main thread answers within its own bound (workers.ts ORIGIN_WAIT_MS).
  for (let k = 0; k < 1200 && Atomics.load(flags, 1) === 0; k++) Atomics.wait(flags, 1, 0, 1000);
  if (Atomics.load(flags, 1) === 0) throw new Error("no schedule origin from the main thread");
  return new Float64Array(d.sync!)[1];
}
/** Writes this worker's packets and fraction done where the main thread's progress line reads them. */
function progressTo(p: Float64Array, i: number) {
  return (packets: number, loop: number, loops: number, offset: number, size: number) => {
    p[3 * i] = packets;
    p[3 * i + 1] = Math.min(1, (loop + (size ? offset / size : 1)) / loops);
  };
}
function serve(pre: Prescan): ServeWorkerResult {
  const cpu0 = threadCpuMs();
  try {
    const report = runServe(d.path, pre, {
      ...d.opts,
      mode: "serve",
      owner: d.owner,
      origin: d.sync ? origin : undefined,
      onSamples: (s) => (samples = s),
      onProgress: d.progress ? progressTo(new Float64Array(d.progress), d.owner.index) : undefined,
    });
    const endMs = performance.timeOrigin + performance.now();
    return { report, error: null, cpuMs: threadCpuMs() - cpu0, endMs, samples };
  } catch (e) {
    return { report: null, error: (e as Error).message ?? String(e), cpuMs: NaN, endMs: 0, samples: null };
  }
}
parentPort!.once("message", (m: { pre: Prescan }) => parentPort!.postMessage(serve(m.pre)));
