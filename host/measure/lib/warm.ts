// Warming a replay core's batch exports before timing them (stage cost, cost
// ladder). One place, imported by host/measure/cost.ts and host/measure/ladder.ts
// (the ladder took it from cost.ts, which imports the ladder: a circle).
import { createCore } from "../../core/core.ts";
import { TraceReader } from "../../io/reader.ts";
import { TraceError } from "../../io/errors.ts";
import { replayCoreConfig, type BatchExport } from "../../replay/options.ts";

/**
 * V8 tiers a wasm function up after enough calls, not inside a long loop: a
 * batch function called a few dozen times with 4096 records would be timed in
 * the baseline tier. Call each batch function thousands of times on small
 * batches of the capture first, on a throw-away core.
 */
export function warmBatchExports(
  path: string,
  mode: string,
  exportsToWarm: BatchExport[],
  calls = 3000,
): void {
  const core = createCore(replayCoreConfig(mode as "raw" | "track", 1, 1 << 14));
  const ex = core.exports;
  let reader: TraceReader | null = null;
  try {
    reader = new TraceReader(path, core, { batch: 64 });
    const n = reader.next();
    for (let k = 0; k < calls && n > 0; k++) for (const e of exportsToWarm) ex[e](0, n, k & 0xff);
  } catch (e) {
    if (!(e instanceof TraceError)) throw e;
  } finally {
    reader?.close();
  }
}
