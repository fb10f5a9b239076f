// Workers (issue 6): `replay --mode raw|track` on one thread against two worker
// threads (host/commands/replay-workers.ts) on one large capture, in one run,
// and what that says about more workers.
//
// Measured, median of `runs` runs each, in alternation (one thread, then two):
//   - end-to-end packets/s with 1 and 2 workers, and their ratio;
//   - the dispatcher's cost per packet alone: a run whose workers give every
//     frame back unprocessed (discard), so read + hash + copy/ring are measured
//     with the dispatcher on a core of its own;
//   - the per-worker cost per packet: ns inside the core's batch calls, from
//     the two-worker runs (each worker's own clock).
// Projected for N workers, each on a core of its own plus one for the
// dispatcher: min(N / worker cost, 1 / dispatch cost). The single dispatcher is
// the bottleneck from N = worker cost / dispatch cost on. IX has no such
// thread: the NIC hashes (RSS) and DMAs each packet into the queue of the core
// that owns its flow, so every core reads its own queue. The equivalent here is
// one reader/dispatcher per input source (a capture file or tap queue per
// core), which the "per source" column projects: N / (read + hash + worker).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runGen } from "../host/commands/gen.ts";
import { replay } from "../host/commands/replay.ts";
import { replayWorkers } from "../host/commands/replay-workers.ts";
import { fmt, summarize, type Summary } from "./lib/stats.ts";

export interface ProjectionRow {
  workers: number;
  /** Workers alone: N / worker cost. */
  workers_pps: number;
  /** One dispatcher: min(workers_pps, 1 / dispatch cost). */
  one_dispatcher_pps: number;
  bound: "workers" | "dispatcher";
  /** One reader/dispatcher per input source (IX's hardware RSS): N / (read + hash + worker cost). */
  per_source_pps: number;
}

export interface WorkersModeBench {
  mode: "raw" | "track";
  one_pps: Summary;
  two_pps: Summary;
  /** median(two) / median(one) */
  ratio: number;
  /** ns per packet in the one-thread core calls (replay's stages[mode]). */
  one_core_ns: Summary;
  /**
   * The dispatcher alone (discard runs): read, hash, copy + ring (wall clock, so
   * preemption on a loaded machine counts), their sum, and the thread's CPU time
   * per packet over the same loop (not inflated by waiting for a CPU): the cost
   * the projection uses.
   */
  dispatch_ns: { read: Summary; hash: Summary; copy: Summary; total: Summary; cpu: Summary };
  /** Per-worker cost: ns per packet inside the core's batch calls, two-worker runs. */
  worker_ns: Summary;
  /** Share of the packets the busiest of the two workers got (the RETA split of this capture's flows). */
  busiest_share: number;
  /** Workers from which one dispatcher is the bottleneck: worker cost / dispatch cost. */
  dispatcher_bound_from: number;
  projection: ProjectionRow[];
}

export interface WorkersBench {
  file: string;
  packets: number;
  bytes: number;
  raw: WorkersModeBench;
  track: WorkersModeBench;
  loadavg: string;
}

const PACKETS = 2_000_000;
const CONNS = 1024;

/** The capture: `gen etc --packets 2000000 --conns 1024`, made once in the temp dir. */
function etcTrace(): { path: string; packets: number; bytes: number } {
  const path = join(tmpdir(), `ixwasm-bench-etc-${PACKETS / 1e6}M-${CONNS}c.pcap`);
  const meta = path + ".json";
  if (existsSync(path) && existsSync(meta)) return JSON.parse(readFileSync(meta, "utf8"));
  const g = runGen("etc", { out: path, packets: PACKETS, conns: CONNS, quiet: true, seed: 1 });
  const info = { path, packets: g.packets, bytes: g.bytes };
  writeFileSync(meta, JSON.stringify(info));
  return info;
}

function loadavg(): string {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  } catch {
    return "n/a";
  }
}

