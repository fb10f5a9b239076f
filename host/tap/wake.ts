// How a tap loop waits for frames (`tap --poll`) and what its naps cost.
//
// adaptive (the default): spin --spin-us after the last frame, then nap in
// poll(2) (host/runtime/poll-loop.ts says why). A frame that comes while the
// loop naps is answered only after the kernel has woken the thread: on these
// VMs tens of µs (the wake itself, a reschedule, a CPU leaving idle), which is
// why a sparse ping costs more than a ping in a stream.
// busy: never nap; every round reads the tap's fds (non-blocking), so a lone
// frame is read within one round. It keeps one CPU busy for the whole run.
//
// The report counts the naps, those a frame ended, and a histogram of the time
// from poll(2)'s return to the first reply ready to write (the frame read, the
// core's poll; not the write(2), which runs the kernel's receive path for the
// reply and may hand the CPU to the client it wakes). The time from the
// frame's arrival to poll(2)'s return (the kernel's wake-up) is not measurable
// here: read(2) on a tap gives no receive timestamp.

export const POLL_MODES = ["adaptive", "busy"] as const;
export type PollMode = (typeof POLL_MODES)[number];

/** Upper bounds (µs, exclusive) of the wake-to-reply buckets; the last bucket has no bound. */
export const WAKE_BOUNDS_US = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096] as const;
export const WAKE_BUCKETS = WAKE_BOUNDS_US.length + 1;

/** Bucket index of a wake-to-reply time in ms. */
export function wakeBucket(ms: number): number {
  const us = ms * 1000;
  let b = 0;
  while (b < WAKE_BOUNDS_US.length && us >= WAKE_BOUNDS_US[b]) b++;
  return b;
}

export interface PollReport {
  mode: PollMode;
  /** adaptive: the spin before a nap (µs); busy: null (it never naps). */
  spin_us: number | null;
  /** Sleeps in poll(2): 0 with busy. */
  naps: number;
  /** Naps poll(2) ended because a queue became readable (the rest timed out for the timers' turn). */
  naps_woken: number;
  /** poll(2) return → first reply ready to write, per woken nap that led to a reply. */
  wake_to_reply_us: {
    /** Bucket upper bounds in µs; the last bucket (counts[bounds.length]) is everything above. */
    bounds: readonly number[];
    counts: number[];
    /** Bucket upper bound where the median / 99th sample falls (the largest sample when in the open bucket; null: no sample). */
    p50_le: number | null;
    p99_le: number | null;
    max: number | null;
  };
}

/** Upper bound of the bucket holding the q-quantile sample (maxUs for the open bucket). */
function bucketQuantile(counts: number[], q: number, maxUs: number): number | null {
  const n = counts.reduce((a, b) => a + b, 0);
  if (!n) return null;
  const want = Math.ceil(q * n);
  let seen = 0;
  let b = 0;
  for (; b < counts.length; b++) {
    seen += counts[b];
    if (seen >= want) break;
  }
  return b < WAKE_BOUNDS_US.length ? WAKE_BOUNDS_US[b] : Math.ceil(maxUs);
}

export function pollReport(
  mode: PollMode,
  spinUs: number,
  naps: number,
  woken: number,
  counts: number[],
  maxMs: number,
): PollReport {
  const any = counts.some((c) => c > 0);
  return {
    mode,
    spin_us: mode === "busy" ? null : spinUs,
    naps,
    naps_woken: woken,
    wake_to_reply_us: {
      bounds: WAKE_BOUNDS_US,
      counts,
      p50_le: bucketQuantile(counts, 0.5, maxMs * 1000),
      p99_le: bucketQuantile(counts, 0.99, maxMs * 1000),
      max: any ? Math.ceil(maxMs * 1000) : null,
    },
  };
}

/** One report line: the mode and, for adaptive, what its naps cost. */
export function formatPoll(p: PollReport): string {
  if (p.mode === "busy") return `busy (never naps: one CPU spins), ${p.naps} naps`;
  const w = p.wake_to_reply_us;
  const le = (x: number | null) => (x === null ? "-" : `≤ ${x}`);
  return (
    `adaptive (spin ${p.spin_us} µs, then poll(2)): ${p.naps} naps, ${p.naps_woken} ended by a frame; ` +
    `wake → reply p50 ${le(w.p50_le)} µs, p99 ${le(w.p99_le)} µs, max ${w.max ?? "-"} µs`
  );
}
