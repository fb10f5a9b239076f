// JSON Schemas (a draft 2020-12 subset) of the cost reports and serve's memory report, and the small
// validator the tests use on them: type, required, properties, items, enum,
// const, minimum. docs/measurement/cost.md ("Reports") describes the fields.
export type Schema = {
  type?:
    | "object"
    | "array"
    | "number"
    | "string"
    | "boolean"
    | "null"
    | ("number" | "null" | "string" | "object")[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  minimum?: number;
  description?: string;
};

const num: Schema = { type: "number" };
const spread: Schema = {
  type: "object",
  required: ["median", "min", "max"],
  properties: { median: num, min: num, max: num },
};
const machine: Schema = { type: "object", required: ["cpu", "cores", "node"] };

/** The `cost` section a replay report (ixwasm-replay/2) carries after --stages or --report html. */
export const COST_SECTION_SCHEMA: Schema = {
  type: "object",
  required: ["schema", "stage_cost", "batch_service_us", "timeline", "batch_histogram"],
  properties: {
    schema: { const: "ixwasm-cost/1" },
    stage_cost: {
      type: "object",
      required: [
        "method",
        "runs",
        "packets",
        "batches",
        "mhz_estimated",
        "stages",
        "total_ns_per_packet",
        "sum_ns_per_packet",
        "residual_ns_per_packet",
        "residual_pct",
        "overhead",
      ],
      properties: {
        runs: { type: "number", minimum: 1 },
        packets: num,
        mhz_estimated: num,
        stages: {
          type: "array",
          items: {
            type: "object",
            required: ["name", "ns_per_packet", "min", "max", "cycles_per_packet_est"],
            properties: {
              name: { type: "string" },
              ns_per_packet: num,
              min: num,
              max: num,
              cycles_per_packet_est: num,
            },
          },
        },
        total_ns_per_packet: spread,
        sum_ns_per_packet: num,
        residual_ns_per_packet: num,
        residual_pct: num,
        overhead: {
          type: "object",
          required: ["timed_ns_per_packet", "untimed_ns_per_packet", "overhead_pct"],
          properties: { timed_ns_per_packet: spread, untimed_ns_per_packet: spread, overhead_pct: num },
        },
      },
    },
    batch_service_us: {
      type: "object",
      required: ["samples", "p50", "p90", "p99", "p999", "max", "cdf"],
      properties: { cdf: { type: "array", items: { type: "array", items: num } } },
    },
    timeline: {
      type: "object",
      required: ["t_ms", "workers_pps"],
      properties: {
        t_ms: { type: "array", items: num },
        workers_pps: { type: "array", items: { type: "array", items: num } },
      },
    },
    batch_histogram: { type: "object" },
  },
};

const count: Schema = { type: "number", minimum: 0 };
const nullableCount: Schema = { type: ["number", "null"] };
/**
 * What a replay report (host/report/replay.ts) must hold for `report merge`
 * (host/report/merge.ts) to add it to others; a report that misses a field is
 * refused with the field's path.
 */
export const REPLAY_JSON_SCHEMA: Schema = {
  type: "object",
  required: [
    "schema",
    "trace",
    "format",
    "mode",
    "app",
    "workers",
    "speed",
    "loops",
    "packets_in",
    "packets_out",
    "bytes_in",
    "bytes_out",
    "packets_processed",
    "flows",
    "duration_s",
    "drops",
    "fidelity",
    "stages",
    "batch_histogram",
    "worker_packets",
    "tcp",
    "error",
    "machine",
    "capture",
    "shard",
    "cpu_s",
    "trace_first_s",
    "trace_last_s",
    "histograms",
  ],
  properties: {
    schema: { const: "ixwasm-replay/2" },
    trace: { type: "string" },
    mode: { enum: ["raw", "track", "serve"] },
    workers: { type: "number", minimum: 1 },
    loops: { type: "number", minimum: 1 },
    packets_in: count,
    packets_out: count,
    bytes_in: count,
    bytes_out: count,
    packets_processed: count,
    flows: {
      type: "object",
      required: ["total", "served", "tracked", "midstream"],
      properties: { total: nullableCount, served: count, tracked: nullableCount, midstream: nullableCount },
    },
    duration_s: count,
    drops: { type: "object" },
    fidelity: {
      type: ["object", "null"],
      required: ["segments_compared", "segments_matching", "bytes_compared", "bytes_matching"],
    },
    stages: { type: "object" },
    batch_histogram: { type: "object" },
    worker_packets: { type: "array", items: count },
    machine,
    capture: {
      type: ["object", "null"],
      required: ["bytes", "head_bytes", "head_sha256"],
      properties: { bytes: count, head_bytes: count, head_sha256: { type: "string" } },
    },
    shard: {
      type: ["object", "null"],
      required: ["index", "count", "source"],
      properties: { index: count, count: { type: "number", minimum: 1 } },
    },
    cpu_s: nullableCount,
    trace_first_s: nullableCount,
    trace_last_s: nullableCount,
    histograms: { type: ["object", "null"] },
  },
};

export const LADDER_JSON_SCHEMA: Schema = {
  type: "object",
  required: ["schema", "file", "packets_per_run", "runs", "rounds", "statistic", "rungs", "machine"],
  properties: {
    schema: { const: "ixwasm-ladder/2" },
    runs: { type: "number", minimum: 1 },
    rounds: { type: "number", minimum: 1 },
    statistic: { type: "string" },
    rungs: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "adds", "ns_per_packet", "per_run", "increment_ns", "band_ns"],
        properties: {
          name: { type: "string" },
          // median, min, max and CV over the runs' figures (per_run)
          ns_per_packet: {
            type: ["object", "null"],
            required: ["median", "min", "max", "cv", "runs"],
            properties: { median: num, min: num, max: num, cv: count, runs: { type: "number", minimum: 1 } },
          },
          per_run: { type: "array", items: nullableCount },
          increment_ns: { type: ["number", "null"] },
          band_ns: { type: ["number", "null"] },
        },
      },
    },
    machine,
  },
};

