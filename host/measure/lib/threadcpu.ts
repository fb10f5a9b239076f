// This thread's CPU time, the clock the C baselines use (CLOCK_THREAD_CPUTIME_ID),
// read through koffi: Node 20 has no process.threadCpuUsage() (undefined in
// 20.20; later Node lines added it), and process.cpuUsage() counts every
// thread of the process, V8's background compiler and GC threads included,
// which the C side does not have.
import { readdirSync, readFileSync } from "node:fs";
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

/**
 * CPU ms used so far by each of this process's other threads (Linux
 * /proc/self/task; empty elsewhere). The native baselines read it around the
 * WASM timing: a thread left running by an earlier section (a worker not
 * ended, a collector on a large heap) shares the CPUs and caches with the
 * timed one.
 */
export function otherThreadsCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  let tasks: string[];
  try {
    tasks = readdirSync("/proc/self/task");
  } catch {
    return out;
  }
  const self = String(process.pid);
  for (const t of tasks) {
    if (t === self) continue; // the main thread (its tid is the pid)
    try {
      const s = readFileSync(`/proc/self/task/${t}/stat`, "utf8");
      const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
      out.set(t, ((+f[11] + +f[12]) * 1000) / CLK_TCK); // utime + stime, clock ticks
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

/** The CPU ms other threads used between two otherThreadsCpuMs() readings. */
export function otherThreadsDeltaMs(a: Map<string, number>, b: Map<string, number>): number {
  let d = 0;
  for (const [t, ms] of b) d += ms - (a.get(t) ?? 0);
  return d;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86-64/aarch64
