// Serve's pacing at --speed realtime | xK | pps:N | mbps:N: the client's packets
// are released on the schedule of raw/track's paced path (scheduleMs), and the
// run keeps the same figures: lateness and gap error against the schedule, and
// the latency from a packet's slot to the poll that took it.
import type { RunStats } from "../../report/replay.ts";
import type { ReplayOptions } from "../options.ts";
import { PacingSamples, pacingHists, scheduleMs, sleepUntil, type Speed } from "../pacing.ts";

/** Poll before a wait of at least this long (ms), or once a packet has waited this long. */
export const PACE_POLL_MS = 0.05;
export const PACE_HOLD_MS = 0.5;

export class Pacer {
  readonly lateness = new PacingSamples();
  readonly gapErr = new PacingSamples();
  readonly latency = new PacingSamples();
  /** performance.now() at the schedule's origin, and the capture time (s) it stands for. */
  origin = 0;
  trace0 = NaN;
  private pktIndex = 0;
  private bitsSoFar = 0;
  private prevSched = NaN;
  private prevActual = NaN;

  constructor(private readonly speed: Speed) {}

  /** The slot (performance.now() ms) of the next client packet: capture time ts (s), wire length len. */
  slot(ts: number, len: number): number {
    if (Number.isNaN(this.trace0)) {
      this.trace0 = ts;
      this.origin = performance.now();
    }
    const sched = this.origin + scheduleMs(this.speed, ts - this.trace0, this.pktIndex, this.bitsSoFar);
    this.bitsSoFar += len * 8;
    this.pktIndex++;
    return sched;
  }

  /** Sleeps until sched (the time slept goes to st.waitMs). */
  wait(sched: number, st: RunStats): void {
    const w0 = performance.now();
    sleepUntil(sched);
    st.waitMs += performance.now() - w0;
  }

  /** The packet of slot sched goes now: its lateness and gap error. */
  arrived(sched: number): void {
    const actual = performance.now();
    this.lateness.add((actual - sched) * 1000);
    if (!Number.isNaN(this.prevSched))
      this.gapErr.add(Math.abs(actual - this.prevActual - (sched - this.prevSched)) * 1000);
    this.prevSched = sched;
    this.prevActual = actual;
  }

  /** The run's pacing figures into st (and the samples to onSamples). */
  finish(st: RunStats, onSamples: ReplayOptions["onSamples"]): void {
    const [l50, l99] = this.lateness.quantiles([0.5, 0.99]) ?? [0, 0];
    const [g50, g99] = this.gapErr.quantiles([0.5, 0.99]) ?? [0, 0];
    st.pacing = { lateness_p50: l50, lateness_p99: l99, gap_p50: g50, gap_p99: g99 };
    const q = this.latency.quantiles([0.5, 0.99, 0.999]);
    st.latency = q ? { p50: q[0], p99: q[1], p999: q[2] } : null;
    st.hists = pacingHists(this.lateness.values(), this.gapErr.values(), this.latency.values());
    onSamples?.({
      lateness: this.lateness.values(),
      gap: this.gapErr.values(),
      latency: this.latency.values(),
    });
  }
}
