// pair on the multi-worker dataplane (issue 6): `pair --server-workers 1` against
// `--server-workers 2`, echo, in alternation in one run, median of `runs` each.
// Both have the client core and the dispatcher in the main thread; the server
// side is one or two worker threads. Alongside: the one-thread pair (both cores
// in one thread, no dispatcher) as the reference the dataplane's hops cost
// against, and each thread's CPU time per round trip (thread-cpu.ts), which
// says whether a run was short of work or short of CPUs.
import { cpus, loadavg } from "node:os";
import { pairOneThread, type PairOptions } from "../pair/pair.ts";
import type { PairReport } from "../report/pair.ts";
import { pairServerWorkers } from "../pair/workers.ts";
import { fmt, summarize, type Summary } from "./lib/stats.ts";

export interface PairWorkersSide {
  rtps: Summary;
  p50_us: Summary;
  p99_us: Summary;
  /** CPU µs per round trip of the main thread (client + dispatcher) and of all server workers together. */
  main_cpu_us_per_rt: Summary | null;
  workers_cpu_us_per_rt: Summary | null;
  /** Times a worker went to sleep on its empty ring, per round trip (each wake-up costs tens of µs). */
  naps_per_rt: Summary;
  ring_waits: number;
}

export interface PairWorkersBench {
  conns: number;
  msgs: number;
  size: number;
  cpus: number;
  load: [number, number];
  one_thread_rtps: Summary;
  one: PairWorkersSide;
  two: PairWorkersSide;
  /** two.rtps.median / one.rtps.median */
  ratio: number;
}

function side(rs: PairReport[]): PairWorkersSide {
  const per = (f: (r: PairReport) => number) => summarize(rs.map((r) => f(r) / r.round_trips));
  const cpuKnown = rs.every((r) => r.dispatch!.thread_cpu_ms !== null);
  return {
    rtps: summarize(rs.map((r) => r.round_trips_per_s)),
    p50_us: summarize(rs.map((r) => r.latency_us.p50)),
    p99_us: summarize(rs.map((r) => r.latency_us.p99)),
    main_cpu_us_per_rt: cpuKnown ? per((r) => r.dispatch!.thread_cpu_ms! * 1000) : null,
    workers_cpu_us_per_rt: cpuKnown
      ? per((r) => r.per_worker!.reduce((a, w) => a + (w.cpu_ms ?? 0), 0) * 1000)
      : null,
    naps_per_rt: per((r) => r.per_worker!.reduce((a, w) => a + w.ring.worker_naps, 0)),
    ring_waits: rs.reduce((a, r) => a + r.dispatch!.ring_waits, 0),
  };
}

export async function benchPairWorkers(
  runs = 5,
  conns = 16,
  msgs = 4000,
  size = 64,
): Promise<PairWorkersBench> {
  const o: PairOptions = { app: "echo", conns, msgs, size, workers: 1, faults: {}, timeoutS: 300 };
  const load0 = loadavg()[0];
  await pairServerWorkers({ ...o, msgs: 200, serverWorkers: 2 }); // warm-up: compile, page in
  const one: PairReport[] = [];
  const two: PairReport[] = [];
  const ref: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const [n, into] of [
      [1, one],
      [2, two],
    ] as const) {
      const r = await pairServerWorkers({ ...o, serverWorkers: n });
      if (!r.completed || r.errors) throw new Error(`pair --server-workers ${n} did not complete cleanly`);
      into.push(r);
    }
    ref.push(pairOneThread(o).round_trips_per_s);
  }
  const a = side(one);
  const b = side(two);
  return {
    conns,
    msgs,
    size,
    cpus: cpus().length,
    load: [load0, loadavg()[0]],
    one_thread_rtps: summarize(ref),
    one: a,
    two: b,
    ratio: b.rtps.median / a.rtps.median,
  };
}

export function formatPairWorkersBench(
  b: PairWorkersBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const us = (s: Summary | null) =>
    s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})` : "n/a";
  const lines = [
    `\npair echo on the dataplane: ${b.conns} connections × ${fmt(b.msgs, 0)} messages of ${b.size} B; client + dispatcher in the main thread; ${b.cpus} CPUs, load ${b.load[0].toFixed(1)} → ${b.load[1].toFixed(1)}`,
    row("1 server worker", b.one.rtps, "round trips/s"),
    row("2 server workers", b.two.rtps, "round trips/s"),
    row("one thread, no dispatcher (reference)", b.one_thread_rtps, "round trips/s"),
    `  2 / 1 server workers: ${b.ratio.toFixed(2)}x`,
  ];
  for (const [name, s] of [
    ["1 worker ", b.one],
    ["2 workers", b.two],
  ] as const)
    lines.push(
      `  ${name}: p50 ${s.p50_us.median} µs, p99 ${s.p99_us.median} µs; CPU µs per round trip: main thread ${us(s.main_cpu_us_per_rt)}, workers ${us(s.workers_cpu_us_per_rt)}; worker naps per round trip ${s.naps_per_rt.median.toFixed(3)}; dispatcher ring waits ${s.ring_waits}`,
    );
  return lines;
}
