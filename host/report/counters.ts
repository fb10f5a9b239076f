// Reading the core's counters. Their names and slots come from COUNTERS in
// abi/table.ts, the list the core's C_* indices are generated from as well.
import { COUNTER_NAMES } from "../core/abi.gen.ts";
import { COUNTER_BASE, HIST_BASE, type CoreViews } from "../core/core.ts";

export { COUNTER_NAMES };
export type CounterName = (typeof COUNTER_NAMES)[number];
export type Counters = Record<CounterName, number>;

/** Reads every counter (u64 slots; exact below 2^53). */
export function readCounters(core: CoreViews): Counters {
  const out = {} as Counters;
  const base = COUNTER_BASE >>> 2;
  COUNTER_NAMES.forEach((name, i) => {
    out[name] = core.u32[base + 2 * i] + core.u32[base + 2 * i + 1] * 4294967296;
  });
  return out;
}

/** The core's batch-size histogram: how many polls took 0, 1, ..., 64 frames. */
export function readBatchHistogram(core: CoreViews): number[] {
  const out: number[] = [];
  const base = HIST_BASE >>> 2;
  for (let i = 0; i <= 64; i++) out.push(core.u32[base + 2 * i] + core.u32[base + 2 * i + 1] * 4294967296);
  return out;
}
