// `ixwasm report merge`: one replay report from the reports of a capture's
// shards (replay --shard I/N on N processes or machines, docs/design/scale-out.md).
//
// The shards own disjoint flows, so their counts add up to one run's: packets,
// bytes, drops, flows, TCP analysis, fidelity and serve's counters are summed.
// Percentiles are never averaged: the paced latency and pacing percentiles are
// taken again from the sum of the histograms the reports carry. Times say what
// the machines did together: the duration is the slowest shard's (they run at
// once), rates are the packets over it, CPU time is the sum; ns per packet of
// each stage is the shards' weighted by their packets (the work done per packet,
// wherever it ran, so in-place shards show their whole-file read in `read`).
// serve's peak_concurrent, peak_held, capacity and core bytes are sums: what the
// machines held together, an upper bound of what one process holds at once.
//
// Refused, with the field that says why: a report that is not ixwasm-replay/2 or
// misses a field; reports of different captures (capture: size and head hash; or,
// with --split, each against the split manifest's file for its shard), modes,
// apps, speeds, loops or shard counts; a shard missing or given twice; a report
// with the --stages cost section (its percentiles have no histograms); a report
// already merged.
import { readFileSync } from "node:fs";
import { UsageError } from "../io/errors.ts";
import { LogHist, type HistJson } from "./hist.ts";
import {
  addCounts,
  cyclesEstimate,
  mergeFidelity,
  REPLAY_SCHEMA,
  type CaptureId,
  type PacingHists,
  type ReplayReport,
} from "./replay.ts";
import { REPLAY_JSON_SCHEMA, validate } from "./schema.ts";
import type { SplitManifest } from "../replay/split.ts";

/** One shard's line in the merged report. */
export interface ShardLine {
  index: number;
  report: string;
  trace: string;
  workers: number;
  packets_in: number;
  packets_processed: number;
  flows: ReplayReport["flows"];
  fidelity: { segments_compared: number; segments_matching: number } | null;
  duration_s: number;
  cpu_s: number | null;
  pps: number;
  machine: string;
  error: string | null;
}

export interface MergedReport extends ReplayReport {
  merged: { shards: number; source: "shards" | "split"; ms: number };
  per_shard: ShardLine[];
}

export interface Loaded {
  file: string;
  r: ReplayReport;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Reads and checks one report file; a UsageError names the file and the field. */
export function loadReport(file: string): Loaded {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`report merge: cannot read ${file} (${(e as NodeJS.ErrnoException).code})`);
  }
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`report merge: ${file} is not JSON (${(e as Error).message})`);
  }
  const o = j as Record<string, unknown>;
  if (o && typeof o === "object" && o.schema !== REPLAY_SCHEMA)
    throw new UsageError(
      `report merge: ${file}: field schema is ${JSON.stringify(o.schema)}, not ${REPLAY_SCHEMA}`,
      "merge replay reports (--report json or --report-file) of this version",
    );
  const problems = validate(REPLAY_JSON_SCHEMA, j);
  if (problems.length)
    throw new UsageError(
      `report merge: ${file}: field ${problems[0].replace(/^\$\./, "")}${problems.length > 1 ? ` (and ${problems.length - 1} more)` : ""}`,
    );
  if ("per_shard" in o)
    throw new UsageError(`report merge: ${file}: field per_shard: it is a merged report already`);
  if (o.cost)
    throw new UsageError(
      `report merge: ${file}: field cost: a --stages report (its percentiles carry no histograms)`,
      "merge reports of replays without --stages",
    );
  return { file, r: j as ReplayReport };
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function differs(field: string, a: Loaded, av: unknown, b: Loaded, bv: unknown): never {
  throw new UsageError(
    `report merge: field ${field} differs: ${a.file} has ${JSON.stringify(av)}, ${b.file} has ${JSON.stringify(bv)}`,
    "merge the reports of one capture's shards, replayed alike",
  );
}

const identity = (c: CaptureId | null) => (c ? { bytes: c.bytes, head_sha256: c.head_sha256 } : null);

