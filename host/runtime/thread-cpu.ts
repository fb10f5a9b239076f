// CPU time of the calling thread, for costs per packet that a shared machine's
// preemption does not inflate (wall-clock times do: a thread that waits for a
// CPU is still on the clock). Linux only (/proc/thread-self/stat: utime and
// stime in USER_HZ = 100 ticks per second, so 10 ms resolution: use it over
// runs of a second or so); NaN elsewhere.
import { readFileSync } from "node:fs";

export function threadCpuMs(): number {
  try {
    const s = readFileSync("/proc/thread-self/stat", "latin1");
    // Fields after the command name's closing parenthesis: state is field 3, utime 14, stime 15.
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}
