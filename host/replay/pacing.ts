// Paced replay: the --speed forms, the schedule, sleeping until a packet is
// due, and the bounded samples of pacing error and latency (inject paces the
// same way, host/tap/inject.ts).
import { UsageError } from "../io/errors.ts";
import type { PacingHists, ReplayReport } from "../report/replay.ts";
import { LogHist, type HistJson } from "../report/hist.ts";

export type Speed =
  | { kind: "top" }
  | { kind: "realtime" }
  | { kind: "multiplier"; factor: number }
  | { kind: "pps"; rate: number }
  | { kind: "mbps"; rate: number };

/** top | realtime | xK | pps:N | mbps:N; throws UsageError with the accepted forms. */
export function parseSpeed(s: string): Speed {
  const bad = () =>
    new UsageError(`bad --speed ${JSON.stringify(s)}`, "use top, realtime, xK (e.g. x10), pps:N or mbps:N");
  if (s === "top") return { kind: "top" };
  if (s === "realtime") return { kind: "realtime" };
  let m = /^x(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const factor = Number(m[1]);
    if (!(factor > 0)) throw bad();
    return { kind: "multiplier", factor };
  }
  m = /^(pps|mbps):(\d+(?:\.\d+)?)$/.exec(s);
  if (m) {
    const rate = Number(m[2]);
    if (!(rate > 0)) throw bad();
    return m[1] === "pps" ? { kind: "pps", rate } : { kind: "mbps", rate };
  }
  throw bad();
}

export function speedName(s: Speed): string {
  switch (s.kind) {
    case "multiplier":
      return `x${s.factor}`;
    case "pps":
      return `pps:${s.rate}`;
    case "mbps":
      return `mbps:${s.rate}`;
    default:
      return s.kind;
  }
}

/** A paced run's samples (µs): lateness, gap error and latency (PacingSamples.values()). */
export interface PacingSampleSets {
  lateness: Float64Array;
  gap: Float64Array;
  latency: Float64Array;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Sleeps until performance.now() >= t: blocks until SPIN_MS before, then spins. Measured here under load (6 on 2 vCPUs): a 0.3 ms Atomics.wait sometimes returns 4 ms late; longer spins did not help (the spinner gets descheduled instead). */
const SPIN_MS = 0.5;
export function sleepUntil(t: number): void {
  for (;;) {
    const rem = t - performance.now();
    if (rem <= 0) return;
    if (rem > SPIN_MS + 0.05) Atomics.wait(sleeper, 0, 0, rem - SPIN_MS);
  }
}

/** Bounded sample of pacing errors (µs): the first 2^20, then every k-th (deterministic). */
class Samples {
  private readonly a = new Float64Array(1 << 20);
  private n = 0;
  private seen = 0;
  add(x: number): void {
    this.seen++;
    if (this.n < this.a.length) this.a[this.n++] = x;
    else if (this.seen % 7 === 0) this.a[(this.seen >>> 3) % this.a.length] = x;
  }
  quantiles(qs: number[]): number[] | null {
    return quantilesOf(this.a.slice(0, this.n), qs);
  }
  /** The samples kept (a copy). */
  values(): Float64Array {
    return this.a.slice(0, this.n);
  }
}

/** Quantiles of the samples of several runs together (sorts `s` in place; null when empty). */
export function quantilesOf(s: Float64Array, qs: number[]): number[] | null {
  const n = s.length;
  if (n === 0) return null;
  s.sort();
  return qs.map((q) => s[Math.min(n - 1, Math.floor(q * n))]);
}

/**
 * The pacing and latency of a run on workers: every worker's samples pooled, then the
 * percentiles, as one thread reports them (percentiles are never averaged); null when not paced.
 * pacedSec: from the schedule's origin to the last worker's end.
 */
export function pooledPacing(
  sets: (PacingSampleSets | null)[],
  packets: number,
  bytes: number,
  pacedSec: number,
): Pick<ReplayReport, "pacing" | "latency_us" | "histograms"> {
  if (!sets.some((s) => s !== null)) return { pacing: null, latency_us: null, histograms: null };
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const pool = (k: keyof PacingSampleSets, qs: number[]) => {
    const parts = sets.map((s) => s?.[k] ?? new Float64Array(0));
    const all = new Float64Array(parts.reduce((a, x) => a + x.length, 0));
    let at = 0;
    for (const x of parts) {
      all.set(x, at);
      at += x.length;
    }
    return quantilesOf(all, qs);
  };
  const all = (k: keyof PacingSampleSets) => sets.flatMap((s) => (s ? [s[k]] : []));
  const histograms: PacingHists = {
    latency_us: histOfAll(all("latency")),
    lateness_us: histOfAll(all("lateness")),
    gap_error_us: histOfAll(all("gap")),
  };
  const late = pool("lateness", [0.5, 0.99]) ?? [0, 0];
  const gap = pool("gap", [0.5, 0.99]) ?? [0, 0];
  const lat = pool("latency", [0.5, 0.99, 0.999]);
  return {
    pacing: {
      achieved_pps: pacedSec > 0 ? Math.round(packets / pacedSec) : 0,
      achieved_mbps: pacedSec > 0 ? r2((bytes * 8) / pacedSec / 1e6) : 0,
      lateness_us: { p50: r2(late[0]), p99: r2(late[1]) },
      gap_error_us: { p50: r2(gap[0]), p99: r2(gap[1]) },
    },
    latency_us: lat ? { p50: r2(lat[0]), p99: r2(lat[1]), p999: r2(lat[2]) } : null,
    histograms,
  };
}

/** One histogram of several sample sets (null when they are all empty). */
function histOfAll(parts: Float64Array[]): HistJson | null {
  const h = new LogHist();
  for (const p of parts) h.merge(LogHist.of(p));
  return h.total ? h.toJSON() : null;
}

/** The histograms behind a paced run's percentiles, from the samples they were taken of. */
export function pacingHists(lateness: Float64Array, gap: Float64Array, latency: Float64Array): PacingHists {
  return {
    latency_us: histOfAll([latency]),
    lateness_us: histOfAll([lateness]),
    gap_error_us: histOfAll([gap]),
  };
}

/** Milliseconds after the first packet at which a packet is due. */
export function scheduleMs(speed: Speed, traceDeltaS: number, index: number, bitsBefore: number): number {
  switch (speed.kind) {
    case "realtime":
      return traceDeltaS * 1000;
    case "multiplier":
      return (traceDeltaS * 1000) / speed.factor;
    case "pps":
      return (index * 1000) / speed.rate;
    case "mbps":
      return bitsBefore / (speed.rate * 1000);
    default:
      return 0;
  }
}

export { Samples as PacingSamples };
