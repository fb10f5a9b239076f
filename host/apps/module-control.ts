// The words the main thread and an app module's worker share (besides the proxy's
// control block in the core's memory): Int32 indices of a small SharedArrayBuffer.
export const MC = {
  /** 1 once the module is instantiated and initialised. */
  ready: 0,
  /** FAULT.* the worker ended with (0: none). */
  fault: 1,
  /** The main thread asks the worker to leave. */
  stop: 2,
  /** Batches the worker handed to the module. */
  runs: 3,
  /** Bumped with each fault report. */
  seq: 4,
} as const;
export const MC_WORDS = 8;

/** Why a module was stopped (the report's names: FAULT_NAMES). */
export const FAULT = { none: 0, trap: 1, timeout: 2, garbage: 3, init: 4, memory: 5 } as const;
export const FAULT_NAMES = ["none", "trap", "timeout", "garbage", "init", "memory"] as const;
