// A paced run's warm-up: V8 compiles wasm functions lazily, in every thread.
import { createCore } from "../core/core.ts";
import { TraceError } from "../io/errors.ts";
import { TraceReader } from "../io/reader.ts";
import { replayCoreConfig, type ReplayMode } from "./options.ts";

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
