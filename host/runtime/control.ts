// A small shared control block between the main thread and its workers: one
// Int32 word per flag, read and written with Atomics only.
export const CTL_STOP = 0; // main -> workers: leave the loop
export const CTL_READY = 1; // worker i sets CTL_READY + i after init
export const CTL_DONE = 9; // worker i sets CTL_DONE + i when its app has finished
export const CTL_WORK = 17; // worker i counts its rounds that did work in CTL_WORK + i (its peer's spin watches it)
export const CTL_WORDS = 25;

export function newControl(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
}

/** Milliseconds on a clock all threads share (each thread's performance.now() has its own origin). */
export function sharedNowMs(): number {
  return performance.timeOrigin + performance.now();
}
