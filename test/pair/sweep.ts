// The seeded fault sweep of `ixwasm pair`: every seed runs a small pair under
// each fault kind (loss, reordering, duplication, corruption, all four), each
// app (echo, memcached) and both thread layouts (one thread on the virtual
// clock; two worker threads, kept in a pool, on a clock 50 times the wall
// clock). Messages of 300 bytes (one segment each) test the handshake, the
// close and single losses; a bulk workload (20,000-byte echoes: windows of
// segments in flight, several losses in one window) tests loss recovery, with
// SACK (RFC 6675) and without (NewReno), under loss and under all four faults,
// one thread. A run passes when it ends, every connection opened and closed in
// order, every round trip was made and every byte verified, with no error of
// any kind. Used by test/pair/sweep.test.ts (50 seeds) and `npm run sweep`.
import { pairOneThread, pairTwoThreads, PairPool, type PairOptions } from "../../host/pair/pair.ts";
import { pairFailures, type PairReport } from "../../host/report/pair.ts";
import type { FaultConfig } from "../../host/io/faults.ts";

export const FAULT_KINDS: Record<string, FaultConfig> = {
  loss: { loss: 0.05 },
  reorder: { reorder: 0.1 },
  dup: { dup: 0.05 },
  corrupt: { corrupt: 0.05 },
  all: { loss: 0.03, reorder: 0.05, dup: 0.02, corrupt: 0.02 },
};
export const APPS = ["echo", "memcached"] as const;
export const WORKERS = [1, 2] as const;

export interface SweepCase {
  seed: number;
  kind: string;
  app: (typeof APPS)[number];
  workers: 1 | 2;
  /** 20,000-byte messages (else 300). */
  bulk: boolean;
  /** SACK negotiated (pair's default). */
  sack: boolean;
}

/** The bulk workload's fault kinds (echo, one thread), each with SACK and without. */
export const BULK_KINDS = ["loss", "all"] as const;
/** Runs per seed. */
export const CASES_PER_SEED =
  Object.keys(FAULT_KINDS).length * APPS.length * WORKERS.length + BULK_KINDS.length * 2;

export interface SweepOutcome extends SweepCase {
  ok: boolean;
  problems: string[];
  /** The run's clock: virtual seconds (one thread), else wall seconds. */
  seconds: number;
}

const CONNS = 2;
const MSGS = 4;
const SIZE = 300;
const BULK_SIZE = 20_000;
/** Two threads: the cores' clock runs this much faster than the wall clock (RTO 200 ms = 4 ms). */
const TIME_SCALE = 50;
/** Bounds of one run: virtual seconds (one thread); wall seconds (two threads, i.e. 1000 s of their clock). */
const VIRTUAL_TIMEOUT_S = 1000;
const WALL_TIMEOUT_S = 20;

export function caseOptions(c: SweepCase): PairOptions {
  return {
    app: c.app,
    conns: CONNS,
    msgs: MSGS,
    size: c.bulk ? BULK_SIZE : SIZE,
    sack: c.sack,
    workers: c.workers,
    faults: { ...FAULT_KINDS[c.kind], seed: c.seed },
    timeoutS: c.workers === 1 ? VIRTUAL_TIMEOUT_S : WALL_TIMEOUT_S,
    clock: c.workers === 1 ? "virtual" : "real",
    timeScale: c.workers === 2 ? TIME_SCALE : undefined,
  };
}

/** What is wrong with a run's report (empty: it passed). */
export function judge(o: PairOptions, r: PairReport): string[] {
  const p = pairFailures(r, o.timeoutS);
  const rts = o.conns * o.msgs * (o.app === "memcached" ? 2 : 1);
  if (r.round_trips !== rts) p.push(`${r.round_trips} of ${rts} round trips`);
  // echo: every answer is the message; memcached: every get's value at least.
  const minBytes = o.conns * o.msgs * o.size;
  if (o.app === "echo" ? r.bytes_verified !== minBytes : r.bytes_verified < minBytes)
    p.push(`${r.bytes_verified} bytes verified`);
  if ((r.counters.client.tcp_active_opens ?? 0) !== o.conns)
    p.push(`${r.counters.client.tcp_active_opens ?? 0} of ${o.conns} connections opened`);
  if (r.conns_closed !== o.conns) p.push(`${r.conns_closed} of ${o.conns} connections closed in order`);
  return p;
}

/** Every case of the given seeds, in a fixed order. */
export function* sweepCases(seeds: Iterable<number>): Generator<SweepCase> {
  for (const seed of seeds) {
    for (const kind of Object.keys(FAULT_KINDS))
      for (const app of APPS)
        for (const workers of WORKERS) yield { seed, kind, app, workers, bulk: false, sack: true };
    for (const kind of BULK_KINDS)
      for (const sack of [true, false]) yield { seed, kind, app: "echo", workers: 1, bulk: true, sack };
  }
}

/** Runs the cases one after the other (two-thread runs share one pool); calls onOutcome after each. */
export async function runSweep(
  cases: Iterable<SweepCase>,
  onOutcome: (o: SweepOutcome) => void,
): Promise<void> {
  let pool: PairPool | null = null;
  try {
    for (const c of cases) {
      const o = caseOptions(c);
      let r: PairReport;
      if (c.workers === 1) r = pairOneThread(o);
      else r = await pairTwoThreads(o, (pool ??= new PairPool()));
      const problems = judge(o, r);
      onOutcome({ ...c, ok: problems.length === 0, problems, seconds: r.duration_s });
    }
  } finally {
    if (pool) await pool.close();
  }
}

/** How to run one case again on its own. */
export function reproduce(c: SweepCase): string {
  const f = FAULT_KINDS[c.kind];
  const flags = Object.entries(f)
    .map(([k, v]) => `--${k} ${v}`)
    .join(" ");
  return (
    `ixwasm pair --app ${c.app} --conns ${CONNS} --msgs ${MSGS} --size ${c.bulk ? BULK_SIZE : SIZE} ${flags} --seed ${c.seed} --workers ${c.workers}` +
    (c.sack ? "" : " --sack off") +
    (c.workers === 1 ? " --clock virtual" : ` --time-scale ${TIME_SCALE} --timeout ${WALL_TIMEOUT_S}`)
  );
}
