// Workers (issue 6): `replay --mode raw|track` on one thread against two worker
// threads (host/replay/workers.ts) on one large capture, in one run,
// and what that says about more workers.
//
// Measured, `runs` runs each, alternating (one thread, two workers, dispatcher
// alone), median (min-max):
//   - end-to-end packets/s with 1 and 2 workers, and their ratio;
//   - CPU: the process's CPU time per packet (all threads) and the CPUs it got
//     (CPU time / wall time), and the machine's idle CPUs over the same run
//     (/proc/stat): on a shared 2-vCPU VM a second worker only helps if there
//     is a second CPU to be had;
//   - the dispatcher's cost per packet alone: a run whose workers give every
//     frame back uncopied and unprocessed (discard): read, gather (parse, hash,
//     copy into the outboxes: one WASM call per batch), ring words, and the
//     thread's CPU time (not inflated by waiting for a CPU): the cost the
//     projection uses;
//   - the per-worker cost per packet: its bulk copy from the outbox + the core's
//     batch calls, from the two-worker runs (each worker's own clock).
// Projected for N workers, each on a core of its own plus one for the
// dispatcher: min(N / worker cost, 1 / dispatch cost). The single dispatcher is
// the bottleneck from N = worker cost / dispatch cost on. IX has no such
// thread: the NIC hashes (RSS) and DMAs each packet into the queue of the core
// that owns its flow, so every core reads its own queue. The equivalent here is
// one reader/dispatcher per input source (a capture file or tap queue per
// core), which the "per source" column projects: N / (dispatch + worker cost).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { runGen } from "../gen/run.ts";
import { replay } from "../replay/replay.ts";
import { replayWorkers } from "../replay/workers.ts";
import { serveWorkers } from "../replay/serve/workers.ts";
import { fmt, summarize, type Summary } from "./lib/stats.ts";

export interface ProjectionRow {
  workers: number;
  /** Workers alone: N / worker cost. */
  workers_pps: number;
  /** One dispatcher: min(workers_pps, 1 / dispatch cost). */
  one_dispatcher_pps: number;
  bound: "workers" | "dispatcher";
  /** One reader/dispatcher per input source (IX's hardware RSS): N / (dispatch + worker cost). */
  per_source_pps: number;
}

export interface WorkersModeBench {
  mode: "raw" | "track";
  one_pps: Summary;
  two_pps: Summary;
  /** median(two) / median(one) */
  ratio: number;
  /** Per run pair: two / one (alternated, so each pair saw about the same load). */
  pair_ratio: Summary;
  /** Process CPU time (all threads) per packet, and CPUs the process got (CPU time / wall). */
  one_cpu_ns: Summary;
  two_cpu_ns: Summary;
  one_cpus: Summary;
  two_cpus: Summary;
  /** Idle CPUs of the whole machine during the two-worker runs, start-up included (/proc/stat): what was there to take. */
  two_idle_cpus: Summary;
  /** ns per packet in the one-thread core calls (replay's stages[mode]). */
  one_core_ns: Summary;
  /** The dispatcher alone (discard runs): wall-clock parts and the thread's CPU time per packet. */
  dispatch_ns: { read: Summary; gather: Summary; ring: Summary; cpu: Summary };
  /** The dispatcher thread's CPU per packet in the real two-worker runs. */
  dispatch_cpu_in_run: Summary;
  /** Per-worker cost per packet it got: bulk copy + core calls (wall, inside the calls), two-worker runs. */
  worker_copy_ns: Summary;
  worker_core_ns: Summary;
  worker_ns: Summary;
  /** Share of the packets the busiest of the two workers got (the RETA split of this capture's flows). */
  busiest_share: number;
  /** Workers from which one dispatcher is the bottleneck: worker cost / dispatch cost. */
  dispatcher_bound_from: number;
  /**
   * Upper bounds on the ratio from the measured costs: one reader (2-worker
   * throughput ≤ 1 / dispatcher CPU), and two CPUs shared by the dispatcher
   * and both workers (≤ 2 / (dispatch + worker cost per packet)); each over the
   * one-thread CPU per packet.
   */
  bound_one_reader: number;
  bound_two_cpus: number;
  projection: ProjectionRow[];
}

/**
 * serve on 1 and 2 workers (host/replay/serve/workers.ts): each serve worker
 * reads the whole capture and keeps its flows, so there is no dispatcher; the
 * whole command (pre-scan + serve pass) is timed, as a user would see it.
 */
