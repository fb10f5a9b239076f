// The `ixwasm replay` report: one JSON shape (schema "ixwasm-replay/2") and a
// terminal table made from it. Counts come from the core's counters; times from
// the host's per-batch clock.
//
// /2 added what `ixwasm report merge` needs to make one report of many shards'
// (host/report/merge.ts): the capture's identity, the shard, the process's CPU
// time, the capture times of the first and last packet, and the histograms the
// percentiles come from. /1 reports are read by `diff`, refused by `merge`.
import type { ModuleReport } from "../apps/module-host.ts";
import { moduleRows } from "./module.ts";
import type { CpuInfo } from "node:os";
import type { Core } from "../core/core.ts";
import { readCounters, type Counters } from "./counters.ts";
import { fidelityRows, type FidelityReport } from "./fidelity.ts";
import { WC_BYTES, WC_PACKETS, WORKER_COUNT_BYTES } from "../core/abi.gen.ts";
import type { ServeMemory } from "../replay/serve/memory.ts";
import { accountingRows, type StageAccounting } from "./accounting.ts";
import type { HistJson } from "./hist.ts";
import { ST_NAMES } from "../core/track.gen.ts";

export const REPLAY_SCHEMA = "ixwasm-replay/2";

/** What a capture is, for telling shards' reports of one capture from another's: its size and the SHA-256 of its first MiB. */
export interface CaptureId {
  bytes: number;
  head_bytes: number;
  head_sha256: string;
}

/** The samples behind the paced percentiles (host/report/hist.ts LogHist.toJSON). */
export interface PacingHists {
  latency_us: HistJson | null;
  lateness_us: HistJson | null;
  gap_error_us: HistJson | null;
}

/** What the host measured during a run (host/replay/replay.ts fills it). */
export interface RunStats {
  path: string;
  mode: "raw" | "track" | "serve";
  workers: number;
  speed: string;
  loops: number;
  format: string;
  linktypes: number[];
  readMs: number;
  procMs: number;
  outMs: number;
  waitMs: number;
  wallMs: number;
  /** Stage accounting (report/accounting.ts): making the core and its tables, the paced warm-up, the pre-scan. */
  setupMs: number;
  warmupMs: number;
  prescanMs: number;
  /** serve: the packet loop's own JS (classification, live flows, feed records, fidelity reference). */
  hostMs: number;
  /** serve: the track core's batches (flows not served). */
  trackMs: number;
  /** serve --stages: the polls the core timed (its section timers on) and their ms on the host clock (in procMs too) */
  timedPolls: number;
  timedPollMs: number;
  /** core-call size bucket (power of two lower bound) → calls */
  batches: Map<number, number>;
  packetsOut: number;
  bytesOut: number;
  firstTs: number | null;
  lastTs: number | null;
  pacing: { lateness_p50: number; lateness_p99: number; gap_p50: number; gap_p99: number } | null;
  latency: { p50: number; p99: number; p999: number } | null;
  /** Paced: the histograms of the samples the pacing and latency percentiles come from. */
  hists: PacingHists | null;
  error: string | null;
  outFile: string | null;
}

// Drop reasons by mode, in the order printed; each is one core counter.
const DROPS_RAW = ["not_packet", "unknown_link", "non_ip", "ip_truncated"] as const;
const DROPS_TRACK = [
  ...DROPS_RAW,
  "flow_table_full",
  "tcp_malformed",
  "tcp_bad_flags",
  "tcp_rst_invalid",
] as const;
type DropReason = (typeof DROPS_TRACK)[number];

const TCP_FIELDS = [
  "handshakes",
  "retransmissions",
  "out_of_order",
  "seq_gaps",
  "out_of_window",
  "ack_unseen",
  "dup_acks",
  "zero_window",
  "keepalives",
  "rsts",
  "fins",
  "closed",
  "syn_retrans",
  "reused",
] as const;

/** Track mode's conversation states, by number (the core's ST_*: u64 counts at trackStates()). */
export const TCP_STATES = ST_NAMES;

