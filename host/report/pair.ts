// The pair run's report: its shape (schema ixwasm-pair/1, with the server
// workers' fields when --server-workers is on), the table the CLI prints, and
// the failures named by kind. Pure: host/pair/pair.ts and workers.ts
// fill it, this file only reads it.
import type { ClientResults } from "../runtime/client-results.ts";
import type { FaultCounts } from "../io/faults.ts";
import type { Counters } from "./counters.ts";
import type { ModuleReport } from "../apps/module-host.ts";
import { moduleRows } from "./module.ts";
import { formatPollStages, type PollStageCost } from "./stages.ts";
import { formatAccounting, type StageAccounting } from "./accounting.ts";

export interface PairReport extends ClientResults {
  schema: "ixwasm-pair/1";
  app: string;
  workers: number;
  conns: number;
  msgs: number;
  size: number;
  duration_s: number;
  round_trips_per_s: number;
  expected_round_trips: number;
  retransmits: number;
  timeouts: number;
  faults: { client_to_server: FaultCounts; server_to_client: FaultCounts };
  batch_histogram: { client: number[]; server: number[] };
  counters: { client: Partial<Counters>; server: Partial<Counters> };
  completed: boolean;
  /** The client was not done when the time (--timeout) ran out. */
  ran_out_of_time: boolean;
  /** real, virtual, or the two-thread clock's speed-up ("x20"). */
  clock: string;
  /** poll()'s stage cost per round trip in each core, with --stages */
  stages: { client: PollStageCost; server: PollStageCost } | null;
  /** --stages: where each thread's time went (one thread: "main"; two: "client", "server"), schema ixwasm-accounting/1 */
  accounting?: Record<string, StageAccounting>;
  /** Test hook loopCpu (one thread): the loop's thread CPU time, ms. */
  loop_cpu_ms?: number;
  // With --server-workers (host/pair/workers.ts; absent otherwise): batch_histogram.server and
  // counters.server are then the sums over the workers, `workers` the number of server workers.
  server_workers?: number;
  per_worker?: PairWorkersFields["per_worker"];
  dispatch?: PairWorkersFields["dispatch"];
  control?: PairWorkersFields["control"];
  traps?: PairWorkersFields["traps"];
  /** `errors` less the connections that died before they were done (lost to a worker's trap). */
  errors_excluding_lost?: number;
  /** With --app-module: the module's batches, faults, restarts, resets and the checks after each fault. */
  module?: ModuleReport;
}

export interface PairWorkerReport {
  worker: number;
  /** Frames the dispatcher copied into this worker's RX ring. */
  packets: number;
  /** Frames this worker transmitted (to the client). */
  tx_frames: number;
  pps: number;
  /** Polls by frames taken (0..64), since the worker's last (re)start. */
  batch_histogram: number[];
  /** Frames per poll that took any. */
  mean_batch: number;
  ring: {
    slots: number;
    /** Frames waiting in the RX ring each time the dispatcher added a batch: mean and max. */
    mean_occupancy: number;
    max_occupancy: number;
    /** Times the dispatcher found this ring full and waited. */
    dispatcher_waits: number;
    /** Times the worker slept on its empty ring. */
    worker_naps: number;
  };
  /** Drop counters of the worker's core that are not zero. */
  drops: Record<string, number>;
  /** Flow groups moved off and onto this worker. */
  migrations: { out: number; in: number };
  restarts: number;
  /** The worker thread's CPU time, ms (spinning while idle included; null off Linux). */
  cpu_ms: number | null;
}

export interface PairWorkersFields {
  server_workers: number;
  per_worker: PairWorkerReport[];
  dispatch: {
    frames: number;
    ring_waits: number;
    non_ip: number;
    /** CPU time of the main thread (client core + dispatcher + worker TX to the client), ms; null off Linux. */
    thread_cpu_ms: number | null;
  };
  control: {
    rebalance: boolean;
    migrate_at: number | null;
    migrations: number;
    refused: number;
    flows_moved: number;
    flows_lost: number;
    bytes_moved: number;
    held_frames: number;
    pause_us: { total: number; mean: number; max: number };
    rebalance_ticks: number;
    errors: string[];
  } | null;
  traps: {
    on_trap: "abort" | "restart";
    events: { worker: number; message: string }[];
    restarts: number;
    /** Client connections that ended before their requests were done (reset by a restarted worker). */
    lost_flows: number;
    lost_connections: number[];
    /** Round trips those connections did not get to make. */
    round_trips_lost: number;
  };
}

