// What the dataplane's main thread and its workers share: the worker's start
// data, the control words and the result message. (A module of its own: the
// worker module runs its loop when imported.)
import type { CoreConfig } from "../core/core.ts";

export interface DataplaneWorkerData {
  index: number;
  memory: WebAssembly.Memory;
  config: Partial<CoreConfig>;
  debug: boolean;
  /** The test core (test hooks: testTrap). */
  test: boolean;
  /** Int32 words: [0] stop, [1 + i] polls of worker i, [17 + i] trap request (tests). */
  ctl: Int32Array;
  /** Float64 [0]: the clock in ns the cores run at. */
  clock: Float64Array;
  spinRounds: number;
  /** Control plane's command words (control-worker.ts), MIG_STRIDE per worker. */
  mig?: Int32Array;
  /** Test-only: every clock read inside poll() (stage timing on) takes this long (dataplane.ts). */
  testSlowPollMs?: number;
}

export const DP_STOP = 0;
export const DP_POLLS = 1;
export const DP_TRAP = 17;
export const DP_WORDS = 33;

export interface DataplaneWorkerResult {
  index: number;
  polls: number;
  naps: number;
  trap: string | null;
  /** The worker thread's CPU time from its core's start to its end (ms; NaN off Linux; thread-cpu.ts). */
  cpuMs: number;
}