export interface ReplayReport {
  schema: typeof REPLAY_SCHEMA;
  /** serve --app-module: the module's batches, faults, restarts, resets and checks. */
  module?: ModuleReport;
  trace: string;
  format: string;
  linktypes: number[];
  mode: string;
  app: string | null;
  workers: number;
  speed: string;
  loops: number;
  packets_in: number;
  packets_out: number;
  bytes_in: number;
  bytes_out: number;
  packets_processed: number;
  flows: { total: number | null; served: number; tracked: number | null; midstream: number | null };
  duration_s: number;
  trace_duration_s: number | null;
  pps: number;
  mbps: number;
  drops: Partial<Record<DropReason, number>>;
  fidelity: FidelityReport | null;
  /** serve mode: where each input packet went (host/replay/serve/stats.ts ServeStats) */
  serve?: {
    delivered: number;
    reference: number;
    tracked: number;
    presets_failed: number;
    polls: number;
    flows_unserved_why: Record<string, number>;
    mirror: Record<string, number> | null;
    /** Flows open at once at most (pre-scan), and connections the core holds at once (open or in TIME-WAIT). */
    peak_concurrent: number;
    peak_held: number;
    /** Connections the core was sized for; its memory; its state per connection (issue 16 §4). */
    capacity: number;
    core_bytes: number;
    bytes_per_connection: number;
    /** Fixed pools and per-connection state (schema ixwasm-serve-memory/1, host/replay/serve/memory.ts). */
    memory: ServeMemory | null;
    track_core_bytes: number;
    /** --stages: polls the core's stage timers ran in (one in `every`), of `polls`. */
    stage_samples?: { every: number; sampled: number; polls: number; dropped: number; clock_read_ns: number };
    prescan_bytes: number;
  };
  /** ns per input packet of each stage, from a clock read around each batch's core call */
  stages: Record<string, number>;
  /** Every stage of the run on the clock of pps, their sum and the residual (schema ixwasm-accounting/1). */
  accounting?: StageAccounting;
  /** estimate: ns × the CPU's nominal MHz (no hardware counters on these VMs) */
  stages_cycles_est: Record<string, number> | null;
  batch_histogram: Record<string, number>;
  worker_packets: number[];
  latency_us: { p50: number; p99: number; p999: number } | null;
  pacing: {
    achieved_pps: number;
    achieved_mbps: number;
    lateness_us: { p50: number; p99: number };
    gap_error_us: { p50: number; p99: number };
  } | null;
  tcp: (Record<(typeof TCP_FIELDS)[number], number> & { states: Record<string, number> }) | null;
  out: { file: string; records: number } | null;
  error: string | null;
  machine: { cpu: string; cores: number; mhz: number; node: string; platform: string };
  // ---- /2: for `report merge` (the CLI fills capture, shard and cpu_s; null from the library) ----
  capture: CaptureId | null;
  /** --shard I/N (or the engine's environment): this report's share of the capture; null for the whole. */
  shard: { index: number; count: number; source: string } | null;
  /** The process's CPU time over the command (user + system, all threads), seconds. */
  cpu_s: number | null;
  /** Capture time (s since the epoch) of the first and last packet replayed (with --loop, the last pass's). */
  trace_first_s: number | null;
  trace_last_s: number | null;
  histograms: PacingHists | null;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Estimated cycles per packet of each stage: ns × the CPU's nominal MHz (no hardware counters here); null without a MHz. */
export function cyclesEstimate(stages: Record<string, number>, mhz: number): Record<string, number> | null {
  return mhz
    ? Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, Math.round((v * mhz) / 1000)]))
    : null;
}

/**
 * Adds b's counts into a's, key by key: numbers summed (a missing one is 0), arrays element-wise,
 * nested objects likewise (made when missing); anything else stays a's. Merges the reports of
 * workers that own disjoint flows.
 */
export function addCounts(a: Record<string, unknown>, b: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(b)) {
    const cur = a[k];
    if (typeof v === "number") a[k] = (typeof cur === "number" ? cur : 0) + v;
    else if (Array.isArray(v)) {
      const arr = Array.isArray(cur) ? cur : (a[k] = []);
      v.forEach((x: number, i) => (arr[i] = (arr[i] ?? 0) + x));
    } else if (v && typeof v === "object") {
      if (!cur || typeof cur !== "object") a[k] = {};
      addCounts(a[k] as Record<string, unknown>, v as Record<string, unknown>);
    }
  }
}