export function formatPair(r: PairReport): string {
  const rows: [string, string | number][] = [
    [
      "app",
      `${r.app} (${r.conns} connections × ${r.msgs} messages of ${r.size} B), ` +
        (r.server_workers
          ? `client + dispatcher in the main thread, ${r.server_workers} server worker(s)`
          : `${r.workers} worker(s)`),
    ],
    [
      "round trips",
      `${r.round_trips} of ${r.expected_round_trips}${r.completed ? "" : r.ran_out_of_time ? "  (INCOMPLETE: ran out of time)" : "  (INCOMPLETE)"}`,
    ],
    ["round trips/s", Math.round(r.round_trips_per_s)],
    ["bytes verified", r.bytes_verified],
    ["errors", r.errors ? `${r.errors}: ${errorKinds(r).join(", ")}` : 0],
    ["retransmits / timeouts", `${r.retransmits} / ${r.timeouts}`],
    [
      "latency µs p50/p90/p99/p99.9/max",
      `${r.latency_us.p50} / ${r.latency_us.p90} / ${r.latency_us.p99} / ${r.latency_us.p999} / ${r.latency_us.max}`,
    ],
    ["duration", `${r.duration_s.toFixed(3)} s`],
  ];
  const f = r.faults.client_to_server;
  if (f.lost + f.duplicated + f.reordered + f.corrupted)
    rows.push([
      "faults c→s (lost/dup/reord/corrupt)",
      `${f.lost}/${f.duplicated}/${f.reordered}/${f.corrupted}`,
    ]);
  if (r.module) rows.push(...moduleRows(r.module));
  const w = Math.max(...rows.map(([k]) => k.length));
  const table = rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n" + formatPairWorkers(r);
  const acc = Object.entries(r.accounting ?? {})
    .map(([thread, a]) => formatAccounting(thread, a))
    .join("");
  return r.stages ? table + "\n" + formatPollStages(r.stages) + acc : table;
}

/** The first differing byte, in words. */
export function describeDifference(d: NonNullable<PairReport["first_difference"]>): string {
  const hex = (b: number) => "0x" + b.toString(16).padStart(2, "0");
  return (
    `connection ${d.conn}, request ${d.request}, offset ${d.offset}: ` +
    (d.expected === null
      ? `a byte past the answer's end (${hex(d.got)})`
      : `expected ${hex(d.expected)}, got ${hex(d.got)}`)
  );
}

/** The errors by kind, those that happened. */
function errorKinds(r: PairReport): string[] {
  const k: string[] = [];
  if (r.connects_failed) k.push(`${r.connects_failed} failed to open`);
  if (r.conns_reset) k.push(`${r.conns_reset} reset`);
  if (r.conns_timed_out) k.push(`${r.conns_timed_out} timed out`);
  if (r.responses_differed)
    k.push(
      `${r.responses_differed} response(s) differed` +
        (r.first_difference ? ` (first: ${describeDifference(r.first_difference)})` : ""),
    );
  if (r.other_errors) k.push(`${r.other_errors} other`);
  return k;
}

/**
 * Why a run failed, one clause per kind (empty when it succeeded): connections
 * that failed to open, were reset or timed out, responses that differed (with
 * the first difference), and a run that ran out of time.
 */
export function pairFailures(r: PairReport, timeoutS: number): string[] {
  const f: string[] = [];
  if (r.connects_failed) f.push(`${r.connects_failed} connection(s) failed to open`);
  if (r.conns_reset) f.push(`${r.conns_reset} connection(s) reset`);
  if (r.conns_timed_out) f.push(`${r.conns_timed_out} connection(s) timed out (retransmissions gave up)`);
  if (r.responses_differed)
    f.push(
      `${r.responses_differed} response(s) differed from what was sent` +
        (r.first_difference ? ` (first: ${describeDifference(r.first_difference)})` : ""),
    );
  if (r.other_errors) f.push(`${r.other_errors} other error(s)`);
  if (r.ran_out_of_time)
    f.push(
      `ran out of time: only ${r.round_trips} of ${r.expected_round_trips} round trips completed within ${timeoutS} s`,
    );
  else if (!r.completed && f.length === 0)
    f.push(`only ${r.round_trips} of ${r.expected_round_trips} round trips completed`);
  return f;
}

/** The per-worker lines under the pair table. */
export function formatPairWorkers(r: PairReport): string {
  if (!r.per_worker) return "";
  const num = (x: number) => x.toLocaleString("en-US");
  const lines: string[] = [];
  lines.push(
    `dispatcher                        ${num(r.dispatch!.frames)} frames, ring full ${num(r.dispatch!.ring_waits)} times, non-IP ${num(r.dispatch!.non_ip)}`,
  );
  for (const w of r.per_worker) {
    const drops = Object.entries(w.drops);
    lines.push(
      `worker ${w.worker}`.padEnd(34) +
        `${num(w.packets)} packets in, ${num(w.tx_frames)} out, ${num(w.pps)}/s, batch mean ${w.mean_batch}, ring mean ${w.ring.mean_occupancy} max ${w.ring.max_occupancy} of ${w.ring.slots}, dispatcher waits ${num(w.ring.dispatcher_waits)}, naps ${num(w.ring.worker_naps)}, migrations out/in ${w.migrations.out}/${w.migrations.in}${w.restarts ? `, restarts ${w.restarts}` : ""}, drops ${drops.length ? drops.map(([k, v]) => `${k} ${num(v)}`).join(", ") : "none"}`,
    );
  }
  const c = r.control;
  if (c)
    lines.push(
      `${"migrations".padEnd(34)}${c.migrations} groups (refused ${c.refused}), ${c.flows_moved} connections moved (${num(c.bytes_moved)} B), lost ${c.flows_lost}, held frames ${c.held_frames}, pause µs mean ${c.pause_us.mean} max ${c.pause_us.max}${c.rebalance ? `, rebalancer ticks ${c.rebalance_ticks}` : ""}`,
    );
  const t = r.traps!;
  if (t.events.length)
    lines.push(
      `${"traps".padEnd(34)}${t.events.map((x) => `worker ${x.worker}: ${x.message}`).join("; ")}; restarts ${t.restarts}; lost flows ${t.lost_flows} (connections ${t.lost_connections.join(", ")}), ${t.round_trips_lost} round trips not made`,
    );
  return lines.join("\n") + "\n";
}