export const INSTRUCTIONS_JSON_SCHEMA: Schema = {
  type: "object",
  required: [
    "schema",
    "file",
    "mode",
    "n",
    "warmup",
    "windows",
    "per_packet",
    "spread_pct",
    "gc_per_packet",
    "steady",
    "valgrind",
    "node_flags",
    "machine",
  ],
  properties: {
    schema: { const: "ixwasm-instructions/2" },
    n: { type: "number", minimum: 1 },
    warmup: { type: "number", minimum: 0 },
    windows: {
      type: "array",
      items: {
        type: "object",
        required: ["run", "packets", "ir", "gc_ir", "compile_ir", "per_packet"],
        properties: { packets: { type: "number", minimum: 1 }, per_packet: num },
      },
    },
    per_packet: num,
    spread_pct: num,
    gc_per_packet: num,
    steady: { type: "boolean" },
    machine,
  },
};

export const DIFF_JSON_SCHEMA: Schema = {
  type: "object",
  required: ["schema", "kind", "a", "b", "rows", "regressions"],
  properties: {
    schema: { const: "ixwasm-diff/1" },
    rows: {
      type: "array",
      items: {
        type: "object",
        required: ["name", "unit", "a", "b", "delta", "delta_pct", "band", "verdict"],
        properties: { verdict: { enum: ["same", "within noise", "slower", "faster"] } },
      },
    },
  },
};

const pool: Schema = {
  type: "object",
  required: ["count", "bytes_each", "bytes"],
  properties: { count: num, bytes_each: num, bytes: num },
};
/** `serve.memory` of a serve-mode replay report (docs/measurement/memory.md). */
export const SERVE_MEMORY_SCHEMA: Schema = {
  type: "object",
  required: [
    "schema",
    "total_bytes",
    "connections",
    "sized_from",
    "fixed",
    "fixed_bytes",
    "per_connection",
    "predict",
  ],
  properties: {
    schema: { const: "ixwasm-serve-memory/1" },
    total_bytes: { type: "number", minimum: 0 },
    connections: { type: "number", minimum: 1 },
    sized_from: {
      type: "object",
      required: ["peak_held", "peak_in_flight_bytes", "max_batch_bytes", "max_ack_advance"],
      properties: { peak_held: num, peak_in_flight_bytes: num, max_batch_bytes: num, max_ack_advance: num },
    },
    fixed: {
      type: "object",
      required: ["read", "mbufs", "rings_queues", "spans", "mirror_streams", "mirror_feed", "spare", "other"],
      properties: {
        read: num,
        mbufs: pool,
        rings_queues: num,
        spans: pool,
        mirror_streams: {
          type: "object",
          required: ["bytes", "floor", "cap"],
          properties: { bytes: num, floor: num, cap: num },
        },
        mirror_feed: num,
        spare: num,
        other: { type: "number", minimum: 0 },
      },
    },
    fixed_bytes: num,
    per_connection: {
      type: "object",
      required: ["tcb", "timer", "flow_table", "mirror_slot", "app", "bytes"],
      properties: { tcb: num, timer: num, flow_table: num, mirror_slot: num, app: num, bytes: num },
    },
    predict: {
      type: "object",
      required: ["formula", "connections_1m", "bytes_1m", "bytes_1m_max"],
      properties: { formula: { type: "string" }, connections_1m: num, bytes_1m: num, bytes_1m_max: num },
    },
  },
};

/** Problems of `v` against `s` (empty when valid), each with its JSON path. */
export function validate(s: Schema, v: unknown, path = "$"): string[] {
  const out: string[] = [];
  const typeOf = (x: unknown) => (x === null ? "null" : Array.isArray(x) ? "array" : typeof x);
  if (s.const !== undefined && v !== s.const) out.push(`${path}: expected ${JSON.stringify(s.const)}`);
  if (s.enum && !s.enum.includes(v))
    out.push(`${path}: ${JSON.stringify(v)} not one of ${JSON.stringify(s.enum)}`);
  if (s.type) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(v);
    if (!types.includes(t as never) || (t === "number" && !Number.isFinite(v as number)))
      return [...out, `${path}: expected ${types.join("|")}, got ${t}`];
  }
  if (s.minimum !== undefined && typeof v === "number" && v < s.minimum)
    out.push(`${path}: below ${s.minimum}`);
  if (v && typeof v === "object" && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const k of s.required ?? []) if (!(k in o)) out.push(`${path}.${k}: missing`);
    for (const [k, sub] of Object.entries(s.properties ?? {}))
      if (k in o) out.push(...validate(sub, o[k], `${path}.${k}`));
  }
  if (Array.isArray(v) && s.items) v.forEach((x, i) => out.push(...validate(s.items!, x, `${path}[${i}]`)));
  return out;
}