/** The fidelity of several workers or shards that served disjoint flows: counts summed, the first mismatches of each kept (10 at most). */
export function mergeFidelity(parts: FidelityReport[]): FidelityReport {
  const m = structuredClone(parts[0]);
  const first = [...m.first_mismatches];
  for (const p of parts.slice(1)) {
    const { first_mismatches, excluded: _e, segments_pct: _s, ...counts } = p;
    addCounts(m as unknown as Record<string, unknown>, counts);
    first.push(...first_mismatches);
  }
  m.first_mismatches = first.slice(0, 10);
  m.segments_pct = m.segments_compared ? r2((100 * m.segments_matching) / m.segments_compared) : 100;
  return m;
}

export function buildReport(core: Core, st: RunStats, cpu: CpuInfo[]): ReplayReport {
  const c: Counters = readCounters(core);
  const ex = core.exports;
  const n = c.rx_frames;
  const perPkt = (ms: number) => (n ? r2((ms * 1e6) / n) : 0);
  const stages: Record<string, number> = { read: perPkt(st.readMs), [st.mode]: perPkt(st.procMs) };
  if (st.outFile) stages.output = perPkt(st.outMs);
  const mhz = cpu[0]?.speed ?? 0;
  const reasons = st.mode === "raw" ? DROPS_RAW : DROPS_TRACK;
  const drops: Partial<Record<DropReason, number>> = {};
  for (const r of reasons) drops[r] = c[`rp_drop_${r}` as keyof Counters];
  // Per-worker counts: u64 packets, u64 bytes each (abi/table.ts REPLAY).
  const wc = ex.replayWorkerCounts() >>> 0;
  const workerPackets: number[] = [];
  let bytesProcessed = 0;
  for (let w = 0; w < st.workers; w++) {
    const p = (wc + w * WORKER_COUNT_BYTES + WC_PACKETS) >>> 2;
    const b = (wc + w * WORKER_COUNT_BYTES + WC_BYTES) >>> 2;
    workerPackets.push(core.u32[p] + core.u32[p + 1] * 4294967296);
    bytesProcessed += core.u32[b] + core.u32[b + 1] * 4294967296;
  }
  const forwards = st.mode === "raw";
  const hist: Record<string, number> = {};
  for (const [b, k] of [...st.batches.entries()].sort((a, z) => a[0] - z[0]))
    hist[b === 1 ? "1" : `${b}-${2 * b - 1}`] = k;
  let tcp: ReplayReport["tcp"] = null;
  if (st.mode === "track") {
    const states: Record<string, number> = {};
    const p = (ex.trackStates() >>> 0) >>> 2;
    TCP_STATES.forEach((s, i) => (states[s] = core.u32[p + 2 * i] + core.u32[p + 2 * i + 1] * 4294967296));
    tcp = { states } as NonNullable<ReplayReport["tcp"]>;
    for (const f of TCP_FIELDS) tcp[f] = c[`rp_tcp_${f}` as keyof Counters];
  }
  const sec = st.wallMs / 1000;
  return {
    schema: REPLAY_SCHEMA,
    trace: st.path,
    format: st.format,
    linktypes: st.linktypes,
    mode: st.mode,
    app: null,
    workers: st.workers,
    speed: st.speed,
    loops: st.loops,
    packets_in: n,
    packets_out: forwards ? c.rp_processed : 0,
    bytes_in: c.rx_bytes,
    bytes_out: forwards ? bytesProcessed : 0,
    packets_processed: c.rp_processed,
    flows:
      st.mode === "raw"
        ? { total: null, served: 0, tracked: null, midstream: null }
        : { total: c.rp_flows, served: 0, tracked: c.rp_flows_tcp, midstream: c.rp_flows_midstream },
    duration_s: r2(sec * 1000) / 1000,
    trace_duration_s: st.firstTs === null || st.lastTs === null ? null : st.lastTs - st.firstTs,
    pps: sec > 0 ? Math.round(n / sec) : 0,
    mbps: sec > 0 ? r2((c.rx_bytes * 8) / sec / 1e6) : 0,
    drops,
    fidelity: null,
    stages,
    stages_cycles_est: cyclesEstimate(stages, mhz),
    batch_histogram: hist,
    worker_packets: workerPackets,
    latency_us: st.latency && {
      p50: r2(st.latency.p50),
      p99: r2(st.latency.p99),
      p999: r2(st.latency.p999),
    },
    pacing: st.pacing && {
      achieved_pps: sec > 0 ? Math.round(n / sec) : 0,
      achieved_mbps: sec > 0 ? r2((c.rx_bytes * 8) / sec / 1e6) : 0,
      lateness_us: { p50: r2(st.pacing.lateness_p50), p99: r2(st.pacing.lateness_p99) },
      gap_error_us: { p50: r2(st.pacing.gap_p50), p99: r2(st.pacing.gap_p99) },
    },
    tcp,
    out: st.outFile ? { file: st.outFile, records: st.packetsOut } : null,
    error: st.error,
    machine: {
      cpu: cpu[0]?.model ?? "unknown",
      cores: cpu.length,
      mhz,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    },
    capture: null,
    shard: null,
    cpu_s: null,
    trace_first_s: st.firstTs,
    trace_last_s: st.lastTs,
    histograms: st.hists,
  };
}