/** Checks that the reports are the N shards of one run, each once; returns them in shard order. */
export function checkShards(list: Loaded[], split?: SplitManifest): Loaded[] {
  if (list.length === 0) throw new UsageError("report merge: no reports", "give the shards' JSON reports");
  const first = list[0];
  // A report without a shard is the whole capture (0 of 1); with --split, a split file's
  // report replayed without --shard is the shard whose file the manifest names.
  const shardOf = (x: Loaded) => {
    if (x.r.shard) return x.r.shard;
    const i = split?.files.findIndex((f) => same(identity(f), identity(x.r.capture))) ?? -1;
    return i >= 0
      ? { index: i, count: split!.shards, source: "split" }
      : { index: 0, count: 1, source: "none" };
  };
  for (const x of list.slice(1)) {
    for (const f of ["mode", "app", "speed", "loops"] as const)
      if (!same(x.r[f], first.r[f])) differs(f, first, first.r[f], x, x.r[f]);
    if (shardOf(x).count !== shardOf(first).count)
      differs("shard.count", first, shardOf(first).count, x, shardOf(x).count);
    if (!split && !same(identity(x.r.capture), identity(first.r.capture)))
      differs("capture", first, identity(first.r.capture), x, identity(x.r.capture));
  }
  const n = shardOf(first).count;
  if (split && split.shards !== n)
    throw new UsageError(
      `report merge: field shard.count is ${n}, the split manifest has ${split.shards} shards`,
      "give the manifest of the split the shards were replayed from",
    );
  const byIndex: (Loaded | undefined)[] = new Array(n);
  for (const x of list) {
    const i = shardOf(x).index;
    if (byIndex[i])
      throw new UsageError(
        `report merge: field shard.index: shard ${i} of ${n} twice (${byIndex[i]!.file}, ${x.file})`,
        "give each shard's report once",
      );
    byIndex[i] = x;
    if (split) {
      const want = split.files[i];
      if (!want || !same(identity(x.r.capture), identity(want)))
        throw new UsageError(
          `report merge: field capture of ${x.file} (shard ${i}) is not the split's file ${want?.file ?? "?"}`,
          "replay each shard's file from this split",
        );
    }
  }
  const missing = [...byIndex.keys()].filter((i) => !byIndex[i]);
  if (missing.length)
    throw new UsageError(
      `report merge: field shard.index: shard${missing.length > 1 ? "s" : ""} ${missing.join(", ")} of ${n} missing`,
      "give every shard's report (a shard that failed must be run again)",
    );
  return byIndex as Loaded[];
}

function mergeHists(parts: (HistJson | null | undefined)[]): LogHist | null {
  let h: LogHist | null = null;
  for (const p of parts) {
    if (!p) continue;
    const x = LogHist.fromJSON(p);
    if (h) h.merge(x);
    else h = x;
  }
  return h;
}

