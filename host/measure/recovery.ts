// Loss recovery: SACK-based (RFC 6675) against NewReno (RFC 6582) on the same
// faults. `ixwasm pair` echoes bulk messages (4 connections × 10 × 60,000 B:
// windows of segments in flight, several losses per window) through both cores
// in one thread on the virtual clock, so the figures are the stack's behaviour,
// not this machine's speed or load: completion time in virtual seconds (the link
// moves a batch every 20 µs; idle time skips to the next timer, so RTO waits
// count in full) and goodput = echoed bytes both ways / completion time. Each
// seed draws the same losses for both; the ratio is NewReno's total completion
// time over the seeds / SACK's (a per-seed ratio would be swayed by runs that
// lost nothing and took almost no virtual time).
import { pairOneThread, type PairOptions } from "../pair/pair.ts";
import { summarize, type Summary } from "./lib/stats.ts";

export const LOSS_RATES = [0.01, 0.05, 0.1];
const CONNS = 4;
const MSGS = 10;
const SIZE = 60_000;

export interface RecoveryRow {
  loss: number;
  sack_s: Summary;
  newreno_s: Summary;
  sack_goodput_mbps: Summary;
  newreno_goodput_mbps: Summary;
  /** NewReno's completion time summed over the seeds / SACK's. */
  speedup: number;
  sack_rtos: number;
  newreno_rtos: number;
  /** Runs that did not complete every round trip (must be 0). */
  incomplete: number;
}

export interface RecoveryBench {
  conns: number;
  msgs: number;
  size: number;
  seeds: number;
  rows: RecoveryRow[];
}

function run(loss: number, seed: number, sack: boolean) {
  const o: PairOptions = {
    app: "echo",
    conns: CONNS,
    msgs: MSGS,
    size: SIZE,
    workers: 1,
    faults: { loss, seed },
    timeoutS: 3600,
    clock: "virtual",
    sack,
  };
  const r = pairOneThread(o);
  const rtos = (r.counters.client.tcp_rto_timeouts ?? 0) + (r.counters.server.tcp_rto_timeouts ?? 0);
  const done = r.round_trips === CONNS * MSGS && r.bytes_verified === CONNS * MSGS * SIZE;
  return { s: r.duration_s, mbps: (2 * CONNS * MSGS * SIZE * 8) / r.duration_s / 1e6, rtos, done };
}

export function benchRecovery(seeds: number): RecoveryBench {
  const rows: RecoveryRow[] = [];
  for (const loss of LOSS_RATES) {
    const sack: ReturnType<typeof run>[] = [];
    const nr: ReturnType<typeof run>[] = [];
    for (let seed = 1; seed <= seeds; seed++) {
      sack.push(run(loss, seed, true));
      nr.push(run(loss, seed, false));
    }
    rows.push({
      loss,
      sack_s: summarize(sack.map((x) => x.s)),
      newreno_s: summarize(nr.map((x) => x.s)),
      sack_goodput_mbps: summarize(sack.map((x) => x.mbps)),
      newreno_goodput_mbps: summarize(nr.map((x) => x.mbps)),
      speedup: nr.reduce((a, x) => a + x.s, 0) / sack.reduce((a, x) => a + x.s, 0),
      sack_rtos: sack.reduce((a, x) => a + x.rtos, 0),
      newreno_rtos: nr.reduce((a, x) => a + x.rtos, 0),
      incomplete: [...sack, ...nr].filter((x) => !x.done).length,
    });
  }
  return { conns: CONNS, msgs: MSGS, size: SIZE, seeds, rows };
}

export function formatRecoveryBench(b: RecoveryBench): string[] {
  const out = [
    `\nloss recovery: pair echo ${b.conns} connections × ${b.msgs} × ${b.size} B, one thread, virtual clock, ${b.seeds} seeds per rate (the same losses for both)`,
    "loss   completion s SACK (min–max)   NewReno (min–max)      goodput Mbit/s SACK / NewReno   time NewReno/SACK   RTOs SACK / NewReno",
  ];
  const r2 = (s: Summary) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}–${s.max.toFixed(2)})`;
  for (const r of b.rows)
    out.push(
      `${(r.loss * 100).toFixed(0).padStart(3)} %  ${r2(r.sack_s).padEnd(28)} ${r2(r.newreno_s).padEnd(22)} ${r.sack_goodput_mbps.median.toFixed(1).padStart(8)} / ${r.newreno_goodput_mbps.median.toFixed(1).padEnd(18)} ${r.speedup.toFixed(2).padStart(6)}x       ${r.sack_rtos} / ${r.newreno_rtos}` +
        (r.incomplete ? `   INCOMPLETE RUNS: ${r.incomplete}` : ""),
    );
  return out;
}