async function benchMode(path: string, mode: "raw" | "track", runs: number): Promise<WorkersModeBench> {
  // Warm-up: tier the wasm and JS code up (each worker thread compiles on its own).
  replay(path, { mode });
  await replayWorkers(path, { mode, workers: 2 });
  const one: number[] = [];
  const two: number[] = [];
  const oneCore: number[] = [];
  const workerNs: number[] = [];
  const read: number[] = [];
  const hash: number[] = [];
  const copy: number[] = [];
  const total: number[] = [];
  const cpu: number[] = [];
  let busiest = 0;
  for (let i = 0; i < runs; i++) {
    const a = replay(path, { mode });
    one.push(a.pps);
    oneCore.push(a.stages[mode]);
    const b = await replayWorkers(path, { mode, workers: 2 });
    two.push(b.pps);
    for (const w of b.per_worker) workerNs.push(w.busy_ns_per_packet);
    busiest = Math.max(...b.per_worker.map((w) => w.packets)) / b.packets_in;
    const d = await replayWorkers(path, { mode, workers: 2, discard: true });
    read.push(d.dispatch.read_ns);
    hash.push(d.dispatch.hash_ns);
    copy.push(d.dispatch.copy_ns);
    total.push(d.dispatch.read_ns + d.dispatch.hash_ns + d.dispatch.copy_ns);
    cpu.push(d.dispatch.cpu_ns ?? d.dispatch.read_ns + d.dispatch.hash_ns + d.dispatch.copy_ns);
  }
  const w = summarize(workerNs);
  const dt = summarize(total);
  const dc = summarize(cpu);
  // Per source: each core reads and hashes its own input; read + hash taken from
  // the dispatcher's CPU cost in the proportion the wall-clock split gives.
  const share = (summarize(read).median + summarize(hash).median) / dt.median;
  const perSourceNs = dc.median * share + w.median;
  const projection = [1, 2, 4, 8, 16].map((n): ProjectionRow => {
    const workersPps = (n * 1e9) / w.median;
    const dispPps = 1e9 / dc.median;
    return {
      workers: n,
      workers_pps: workersPps,
      one_dispatcher_pps: Math.min(workersPps, dispPps),
      bound: workersPps <= dispPps ? "workers" : "dispatcher",
      per_source_pps: (n * 1e9) / perSourceNs,
    };
  });
  const s1 = summarize(one);
  const s2 = summarize(two);
  return {
    mode,
    one_pps: s1,
    two_pps: s2,
    ratio: s2.median / s1.median,
    one_core_ns: summarize(oneCore),
    dispatch_ns: { read: summarize(read), hash: summarize(hash), copy: summarize(copy), total: dt, cpu: dc },
    worker_ns: w,
    busiest_share: busiest,
    dispatcher_bound_from: w.median / dc.median,
    projection,
  };
}

export async function benchWorkers(runs = 5): Promise<WorkersBench> {
  const big = etcTrace();
  const load0 = loadavg();
  const raw = await benchMode(big.path, "raw", runs);
  const track = await benchMode(big.path, "track", runs);
  return {
    file: big.path,
    packets: big.packets,
    bytes: big.bytes,
    raw,
    track,
    loadavg: `${load0} → ${loadavg()}`,
  };
}

export function formatWorkers(
  b: WorkersBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const lines = [
    `\nworkers: ${b.file} (${fmt(b.packets)} packets, ${(b.bytes / 1e6).toFixed(0)} MB; gen etc --packets ${PACKETS} --conns ${CONNS}); load average ${b.loadavg}`,
  ];
  for (const m of [b.raw, b.track]) {
    lines.push(
      row(`${m.mode}, 1 worker (this thread)`, m.one_pps, "packets/s"),
      row(`${m.mode}, 2 worker threads`, m.two_pps, "packets/s"),
      `  ${m.mode}: 2 workers / 1: ${m.ratio.toFixed(2)}x (aim >= 1.7x: ${m.ratio >= 1.7 ? "met" : "NOT met"}); busiest worker got ${(m.busiest_share * 100).toFixed(1)} % of the packets`,
      row(`${m.mode}: dispatcher read`, m.dispatch_ns.read, "ns/packet"),
      row(`${m.mode}: dispatcher hash (WASM)`, m.dispatch_ns.hash, "ns/packet"),
      row(`${m.mode}: dispatcher copy + ring`, m.dispatch_ns.copy, "ns/packet"),
      row(`${m.mode}: dispatcher total`, m.dispatch_ns.total, "ns/packet"),
      row(`${m.mode}: dispatcher thread CPU`, m.dispatch_ns.cpu, "ns/packet"),
      row(`${m.mode}: per-worker cost`, m.worker_ns, "ns/packet"),
      row(`${m.mode}: one thread, in the core`, m.one_core_ns, "ns/packet"),
      `  ${m.mode}: projection (one core per worker + one for the dispatcher); one dispatcher is the bottleneck from ${m.dispatcher_bound_from.toFixed(1)} workers on`,
      `    workers   workers alone   one dispatcher        one reader per source (RSS-like)`,
    );
    for (const p of m.projection)
      lines.push(
        `    ${String(p.workers).padStart(7)}   ${fmt(p.workers_pps).padStart(13)}   ${fmt(p.one_dispatcher_pps).padStart(9)} (${p.bound.padEnd(10)})   ${fmt(p.per_source_pps).padStart(9)}`,
      );
  }
  return lines;
}