export interface ServeWorkersBench {
  one_pps: Summary;
  two_pps: Summary;
  ratio: number;
  pair_ratio: Summary;
  /** Process CPU per packet (all threads) and CPUs obtained. */
  one_cpu_ns: Summary;
  two_cpu_ns: Summary;
  one_cpus: Summary;
  two_cpus: Summary;
  two_idle_cpus: Summary;
  /** The work's CPU: the workers' serve passes and the main thread's one pre-scan pass for all (not the threads' start-up: loading modules, compiling). */
  two_work_cpu_ns: Summary;
  /** On 2 free CPUs the two workers' CPU would run in parallel: 2 × one-thread CPU / two-worker CPU. */
  bound_two_cpus: number;
  /** The same without the threads' start-up (what a long capture approaches). */
  bound_two_cpus_work: number;
}

export interface WorkersBench {
  file: string;
  packets: number;
  bytes: number;
  raw: WorkersModeBench;
  track: WorkersModeBench;
  serve: ServeWorkersBench;
  loadavg: string;
}

async function benchServe(path: string, runs: number): Promise<ServeWorkersBench> {
  replay(path, { mode: "serve" }); // warm-up (the workers compile on their own each run)
  const one: number[] = [];
  const two: number[] = [];
  const pair: number[] = [];
  const oneCpu: number[] = [];
  const twoCpu: number[] = [];
  const oneCpus: number[] = [];
  const twoCpus: number[] = [];
  const twoIdle: number[] = [];
  const twoWork: number[] = [];
  for (let i = 0; i < runs; i++) {
    const a = await measure(() => replay(path, { mode: "serve" })); // pre-scan + serve pass, this thread
    const b = await measure(() => serveWorkers(path, { mode: "serve", workers: 2 }));
    const n = a.r.packets_in;
    one.push((n * 1000) / a.wallMs);
    two.push((n * 1000) / b.wallMs);
    pair.push(a.wallMs / b.wallMs);
    oneCpu.push((a.cpuMs * 1e6) / n);
    twoCpu.push((b.cpuMs * 1e6) / n);
    oneCpus.push(a.cpuMs / a.wallMs);
    twoCpus.push(b.cpuMs / b.wallMs);
    twoIdle.push(b.idleCpus);
    twoWork.push(
      (b.r.per_worker.reduce((x, w) => x + (w.cpu_ns_per_packet ?? NaN) * w.packets, 0) +
        (b.r.prescan_cpu_ms ?? NaN) * 1e6) /
        n,
    );
  }
  const s1 = summarize(one);
  const s2 = summarize(two);
  const c1 = summarize(oneCpu);
  const c2 = summarize(twoCpu);
  return {
    one_pps: s1,
    two_pps: s2,
    ratio: s2.median / s1.median,
    pair_ratio: summarize(pair),
    one_cpu_ns: c1,
    two_cpu_ns: c2,
    one_cpus: summarize(oneCpus),
    two_cpus: summarize(twoCpus),
    two_idle_cpus: summarize(twoIdle.filter((x) => Number.isFinite(x))),
    two_work_cpu_ns: summarize(twoWork),
    bound_two_cpus: (2 * c1.median) / c2.median,
    bound_two_cpus_work: (2 * c1.median) / summarize(twoWork).median,
  };
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

/** Machine-wide idle and total jiffies (/proc/stat "cpu" line; idle + iowait), or null off Linux. */
function cpuJiffies(): { idle: number; total: number } | null {
  try {
    const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

interface Measured<T> {
  r: T;
  /** Process CPU ms (all threads), wall ms, machine idle CPUs over the run. */
  cpuMs: number;
  wallMs: number;
  idleCpus: number;
}

async function measure<T>(f: () => T | Promise<T>): Promise<Measured<T>> {
  const j0 = cpuJiffies();
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await f();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const j1 = cpuJiffies();
  const ncpu = cpus().length;
  const idleCpus =
    j0 && j1 && j1.total > j0.total ? ((j1.idle - j0.idle) / (j1.total - j0.total)) * ncpu : NaN;
  return { r, cpuMs: (c.user + c.system) / 1000, wallMs, idleCpus };
}

async function benchMode(path: string, mode: "raw" | "track", runs: number): Promise<WorkersModeBench> {
  // Warm-up: tier the wasm and JS code up (each worker thread compiles on its own).
  replay(path, { mode });
  await replayWorkers(path, { mode, workers: 2 });
  const one: number[] = [];
  const two: number[] = [];
  const pair: number[] = [];
  const oneCpu: number[] = [];
  const twoCpu: number[] = [];
  const oneCpus: number[] = [];
  const twoCpus: number[] = [];
  const twoIdle: number[] = [];
  const oneCore: number[] = [];
  const wCopy: number[] = [];
  const wCore: number[] = [];
  const wAll: number[] = [];
  const read: number[] = [];
  const gather: number[] = [];
  const ring: number[] = [];
  const cpu: number[] = [];
  const cpuInRun: number[] = [];
  let busiest = 0;
  for (let i = 0; i < runs; i++) {
    const a = await measure(() => replay(path, { mode }));
    one.push(a.r.pps);
    oneCore.push(a.r.stages[mode]);
    oneCpu.push((a.cpuMs * 1e6) / a.r.packets_in);
    oneCpus.push(a.cpuMs / a.wallMs);
    // CPU from the report: its window starts at the first read (worker start-up,
    // a second of CPU per thread under tsx, would swamp this window's figure).
    const b = await measure(() => replayWorkers(path, { mode, workers: 2 }));
    two.push(b.r.pps);
    pair.push(b.r.pps / a.r.pps);
    twoCpu.push(b.r.dispatch.process_cpu_ns);
    twoCpus.push(b.r.dispatch.process_cpus);
    twoIdle.push(b.idleCpus);
    if (b.r.dispatch.cpu_ns !== null) cpuInRun.push(b.r.dispatch.cpu_ns);
    for (const w of b.r.per_worker) {
      wCopy.push(w.copy_ns_per_packet);
      wCore.push(w.busy_ns_per_packet);
      wAll.push(w.copy_ns_per_packet + w.busy_ns_per_packet);
    }
    busiest = Math.max(...b.r.per_worker.map((w) => w.packets)) / b.r.packets_in;
    const d = await replayWorkers(path, { mode, workers: 2, discard: true });
    read.push(d.dispatch.read_ns);
    gather.push(d.dispatch.gather_ns);
    ring.push(d.dispatch.ring_ns);
    cpu.push(d.dispatch.cpu_ns ?? d.dispatch.read_ns + d.dispatch.gather_ns + d.dispatch.ring_ns);
  }
  const w = summarize(wAll);
  const dc = summarize(cpu);
  const s1 = summarize(one);
  const s2 = summarize(two);
  const c1 = summarize(oneCpu);
  // Per source: each core reads, hashes and processes its own input.
  const perSourceNs = dc.median + w.median;
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
  return {
    mode,
    one_pps: s1,
    two_pps: s2,
    ratio: s2.median / s1.median,
    pair_ratio: summarize(pair),
    one_cpu_ns: c1,
    two_cpu_ns: summarize(twoCpu),
    one_cpus: summarize(oneCpus),
    two_cpus: summarize(twoCpus),
    two_idle_cpus: summarize(twoIdle.filter((x) => Number.isFinite(x))),
    one_core_ns: summarize(oneCore),
    dispatch_ns: { read: summarize(read), gather: summarize(gather), ring: summarize(ring), cpu: dc },
    dispatch_cpu_in_run: summarize(cpuInRun.length ? cpuInRun : [NaN]),
    worker_copy_ns: summarize(wCopy),
    worker_core_ns: summarize(wCore),
    worker_ns: w,
    busiest_share: busiest,
    dispatcher_bound_from: w.median / dc.median,
    bound_one_reader: c1.median / dc.median,
    // Two workers each get half the packets: per input packet the machine spends
    // dispatch + (copy + core) of CPU, spread over 2 CPUs at best.
    bound_two_cpus: Math.min((2 * c1.median) / (dc.median + w.median), c1.median / dc.median),
    projection,
  };
}

export async function benchWorkers(runs = 5): Promise<WorkersBench> {
  const big = etcTrace();
  const load0 = loadavg();
  const raw = await benchMode(big.path, "raw", runs);
  const track = await benchMode(big.path, "track", runs);
  const serve = await benchServe(big.path, Math.min(runs, 3));
  return {
    file: big.path,
    packets: big.packets,
    bytes: big.bytes,
    raw,
    track,
    serve,
    loadavg: `${load0} → ${loadavg()}`,
  };
}

export function formatWorkers(
  b: WorkersBench,
  row: (name: string, s: Summary, unit: string) => string,
): string[] {
  const lines = [
    `\nworkers: ${b.file} (${fmt(b.packets)} packets, ${(b.bytes / 1e6).toFixed(0)} MB; gen etc --packets ${PACKETS} --conns ${CONNS}); ${cpus().length} CPUs, load average ${b.loadavg}`,
  ];
  for (const m of [b.raw, b.track]) {
    lines.push(
      row(`${m.mode}, 1 worker (this thread)`, m.one_pps, "packets/s"),
      row(`${m.mode}, 2 worker threads`, m.two_pps, "packets/s"),
      `  ${m.mode}: 2 workers / 1: ${m.ratio.toFixed(2)}x (aim >= 1.7x: ${m.ratio >= 1.7 ? "met" : "NOT met"}); per alternated pair ${m.pair_ratio.median.toFixed(2)}x (${m.pair_ratio.min.toFixed(2)}-${m.pair_ratio.max.toFixed(2)}); busiest worker got ${(m.busiest_share * 100).toFixed(1)} % of the packets`,
      row(`${m.mode}: 1 thread, process CPU`, m.one_cpu_ns, "ns/packet"),
      row(`${m.mode}: 2 workers, process CPU (all threads)`, m.two_cpu_ns, "ns/packet"),
      row(`${m.mode}: 1 thread, CPUs obtained`, m.one_cpus, "CPUs"),
      row(`${m.mode}: 2 workers, CPUs obtained`, m.two_cpus, "CPUs"),
      row(`${m.mode}: 2 workers, machine idle meanwhile`, m.two_idle_cpus, "CPUs"),
      row(`${m.mode}: dispatcher read`, m.dispatch_ns.read, "ns/packet"),
      row(`${m.mode}: dispatcher gather (WASM)`, m.dispatch_ns.gather, "ns/packet"),
      row(`${m.mode}: dispatcher ring (JS)`, m.dispatch_ns.ring, "ns/packet"),
      row(`${m.mode}: dispatcher thread CPU, alone`, m.dispatch_ns.cpu, "ns/packet"),
      row(`${m.mode}: dispatcher thread CPU, in the 2-worker run`, m.dispatch_cpu_in_run, "ns/packet"),
      row(`${m.mode}: per-worker copy from outbox`, m.worker_copy_ns, "ns/packet"),
      row(`${m.mode}: per-worker core calls`, m.worker_core_ns, "ns/packet"),
      row(`${m.mode}: per-worker cost (copy + core)`, m.worker_ns, "ns/packet"),
      row(`${m.mode}: one thread, in the core`, m.one_core_ns, "ns/packet"),
      `  ${m.mode}: bounds on 2/1 from these costs: one reader ${m.bound_one_reader.toFixed(2)}x (1-thread CPU / dispatcher CPU), 3 threads on 2 free CPUs ${m.bound_two_cpus.toFixed(2)}x`,
      `  ${m.mode}: projection (one core per worker + one for the dispatcher); one dispatcher is the bottleneck from ${m.dispatcher_bound_from.toFixed(1)} workers on`,
      `    workers   workers alone   one dispatcher        one reader per source (RSS-like)`,
    );
    for (const p of m.projection)
      lines.push(
        `    ${String(p.workers).padStart(7)}   ${fmt(p.workers_pps).padStart(13)}   ${fmt(p.one_dispatcher_pps).padStart(9)} (${p.bound.padEnd(10)})   ${fmt(p.per_source_pps).padStart(9)}`,
      );
  }
  const sv = b.serve;
  lines.push(
    row("serve, 1 thread (pre-scan + serve pass)", sv.one_pps, "packets/s"),
    row("serve, 2 workers (one pre-scan pass, each its flows)", sv.two_pps, "packets/s"),
    `  serve: 2 workers / 1: ${sv.ratio.toFixed(2)}x; per alternated pair ${sv.pair_ratio.median.toFixed(2)}x (${sv.pair_ratio.min.toFixed(2)}-${sv.pair_ratio.max.toFixed(2)}); on 2 free CPUs at these CPU costs: ${sv.bound_two_cpus.toFixed(2)}x, without the threads' start-up ${sv.bound_two_cpus_work.toFixed(2)}x`,
    row("serve: 1 thread, process CPU", sv.one_cpu_ns, "ns/packet"),
    row("serve: 2 workers, process CPU (all threads)", sv.two_cpu_ns, "ns/packet"),
    row("serve: 2 workers, the work's CPU (pre-scan + passes)", sv.two_work_cpu_ns, "ns/packet"),
    row("serve: 1 thread, CPUs obtained", sv.one_cpus, "CPUs"),
    row("serve: 2 workers, CPUs obtained", sv.two_cpus, "CPUs"),
    row("serve: 2 workers, machine idle meanwhile", sv.two_idle_cpus, "CPUs"),
  );
  return lines;
}
