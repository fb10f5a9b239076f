// This thread's CPU time, the clock the C baselines use (CLOCK_THREAD_CPUTIME_ID),
// read through koffi: Node 20 has no process.threadCpuUsage() (undefined in
// 20.20; later Node lines added it), and process.cpuUsage() counts every
// thread of the process, V8's background compiler and GC threads included,
// which the C side does not have.
import { createRequire } from "node:module";

const CLOCK_THREAD_CPUTIME_ID = 3; // <linux/time.h>

let clockGettime: ((clock: number, ts: BigInt64Array) => number) | null = null;
const ts = new BigInt64Array(2); // struct timespec on x86-64/aarch64 Linux: two 64-bit words

/** CPU nanoseconds used by the calling thread so far. */
export function threadCpuNs(): number {
  if (!clockGettime) {
    const koffi = createRequire(import.meta.url)("koffi") as typeof import("koffi");
    clockGettime = koffi.load("libc.so.6").func("int clock_gettime(int clk, _Out_ int64_t *ts)");
  }
  if (clockGettime(CLOCK_THREAD_CPUTIME_ID, ts) !== 0)
    throw new Error("clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
  return Number(ts[0]) * 1e9 + Number(ts[1]);
}
