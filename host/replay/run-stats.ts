// The host's counters of one replay run, filled by raw, track and serve alike
// (host/report/replay.ts turns them into the report).
import type { RunStats } from "../report/replay.ts";
import { speedName, type Speed } from "./pacing.ts";

/** The counters of one replay run, all zero (serve and raw/track alike). */
export function newRunStats(
  path: string,
  mode: RunStats["mode"],
  workers: number,
  speed: Speed,
  loops: number,
  error: RunStats["error"],
  out: string | undefined,
): RunStats {
  return {
    path,
    mode,
    workers,
    speed: speedName(speed),
    loops,
    format: "",
    linktypes: [],
    readMs: 0,
    procMs: 0,
    outMs: 0,
    waitMs: 0,
    wallMs: 0,
    setupMs: 0,
    warmupMs: 0,
    prescanMs: 0,
    hostMs: 0,
    trackMs: 0,
    timedPolls: 0,
    timedPollMs: 0,
    batches: new Map(),
    packetsOut: 0,
    bytesOut: 0,
    firstTs: null,
    lastTs: null,
    pacing: null,
    latency: null,
    hists: null,
    error,
    outFile: out ?? null,
  };
}

/** Histogram of core-call sizes in power-of-two buckets (key: the bucket's lower bound). */
export function bucket(h: Map<number, number>, n: number): void {
  const b = 2 ** Math.floor(Math.log2(n));
  h.set(b, (h.get(b) ?? 0) + 1);
}