/** The merged report of checked shards (in shard order). */
export function mergeReports(shards: Loaded[], split?: SplitManifest, t0 = performance.now()): MergedReport {
  const rs = shards.map((s) => s.r);
  const a = rs[0];
  const sums: Record<string, unknown> = {};
  for (const r of rs)
    addCounts(sums, {
      packets_in: r.packets_in,
      packets_out: r.packets_out,
      bytes_in: r.bytes_in,
      bytes_out: r.bytes_out,
      packets_processed: r.packets_processed,
      drops: r.drops,
      batch_histogram: r.batch_histogram,
    });
  const n = sums.packets_in as number;
  // flows: a null (not counted in this mode) stays null; numbers add.
  const flows = { ...a.flows };
  for (const r of rs.slice(1))
    for (const k of Object.keys(flows) as (keyof ReplayReport["flows"])[]) {
      const v = r.flows[k];
      if (flows[k] !== null && v !== null) (flows[k] as number) += v;
    }
  let tcp: ReplayReport["tcp"] = null;
  if (rs.every((r) => r.tcp)) {
    tcp = structuredClone(a.tcp);
    for (const r of rs.slice(1)) addCounts(tcp as unknown as Record<string, unknown>, r.tcp!);
  }
  let serve: ReplayReport["serve"] = undefined;
  if (rs.every((r) => r.serve)) {
    serve = structuredClone(a.serve)!;
    for (const r of rs.slice(1)) addCounts(serve as unknown as Record<string, unknown>, r.serve!);
    serve.bytes_per_connection = serve.peak_concurrent
      ? Math.round(serve.core_bytes / serve.peak_concurrent)
      : 0;
  }
  const fids = rs.flatMap((r) => (r.fidelity ? [r.fidelity] : []));
  const sec = Math.max(...rs.map((r) => r.duration_s));
  const stages: Record<string, number> = {};
  for (const r of rs)
    for (const [k, v] of Object.entries(r.stages))
      stages[k] = (stages[k] ?? 0) + (n ? (v * r.packets_in) / n : 0);
  for (const k of Object.keys(stages)) stages[k] = r2(stages[k]);
  const firsts = rs.flatMap((r) => (r.trace_first_s === null ? [] : [r.trace_first_s]));
  const lasts = rs.flatMap((r) => (r.trace_last_s === null ? [] : [r.trace_last_s]));
  const first = firsts.length ? Math.min(...firsts) : null;
  const last = lasts.length ? Math.max(...lasts) : null;
  const cpus = rs.map((r) => r.cpu_s);
  // Percentiles again from the summed histograms.
  const lat = mergeHists(rs.map((r) => r.histograms?.latency_us));
  const late = mergeHists(rs.map((r) => r.histograms?.lateness_us));
  const gap = mergeHists(rs.map((r) => r.histograms?.gap_error_us));
  const histograms: PacingHists | null =
    lat || late || gap
      ? {
          latency_us: lat?.toJSON() ?? null,
          lateness_us: late?.toJSON() ?? null,
          gap_error_us: gap?.toJSON() ?? null,
        }
      : null;
  const q = (h: LogHist | null, p: number) => (h ? r2(h.quantile(p)) : 0);
  const bytesIn = sums.bytes_in as number;
  const errors = shards.flatMap((s, i) => (s.r.error ? [`shard ${i}: ${s.r.error}`] : []));
  const outs = rs.flatMap((r) => (r.out ? [r.out] : []));
  const capture = split
    ? {
        bytes: split.source.bytes,
        head_bytes: split.source.head_bytes,
        head_sha256: split.source.head_sha256,
      }
    : a.capture;
  return {
    schema: REPLAY_SCHEMA,
    trace: split ? split.source.file : a.trace,
    format: split ? split.source.format : a.format,
    linktypes: split ? split.source.linktypes : a.linktypes,
    mode: a.mode,
    app: a.app,
    workers: rs.reduce((s, r) => s + r.workers, 0),
    speed: a.speed,
    loops: a.loops,
    packets_in: n,
    packets_out: sums.packets_out as number,
    bytes_in: bytesIn,
    bytes_out: sums.bytes_out as number,
    packets_processed: sums.packets_processed as number,
    flows,
    duration_s: sec,
    trace_duration_s: first !== null && last !== null ? last - first : null,
    pps: sec > 0 ? Math.round(n / sec) : 0,
    mbps: sec > 0 ? r2((bytesIn * 8) / sec / 1e6) : 0,
    drops: sums.drops as ReplayReport["drops"],
    fidelity: fids.length ? mergeFidelity(fids) : null,
    ...(serve ? { serve } : {}),
    stages,
    stages_cycles_est: cyclesEstimate(stages, a.machine.mhz),
    batch_histogram: sums.batch_histogram as Record<string, number>,
    worker_packets: rs.flatMap((r) => r.worker_packets),
    latency_us: lat ? { p50: q(lat, 0.5), p99: q(lat, 0.99), p999: q(lat, 0.999) } : null,
    pacing:
      late || gap
        ? {
            achieved_pps: sec > 0 ? Math.round(n / sec) : 0,
            achieved_mbps: sec > 0 ? r2((bytesIn * 8) / sec / 1e6) : 0,
            lateness_us: { p50: q(late, 0.5), p99: q(late, 0.99) },
            gap_error_us: { p50: q(gap, 0.5), p99: q(gap, 0.99) },
          }
        : null,
    tcp,
    out: outs.length
      ? { file: outs.map((o) => o.file).join(" "), records: outs.reduce((s, o) => s + o.records, 0) }
      : null,
    error: errors.length ? errors.join("; ") : null,
    machine: a.machine,
    capture,
    shard: null,
    cpu_s: cpus.every((c) => c !== null)
      ? r2((cpus as number[]).reduce((s, c) => s + c, 0) * 1000) / 1000
      : null,
    trace_first_s: first,
    trace_last_s: last,
    histograms,
    merged: { shards: rs.length, source: split ? "split" : "shards", ms: r2(performance.now() - t0) },
    per_shard: shards.map((s, i) => ({
      index: i,
      report: s.file,
      trace: s.r.trace,
      workers: s.r.workers,
      packets_in: s.r.packets_in,
      packets_processed: s.r.packets_processed,
      flows: s.r.flows,
      fidelity: s.r.fidelity
        ? {
            segments_compared: s.r.fidelity.segments_compared,
            segments_matching: s.r.fidelity.segments_matching,
          }
        : null,
      duration_s: s.r.duration_s,
      cpu_s: s.r.cpu_s,
      pps: s.r.pps,
      machine: `${s.r.machine.cpu}, ${s.r.machine.cores} cores`,
      error: s.r.error,
    })),
  };
}

/** The per-shard lines under the merged report's table. */
export function formatShards(m: MergedReport): string {
  const num = (x: number) => x.toLocaleString("en-US");
  const lines = [
    `merged       ${m.merged.shards} shard reports (${m.merged.source}) in ${m.merged.ms} ms; duration = the slowest shard's, CPU ${m.cpu_s ?? "-"} s = the shards' sum`,
  ];
  for (const s of m.per_shard) {
    const fid = s.fidelity
      ? `, fidelity ${num(s.fidelity.segments_matching)}/${num(s.fidelity.segments_compared)}`
      : "";
    lines.push(
      `  shard ${s.index}  ${num(s.packets_in)} packets, flows ${s.flows.total ?? "-"}${fid}, ${s.duration_s.toFixed(3)} s, CPU ${s.cpu_s ?? "-"} s, ${num(s.pps)}/s  (${s.report}${s.error ? `; stopped: ${s.error}` : ""})`,
    );
  }
  return lines.join("\n") + "\n";
}
