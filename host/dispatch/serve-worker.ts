// One serve worker (serve --workers N, host/commands/serve-workers.ts): it
// reads the whole capture and serves only the flows the flow hash gives it
// (host/trace/flow-owner.ts): its own pre-scan, its own core, its own --out part.
import { parentPort, workerData } from "node:worker_threads";
import { prescan } from "../trace/prescan.ts";
import { runServe } from "../commands/serve.ts";
import type { ReplayReport } from "../report/replay.ts";
import type { ReplayOptions } from "../commands/replay.ts";
import type { OwnerSpec } from "../trace/flow-owner.ts";
import { threadCpuMs } from "./thread-cpu.ts";

export interface ServeWorkerData {
  path: string;
  owner: OwnerSpec;
  opts: Pick<ReplayOptions, "app" | "loop" | "flows" | "batch" | "outMerged"> & { out?: string };
}

export interface ServeWorkerResult {
  report: ReplayReport | null;
  /** An exception (not a capture error: those are in report.error). */
  error: string | null;
  prescanMs: number;
  /** The thread's CPU time for the pre-scan and the serve pass (Linux; NaN elsewhere). */
  cpuMs: number;
}

const d = workerData as ServeWorkerData;
const cpu0 = threadCpuMs();
const t0 = performance.now();
let result: ServeWorkerResult;
try {
  const pre = prescan(d.path, undefined, undefined, d.owner);
  const prescanMs = performance.now() - t0;
  const report = runServe(d.path, pre, { ...d.opts, mode: "serve", owner: d.owner });
  result = { report, error: null, prescanMs, cpuMs: threadCpuMs() - cpu0 };
} catch (e) {
  result = { report: null, error: (e as Error).message ?? String(e), prescanMs: 0, cpuMs: NaN };
}
parentPort!.postMessage(result);