/** Packets that were neither processed nor dropped for a reason (must be 0). */
export function unaccounted(r: ReplayReport): number {
  const dropped = Object.values(r.drops).reduce((a, b) => a + (b ?? 0), 0);
  return r.packets_in - r.packets_processed - dropped;
}

export function formatReplay(r: ReplayReport): string {
  const num = (x: number) => x.toLocaleString("en-US");
  const rows: [string, string][] = [
    ["trace", `${r.trace} (${r.format})`],
    [
      "mode",
      `${r.mode}, ${r.workers} worker${r.workers > 1 ? "s" : ""}, speed ${r.speed}${r.loops > 1 ? `, ${r.loops} loops` : ""}`,
    ],
    ["packets in", `${num(r.packets_in)} (${num(r.bytes_in)} bytes)`],
    ["processed", num(r.packets_processed)],
    ["packets out", `${num(r.packets_out)} (${num(r.bytes_out)} bytes)`],
  ];
  const drops = Object.entries(r.drops).filter(([, v]) => v);
  rows.push(["dropped", drops.length ? drops.map(([k, v]) => `${k} ${num(v!)}`).join(", ") : "none"]);
  if (r.flows.total !== null && !r.serve)
    rows.push([
      "flows",
      `${num(r.flows.total)} (TCP ${num(r.flows.tracked ?? 0)}, picked up mid-stream ${num(r.flows.midstream ?? 0)})`,
    ]);
  if (r.serve) {
    const s = r.serve;
    rows.push([
      "flows",
      `${num(r.flows.total ?? 0)}: served ${num(r.flows.served)}, tracked ${num(r.flows.tracked ?? 0)} (mid-stream ${num(r.flows.midstream ?? 0)})${
        Object.keys(s.flows_unserved_why).length
          ? ` (${Object.entries(s.flows_unserved_why)
              .map(([k, v]) => `${k} ${num(v)}`)
              .join(", ")})`
          : ""
      }`,
    ]);
    rows.push([
      "packets",
      `to the stack ${num(s.delivered)}, capture server (reference) ${num(s.reference)}, tracked ${num(s.tracked)}`,
    ]);
    if (s.memory) rows.push(...memoryRows(s.memory, s.peak_concurrent, s.prescan_bytes, s.track_core_bytes));
  }
  if (r.fidelity) rows.push(...fidelityRows(r.fidelity));
  if (r.tcp) {
    const t = r.tcp;
    rows.push([
      "TCP",
      `handshakes ${num(t.handshakes)}, FINs ${num(t.fins)}, RSTs ${num(t.rsts)}, closed ${num(t.closed)}`,
    ]);
    rows.push([
      "TCP analysis",
      `retransmissions ${num(t.retransmissions)}, out-of-order ${num(t.out_of_order)}, gaps ${num(t.seq_gaps)}, out of window ${num(t.out_of_window)}, ACKed unseen ${num(t.ack_unseen)}, dup ACKs ${num(t.dup_acks)}, zero windows ${num(t.zero_window)}, keep-alives ${num(t.keepalives)}`,
    ]);
    const states = Object.entries(t.states).filter(([, v]) => v);
    if (states.length) rows.push(["final states", states.map(([k, v]) => `${k} ${num(v)}`).join(", ")]);
  }
  rows.push([
    "duration",
    `${r.duration_s.toFixed(3)} s (capture spans ${r.trace_duration_s?.toFixed(3) ?? "-"} s)`,
  ]);
  rows.push(["rate", `${num(r.pps)} packets/s, ${r.mbps} Mbit/s`]);
  if (r.module) rows.push(...moduleRows(r.module));
  rows.push([
    "ns/packet",
    Object.entries(r.stages)
      .map(([k, v]) => `${k} ${v}`)
      .join(", "),
  ]);
  if (r.accounting) rows.push(...accountingRows(r.accounting));
  if (r.pacing)
    rows.push([
      "pacing",
      `lateness p50 ${r.pacing.lateness_us.p50} µs, p99 ${r.pacing.lateness_us.p99} µs; gap error p50 ${r.pacing.gap_error_us.p50} µs, p99 ${r.pacing.gap_error_us.p99} µs`,
    ]);
  if (r.latency_us)
    rows.push([
      "latency",
      `p50 ${r.latency_us.p50} µs, p99 ${r.latency_us.p99} µs, p999 ${r.latency_us.p999} µs`,
    ]);
  rows.push([
    "batches",
    Object.entries(r.batch_histogram)
      .map(([k, v]) => `${k}: ${v}`)
      .join(", "),
  ]);
  if (r.workers > 1) rows.push(["per worker", r.worker_packets.map(num).join(" / ")]);
  if (r.out) rows.push(["written", `${r.out.file} (${num(r.out.records)} records)`]);
  rows.push(["machine", `${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`]);
  if (r.error) rows.push(["stopped", r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join("\n") + "\n";
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(1)} MiB`;

/** Serve's memory: fixed pools, state per connection, and the prediction for 1 M connections. */
export function memoryRows(
  m: ServeMemory,
  peakOpen: number,
  prescanBytes: number,
  trackBytes: number,
): [string, string][] {
  const num = (x: number) => x.toLocaleString("en-US");
  const f = m.fixed;
  const p = m.per_connection;
  return [
    [
      "memory",
      `core ${mib(m.total_bytes)} = fixed ${mib(m.fixed_bytes)} + ${num(p.bytes)} B × ${num(m.connections)} connections (sized for ${num(m.sized_from.peak_held)} held at once, ${num(peakOpen)} open)`,
    ],
    [
      "  fixed",
      `read ${mib(f.read)}, mbufs ${num(f.mbufs.count)} × ${num(f.mbufs.bytes_each)} B = ${mib(f.mbufs.bytes)}, rings and queues ${mib(f.rings_queues)}, spans ${mib(f.spans.bytes)}, mirror streams ${mib(f.mirror_streams.bytes)} (${num(m.sized_from.peak_in_flight_bytes)} B in flight at most + a read batch of ${num(m.sized_from.max_batch_bytes)} B, + 1/4; floor ${mib(f.mirror_streams.floor)}, cap ${mib(f.mirror_streams.cap)}), mirror feed ${mib(f.mirror_feed)}, spare ${mib(f.spare)}, static and rounding ${mib(f.other)}`,
    ],
    [
      "  per connection",
      `TCB ${p.tcb} B, timer ${p.timer} B, flow table ${p.flow_table} B${p.mirror_slot ? `, mirror slot ${p.mirror_slot} B` : ""}${p.app ? `, app ${p.app} B` : ""}`,
    ],
    [
      "  1 M connections",
      `≈ ${mib(m.predict.bytes_1m)} (fixed + per connection × ${num(m.predict.connections_1m)}; ${mib(m.predict.bytes_1m_max)} with the mirror's streams at their cap)${trackBytes ? `; track core ${mib(trackBytes)}` : ""}; pre-scan ${mib(prescanBytes)}`,
    ],
  ];
}
